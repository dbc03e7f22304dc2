namespace Spiking.Layers;

/// <summary>How a <see cref="SpikeGpt"/> draws its initial weights (the peer's <c>--init</c>).</summary>
public enum SpikeGptInit
{
    /// <summary>
    /// The official <c>RWKV_Init</c> as it executes: orthogonal embedding with gain <c>√max(V, C)·10⁻⁴</c>, orthogonal
    /// gain 1 for every block matrix (its TorchScript submodules never reach the zero and <c>√(out/in)</c> branches),
    /// head gain 0.5 (× √(V/C) when V &gt; C).
    /// </summary>
    Rwkv,

    /// <summary><c>RWKV_Init</c> as written: the attention's key, receptance and output and the FFN's value and receptance zero, FFN key gain 2.</summary>
    RwkvZero,

    /// <summary>PyTorch's defaults (what the official <c>train.py</c> trains from): Linear <c>U(±1/√fan_in)</c>, embedding N(0, 1).</summary>
    Torch,
}

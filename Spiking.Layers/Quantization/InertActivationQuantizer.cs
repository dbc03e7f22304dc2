using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// The QSD-Transformer's <c>ActLSQ</c> as its code leaves it: an activation quantizer whose forward returns its
/// input unchanged (the quantizing body is commented out). Every LSQ layer of the official code holds one as
/// <c>act</c>, so its entries are in every checkpoint: <c>act.alpha</c> and <c>act.zero_point</c> <c>[features]</c>,
/// <c>act.init_state</c> and <c>act.signed</c> <c>[1]</c>. They are carried here, as buffers (saved and loaded,
/// never trained: the official parameters never receive a gradient either), so state dicts load strictly both ways.
/// All start at zero; the official <c>alpha</c> is uninitialised memory (<c>torch.Tensor(n)</c>), whatever it held
/// is only ever copied.
/// </summary>
public sealed class InertActivationQuantizer : Module
{
    /// <summary>The placeholder for an LSQ layer of <paramref name="features"/> input features or channels.</summary>
    public InertActivationQuantizer(int features)
    {
        System.ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        Features = features;
        RegisterBuffer("alpha", Tensor.Zeros(features));
        RegisterBuffer("zero_point", Tensor.Zeros(features));
        RegisterBuffer("init_state", Tensor.Zeros(1));
        RegisterBuffer("signed", Tensor.Zeros(1));
    }

    /// <summary>The input features or channels of the layer it belongs to.</summary>
    public int Features { get; }

    /// <summary>Returns <paramref name="input"/>, as the official <c>ActLSQ.forward</c> does.</summary>
    public override Variable Forward(Variable input) => input;
}

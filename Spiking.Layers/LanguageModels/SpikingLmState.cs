using System;
using Spiking.Autograd.Neurons;

namespace Spiking.Layers;

/// <summary>
/// <see cref="SpikingLm"/>'s recurrent state for one sequence: per block, the causal attention's running sums
/// <c>S = Σ_{j≤i} k_j v_jᵀ</c> (one <c>D × D</c> matrix per head, integer counts of coinciding spikes) and the
/// membranes of its seven LIF layers. Its size is fixed by the model, whatever the number of tokens fed.
/// </summary>
internal sealed class SpikingLmState : LanguageModelState
{
    public SpikingLmState(SpikingLm owner, int layers, int heads, int headWidth)
    {
        Owner = owner;
        Layers = new SpikingLmLayerState[layers];
        for (int l = 0; l < layers; l++) Layers[l] = new SpikingLmLayerState(heads * headWidth * headWidth);
    }

    /// <summary>The model this state belongs to.</summary>
    public SpikingLm Owner { get; }

    /// <summary>One state per block.</summary>
    public SpikingLmLayerState[] Layers { get; }

    /// <summary>Counts one more token fed.</summary>
    public void Advance() => Position++;

    /// <inheritdoc/>
    public override void Reset()
    {
        foreach (var layer in Layers) layer.Reset();
        Position = 0;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var layer in Layers) layer.Reset();
        }
        base.Dispose(disposing);
    }
}

/// <summary>One block's recurrent state: the attention sums and each LIF layer's membrane (null: at rest).</summary>
internal sealed class SpikingLmLayerState(int sums)
{
    /// <summary><c>S[h, c, e] = Σ_{j≤i} k_j[c]·v_j[e]</c> for head h, row-major <c>[H, D, D]</c>.</summary>
    public int[] Sums { get; } = new int[sums];

    public NeuronState? Q, K, V, Attention, Projection, Hidden, Mlp;

    public void Reset()
    {
        Array.Clear(Sums);
        Release(ref Q);
        Release(ref K);
        Release(ref V);
        Release(ref Attention);
        Release(ref Projection);
        Release(ref Hidden);
        Release(ref Mlp);
    }

    private static void Release(ref NeuronState? state)
    {
        state?.Dispose();
        state = null;
    }
}

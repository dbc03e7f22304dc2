using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The explicit conversion of spikes to floats (1 for a spike, 0 elsewhere), for dense-only ops. The gradient
    /// passes straight through: the gradient with respect to the spikes is the output gradient.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is already dense.</exception>
    public static Variable SpikesToDense(Variable x) => SpikesToDenseNode.Forward(x);
}

/// <summary>Unpacks spikes to floats; <c>dS = G</c>. Saves nothing.</summary>
internal sealed class SpikesToDenseNode : Node
{
    private SpikesToDenseNode(Variable x) : base(x)
    {
    }

    public override string Name => "spikes to dense";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var spikes = x.Spikes ?? throw new ArgumentException(
            $"SpikesToDense needs spikes in 'x'; it is already dense (shape {x.Shape}).", nameof(x));
        return Variable.FromOp(spikes.ToTensor(), Record(() => new SpikesToDenseNode(x), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) => [gradOutput.Clone()];
}

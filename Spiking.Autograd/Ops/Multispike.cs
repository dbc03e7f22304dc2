using System;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The QSD-Transformer's stateless multi-level spike neuron (<c>Multispike</c>, <c>Multispike_att</c>) on any
    /// shape: <c>y = floor(clamp(4x, 0, 4) + 0.5) / divisor</c>, the count 0..4 of <see cref="MultiLevelSpike.Count"/>
    /// over <paramref name="divisor"/> (4 for <c>Multispike</c>, 2 for <c>Multispike_att</c>). Every element is its own
    /// neuron at its own time step: there is no membrane carried between steps.
    /// </summary>
    /// <remarks>
    /// Backward, as the official graph <c>multispike.apply(4·x)/divisor</c> computes it in float32:
    /// <c>dx = (G/divisor)·4</c> where <c>0 &lt; 4x &lt; 4</c> and <c>0·G</c> elsewhere (the ×4 and /4 cancel: the
    /// gradient is G for <c>Multispike</c>, 2G for <c>Multispike_att</c>). Saves the window as bits, one per element.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="x"/> holds spikes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="divisor"/> is not a finite number &gt; 0.</exception>
    /// <exception cref="NotSupportedException"><paramref name="x"/> is on a device (the neuron runs on the CPU).</exception>
    public static Variable Multispike(Variable x, float divisor = 4f) => MultispikeNode.Forward(x, divisor);
}

/// <summary>The multi-level spike: <c>dx = (G/divisor)·4·[0 &lt; x &lt; 1]</c>. Saves the window as bits.</summary>
internal sealed class MultispikeNode : Node
{
    private const string Op = "Multispike";
    private readonly float _divisor;
    private SpikeTensor? _window;

    private MultispikeNode(Variable x, float divisor, SpikeTensor window) : base(x)
    {
        _divisor = divisor;
        _window = window;
    }

    public override string Name => "multispike";

    public static Variable Forward(Variable x, float divisor)
    {
        var value = OpChecks.Dense(x, nameof(x), Op);
        if (!float.IsFinite(divisor) || divisor <= 0f)
        {
            throw new ArgumentOutOfRangeException(nameof(divisor), divisor, $"{Op}: the divisor of the count must be a finite number > 0 (4 for Multispike, 2 for Multispike_att); got {divisor}.");
        }
        if (!value.IsOnHost) throw OpChecks.NoDeviceKernel(Op, value.Device);
        var y = Tensor.Empty(value.Shape);
        var window = SpikeTensor.Zeros(new Shape(value.Length));
        MultispikeKernel.Forward(value, divisor, y, window);
        var node = Record(() => new MultispikeNode(x, divisor, window), x);
        if (node is null) window.Dispose();
        return Variable.FromOp(y, node);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var dx = Tensor.Empty(gradOutput.Shape);
        var d = dx.AsSpan();
        _window!.UnpackTo(d);
        TensorPrimitives.Multiply(d, gradOutput.AsReadOnlySpan(), d);
        TensorPrimitives.Divide(d, _divisor, d);
        TensorPrimitives.Multiply(d, MultiLevelSpike.InputScale, d);
        return [dx];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved) => saved.Add("window 0 < 4x < 4", _window);

    protected internal override void ReleaseSaved()
    {
        _window?.Dispose();
        _window = null;
    }
}

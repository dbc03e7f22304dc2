using System;
using Spiking.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Inverted dropout: in training, each element is kept with probability <c>1 - p</c> and scaled by
    /// <c>1/(1 - p)</c> (so the expected value is unchanged) or zeroed, the mask drawn from
    /// <paramref name="generator"/> (a seed replays the same mask). With <paramref name="training"/> false or
    /// <paramref name="p"/> = 0 it is the identity: a new variable viewing the same values, no draw. Spike input
    /// gives a dense output (the kept spikes, scaled) and a gradient with respect to the spikes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is outside <c>[0, 1)</c> (or NaN).</exception>
    public static Variable Dropout(Variable x, float p, bool training, PhiloxGenerator generator) =>
        DropoutNode.Forward(x, p, training, generator);
}

/// <summary>Dropout: <c>dx = G·mask/(1 - p)</c>, the same mask as the forward. Saves the mask as bits.</summary>
internal sealed class DropoutNode : Node
{
    private readonly float _scale;
    private SpikeTensor? _mask;

    private DropoutNode(Variable x, float scale) : base(x)
    {
        _scale = scale;
    }

    public override string Name => "dropout";

    public static Variable Forward(Variable x, float p, bool training, PhiloxGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(generator);
        if (!(p >= 0f && p < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "The dropout probability p must be in [0, 1).");
        }
        if (!training || p == 0f) return ReshapeNode.Identity(x);

        SpikeTensor mask;
        using (var keep = Tensor.Full(OpChecks.MaskShape(x.Shape), 1f - p))
        {
            mask = generator.Bernoulli(keep);
        }
        float scale = 1f / (1f - p);
        var y = Tensor.Empty(x.Shape);
        if (x.Spikes is { } spikes)
        {
            using var kept = spikes.And(mask);
            kept.UnpackTo(y.AsSpan());
            y.MultiplyInPlace(scale);
        }
        else
        {
            Apply(mask, x.Tensor!, scale, y);
        }
        var node = Record(() => new DropoutNode(x, scale), x);
        if (node is null) mask.Dispose();
        else node._mask = mask;
        return Variable.FromOp(y, node);
    }

    /// <summary><c>destination = source·mask·scale</c>.</summary>
    private static void Apply(SpikeTensor mask, Tensor source, float scale, Tensor destination)
    {
        var d = destination.AsSpan();
        mask.UnpackTo(d);
        TensorPrimitives.Multiply(d, source.AsReadOnlySpan(), d);
        TensorPrimitives.Multiply(d, scale, d);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var dx = Tensor.Empty(gradOutput.Shape);
        Apply(_mask!, gradOutput, _scale, dx);
        return [dx];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("keep mask", _mask);
    }

    protected internal override void ReleaseSaved()
    {
        _mask?.Dispose();
        _mask = null;
    }
}

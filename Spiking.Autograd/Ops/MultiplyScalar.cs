using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// <c>x · value</c> for every element. Spikes give a dense result gated by the bits: <paramref name="value"/>
    /// where a bit is set and 0 elsewhere (also for an infinite or NaN value), as a product with spikes is.
    /// </summary>
    public static Variable Multiply(Variable x, float value) => MultiplyScalarNode.Forward(x, value, divide: false);

    /// <summary>
    /// <c>x / value</c> for every element (a true division, not a multiplication by the reciprocal). Spikes give a
    /// dense result: <c>1 / value</c> where a bit is set and <c>0 / value</c> elsewhere.
    /// </summary>
    public static Variable Divide(Variable x, float value) => MultiplyScalarNode.Forward(x, value, divide: true);
}

/// <summary>Scales every element by a constant, multiplying or dividing: <c>dx = G·value</c> or <c>G / value</c>.
/// Saves only the constant.</summary>
internal sealed class MultiplyScalarNode : Node
{
    private readonly float _value;
    private readonly bool _divide;

    private MultiplyScalarNode(Variable x, float value, bool divide) : base(x)
    {
        _value = value;
        _divide = divide;
    }

    public override string Name => _divide ? "divide by scalar" : "multiply by scalar";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x, float value, bool divide)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = x.Spikes is { } bits
            ? SpikeOperands.Fill(bits, divide ? 1f / value : value, divide ? 0f / value : 0f)
            : Apply(x.Tensor!, value, divide);
        return Variable.FromOp(y, Record(() => new MultiplyScalarNode(x, value, divide), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) => [Apply(gradOutput, _value, _divide)];

    private static Tensor Apply(Tensor t, float value, bool divide)
    {
        if (!divide) return t.Multiply(value);
        using var divisor = Tensor.Scalar(value);
        return t.Divide(divisor);
    }
}

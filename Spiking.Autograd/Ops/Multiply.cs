using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// <c>a * b</c> elementwise with NumPy broadcasting. Either operand may hold spikes. Spikes times spikes is
    /// spikes (the AND of the bits). Spikes times a dense operand is dense and computed as a gate, not a product: the
    /// dense value where the bit is set and 0 elsewhere (0 also where the dense value is infinite or NaN, unlike
    /// <c>0·∞</c> in floats). The gradient of a spike operand is dense, as for any spike variable:
    /// for <c>y = s·x</c>, <c>∂L/∂s = G·x</c> and <c>∂L/∂x = G·s</c>, each summed down to its shape.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Variable Multiply(Variable a, Variable b) => MultiplyNode.Forward(a, b);
}

/// <summary>Elementwise product: <c>da = G·b</c>, <c>db = G·a</c>, each summed down to its input's shape; a factor that
/// is spikes gates <c>G</c> by its bits. Saves <c>b</c> only when <c>a</c> needs a gradient and <c>a</c> only when
/// <c>b</c> does, spikes as bits.</summary>
internal sealed class MultiplyNode : Node
{
    private readonly Shape _aShape, _bShape;
    private SavedOperand? _a, _b;

    private MultiplyNode(Variable a, Variable b) : base(a, b)
    {
        _aShape = a.Shape;
        _bShape = b.Shape;
        if (b.RequiresGrad) _a = SavedOperand.Save(a, "multiply's input 'a'");
        if (a.RequiresGrad) _b = SavedOperand.Save(b, "multiply's input 'b'");
    }

    public override string Name => "multiply";

    public static Variable Forward(Variable a, Variable b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Spikes is { } aBits && b.Spikes is { } bBits)
        {
            var shape = Elementwise.BroadcastShape(a.Shape, b.Shape, "multiply");
            var s = aBits.Shape == bBits.Shape ? aBits.And(bBits) : SpikeBroadcast.And(aBits, bBits, shape);
            return Variable.FromOp(s, Record(() => new MultiplyNode(a, b), a, b));
        }
        Tensor y;
        if (a.Spikes is { } gate) y = SpikeOperands.Gate(b.Tensor!, gate, Elementwise.BroadcastShape(a.Shape, b.Shape, "multiply"));
        else if (b.Spikes is { } gateB) y = SpikeOperands.Gate(a.Tensor!, gateB, Elementwise.BroadcastShape(a.Shape, b.Shape, "multiply"));
        else y = a.Tensor!.Multiply(b.Tensor!);
        return Variable.FromOp(y, Record(() => new MultiplyNode(a, b), a, b));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) =>
    [
        NeedsGrad(0) ? Scaled(gradOutput, _b!.Value, _aShape) : null,
        NeedsGrad(1) ? Scaled(gradOutput, _a!.Value, _bShape) : null,
    ];

    /// <summary><c>G·other</c> (a gate of G when the other factor is spikes) summed down to <paramref name="shape"/>.</summary>
    private static Tensor Scaled(Tensor gradOutput, SavedOperand other, Shape shape) => Broadcasting.ReduceTo(
        other.Bits is { } bits ? SpikeOperands.Gate(gradOutput, bits, gradOutput.Shape) : gradOutput.Multiply(other.Saved!.Value), shape);

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        if (_a is { } a) saved.Add("a", a);
        if (_b is { } b) saved.Add("b", b);
    }

    protected internal override void ReleaseSaved()
    {
        _a?.Release();
        _b?.Release();
        _a = _b = null;
    }
}

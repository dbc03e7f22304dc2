using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// <c>a / b</c> elementwise with NumPy broadcasting. Either operand may hold spikes (each reads as 0 or 1, so a
    /// missing spike in <paramref name="b"/> gives ±∞ or NaN, as in floats). There is no bit shortcut for a quotient:
    /// a spike operand is unpacked to 0/1 floats for the forward and again in backward, and only its bits are kept in
    /// between. The gradients are <c>G / b</c> and <c>-G·a / b²</c> summed down to each operand's shape, spikes included.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Variable Divide(Variable a, Variable b) => DivideNode.Forward(a, b);
}

/// <summary>Elementwise quotient: <c>da = G / b</c>, <c>db = -G·a / b²</c>, each summed down to its input's shape.
/// Saves <c>b</c> always (both gradients divide by it) and <c>a</c> only when <c>b</c> needs a gradient; spikes as bits.</summary>
internal sealed class DivideNode : Node
{
    private readonly Shape _aShape, _bShape;
    private SavedOperand? _a, _b;

    private DivideNode(Variable a, Variable b) : base(a, b)
    {
        _aShape = a.Shape;
        _bShape = b.Shape;
        if (b.RequiresGrad) _a = SavedOperand.Save(a, "divide's input 'a'");
        _b = SavedOperand.Save(b, "divide's input 'b'");
    }

    public override string Name => "divide";

    public static Variable Forward(Variable a, Variable b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        using var aUnpacked = a.Spikes?.ToTensor();
        using var bUnpacked = b.Spikes?.ToTensor();
        var y = (aUnpacked ?? a.Tensor!).Divide(bUnpacked ?? b.Tensor!);
        return Variable.FromOp(y, Record(() => new DivideNode(a, b), a, b));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        using var b = _b!.Value.Floats();
        var quotient = gradOutput.Divide(b);
        Tensor? db = null;
        if (NeedsGrad(1))
        {
            // -G·a/b² = -(G/b)·(a/b), which stays finite where b² would overflow.
            using var a = _a!.Value.Floats();
            using var ratio = a.Divide(b);
            ratio.MultiplyInPlace(-1f);
            db = Broadcasting.ReduceTo(quotient.Multiply(ratio), _bShape);
        }
        if (!NeedsGrad(0))
        {
            quotient.Dispose();
            return [null, db];
        }
        return [Broadcasting.ReduceTo(quotient, _aShape), db];
    }

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

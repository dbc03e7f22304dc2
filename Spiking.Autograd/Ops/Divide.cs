using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary><c>a / b</c> elementwise with NumPy broadcasting.</summary>
    /// <exception cref="System.ArgumentException">The shapes do not broadcast, or an operand holds spikes.</exception>
    public static Variable Divide(Variable a, Variable b) => DivideNode.Forward(a, b);
}

/// <summary>Elementwise quotient: <c>da = G / b</c>, <c>db = -G·a / b²</c>, each summed down to its input's shape.
/// Saves <c>b</c> always (both gradients divide by it) and <c>a</c> only when <c>b</c> needs a gradient.</summary>
internal sealed class DivideNode : Node
{
    private readonly Shape _aShape, _bShape;
    private SavedTensor? _a, _b;

    private DivideNode(Variable a, Variable b, Tensor av, Tensor bv) : base(a, b)
    {
        _aShape = a.Shape;
        _bShape = b.Shape;
        if (b.RequiresGrad) _a = new SavedTensor(av, "divide's input 'a'");
        _b = new SavedTensor(bv, "divide's input 'b'");
    }

    public override string Name => "divide";

    public static Variable Forward(Variable a, Variable b)
    {
        var av = OpChecks.Dense(a, nameof(a), "Divide");
        var bv = OpChecks.Dense(b, nameof(b), "Divide");
        var y = av.Divide(bv);
        return Variable.FromOp(y, Record(() => new DivideNode(a, b, av, bv), a, b));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var b = _b!.Value;
        var quotient = gradOutput.Divide(b);
        Tensor? db = null;
        if (NeedsGrad(1))
        {
            // -G·a/b² = -(G/b)·(a/b), which stays finite where b² would overflow.
            using var ratio = _a!.Value.Divide(b);
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

    protected internal override void ReleaseSaved()
    {
        _a?.Release();
        _b?.Release();
        _a = _b = null;
    }
}

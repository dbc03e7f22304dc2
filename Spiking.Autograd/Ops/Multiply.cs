using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary><c>a * b</c> elementwise with NumPy broadcasting.</summary>
    /// <exception cref="System.ArgumentException">The shapes do not broadcast, or an operand holds spikes.</exception>
    public static Variable Multiply(Variable a, Variable b) => MultiplyNode.Forward(a, b);
}

/// <summary>Elementwise product: <c>da = G·b</c>, <c>db = G·a</c>, each summed down to its input's shape. Saves
/// <c>b</c> only when <c>a</c> needs a gradient and <c>a</c> only when <c>b</c> does.</summary>
internal sealed class MultiplyNode : Node
{
    private readonly Shape _aShape, _bShape;
    private SavedTensor? _a, _b;

    private MultiplyNode(Variable a, Variable b, Tensor av, Tensor bv) : base(a, b)
    {
        _aShape = a.Shape;
        _bShape = b.Shape;
        if (b.RequiresGrad) _a = new SavedTensor(av, "multiply's input 'a'");
        if (a.RequiresGrad) _b = new SavedTensor(bv, "multiply's input 'b'");
    }

    public override string Name => "multiply";

    public static Variable Forward(Variable a, Variable b)
    {
        var av = OpChecks.Dense(a, nameof(a), "Multiply");
        var bv = OpChecks.Dense(b, nameof(b), "Multiply");
        var y = av.Multiply(bv);
        return Variable.FromOp(y, Record(() => new MultiplyNode(a, b, av, bv), a, b));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) =>
    [
        NeedsGrad(0) ? Scaled(gradOutput, _b!.Value, _aShape) : null,
        NeedsGrad(1) ? Scaled(gradOutput, _a!.Value, _bShape) : null,
    ];

    /// <summary><c>G·other</c> summed down to <paramref name="shape"/>.</summary>
    private static Tensor Scaled(Tensor gradOutput, Tensor other, Shape shape) =>
        Broadcasting.ReduceTo(gradOutput.Multiply(other), shape);

    protected internal override void ReleaseSaved()
    {
        _a?.Release();
        _b?.Release();
        _a = _b = null;
    }
}

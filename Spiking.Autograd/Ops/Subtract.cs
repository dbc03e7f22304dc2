using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary><c>a - b</c> with NumPy broadcasting.</summary>
    /// <exception cref="System.ArgumentException">The shapes do not broadcast, or an operand holds spikes.</exception>
    public static Variable Subtract(Variable a, Variable b) => SubtractNode.Forward(a, b);
}

/// <summary>Elementwise difference. Saves only the input shapes: <c>da = G</c> and <c>db = -G</c>, each summed down
/// to its input's shape.</summary>
internal sealed class SubtractNode : Node
{
    private readonly Shape _a, _b;

    private SubtractNode(Variable a, Variable b) : base(a, b)
    {
        _a = a.Shape;
        _b = b.Shape;
    }

    public override string Name => "subtract";

    public static Variable Forward(Variable a, Variable b)
    {
        var y = OpChecks.Dense(a, nameof(a), "Subtract").Subtract(OpChecks.Dense(b, nameof(b), "Subtract"));
        return Variable.FromOp(y, Record(() => new SubtractNode(a, b), a, b));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        Tensor? db = null;
        if (NeedsGrad(1))
        {
            db = Broadcasting.Unbroadcast(gradOutput, _b);
            db.MultiplyInPlace(-1f);
        }
        return [NeedsGrad(0) ? Broadcasting.Unbroadcast(gradOutput, _a) : null, db];
    }
}

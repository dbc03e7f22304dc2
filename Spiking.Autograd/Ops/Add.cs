using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary><c>a + b</c> with NumPy broadcasting (a bias <c>[N]</c> onto <c>[B, N]</c>, say).</summary>
    /// <exception cref="System.ArgumentException">The shapes do not broadcast, or an operand holds spikes.</exception>
    public static Variable Add(Variable a, Variable b) => AddNode.Forward(a, b);
}

/// <summary>Elementwise addition. Saves only the input shapes: the gradient of each input is the output gradient
/// summed down to that input's shape.</summary>
internal sealed class AddNode : Node
{
    private readonly Shape _a, _b;

    private AddNode(Variable a, Variable b) : base(a, b)
    {
        _a = a.Shape;
        _b = b.Shape;
    }

    public override string Name => "add";

    public static Variable Forward(Variable a, Variable b)
    {
        var y = OpChecks.Dense(a, nameof(a), "Add").Add(OpChecks.Dense(b, nameof(b), "Add"));
        return Variable.FromOp(y, Record(() => new AddNode(a, b), a, b));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) =>
    [
        NeedsGrad(0) ? Broadcasting.Unbroadcast(gradOutput, _a) : null,
        NeedsGrad(1) ? Broadcasting.Unbroadcast(gradOutput, _b) : null,
    ];
}

using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary><c>-x</c> elementwise.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    public static Variable Negate(Variable x) => NegateNode.Forward(x);
}

/// <summary>Elementwise negation: <c>dx = -G</c>. Saves nothing.</summary>
internal sealed class NegateNode : Node
{
    private NegateNode(Variable x) : base(x)
    {
    }

    public override string Name => "negate";

    public static Variable Forward(Variable x)
    {
        var y = OpChecks.Dense(x, nameof(x), "Negate").Negate();
        return Variable.FromOp(y, Record(() => new NegateNode(x), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) => [gradOutput.Negate()];
}

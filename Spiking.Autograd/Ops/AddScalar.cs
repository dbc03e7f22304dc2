using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary><c>x + value</c> for every element.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    public static Variable Add(Variable x, float value) => AddScalarNode.Forward(x, value);

    /// <summary><c>x - value</c> for every element.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    public static Variable Subtract(Variable x, float value) => AddScalarNode.Forward(x, -value);
}

/// <summary>Adds a constant to every element: <c>dx = G</c>. Saves nothing.</summary>
internal sealed class AddScalarNode : Node
{
    private AddScalarNode(Variable x) : base(x)
    {
    }

    public override string Name => "add scalar";

    public static Variable Forward(Variable x, float value)
    {
        var y = OpChecks.Dense(x, nameof(x), "Add").Add(value);
        return Variable.FromOp(y, Record(() => new AddScalarNode(x), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) => [gradOutput.Clone()];
}

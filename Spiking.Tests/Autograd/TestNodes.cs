using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Tests.Autograd;

/// <summary><c>y = x²</c> whose backward is deliberately wrong: it returns <c>4x·G</c>, twice the true gradient.</summary>
internal sealed class DoubledSquareNode : Node
{
    private readonly Tensor _x;

    private DoubledSquareNode(Variable x) : base(x)
    {
        _x = x.Dense.Clone();
    }

    public override string Name => "doubled square (test)";

    public static Variable Apply(Variable x) =>
        Variable.FromOp(x.Dense.Multiply(x.Dense), Record(() => new DoubledSquareNode(x), x));

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var g = gradOutput.Multiply(_x);
        g.MultiplyInPlace(4f);
        return [g];
    }

    protected internal override void ReleaseSaved() => _x.Dispose();
}

/// <summary>The identity, counting the calls of <see cref="ReleaseSaved"/> so tests can see when the graph lets go.</summary>
internal sealed class CountingNode : Node
{
    private CountingNode(Variable x) : base(x)
    {
    }

    public int Releases { get; private set; }

    public override string Name => "counting identity (test)";

    public static (Variable Output, CountingNode? Node) Apply(Variable x)
    {
        var node = Record(() => new CountingNode(x), x);
        return (Variable.FromOp(x.Dense.Clone(), node), node);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) => [gradOutput.Clone()];

    protected internal override void ReleaseSaved() => Releases++;
}

/// <summary>
/// A minimal neuron for tests: spikes where <c>u &gt;= 0</c>, with a straight-through gradient, so the gradient
/// an op returns with respect to its spike input shows up as <c>u.Grad</c>.
/// </summary>
internal sealed class SpikeSourceNode : Node
{
    private SpikeSourceNode(Variable u) : base(u)
    {
    }

    public override string Name => "spike source (test)";

    public static Variable Apply(Variable u) =>
        Variable.FromOp(SpikeTensor.FromThreshold(u.Dense, 0f), Record(() => new SpikeSourceNode(u), u));

    protected internal override Tensor?[] Backward(Tensor gradOutput) => [gradOutput.Clone()];
}

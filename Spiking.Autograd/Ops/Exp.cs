using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary><c>e^x</c> elementwise.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    public static Variable Exp(Variable x) => ExpNode.Forward(x);
}

/// <summary>Elementwise exponential: <c>dx = G·y</c>. Saves the output.</summary>
internal sealed class ExpNode : Node
{
    private SavedTensor? _y;

    private ExpNode(Variable x, Tensor y) : base(x)
    {
        _y = new SavedTensor(y, "exp's output");
    }

    public override string Name => "exp";

    public static Variable Forward(Variable x)
    {
        var y = OpChecks.Dense(x, nameof(x), "Exp").Exp();
        return Variable.FromOp(y, Record(() => new ExpNode(x, y), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var dx = Tensor.Empty(gradOutput.Shape);
        TensorPrimitives.Multiply(gradOutput.AsReadOnlySpan(), _y!.Value.AsReadOnlySpan(), dx.AsSpan());
        return [dx];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("output", _y);
    }

    protected internal override void ReleaseSaved()
    {
        _y?.Release();
        _y = null;
    }
}

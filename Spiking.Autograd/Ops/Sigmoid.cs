using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>The logistic sigmoid <c>1 / (1 + e^-x)</c> elementwise.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    public static Variable Sigmoid(Variable x) => SigmoidNode.Forward(x);
}

/// <summary>Elementwise sigmoid: <c>dx = G·y·(1 - y)</c>. Saves the output.</summary>
internal sealed class SigmoidNode : Node
{
    private SavedTensor? _y;

    private SigmoidNode(Variable x, Tensor y) : base(x)
    {
        _y = new SavedTensor(y, "sigmoid's output");
    }

    public override string Name => "sigmoid";

    public static Variable Forward(Variable x)
    {
        var y = OpChecks.Dense(x, nameof(x), "Sigmoid").Sigmoid();
        return Variable.FromOp(y, Record(() => new SigmoidNode(x, y), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var y = _y!.Value.AsReadOnlySpan();
        var dx = Tensor.Empty(gradOutput.Shape);
        var d = dx.AsSpan();
        TensorPrimitives.Subtract(1f, y, d);
        TensorPrimitives.Multiply(d, y, d);
        TensorPrimitives.Multiply(d, gradOutput.AsReadOnlySpan(), d);
        return [dx];
    }

    protected internal override void ReleaseSaved()
    {
        _y?.Release();
        _y = null;
    }
}

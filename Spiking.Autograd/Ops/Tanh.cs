using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>The hyperbolic tangent elementwise.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    public static Variable Tanh(Variable x) => TanhNode.Forward(x);
}

/// <summary>Elementwise tanh: <c>dx = G·(1 - y²)</c>. Saves the output.</summary>
internal sealed class TanhNode : Node
{
    private SavedTensor? _y;

    private TanhNode(Variable x, Tensor y) : base(x)
    {
        _y = new SavedTensor(y, "tanh's output");
    }

    public override string Name => "tanh";

    public static Variable Forward(Variable x)
    {
        var y = OpChecks.Dense(x, nameof(x), "Tanh").Tanh();
        return Variable.FromOp(y, Record(() => new TanhNode(x, y), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var y = _y!.Value.AsReadOnlySpan();
        var dx = Tensor.Empty(gradOutput.Shape);
        var d = dx.AsSpan();
        TensorPrimitives.Multiply(y, y, d);
        TensorPrimitives.Subtract(1f, d, d);
        TensorPrimitives.Multiply(d, gradOutput.AsReadOnlySpan(), d);
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

using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// <c>x - log Σ e^x</c> along <paramref name="axis"/> (default the last; negative counts from the end), computed
    /// as <c>(x - max) - log Σ e^(x - max)</c> so large logits stay finite and exact differences survive.
    /// </summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="axis"/> is outside the shape (a scalar has none).</exception>
    public static Variable LogSoftmax(Variable x, int axis = -1) => LogSoftmaxNode.Forward(x, axis);
}

/// <summary>Log-softmax along an axis: <c>dx = G - e^y·Σ G</c>. Saves the output.</summary>
internal sealed class LogSoftmaxNode : Node
{
    private readonly int _axis;
    private SavedTensor? _y;

    private LogSoftmaxNode(Variable x, Tensor y, int axis) : base(x)
    {
        _y = new SavedTensor(y, "log-softmax's output");
        _axis = axis;
    }

    public override string Name => "log softmax";

    public static Variable Forward(Variable x, int axis)
    {
        var value = OpChecks.Dense(x, nameof(x), "LogSoftmax");
        int a = value.Shape.NormalizeAxis(axis);
        var y = SoftmaxKernel.Forward(value, a, log: true);
        return Variable.FromOp(y, Record(() => new LogSoftmaxNode(x, y, a), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) =>
        [SoftmaxKernel.Backward(gradOutput, _y!.Value, _axis, log: true)];

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

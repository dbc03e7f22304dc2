using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// <c>e^x / Σ e^x</c> along <paramref name="axis"/> (default the last; negative counts from the end), computed
    /// after subtracting each row's maximum so large logits stay finite.
    /// </summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="axis"/> is outside the shape (a scalar has none).</exception>
    public static Variable Softmax(Variable x, int axis = -1) => SoftmaxNode.Forward(x, axis);
}

/// <summary>Softmax along an axis: <c>dx = y·(G - Σ G·y)</c>. Saves the output.</summary>
internal sealed class SoftmaxNode : Node
{
    private readonly int _axis;
    private SavedTensor? _y;

    private SoftmaxNode(Variable x, Tensor y, int axis) : base(x)
    {
        _y = new SavedTensor(y, "softmax's output");
        _axis = axis;
    }

    public override string Name => "softmax";

    public static Variable Forward(Variable x, int axis)
    {
        var value = OpChecks.Dense(x, nameof(x), "Softmax");
        int a = value.Shape.NormalizeAxis(axis);
        var y = SoftmaxKernel.Forward(value, a, log: false);
        return Variable.FromOp(y, Record(() => new SoftmaxNode(x, y, a), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) =>
        [SoftmaxKernel.Backward(gradOutput, _y!.Value, _axis, log: false)];

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

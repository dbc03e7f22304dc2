using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// <c>condition ? a : b</c> elementwise, the condition given as spikes (one bit per element), all three broadcast
    /// together under NumPy rules (PyTorch's <c>where</c>). The result is dense; it is built from <paramref name="b"/>
    /// with <paramref name="a"/> written at the set bits, so the cost beyond the copy follows the number of spikes.
    /// The gradient flows to <paramref name="a"/> where the bit is set and to <paramref name="b"/> elsewhere (each
    /// summed down to its shape); the condition gets none.
    /// </summary>
    /// <exception cref="System.ArgumentException"><paramref name="condition"/> is dense, <paramref name="a"/> or <paramref name="b"/> holds spikes, or the shapes do not broadcast.</exception>
    public static Variable Where(Variable condition, Variable a, Variable b) => WhereNode.Forward(condition, a, b);
}

/// <summary>
/// Selection by a bit. Saves the condition's bits (a view, no copy) and the shapes of <c>a</c> and <c>b</c>:
/// <c>da = G</c> at set bits, <c>db = G</c> elsewhere, each summed down to its input's shape. The condition is not an
/// input of the node, so no gradient is asked of it.
/// </summary>
internal sealed class WhereNode : Node
{
    private readonly Shape _aShape, _bShape;
    private SpikeTensor? _condition;

    private WhereNode(SpikeTensor condition, Variable a, Variable b) : base(a, b)
    {
        _condition = SavedTensor.Keep(condition);
        _aShape = a.Shape;
        _bShape = b.Shape;
    }

    public override string Name => "where";

    public static Variable Forward(Variable condition, Variable a, Variable b)
    {
        var bits = OpChecks.Spikes(condition, nameof(condition), "Where");
        var av = OpChecks.Dense(a, nameof(a), "Where");
        var bv = OpChecks.Dense(b, nameof(b), "Where");
        var shape = OpChecks.Broadcast("Where", bits.Shape, "'condition'", av.Shape, nameof(a));
        shape = OpChecks.Broadcast("Where", shape, "the broadcast of 'condition' and 'a'", bv.Shape, nameof(b));
        var y = SpikeBroadcast.Where(bits, av, bv, shape);
        return Variable.FromOp(y, Record(() => new WhereNode(bits, a, b), a, b));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        using var zero = Tensor.Scalar(0f);
        return
        [
            NeedsGrad(0) ? Broadcasting.ReduceTo(SpikeBroadcast.Where(_condition!, gradOutput, zero, gradOutput.Shape), _aShape) : null,
            NeedsGrad(1) ? Broadcasting.ReduceTo(SpikeBroadcast.Where(_condition!, zero, gradOutput, gradOutput.Shape), _bShape) : null,
        ];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("condition", _condition);
    }

    protected internal override void ReleaseSaved()
    {
        _condition?.Dispose();
        _condition = null;
    }
}

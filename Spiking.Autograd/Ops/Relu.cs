using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary><c>max(x, 0)</c> elementwise.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    public static Variable Relu(Variable x) => ReluNode.Forward(x);
}

/// <summary>
/// Elementwise ReLU: <c>dx = G</c> where <c>x &gt; 0</c> and 0 elsewhere (0 at x = 0, as PyTorch). Saves the
/// mask <c>x &gt; 0</c> as bits, one per element, instead of the input.
/// </summary>
internal sealed class ReluNode : Node
{
    private SpikeTensor? _mask;

    private ReluNode(Variable x, Tensor value) : base(x)
    {
        // x > 0 is x >= the smallest positive float; NaN sets no bit.
        using var flat = value.Reshape(OpChecks.MaskShape(value.Shape));
        _mask = SpikeTensor.FromThreshold(flat, float.Epsilon);
    }

    public override string Name => "relu";

    public static Variable Forward(Variable x)
    {
        var value = OpChecks.Dense(x, nameof(x), "Relu");
        var y = value.Relu();
        return Variable.FromOp(y, Record(() => new ReluNode(x, value), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var dx = Tensor.Empty(gradOutput.Shape);
        var d = dx.AsSpan();
        _mask!.UnpackTo(d);
        TensorPrimitives.Multiply(d, gradOutput.AsReadOnlySpan(), d);
        return [dx];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("mask x > 0", _mask);
    }

    protected internal override void ReleaseSaved()
    {
        _mask?.Dispose();
        _mask = null;
    }
}

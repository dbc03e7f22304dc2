using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>The natural logarithm elementwise (NaN below 0, -∞ at 0).</summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    public static Variable Log(Variable x) => LogNode.Forward(x);
}

/// <summary>Elementwise natural logarithm: <c>dx = G / x</c>. Saves the input.</summary>
internal sealed class LogNode : Node
{
    private SavedTensor? _x;

    private LogNode(Variable x, Tensor value) : base(x)
    {
        _x = new SavedTensor(value, "log's input");
    }

    public override string Name => "log";

    public static Variable Forward(Variable x)
    {
        var value = OpChecks.Dense(x, nameof(x), "Log");
        var y = value.Log();
        return Variable.FromOp(y, Record(() => new LogNode(x, value), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var dx = Tensor.Empty(gradOutput.Shape);
        TensorPrimitives.Divide(gradOutput.AsReadOnlySpan(), _x!.Value.AsReadOnlySpan(), dx.AsSpan());
        return [dx];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("input", _x);
    }

    protected internal override void ReleaseSaved()
    {
        _x?.Release();
        _x = null;
    }
}

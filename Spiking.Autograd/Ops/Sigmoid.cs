using System.Numerics;
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
        var g = gradOutput.AsReadOnlySpan();
        var dx = Tensor.Empty(gradOutput.Shape);
        var d = dx.AsSpan();
        // (1 − y)·y·G in one pass, in that order of roundings.
        int width = Vector<float>.Count, i = 0;
        for (; i <= d.Length - width; i += width)
        {
            var yv = new Vector<float>(y.Slice(i));
            ((Vector<float>.One - yv) * yv * new Vector<float>(g.Slice(i))).CopyTo(d.Slice(i));
        }
        for (; i < d.Length; i++) d[i] = (1f - y[i]) * y[i] * g[i];
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

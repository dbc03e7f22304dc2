using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Samples.Extensions;

/// <summary>A custom op from the public API alone: <c>swish(x) = x·σ(x)</c>, forward and backward side by side.</summary>
public static class SwishOp
{
    /// <summary><c>x·σ(x)</c>, elementwise; records a node when a gradient is wanted.</summary>
    public static Variable Swish(Variable x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var xs = x.Dense.AsReadOnlySpan();
        var y = Tensor.Empty(x.Shape);
        var ys = y.AsSpan();
        for (int i = 0; i < xs.Length; i++) ys[i] = xs[i] / (1f + MathF.Exp(-xs[i]));
        return Variable.FromOp(y, Node.Record(() => new SwishNode(x), x));
    }

    private sealed class SwishNode(Variable x) : Node(x)
    {
        // A view of the input, guarded: writing it in place before backward makes backward throw instead of lying.
        private readonly SavedTensor _x = new(x.Dense, "swish's input");

        public override string Name => "swish";

        protected override Tensor?[] Backward(Tensor gradOutput)
        {
            var xs = _x.Value.AsReadOnlySpan();
            var g = gradOutput.AsReadOnlySpan();
            var grad = Tensor.Empty(gradOutput.Shape);
            var d = grad.AsSpan();
            for (int i = 0; i < xs.Length; i++)
            {
                float s = 1f / (1f + MathF.Exp(-xs[i]));
                d[i] = g[i] * (s + xs[i] * s * (1f - s));
            }
            return [grad];
        }

        // Tells SavedActivations what the node holds for backward (a float tensor here).
        protected override void DescribeSaved(SavedTensorSink saved) => saved.Add("input", _x);

        protected override void ReleaseSaved() => _x.Release();
    }
}

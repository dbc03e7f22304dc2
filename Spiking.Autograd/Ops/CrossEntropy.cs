using System;
using Spiking.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The cross-entropy of <paramref name="logits"/> <c>[B, C]</c> against integer class
    /// <paramref name="labels"/>, averaged over the batch (PyTorch's <c>F.cross_entropy</c>), computed through a
    /// max-subtracted log-softmax so large logits stay finite. A firing rate <c>[B, C]</c> (from
    /// <see cref="MeanOverTime"/>) is a valid input: to this op it is just logits.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is not <c>[B, C]</c> with B ≥ 1 and C ≥ 1, holds spikes, or the label count is not B.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, C)</c>.</exception>
    public static Variable CrossEntropy(Variable logits, ReadOnlySpan<int> labels) => CrossEntropyNode.Forward(logits, labels);
}

/// <summary>
/// Cross-entropy over log-softmax: <c>dx = G·(softmax(x) - onehot)/B</c>. Saves that difference (computed in the
/// forward, which has the probabilities at hand) instead of the logits and labels.
/// </summary>
internal sealed class CrossEntropyNode : Node
{
    private Tensor? _probabilitiesMinusOneHot;

    private CrossEntropyNode(Variable logits) : base(logits)
    {
    }

    public override string Name => "cross entropy";

    public static Variable Forward(Variable logits, ReadOnlySpan<int> labels)
    {
        var x = OpChecks.Dense(logits, nameof(logits), "CrossEntropy");
        if (x.Rank != 2 || x.Shape[0] == 0 || x.Shape[1] == 0)
        {
            throw new ArgumentException($"CrossEntropy needs 'logits' of shape [B, C] with B, C >= 1; it has shape {x.Shape}.", nameof(logits));
        }
        int b = x.Shape[0], c = x.Shape[1];
        if (labels.Length != b)
        {
            throw new ArgumentException($"CrossEntropy got {labels.Length} labels for 'logits' of shape {x.Shape}; it needs one per row ({b}).", nameof(labels));
        }
        for (int i = 0; i < b; i++)
        {
            if ((uint)labels[i] >= (uint)c)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"labels[{i}] = {labels[i]} is outside [0, {c}) for 'logits' of shape {x.Shape}.");
            }
        }
        var node = Record(() => new CrossEntropyNode(logits), logits);
        var logProbabilities = Tensor.Empty(x.Shape);
        var src = x.AsReadOnlySpan();
        var lp = logProbabilities.AsSpan();
        double total = 0;
        for (int r = 0; r < b; r++)
        {
            var row = lp.Slice(r * c, c);
            SoftmaxKernel.Row(src.Slice(r * c, c), row, log: true);
            total -= row[labels[r]];
        }
        if (node is null)
        {
            logProbabilities.Dispose();
        }
        else
        {
            TensorPrimitives.Exp(lp, lp);
            for (int r = 0; r < b; r++) lp[r * c + labels[r]] -= 1f;
            node._probabilitiesMinusOneHot = logProbabilities;
        }
        return Variable.FromOp(Tensor.Scalar((float)(total / b)), node);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var saved = _probabilitiesMinusOneHot!;
        var dx = Tensor.Empty(saved.Shape);
        TensorPrimitives.Multiply(saved.AsReadOnlySpan(), gradOutput.ToScalar() / saved.Shape[0], dx.AsSpan());
        return [dx];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("softmax - one-hot", _probabilitiesMinusOneHot);
    }

    protected internal override void ReleaseSaved()
    {
        _probabilitiesMinusOneHot?.Dispose();
        _probabilitiesMinusOneHot = null;
    }
}

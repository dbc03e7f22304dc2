using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// RWKV's L2Wrap: returns <paramref name="loss"/> unchanged, and in backward also pushes each row's largest logit
    /// towards 0 with gradient <c>1e-4 / rows · max</c> (the first largest on ties), whatever the loss's gradient, so
    /// the logits cannot drift upwards together. As the official SpikeGPT and RWKV-4 code.
    /// </summary>
    /// <param name="loss">A scalar loss.</param>
    /// <param name="logits">The logits <c>[…, V]</c> the loss was computed from; every leading axis counts as rows.</param>
    /// <exception cref="ArgumentException"><paramref name="loss"/> is not a scalar or <paramref name="logits"/> has no rows or no vocabulary.</exception>
    public static Variable L2Wrap(Variable loss, Variable logits) => L2WrapNode.Forward(loss, logits);
}

/// <summary>The identity on the loss with a penalty gradient on the logits' row maxima, forward and backward side by side.</summary>
internal sealed class L2WrapNode : Node
{
    /// <summary>The penalty's scale before division by the row count, as the official code.</summary>
    internal const float Strength = 1e-4f;

    private SavedTensor? _logits;

    private L2WrapNode(Variable loss, Variable logits, Tensor values) : base(loss, logits)
    {
        _logits = new SavedTensor(values, "L2Wrap's logits");
    }

    public override string Name => "l2wrap";

    public static Variable Forward(Variable loss, Variable logits)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(logits);
        var value = OpChecks.Dense(loss, nameof(loss), "L2Wrap");
        var values = OpChecks.Dense(logits, nameof(logits), "L2Wrap");
        if (value.Length != 1 || value.Rank != 0) throw new ArgumentException($"L2Wrap needs a scalar loss; got shape {value.Shape}.", nameof(loss));
        if (values.Rank < 1 || values.Shape[values.Rank - 1] == 0 || values.Length == 0)
        {
            throw new ArgumentException($"L2Wrap needs logits [rows…, V] with at least one row and one entry; got {values.Shape}.", nameof(logits));
        }
        var y = value.Clone();
        return Variable.FromOp(y, Record(() => new L2WrapNode(loss, logits, values), loss, logits));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var logits = _logits!.Value;
        int vocabulary = logits.Shape[logits.Rank - 1], rows = logits.Length / vocabulary;
        var gradLogits = Tensor.Zeros(logits.Shape);
        var g = gradLogits.AsSpan();
        var x = logits.AsReadOnlySpan();
        float factor = Strength / rows;
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * vocabulary, vocabulary);
            int best = 0;
            for (int i = 1; i < row.Length; i++)
            {
                if (row[i] > row[best]) best = i;
            }
            g[r * vocabulary + best] = row[best] * factor;
        }
        return [gradOutput.Clone(), gradLogits];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("logits", _logits);
    }

    protected internal override void ReleaseSaved()
    {
        _logits?.Release();
        _logits = null;
    }
}

using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>
/// L2Wrap as RWKV's: the loss passes through unchanged with its gradient, and each row's largest logit (the first on
/// ties) gets <c>1e-4 / rows · max</c> on top, whatever the loss's gradient.
/// </summary>
public sealed class L2WrapTests
{
    [Fact]
    public void The_loss_is_unchanged_and_each_row_maximum_gets_its_penalty_gradient()
    {
        float[] values = [0.5f, 2f, -1f, 3f, 3f, 1f, -4f, -2f, -3f, 0f, 0f, 0f];
        using var logits = Variable.Input(Tensor.FromArray(values, 2, 2, 3));
        using var loss = Functional.Sum(Functional.Multiply(logits, logits));
        using var wrapped = Functional.L2Wrap(loss, logits);
        Assert.Equal(loss.Dense.ToScalar(), wrapped.Dense.ToScalar());
        wrapped.Backward();
        var g = logits.Grad!.AsReadOnlySpan();
        // The penalty (at most 7.5e-5 here) is far above float32 rounding of the sum (about 5e-7 at 6).
        const double factor = 1e-4 / 4;
        for (int i = 0; i < values.Length; i++)
        {
            // Rows: [0.5, 2, -1] max at 1; [3, 3, 1] first max at 3; [-4, -2, -3] max at 7; [0, 0, 0] first at 9.
            double penalty = i is 1 or 3 or 7 or 9 ? values[i] * factor : 0;
            Assert.Equal(2.0 * values[i] + penalty, g[i], 1e-6);
        }
    }

    [Fact]
    public void A_non_scalar_loss_or_empty_logits_are_refused()
    {
        using var logits = Variable.Input(Tensor.Zeros(2, 3));
        var e = Assert.Throws<ArgumentException>(() => Functional.L2Wrap(logits, logits));
        Assert.Contains("scalar loss; got shape [2, 3]", e.Message, StringComparison.Ordinal);
        using var loss = Variable.Input(Tensor.Scalar(1f));
        using var empty = Variable.Input(Tensor.Zeros(2, 0));
        Assert.Throws<ArgumentException>(() => Functional.L2Wrap(loss, empty));
    }
}

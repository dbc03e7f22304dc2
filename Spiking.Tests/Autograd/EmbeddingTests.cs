using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class EmbeddingTests
{
    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Rows_and_scattered_gradient_match_double(SequenceCase c)
    {
        var tokens = c.Tokens();
        var weight = c.Normal(1, c.V, c.C);
        var g = c.Normal(2, c.B, c.T, c.C);
        using var w = Variable.Parameter(Tensor.FromArray(weight, c.V, c.C));
        using var y = Functional.Embedding(w, tokens, new Shape(c.B, c.T));
        Assert.Equal(new Shape(c.B, c.T, c.C), y.Shape);
        var expected = new double[c.B * c.T * c.C];
        var dw = new double[c.V * c.C];
        for (int n = 0; n < tokens.Length; n++)
        {
            for (int j = 0; j < c.C; j++)
            {
                expected[n * c.C + j] = weight[tokens[n] * c.C + j];
                dw[tokens[n] * c.C + j] += g[n * c.C + j];
            }
        }
        Reference.AssertRounded(expected, y.Dense.AsReadOnlySpan(), $"y {c}");
        using (var seed = Tensor.FromArray(g, c.B, c.T, c.C)) y.Backward(seed);
        Reference.AssertClose(dw, w.Grad!.AsReadOnlySpan(), default, 1e-6, 1e-5, $"dweight {c}");
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 20)]
    public void Weight_gradient_passes_the_gradient_check(SequenceCase c)
    {
        var tokens = c.Tokens();
        GradAssert.Passes(v => Functional.Embedding(v[0], tokens, new Shape(c.B, c.T)), c.ToString(),
            Tensor.FromArray(c.Normal(1, c.V, c.C), c.V, c.C));
    }

    [Fact]
    public void Repeated_tokens_add_their_gradients_in_position_order()
    {
        // One token everywhere: its row must be the left-to-right float sum of every position's gradient, each time.
        const int Positions = 300, Channels = 5;
        var tokens = new int[Positions];
        Array.Fill(tokens, 2);
        var g = new TensorCase([Positions, Channels], 9).Values();
        var expected = new float[Channels];
        for (int n = 0; n < Positions; n++)
        {
            for (int j = 0; j < Channels; j++) expected[j] += g[n * Channels + j];
        }
        for (int run = 0; run < 3; run++)
        {
            using var w = Variable.Parameter(Tensor.Zeros(4, Channels));
            using var y = Functional.Embedding(w, tokens, new Shape(Positions));
            using (var seed = Tensor.FromArray(g, Positions, Channels)) y.Backward(seed);
            var grad = w.Grad!.ToArray();
            Reference.AssertBitwise(expected, grad.AsSpan(2 * Channels, Channels), $"run {run}, token 2");
            Assert.All(grad.AsSpan(0, 2 * Channels).ToArray(), v => Assert.Equal(0f, v));
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(7)]
    [InlineData(int.MaxValue)]
    public void A_token_outside_the_vocabulary_is_named_with_its_index_and_value(int bad)
    {
        using var w = Variable.Parameter(Tensor.Zeros(7, 3));
        int[] tokens = [0, 6, bad, 1];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Embedding(w, tokens, new Shape(2, 2)));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains("tokens[2]", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{bad}", e.Message, StringComparison.Ordinal);
        Assert.Contains("[0, 7)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_shapes_are_named()
    {
        using var w = Variable.Parameter(Tensor.Zeros(7, 3));
        var count = Assert.Throws<ArgumentException>(() => Functional.Embedding(w, [1, 2, 3], new Shape(2, 2)));
        Assert.Equal("tokens", count.ParamName);
        Assert.Contains("[2, 2]", count.Message, StringComparison.Ordinal);
        using var flat = Variable.Parameter(Tensor.Zeros(7));
        var rank = Assert.Throws<ArgumentException>(() => Functional.Embedding(flat, [1], new Shape(1)));
        Assert.Equal("weight", rank.ParamName);
        Assert.Contains("[V, C]", rank.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Layer_is_named_weight_drawn_from_the_standard_normal_and_takes_whole_number_ids()
    {
        ModelSeed.Seed(11);
        using var layer = new Embedding(200, 50);
        var (name, parameter) = Assert.Single(layer.NamedParameters());
        Assert.Equal("weight", name);
        Assert.Equal(new Shape(200, 50), parameter.Value.Shape);
        double sum = 0, squares = 0;
        foreach (float v in parameter.Value.AsReadOnlySpan())
        {
            sum += v;
            squares += (double)v * v;
        }
        int n = 200 * 50;
        Assert.InRange(sum / n, -0.05, 0.05);
        Assert.InRange(Math.Sqrt(squares / n - sum / n * (sum / n)), 0.95, 1.05);

        int[] ids = [3, 0, 199, 3];
        using var fromInts = layer.Forward(ids, new Shape(2, 2));
        using var floats = Variable.Constant(Tensor.FromArray([3f, 0f, 199f, 3f], 2, 2));
        using var fromFloats = layer.Forward(floats);
        Reference.AssertBitwise(fromInts.Dense.AsReadOnlySpan(), fromFloats.Dense.AsReadOnlySpan(), "float ids");
        using var fraction = Variable.Constant(Tensor.FromArray([1.5f], 1));
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => layer.Forward(fraction)).ParamName);
        using var tooLarge = Variable.Constant(Tensor.FromArray([200f], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(tooLarge));
    }
}

[Collection("Parallelism")]
public sealed class EmbeddingThreadTests
{
    [Fact]
    public void One_and_two_threads_give_the_same_bits()
    {
        var c = new SequenceCase(8, 64, 96, 13, 5);
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = Run(c);
            Parallelism.MaxThreads = 2;
            var two = Run(c);
            Reference.AssertBitwise(one, two, "dweight");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    private static float[] Run(SequenceCase c)
    {
        using var w = Variable.Parameter(Tensor.FromArray(c.Normal(1, c.V, c.C), c.V, c.C));
        using var y = Functional.Embedding(w, c.Tokens(), new Shape(c.B, c.T));
        using (var seed = Tensor.FromArray(c.Normal(2, c.B, c.T, c.C), c.B, c.T, c.C)) y.Backward(seed);
        return w.Grad!.ToArray();
    }
}

using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>
/// Integer training, spike inference: <see cref="Functional.ExpandCounts"/> and <see cref="Functional.SumSubSteps"/>
/// (and the <see cref="SpikeCountToBinary"/>/<see cref="TemporalBinSum"/> layers) turn a multi-level neuron's counts
/// into binary sub-steps whose bias-free linear layer, summed back, is the layer on the counts.
/// </summary>
public sealed class ExpandCountsTests
{
    [Fact]
    public void A_count_fires_the_first_c_sub_steps_time_major()
    {
        // counts [T=2, 3]: step 0 = [0, 1, 3], step 1 = [2, 3, 0]; D = 3.
        using var counts = Variable.Input(Tensor.FromArray([0f, 1f, 3f, 2f, 3f, 0f], 2, 3));
        using var bits = Functional.ExpandCounts(counts, 3);
        Assert.True(bits.IsSpikes);
        Assert.Equal(new Shape(6, 3), bits.Shape);
        using var dense = bits.ToDense();
        Assert.Equal(
            [
                0f, 1f, 1f, // t0, d0
                0f, 0f, 1f, // t0, d1
                0f, 0f, 1f, // t0, d2
                1f, 1f, 0f, // t1, d0
                1f, 1f, 0f, // t1, d1
                0f, 1f, 0f, // t1, d2
            ], dense.ToArray());
    }

    [Theory]
    [InlineData(1, 3, 4, 5)]
    [InlineData(4, 2, 70, 4)]
    [InlineData(3, 5, 130, 3)]
    [InlineData(2, 1, 1, 1)]
    public void Summing_the_sub_steps_gives_back_the_counts_and_the_gradient(int steps, int rows, int rowLength, int maxCount)
    {
        var rng = new Random(steps * 1000 + rowLength);
        var shape = new Shape(steps, rows, rowLength);
        var c = new float[shape.ElementCount];
        var g = new float[c.Length];
        for (int i = 0; i < c.Length; i++) c[i] = rng.Next(maxCount + 1);
        // Upstream gradients on a 1/64 grid: D copies sum exactly, so their mean is exactly one of them.
        for (int i = 0; i < g.Length; i++) g[i] = rng.Next(-128, 129) / 64f;
        using var counts = Variable.Input(Tensor.FromSpan(c, shape));
        using var bits = Functional.ExpandCounts(counts, maxCount);
        using var summed = Functional.SumSubSteps(bits, maxCount);
        Assert.Equal(c, summed.Dense.ToArray());
        using (var gradient = Tensor.FromSpan(g, shape)) summed.Backward(gradient);
        Assert.Equal(g, counts.Grad!.ToArray());
    }

    /// <summary>
    /// The property that makes the expansion worth having: a linear layer on the bits (the spike kernel, additions
    /// only), summed over each step's sub-steps, is the layer on the counts (the dense kernel), forward and backward.
    /// Weights on a 1/1024 grid and gradients on a 1/64 grid keep every partial sum exact, so the two agree bit for bit
    /// though they add in different orders.
    /// </summary>
    [Theory]
    [InlineData(4, 3, 70, 9, 4)]
    [InlineData(3, 2, 129, 5, 8)]
    [InlineData(2, 4, 33, 64, 1)]
    public void A_linear_layer_on_the_expanded_bits_equals_it_on_the_counts_exactly(int steps, int batch, int features, int outputs, int maxCount)
    {
        var rng = new Random(features * 31 + outputs);
        var shape = new Shape(steps, batch, features);
        var x = new float[shape.ElementCount];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(0.6 * maxCount * Reference.Normal(rng));
        var w = new float[outputs * features];
        for (int i = 0; i < w.Length; i++) w[i] = rng.Next(-1024, 1025) / 1024f;
        var g = new float[steps * batch * outputs];
        for (int i = 0; i < g.Length; i++) g[i] = rng.Next(-64, 65) / 64f;
        var model = new IlifNeuron { MaxSpikeCount = maxCount, VThreshold = 0.5f };

        var direct = Run(model, x, w, g, shape, outputs, expand: false);
        var expanded = Run(model, x, w, g, shape, outputs, expand: true);
        Assert.True(expanded.Counts > 0, "the neuron emitted no counts");
        Reference.AssertBitwise(direct.Y, expanded.Y, "linear output");
        Reference.AssertBitwise(direct.GradW, expanded.GradW, "dL/dW");
        Reference.AssertBitwise(direct.GradX, expanded.GradX, "dL/dx through the neuron");
    }

    [Fact]
    public void A_linear_layer_on_the_expanded_bits_matches_it_on_the_counts_for_random_weights()
    {
        var rng = new Random(5);
        var shape = new Shape(5, 3, 100);
        var x = new float[shape.ElementCount];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(2 * Reference.Normal(rng));
        var w = new float[17 * 100];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(0.1 * Reference.Normal(rng));
        var g = new float[5 * 3 * 17];
        for (int i = 0; i < g.Length; i++) g[i] = (float)Reference.Normal(rng);
        var model = new IlifNeuron();
        var direct = Run(model, x, w, g, shape, 17, expand: false);
        var expanded = Run(model, x, w, g, shape, 17, expand: true);
        Golden.AssertClose(Array.ConvertAll(direct.Y, v => (double)v), expanded.Y, "linear output", rel: 1e-5, abs: 1e-5);
        Golden.AssertClose(Array.ConvertAll(direct.GradW, v => (double)v), expanded.GradW, "dL/dW", rel: 1e-5, abs: 1e-5);
        Golden.AssertClose(Array.ConvertAll(direct.GradX, v => (double)v), expanded.GradX, "dL/dx", rel: 1e-5, abs: 1e-5);
    }

    [Fact]
    public void The_layers_pass_counts_through_in_training_and_expand_in_evaluation_with_the_same_result()
    {
        var rng = new Random(9);
        var shape = new Shape(3, 2, 40);
        var x = new float[shape.ElementCount];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(3 * Reference.Normal(rng));
        using var network = new Sequential(new SpikingNeuron(new IlifNeuron()), new SpikeCountToBinary(4), new Linear(40, 6, bias: false), new TemporalBinSum(4));
        var linear = (Linear)network.Children[2].Value;
        var weights = linear.Weight.Value.AsSpan();
        for (int i = 0; i < weights.Length; i++) weights[i] = rng.Next(-1024, 1025) / 1024f;
        using var input = Variable.Input(Tensor.FromSpan(x, shape));
        float[] training, evaluation;
        using (var y = network.Forward(input)) training = y.Dense.ToArray();
        network.Eval();
        using (var counts = network.Children[0].Value.Forward(input))
        using (var bits = network.Children[1].Value.Forward(counts))
        {
            Assert.True(bits.IsSpikes);
            Assert.Equal(new Shape(12, 2, 40), bits.Shape);
        }
        using (var y = network.Forward(input)) evaluation = y.Dense.ToArray();
        Assert.Equal(new Shape(3, 2, 6).ElementCount, evaluation.Length);
        Reference.AssertBitwise(training, evaluation, "train (counts) vs eval (bits)");
        using var always = new SpikeCountToBinary(4, alwaysConvert: true);
        using var two = Variable.Constant(Tensor.FromArray([1f, 4f], 1, 2));
        using var bitsInTraining = always.Forward(two);
        Assert.True(bitsInTraining.IsSpikes);
    }

    [Fact]
    public void Bad_counts_and_shapes_are_refused_with_what_was_seen()
    {
        using var fraction = Variable.Input(Tensor.FromArray([0f, 1.5f], 1, 2));
        var e = Assert.Throws<ArgumentException>(() => Functional.ExpandCounts(fraction, 4));
        Assert.Equal("counts", e.ParamName);
        Assert.Contains("element 1 is 1.5", e.Message, StringComparison.Ordinal);
        using var negative = Variable.Input(Tensor.FromArray([-1f, 1f], 1, 2));
        Assert.Contains("element 0 is -1", Assert.Throws<ArgumentException>(() => Functional.ExpandCounts(negative, 4)).Message, StringComparison.Ordinal);
        using var tooMany = Variable.Input(Tensor.FromArray([5f, 1f], 1, 2));
        Assert.Contains("[0, 4]", Assert.Throws<ArgumentException>(() => Functional.ExpandCounts(tooMany, 4)).Message, StringComparison.Ordinal);
        using var nan = Variable.Input(Tensor.FromArray([float.NaN, 1f], 1, 2));
        Assert.Throws<ArgumentException>(() => Functional.ExpandCounts(nan, 4));
        using var vector = Variable.Input(Tensor.FromArray([1f, 1f], 2));
        Assert.Contains("[T, …]", Assert.Throws<ArgumentException>(() => Functional.ExpandCounts(vector, 4)).Message, StringComparison.Ordinal);
        using var ok = Variable.Input(Tensor.FromArray([1f, 1f], 1, 2));
        Assert.Equal("maxCount", Assert.Throws<ArgumentOutOfRangeException>(() => Functional.ExpandCounts(ok, 0)).ParamName);
        using var spikes = Variable.Constant(SpikeTensor.Zeros(1, 2));
        Assert.Equal("counts", Assert.Throws<ArgumentException>(() => Functional.ExpandCounts(spikes, 4)).ParamName);
        using var three = Variable.Input(Tensor.Zeros(3, 2));
        Assert.Contains("[T·2, …]", Assert.Throws<ArgumentException>(() => Functional.SumSubSteps(three, 2)).Message, StringComparison.Ordinal);
        Assert.Equal("subSteps", Assert.Throws<ArgumentOutOfRangeException>(() => Functional.SumSubSteps(three, 0)).ParamName);
        Assert.Equal("slots", Assert.Throws<ArgumentOutOfRangeException>(() => new SpikeCountToBinary(0)).ParamName);
        Assert.Equal("slots", Assert.Throws<ArgumentOutOfRangeException>(() => new TemporalBinSum(0)).ParamName);
    }

    private sealed record LinearRun(float[] Y, float[] GradW, float[] GradX, double Counts);

    /// <summary>ILIF over x, then the bias-free linear layer on the counts, or on their expanded bits summed back; <c>loss = Σ y·G</c>.</summary>
    private static LinearRun Run(IlifNeuron model, float[] x, float[] w, float[] g, Shape shape, int outputs, bool expand)
    {
        using var input = Variable.Input(Tensor.FromSpan(x, shape));
        using var weight = Variable.Parameter(Tensor.FromSpan(w, new Shape(outputs, shape.LastDimension)));
        using var scope = DisposeScope.Begin();
        var counts = Functional.Neuron(input, model);
        double total = 0;
        foreach (float c in counts.Dense.AsReadOnlySpan()) total += c;
        var y = expand
            ? Functional.SumSubSteps(Functional.Linear(Functional.ExpandCounts(counts, model.MaxSpikeCount), weight), model.MaxSpikeCount)
            : Functional.Linear(counts, weight);
        var values = y.Dense.ToArray();
        using (var gradient = Tensor.FromSpan(g, y.Shape)) y.Backward(gradient);
        return new LinearRun(values, weight.Grad!.ToArray(), input.Grad!.ToArray(), total);
    }
}

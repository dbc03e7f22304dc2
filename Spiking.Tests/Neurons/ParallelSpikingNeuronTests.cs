using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>PSN, MaskedPSN and SlidingPSN: the fused ops against the double reference and the composition from ops, and the layers.</summary>
public sealed class ParallelSpikingNeuronTests
{
    [Property(Arbitrary = new[] { typeof(ParallelNeuronGenerators) }, MaxTest = 80)]
    public void Random_problems_match_the_double_reference(ParallelNeuronCase c) => Check(c);

    public static TheoryData<ParallelKind, string> KindsAndSurrogates()
    {
        var data = new TheoryData<ParallelKind, string>();
        foreach (var kind in new[] { ParallelKind.Psn, ParallelKind.Masked, ParallelKind.Sliding })
        {
            foreach (var surrogate in new[] { "Sigmoid", "ATan", "PiecewiseQuadratic", "SoftSign", "Erf", "PiecewiseLeakyReLU", "Rect" }) data.Add(kind, surrogate);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(KindsAndSurrogates))]
    public void Every_class_and_surrogate_matches_the_double_reference(ParallelKind kind, string surrogate) =>
        // Rows of 70 (two words, a vector tail) in 3 x 5 rows per step.
        Check(new ParallelNeuronCase([6, 3, 5, 70], kind, 3, 0.4, surrogate, 11));

    [Theory]
    [InlineData(ParallelKind.Psn, 3, 2, 4100, 1, 0.0)] // rows longer than a fire block; more than one backward block
    [InlineData(ParallelKind.Masked, 4, 300, 28, 2, 0.5)] // many short rows: several fire blocks and a partial one
    [InlineData(ParallelKind.Sliding, 2, 5000, 1, 4, 0.0)] // rows of one neuron
    [InlineData(ParallelKind.Masked, 8, 3, 63, 9, 1.0)] // k larger than T
    [InlineData(ParallelKind.Sliding, 5, 7, 64, 9, 0.0)] // k larger than T: the oldest weights get no gradient
    [InlineData(ParallelKind.Psn, 1, 1, 1, 1, 0.0)]
    public void Block_and_row_edges_match_the_double_reference(ParallelKind kind, int steps, int rows, int rowLength, int order, double lambda) =>
        Check(new ParallelNeuronCase([steps, rows, rowLength], kind, order, lambda, "Sigmoid", 7));

    [Theory]
    [InlineData(ParallelKind.Psn, "ATan")]
    [InlineData(ParallelKind.Masked, "Sigmoid")]
    [InlineData(ParallelKind.Sliding, "Erf")]
    [InlineData(ParallelKind.Sliding, "Rect")]
    public void The_fused_op_matches_its_composition_from_ops(ParallelKind kind, string surrogate)
    {
        var c = new ParallelNeuronCase([5, 4, 77], kind, 2, 0.6, surrogate, 3);
        var (weight, bias, x, g) = c.Inputs();
        var fused = ParallelNeuronHarness.Fused(c, weight, bias, x, g);
        var composed = ParallelNeuronHarness.Composed(c, weight, bias, x, g);
        // The same SGEMM call gives H in both, so the spikes agree bit for bit.
        Assert.Equal(composed.Words, fused.Words);
        Golden.AssertClose(ToDouble(composed.GradX), fused.GradX, "dL/dx", rel: 1e-5, abs: 1e-6);
        Golden.AssertClose(ToDouble(composed.GradWeight!), fused.GradWeight!, "dL/dweight", rel: 1e-4, abs: 1e-5);
        Golden.AssertClose(ToDouble(composed.GradBias!), fused.GradBias!, "dL/dbias", rel: 1e-4, abs: 1e-5);
    }

    [Fact]
    public void Unused_sliding_weights_get_exactly_zero_gradient()
    {
        var c = new ParallelNeuronCase([3, 2, 20], ParallelKind.Sliding, 6, 0, "ATan", 5);
        var (weight, bias, x, g) = c.Inputs();
        var run = ParallelNeuronHarness.Fused(c, weight, bias, x, g);
        Assert.Equal(new[] { 0f, 0f, 0f }, run.GradWeight![..3]);
        Assert.All(run.GradWeight[3..], v => Assert.NotEqual(0f, v));
    }

    [Fact]
    public void Spike_bits_are_the_threshold_of_h_at_zero_with_zero_padding()
    {
        foreach (int rowLength in new[] { 1, 7, 8, 15, 16, 17, 63, 64, 65, 130 })
        {
            var c = new ParallelNeuronCase([3, 5, rowLength], ParallelKind.Psn, 1, 0, "ATan", rowLength);
            var (weight, bias, x, g) = c.Inputs();
            var run = ParallelNeuronHarness.Fused(c, weight, bias, x, g);
            using var h = Tensor.FromSpan(run.H, c.Shape);
            using var expected = SpikeTensor.FromThreshold(h, 0f);
            Assert.Equal(expected.Words.ToArray(), run.Words);
        }
    }

    [Fact]
    public void Without_a_graph_the_op_records_nothing_and_gives_the_same_spikes()
    {
        var c = new ParallelNeuronCase([4, 3, 40], ParallelKind.Masked, 2, 0.5, "ATan", 1);
        var (weight, bias, x, g) = c.Inputs();
        var run = ParallelNeuronHarness.Fused(c, weight, bias, x, g);
        using var input = Variable.Constant(Tensor.FromSpan(x, c.Shape));
        using var w = Variable.Constant(Tensor.FromSpan(weight, c.WeightShape));
        using var b = Variable.Constant(Tensor.FromSpan(bias, c.BiasShape));
        using var spikes = Functional.MaskedParallelSpikingNeuron(input, w, b, c.Order, (float)c.Lambda, new ATan());
        Assert.Null(spikes.Creator);
        Assert.Equal(run.Words, spikes.Spikes!.Words.ToArray());
    }

    [Fact]
    public void Empty_inputs_give_empty_outputs_and_gradients()
    {
        foreach (var kind in new[] { ParallelKind.Psn, ParallelKind.Masked, ParallelKind.Sliding })
        {
            var c = new ParallelNeuronCase([3, 2, 0], kind, 2, 0.5, "ATan", 1);
            var run = ParallelNeuronHarness.Fused(c, new float[c.WeightShape.ElementCount], new float[c.BiasShape.ElementCount], [], []);
            Assert.Empty(run.Output);
            Assert.Empty(run.GradX);
            Assert.All(run.GradWeight!, v => Assert.Equal(0f, v));
            Assert.All(run.GradBias!, v => Assert.Equal(0f, v));
        }
        var few = ParallelNeuronHarness.FewSpike([1f, 0.5f], [1f, 0.5f], [1f, 0.5f], new Sigmoid(), [], [], new Shape(2, 0));
        Assert.Empty(few.Output);
        Assert.Empty(few.GradX);
    }

    [Fact]
    public void The_layers_start_as_SpikingJelly_initialises_them()
    {
        ModelSeed.Seed(3);
        using var psn = new ParallelSpikingNeuron(8);
        ModelSeed.Seed(3);
        using var again = new ParallelSpikingNeuron(8);
        Assert.Equal(psn.Weight.Value.ToArray(), again.Weight.Value.ToArray());
        Assert.All(psn.Weight.Value.ToArray(), v => Assert.InRange(v, -1 / MathF.Sqrt(8), 1 / MathF.Sqrt(8)));
        Assert.Equal(new Shape(8, 1), psn.Bias.Shape);
        Assert.All(psn.Bias.Value.ToArray(), v => Assert.Equal(-1f, v));
        Assert.Equal(new[] { "weight", "bias" }, Names(psn));

        using var masked = new MaskedParallelSpikingNeuron(2, 4, 0.25f);
        Assert.Equal(0.25f, masked.Lambda);
        Assert.Equal(new[] { "weight", "bias", "_lambda_" }, Names(masked));
        masked.Lambda = 1f;
        Assert.Equal(1f, masked.Lambda);

        using var sliding = new SlidingParallelSpikingNeuron(5);
        Assert.Equal(new[] { 0.0625f, 0.125f, 0.25f, 0.5f, 1f }, sliding.Weight.Value.ToArray());
        Assert.Equal(-1f, sliding.Bias.Value.ToScalar());
        Assert.Equal(0, sliding.Bias.Shape.Rank);
        using var drawn = new SlidingParallelSpikingNeuron(4, exponentialInit: false);
        Assert.All(drawn.Weight.Value.ToArray(), v => Assert.InRange(v, -0.5f, 0.5f));
    }

    [Fact]
    public void The_layers_compute_the_op_and_count_their_spikes()
    {
        var c = new ParallelNeuronCase([4, 6, 30], ParallelKind.Psn, 1, 0, "ATan", 2);
        var (weight, bias, x, g) = c.Inputs();
        var run = ParallelNeuronHarness.Fused(c, weight, bias, x, g);
        using var layer = new ParallelSpikingNeuron(4);
        weight.CopyTo(layer.Weight.Value.AsSpan());
        bias.CopyTo(layer.Bias.Value.AsSpan());
        layer.CountSpikes = true;
        layer.KeepLastSpikes = true;
        using var input = Variable.Constant(Tensor.FromSpan(x, c.Shape));
        using var output = layer.Forward(input);
        Assert.Equal(run.Words, output.Spikes!.Words.ToArray());
        long expected = 0;
        foreach (float s in run.Output) expected += s != 0 ? 1 : 0;
        Assert.Equal(expected, layer.SpikeCount);
        Assert.Equal(x.Length, layer.NeuronSteps);
        Assert.Equal((double)expected / x.Length, layer.FiringRate);
        Assert.Equal(run.Words, layer.LastSpikes!.Words.ToArray());
        layer.ClearCounts();
        Assert.Equal(0, layer.SpikeCount);
        using var traced = ((ITracedNeuronLayer)layer).Forward(input, out var traces);
        using (traces) Assert.Equal(run.H, traces["h"].ToArray());
        Assert.Equal("spike", layer.OutputName);
    }

    [Fact]
    public void The_catalog_builds_each_class_from_SpikingJelly_arguments()
    {
        using var psn = (ParallelSpikingNeuron)NeuronCatalog.Create(Settings("PSN", ("T", 6.0), ("surrogate_function", Surrogate("Sigmoid"))));
        Assert.Equal(6, psn.Steps);
        Assert.IsType<Sigmoid>(psn.Surrogate);
        Assert.Equal("PSN(T=6, surrogate=Sigmoid(alpha=4))", psn.ToString());
        using var masked = (MaskedParallelSpikingNeuron)NeuronCatalog.Create(Settings("MaskedPSN", ("k", 3.0), ("T", 5.0), ("lambda_init", 0.5), ("step_mode", "m")));
        Assert.Equal((3, 5, 0.5f), (masked.Order, masked.Steps, masked.Lambda));
        Assert.IsType<ATan>(masked.Surrogate);
        using var sliding = (SlidingParallelSpikingNeuron)NeuronCatalog.Create(Settings("SlidingPSN", ("k", 2.0), ("exp_init", true), ("backend", "conv")));
        Assert.Equal(new[] { 0.5f, 1f }, sliding.Weight.Value.ToArray());
        using var few = (FewSpikeNeuron)NeuronCatalog.Create(Settings("FewSpikeNode", ("theta", new double[] { 1, 0.5 }), ("h", new double[] { 1, 0.5 }), ("d", new double[] { 2, 1 })));
        Assert.Equal(2, few.K);
        Assert.IsType<Sigmoid>(few.Surrogate);
    }

    [Theory]
    [InlineData("PSN", "T", "has no default")]
    [InlineData("MaskedPSN", "k", "has no default")]
    [InlineData("SlidingPSN", "k", "has no default")]
    [InlineData("FewSpikeNode", "theta", "list of K numbers")]
    public void A_missing_argument_without_a_default_is_named(string node, string key, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => NeuronCatalog.Create(Settings(node, node == "MaskedPSN" ? [("T", 4.0)] : [])));
        Assert.Equal(key, error.ParamName);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_settings_name_the_setting_and_the_value()
    {
        var t = Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelSpikingNeuron(0));
        Assert.Contains("T, the number of time steps, must be at least 1; got 0", t.Message, StringComparison.Ordinal);
        var k = Assert.Throws<ArgumentOutOfRangeException>(() => new MaskedParallelSpikingNeuron(0, 4));
        Assert.Equal("order", k.ParamName);
        Assert.Contains("order k must be at least 1; got 0", k.Message, StringComparison.Ordinal);
        var lambda = Assert.Throws<ArgumentOutOfRangeException>(() => new MaskedParallelSpikingNeuron(2, 4, float.NaN));
        Assert.Contains("lambda must be a finite number; got NaN", lambda.Message, StringComparison.Ordinal);
        var order = Assert.Throws<ArgumentOutOfRangeException>(() => new SlidingParallelSpikingNeuron(-1));
        Assert.Contains("got -1", order.Message, StringComparison.Ordinal);
        var backend = Assert.Throws<ArgumentException>(() => NeuronCatalog.Create(Settings("SlidingPSN", ("k", 2.0), ("backend", "cupy"))));
        Assert.Contains("'backend' must be \"gemm\" or \"conv\"", backend.Message, StringComparison.Ordinal);
        Assert.Contains("\"cupy\"", backend.Message, StringComparison.Ordinal);
        var whole = Assert.Throws<ArgumentException>(() => NeuronCatalog.Create(Settings("PSN", ("T", 2.5))));
        Assert.Contains("'T' must be a whole number; got 2.5", whole.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<ArgumentException>(() => NeuronCatalog.Create(Settings("PSN", ("T", 4.0), ("tau", 2.0))));
        Assert.Contains("PSN has no parameter 'tau'", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_input_of_another_T_is_refused_naming_both()
    {
        using var psn = new ParallelSpikingNeuron(4);
        using var x = Variable.Constant(Tensor.Zeros(5, 3));
        var error = Assert.Throws<ArgumentException>(() => psn.Forward(x));
        Assert.Contains("PSN was built for T = 4 time steps, but the input has T = 5 (shape [5, 3])", error.Message, StringComparison.Ordinal);
        using var masked = new MaskedParallelSpikingNeuron(2, 3);
        var maskedError = Assert.Throws<ArgumentException>(() => masked.Forward(x, out _));
        Assert.Contains("MaskedPSN was built for T = 3 time steps, but the input has T = 5", maskedError.Message, StringComparison.Ordinal);
        // SlidingPSN takes any T.
        using var sliding = new SlidingParallelSpikingNeuron(3);
        using var output = sliding.Forward(x);
        Assert.Equal(x.Shape, output.Shape);
    }

    [Fact]
    public void The_ops_refuse_operands_that_do_not_fit_and_name_them()
    {
        using var x = Variable.Constant(Tensor.Zeros(4, 3));
        using var square = Variable.Parameter(Tensor.Zeros(4, 4));
        using var wrong = Variable.Parameter(Tensor.Zeros(3, 3));
        using var bias = Variable.Parameter(Tensor.Zeros(4, 1));
        using var flatBias = Variable.Parameter(Tensor.Zeros(4));
        using var rowBias = Variable.Parameter(Tensor.Zeros(1, 4));
        var weightError = Assert.Throws<ArgumentException>(() => Functional.ParallelSpikingNeuron(x, wrong, bias, new ATan()));
        Assert.Equal("weight", weightError.ParamName);
        Assert.Contains("'weight' must be [T, T] with T = 4, the input's time steps; got [3, 3]", weightError.Message, StringComparison.Ordinal);
        var biasError = Assert.Throws<ArgumentException>(() => Functional.ParallelSpikingNeuron(x, square, rowBias, new ATan()));
        Assert.Contains("'bias' must be [T, 1] (or [T]) with T = 4, the input's time steps; got [1, 4]", biasError.Message, StringComparison.Ordinal);
        using (var ok = Functional.ParallelSpikingNeuron(x, square, flatBias, new ATan())) Assert.Equal(x.Shape, ok.Shape);
        var kError = Assert.Throws<ArgumentOutOfRangeException>(() => Functional.MaskedParallelSpikingNeuron(x, square, bias, 0, 0f, new ATan()));
        Assert.Equal("k", kError.ParamName);
        using var slidingWeight = Variable.Parameter(Tensor.Zeros(2, 2));
        using var scalar = Variable.Parameter(Tensor.Scalar(-1f));
        var slidingError = Assert.Throws<ArgumentException>(() => Functional.SlidingParallelSpikingNeuron(x, slidingWeight, scalar, new ATan()));
        Assert.Contains("'weight' must be [k] with k >= 1 (the order); got [2, 2]", slidingError.Message, StringComparison.Ordinal);
        using var rank1 = Variable.Constant(Tensor.Zeros(4));
        var rankError = Assert.Throws<ArgumentException>(() => Functional.ParallelSpikingNeuron(rank1, square, bias, new ATan()));
        Assert.Contains("[T, ...]: time first, then at least one neuron axis; got shape [4]", rankError.Message, StringComparison.Ordinal);
        using var spikes = Variable.Constant(SpikeTensor.Zeros(4, 3));
        var spikeError = Assert.Throws<ArgumentException>(() => Functional.ParallelSpikingNeuron(spikes, square, bias, new ATan()));
        Assert.Contains("holds spikes", spikeError.Message, StringComparison.Ordinal);
    }

    internal static void Check(ParallelNeuronCase c)
    {
        var (weight, bias, x, g) = c.Inputs();
        var expected = ParallelNeuronReference.Run(c.Kind, weight, bias, c.Order, c.Lambda, c.CreateSurrogate(), x, g, c.Steps);
        ParallelNeuronHarness.AssertMatches(expected, ParallelNeuronHarness.Fused(c, weight, bias, x, g), c.ToString());
    }

    private static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);

    private static string[] Names(Module module)
    {
        var names = new System.Collections.Generic.List<string>();
        foreach (var entry in module.StateDict()) names.Add(entry.Name);
        return [.. names];
    }

    private static System.Collections.Generic.Dictionary<string, object?> Surrogate(string name) =>
        new() { ["name"] = name, ["params"] = new System.Collections.Generic.Dictionary<string, object?>() };

    internal static NeuronSettings Settings(string node, params (string Key, object? Value)[] values)
    {
        var map = new System.Collections.Generic.Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in values) map[key] = value;
        return new NeuronSettings(node, map);
    }
}

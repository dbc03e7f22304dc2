using System;
using System.Linq;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>
/// The energy report at bit width (STEP's model): arithmetic scaled by the weights' bits, memory traffic at 3.12 pJ
/// a bit (weights once per time step, inputs once), and multi-level spike counts charged as the binary spikes they
/// expand to. References are computed here by hand from the layer's shapes and the input's values.
/// </summary>
public sealed class EnergyBitWidthTests
{
    private const int T = 3, B = 2;

    private static EnergyReport CountOnce(Module layer, Variable input, int samples, int timeSteps)
    {
        EnergyModel.StartCounting(layer);
        using (DisposeScope.Begin()) layer.Forward(input);
        EnergyModel.StopCounting(layer);
        return EnergyModel.Report(layer, samples, timeSteps);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(8)]
    [InlineData(4)]
    public void Weight_bits_scale_the_accumulates_and_the_weight_traffic_of_a_layer_on_spikes(int bits)
    {
        ModelSeed.Seed(1);
        using var linear = new Linear(20, 7);
        linear.Operations.WeightBits = bits;
        using var spikes = Variable.Constant(new PhiloxGenerator(2).Bernoulli(Tensor.Full(new Shape(T, B, 20), 0.3f)));
        long fired = spikes.Spikes!.PopCount();

        var layer = CountOnce(linear, spikes, B, T).Layers.Single();

        double sops = (double)fired * 7 / B;
        Assert.Equal(sops, layer.SynapticOperations, 9);
        Assert.Equal(sops * 0.9 * bits / 32 * 1e-6, layer.Microjoules, 15);
        double weightBits = (20.0 * 7 * bits + 7 * 32) * T;
        double inputBits = (double)T * B * 20 / B;
        Assert.Equal(weightBits, layer.WeightBitsRead, 9);
        Assert.Equal(inputBits, layer.InputBitsRead, 9);
        Assert.Equal((weightBits + inputBits) * 3.12e-6, layer.MemoryMicrojoules, 12);
        Assert.Equal(bits, layer.WeightBits);
    }

    [Fact]
    public void A_dense_input_is_charged_as_multiply_accumulates_on_32_bit_floats()
    {
        ModelSeed.Seed(3);
        using var conv = new Conv2d(2, 4, 3, padding: 1);
        conv.Operations.WeightBits = 8;
        using var x = Variable.Constant(new PhiloxGenerator(4).Normal(new Shape(T, B, 2, 5, 6)));

        var layer = CountOnce(conv, x, B, T).Layers.Single();

        double macs = (double)T * B * 5 * 6 * 2 * 9 * 4 / B;
        Assert.Equal(macs, layer.MultiplyAccumulates, 9);
        Assert.Equal(macs * 4.6e-6, layer.Microjoules, 12);
        Assert.Equal((double)T * B * 2 * 5 * 6 * 32 / B, layer.InputBitsRead, 9);
    }

    [Theory]
    [InlineData(2, 1f, true)]
    [InlineData(1, 0.25f, true)]
    [InlineData(1, 0.25f, false)]
    [InlineData(2, 0.5f, false)]
    public void Spike_counts_cost_what_their_expansion_into_binary_spikes_costs(int stride, float unit, bool declared)
    {
        const int MaxCount = 4;
        ModelSeed.Seed(5);
        using var counted = new Conv2d(3, 5, 3, stride: stride, padding: 1);
        if (declared) counted.Operations.CountInput = new SpikeCountInput(MaxCount, unit);
        using var binary = new Conv2d(3, 5, 3, stride: stride, padding: 1);
        var generator = new PhiloxGenerator(6);
        using var draws = generator.Uniform(new Shape(T, B, 3, 7, 6));
        var counts = new float[draws.Length];
        var values = new float[draws.Length];
        var u = draws.AsReadOnlySpan();
        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = MathF.Floor(u[i] * (MaxCount + 1));
            values[i] = counts[i] * unit;
        }
        using var countInput = Variable.Constant(Tensor.FromSpan(values, draws.Shape));
        using var expanded = Functional.ExpandCounts(Variable.Constant(Tensor.FromSpan(counts, draws.Shape)), MaxCount);

        var byCounts = CountOnce(counted, countInput, B, T).Layers.Single();
        var byBits = CountOnce(binary, expanded, B, T).Layers.Single();

        Assert.True(byBits.SynapticOperations > 0);
        Assert.Equal(byBits.SynapticOperations, byCounts.SynapticOperations, 9);
        Assert.Equal(0, byCounts.MultiplyAccumulates);
        // A count of 0…4 takes 3 bits; its expansion, 4 bits.
        Assert.Equal((double)T * B * 3 * 7 * 6 * 3 / B, byCounts.InputBitsRead, 9);
    }

    [Fact]
    public void A_depthwise_convolution_on_counts_costs_what_it_costs_on_their_expansion()
    {
        const int MaxCount = 4;
        using var counted = new DepthwiseConv2d(3, 5, padding: 2);
        counted.Operations.CountInput = new SpikeCountInput(MaxCount, 0.25f);
        using var binary = new DepthwiseConv2d(3, 5, padding: 2);
        using var draws = new PhiloxGenerator(8).Uniform(new Shape(T, B, 3, 6, 6));
        var counts = new float[draws.Length];
        var u = draws.AsReadOnlySpan();
        for (int i = 0; i < counts.Length; i++) counts[i] = MathF.Floor(u[i] * (MaxCount + 1));
        var quarters = Array.ConvertAll(counts, c => c * 0.25f);
        using var countInput = Variable.Constant(Tensor.FromSpan(quarters, draws.Shape));
        using var expanded = Functional.ExpandCounts(Variable.Constant(Tensor.FromSpan(counts, draws.Shape)), MaxCount);

        var byCounts = CountOnce(counted, countInput, B, T).Layers.Single();
        var byBits = CountOnce(binary, expanded, B, T).Layers.Single();

        Assert.True(byBits.SynapticOperations > 0);
        Assert.Equal(byBits.SynapticOperations, byCounts.SynapticOperations, 9);
    }

    /// <summary>A counting layer with a counting child, as the attention modules hold their Linear layers.</summary>
    private sealed class CountingParent : Module, IOperationCounter
    {
        private readonly Linear _child;

        public CountingParent() => _child = RegisterModule("child", new Linear(4, 3));

        public OperationCounts Operations { get; } = new();

        public override Variable Forward(Variable input)
        {
            if (Operations.Enabled) Operations.AddSynaptic(1);
            return _child.Forward(input);
        }
    }

    [Fact]
    public void A_counting_module_reads_only_its_own_parameters_not_its_childrens()
    {
        ModelSeed.Seed(9);
        using var parent = new CountingParent();
        using var x = Variable.Constant(new PhiloxGenerator(10).Normal(new Shape(1, 2, 4)));

        var report = CountOnce(parent, x, 2, 1);

        Assert.Equal(["", "child"], report.Layers.Select(l => l.Name).ToArray());
        Assert.Equal([0.0, (4.0 * 3 + 3) * 32], report.Layers.Select(l => l.WeightBitsRead).ToArray());
    }

    [Fact]
    public void The_count_input_of_a_linear_layer_is_charged_one_accumulate_per_unit_of_count_per_output()
    {
        ModelSeed.Seed(7);
        using var linear = new Linear(6, 4);
        linear.Operations.CountInput = new SpikeCountInput(4, 0.5f);
        float[] values = [0, 0.5f, 2, 1.5f, 0, 1, 0.5f, 0.5f, 0, 0, 2, 1];
        using var x = Variable.Constant(Tensor.FromArray(values, 1, 2, 6));

        var layer = CountOnce(linear, x, 2, 1).Layers.Single();

        double units = values.Sum() / 0.5;
        Assert.Equal(units * 4 / 2, layer.SynapticOperations, 9);
    }

    [Fact]
    public void A_float_input_is_read_as_counts_only_when_every_value_is_a_whole_number_of_the_unit()
    {
        Assert.Equal(new SpikeCountInput(4, 0.25f), SpikeCountInput.Detect([0, 0.25f, 1, 0.75f]));
        Assert.Equal(new SpikeCountInput(4, 0.5f), SpikeCountInput.Detect([0, 0.5f, 2, 1.5f]));
        Assert.Equal(new SpikeCountInput(1, 1f), SpikeCountInput.Detect([0, 1, 1, 0]));
        Assert.Equal(3, new SpikeCountInput(4, 0.25f).Bits);
        Assert.Equal(1, new SpikeCountInput(1, 1f).Bits);
        Assert.Null(SpikeCountInput.Detect([0, 0.25f, 0.1f]));
        Assert.Null(SpikeCountInput.Detect([0, -0.25f]));
        Assert.Null(SpikeCountInput.Detect([0, 16]));
        Assert.Null(SpikeCountInput.Detect([0, float.NaN]));
        Assert.Null(SpikeCountInput.Detect([0, 0]));
        using var image = new PhiloxGenerator(11).Uniform(new Shape(2, 1, 28, 28));
        Assert.Null(SpikeCountInput.Detect(image.AsReadOnlySpan()));
    }

    [Fact]
    public void A_quantized_layer_fed_by_the_multi_level_neuron_is_charged_accumulates_at_its_weight_width()
    {
        ModelSeed.Seed(12);
        using var net = new Sequential(new Multispike(), new LsqConv2d(3, 4, 3, padding: 1, bias: false, bits: 4));
        using var x = Variable.Constant(new PhiloxGenerator(13).Normal(new Shape(T, B, 3, 6, 6), 0.4f, 0.5f));
        using var counts = Variable.Constant(((Multispike)net[0]).Forward(x).Dense.Clone());
        using var expanded = Functional.ExpandCounts(Variable.Constant(Spiking.Tensors.Tensor.FromSpan(
            Array.ConvertAll(counts.Dense.ToArray(), v => v * 4), counts.Shape)), 4);
        using var binary = new Conv2d(3, 4, 3, padding: 1, bias: false);

        var layer = CountOnce(net, x, B, T).Layers.Single();
        var byBits = CountOnce(binary, expanded, B, T).Layers.Single();

        Assert.Equal(4, layer.WeightBits);
        Assert.Equal(0, layer.MultiplyAccumulates);
        Assert.Equal(byBits.SynapticOperations, layer.SynapticOperations, 9);
        Assert.Equal(byBits.SynapticOperations * 0.9 * 4 / 32 * 1e-6, layer.Microjoules, 15);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(33)]
    public void A_weight_width_outside_1_to_32_bits_is_refused(int bits)
    {
        using var linear = new Linear(2, 2);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => linear.Operations.WeightBits = bits);
        Assert.Contains($"got {bits}", error.Message, StringComparison.Ordinal);
    }
}

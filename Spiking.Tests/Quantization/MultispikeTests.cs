using System;
using System.Linq;
using System.Runtime.Intrinsics;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Quantization;

public sealed class MultispikeTests
{
    /// <summary>The official count in double: <c>floor(clamp(4x, 0, 4) + 0.5)</c>, the sum rounded to float32 as PyTorch adds.</summary>
    private static double NaiveCount(float x)
    {
        if (float.IsNaN(x)) return double.NaN;
        double clamped = Math.Min(Math.Max(4.0 * x, 0.0), 4.0);
        return Math.Floor((float)(clamped + 0.5));
    }

    private static bool NaiveWindow(float x) => 4.0 * x > 0 && 4.0 * x < 4;

    private static float[] Inputs(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            // Mostly around the counting range, every eighth value on a grid of k/8 (the ties 4x = k + 1/2 and the ends).
            x[i] = i % 8 == 0 ? (rng.Next(-4, 13) / 8f) : (float)(0.6 * Reference.Normal(rng) + 0.4);
        }
        return x;
    }

    [Theory]
    [InlineData(4)]
    [InlineData(2)]
    public void Values_and_gradients_equal_the_official_formula(int divisor)
    {
        var dims = new[] { 3, 2, 5, 7 };
        var x = Inputs(3 * 2 * 5 * 7, seed: divisor);
        var g = Inputs(x.Length, seed: 100 + divisor);
        using var input = Variable.Input(Tensor.FromArray(x, dims));
        var y = Functional.Multispike(input, divisor);
        Assert.Equal(new Shape(dims), y.Shape);
        y.Backward(Tensor.FromArray(g, dims));
        var values = y.Dense.AsReadOnlySpan();
        var grads = input.Grad!.AsReadOnlySpan();
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(NaiveCount(x[i]) / divisor, values[i]);
            Assert.Equal(NaiveWindow(x[i]) ? g[i] * 4.0 / divisor : 0.0, grads[i]);
        }
    }

    [Theory]
    [InlineData(0f, 0, false)]
    [InlineData(float.Epsilon, 0, true)]
    [InlineData(-1e-30f, 0, false)]
    [InlineData(0.124999985f, 0, true)] // 0.125 − 2⁻²⁶: 4x + 0.5 = 1 − 2⁻²⁴ is a float, floor 0
    [InlineData(0.12499999f, 1, true)] // 0.125 − 2⁻²⁷: 4x + 0.5 = 1 − 2⁻²⁵ rounds to 1 in float32, so PyTorch counts 1
    [InlineData(0.125f, 1, true)] // 4x = 0.5: ties go up
    [InlineData(0.375f, 2, true)] // 4x = 1.5
    [InlineData(0.625f, 3, true)] // 4x = 2.5 (ILIF's round-half-even would give 2)
    [InlineData(0.875f, 4, true)] // 4x = 3.5
    [InlineData(0.99999994f, 4, true)]
    [InlineData(1f, 4, false)] // 4x = 4 is outside the open window
    [InlineData(3f, 4, false)]
    [InlineData(1e30f, 4, false)] // 4x overflows to +inf, still 4
    [InlineData(float.PositiveInfinity, 4, false)]
    [InlineData(float.NegativeInfinity, 0, false)]
    public void Boundary_points_have_the_hand_derived_counts_and_window(float x, int count, bool passesGradient)
    {
        using var input = Variable.Input(Tensor.FromArray([x], 1));
        var y = Functional.Multispike(input);
        y.Backward(Tensor.FromArray([1.5f], 1));
        Assert.Equal(count / 4f, y.Dense.AsReadOnlySpan()[0]);
        Assert.Equal(passesGradient ? 1.5f : 0f, input.Grad!.AsReadOnlySpan()[0]);
        Assert.Equal(count, MultiLevelSpike.Count(x));
        Assert.Equal(passesGradient, MultiLevelSpike.InWindow(x));
    }

    [Fact]
    public void The_float_literals_of_the_boundary_cases_are_the_values_their_comments_name()
    {
        Assert.Equal((double)0.124999985f, 0.125 - Math.Pow(2, -26));
        Assert.Equal((double)0.12499999f, 0.125 - Math.Pow(2, -27));
        Assert.Equal((double)0.99999994f, 1 - Math.Pow(2, -24));
    }

    [Fact]
    public void NaN_has_no_count_and_no_gradient()
    {
        using var input = Variable.Input(Tensor.FromArray([float.NaN, 0.5f], 2));
        var y = Functional.Multispike(input);
        y.Backward(Tensor.FromArray([1f, 1f], 2));
        Assert.True(float.IsNaN(y.Dense.AsReadOnlySpan()[0]));
        Assert.Equal([0f, 1f], input.Grad!.ToArray());
        var e = Assert.Throws<ArgumentException>(() => MultiLevelSpike.Counts([0.3f, float.NaN], new byte[2]));
        Assert.Contains("input[1] is NaN", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(4096)]
    [InlineData(4099)]
    [InlineData(10_000)]
    public void Every_vector_width_and_the_blocked_kernel_give_the_scalar_reference_bits(int length)
    {
        var x = Inputs(length, seed: length);
        x[0] = float.NaN;
        if (length > 5) (x[3], x[4], x[5]) = (float.PositiveInfinity, float.NegativeInfinity, -0f);
        int words = SpikeTensor.WordsFor(length);
        var expected = new float[length];
        var expectedWindow = new ulong[words];
        MultispikeKernel.ForwardReference(x, 2f, expected, expectedWindow);
        if (Vector128.IsHardwareAccelerated) Check(MultispikeKernel.Sweep<Simd128, Vector128<float>>, "Vector128");
        if (Vector256.IsHardwareAccelerated) Check(MultispikeKernel.Sweep<Simd256, Vector256<float>>, "Vector256");
        if (Vector512.IsHardwareAccelerated) Check(MultispikeKernel.Sweep<Simd512, Vector512<float>>, "Vector512");
        using var input = Tensor.FromArray(x, length);
        using var y = Tensor.Empty(length);
        using var window = SpikeTensor.Zeros(length);
        MultispikeKernel.Forward(input, 2f, y, window);
        Reference.AssertBitwise(expected, y.AsReadOnlySpan(), "blocked kernel");
        Assert.Equal(expectedWindow, window.Words.ToArray());

        void Check(Sweep sweep, string width)
        {
            var y = new float[length];
            var bits = new ulong[words];
            sweep(x, 2f, y, bits);
            Reference.AssertBitwise(expected, y, width);
            Assert.Equal(expectedWindow, bits);
        }
    }

    private delegate void Sweep(ReadOnlySpan<float> x, float divisor, Span<float> y, Span<ulong> window);

    [Theory]
    [InlineData(4)]
    [InlineData(2)]
    public void The_layer_exposes_counts_equal_to_output_times_divisor(int divisor)
    {
        var x = Inputs(2 * 3 * 40, seed: 7);
        using var layer = new Multispike(divisor);
        using var input = Variable.Constant(Tensor.FromArray(x, 2, 3, 40));
        var y = layer.Forward(input);
        var counts = layer.Counts(y.Dense);
        var fromInput = new byte[x.Length];
        MultiLevelSpike.Counts(x, fromInput);
        var values = y.Dense.ToArray();
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(NaiveCount(x[i]), counts[i]);
            Assert.Equal(values[i] * divisor, counts[i]);
        }
        Assert.Equal(counts, fromInput);
        var e = Assert.Throws<ArgumentException>(() => layer.Counts(Tensor.FromArray([1f / divisor, 0.3f], 2)));
        Assert.Contains("output[1] = 0.3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_layer_is_stateless_over_time_and_counts_levels_as_spikes()
    {
        var x = Inputs(4 * 2 * 9, seed: 11);
        using var layer = new Multispike();
        layer.CountSpikes = true;
        using var all = Variable.Constant(Tensor.FromArray(x, 4, 2, 9));
        var y = layer.Forward(all);
        for (int t = 0; t < 4; t++)
        {
            using var step = Variable.Constant(Tensor.FromArray(x.Skip(t * 18).Take(18).ToArray(), 1, 2, 9));
            Reference.AssertBitwise(layer.Forward(step).Dense.AsReadOnlySpan(), y.Dense.AsReadOnlySpan().Slice(t * 18, 18), $"step {t} alone");
        }
        // Counted once for the whole input and once more step by step.
        long expected = 2 * (long)x.Sum(v => NaiveCount(v));
        Assert.Equal(expected, layer.SpikeCount);
        Assert.Equal(2L * x.Length, layer.NeuronSteps);
        Assert.Equal((double)expected / (2 * x.Length), layer.FiringRate, 12);
        var rates = EnergyModel.Report(layer, 1).FiringRates;
        Assert.Equal("Multispike", Assert.Single(rates).Kind);
    }

    [Fact]
    public void The_attention_neuron_halves_the_count_and_doubles_the_gradient()
    {
        using var layer = Multispike.Attention();
        Assert.Equal(2, layer.Divisor);
        Assert.Equal("Multispike_att()", layer.ToString());
        using var input = Variable.Input(Tensor.FromArray([0.3f, 0.9f, 1.2f], 3));
        var y = layer.Forward(input, out var traces);
        using (traces) Assert.Empty(traces.Names);
        y.Backward(Tensor.FromArray([1f, 1f, 1f], 3));
        Assert.Equal([0.5f, 2f, 2f], y.Dense.ToArray()); // counts 1, 4, 4
        Assert.Equal([2f, 2f, 0f], input.Grad!.ToArray());
    }

    [Fact]
    public void Spikes_and_bad_divisors_are_refused_by_name()
    {
        using var layer = new Multispike();
        using var bits = SpikeTensor.FromBinary(Tensor.FromArray([1f, 0f], 2));
        var e = Assert.Throws<ArgumentException>(() => layer.Forward(Variable.Constant(bits)));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("spikes", e.Message, StringComparison.Ordinal);
        var d = Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Multispike(Variable.Constant(Tensor.Zeros(2)), 0f));
        Assert.Equal("divisor", d.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Multispike(0));
    }
}

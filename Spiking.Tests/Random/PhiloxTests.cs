using System;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Spiking.Tensors;
using Xunit;

// Not Spiking.Tests.Random: that namespace would hide System.Random from the rest of the test project.
namespace Spiking.Tests;

public sealed class PhiloxTests
{
    /// <summary>The philox4x32 10 lines of Random123's kat_vectors: counter, key, expected output.</summary>
    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Generate_matches_the_Random123_known_answers(
        uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint r0, uint r1, uint r2, uint r3)
    {
        Assert.Equal(new Philox4x32Block(r0, r1, r2, r3), Philox4x32.Generate(c0, c1, c2, c3, k0, k1));
        Assert.Equal(new Philox4x32Block(r0, r1, r2, r3), Philox4x32.Generate(new Philox4x32Block(c0, c1, c2, c3), k0, k1));
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Vector_kernel_equals_the_scalar_reference(PhiloxCase run)
    {
        var fast = new uint[run.Length];
        var reference = new uint[run.Length];
        uint k0 = (uint)run.Seed, k1 = (uint)(run.Seed >> 32);
        PhiloxKernel.Fill(k0, k1, run.Stream, run.FirstBlock, fast);
        PhiloxKernel.FillReference(k0, k1, run.Stream, run.FirstBlock, reference);
        Assert.Equal(reference, fast);
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Reference_words_are_the_words_of_consecutive_counters(PhiloxCase run)
    {
        var words = new uint[run.Length];
        PhiloxKernel.FillReference((uint)run.Seed, (uint)(run.Seed >> 32), run.Stream, run.FirstBlock, words);
        for (int i = 0; i < words.Length; i++) Assert.Equal(Word(run.Seed, run.Stream, run.FirstBlock, i), words[i]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(31)]
    [InlineData(4096)]
    [InlineData(10_007)]
    public void A_uniform_fill_is_the_elementwise_definition_and_advances_by_whole_blocks(int n)
    {
        var g = new PhiloxGenerator(0x0123_4567_89AB_CDEF, stream: 7) { Offset = 0xFFFF_FFF0 };
        ulong offset = g.Offset;
        var u = new float[n];
        g.FillUniform(u);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(Uniform(Word(g.Seed, g.Stream, offset, i)), u[i]);
        }
        Assert.Equal(offset + (ulong)((n + 3) / 4), g.Offset);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(33)]
    [InlineData(10_001)]
    public void A_normal_fill_is_the_elementwise_definition(int n)
    {
        var g = new PhiloxGenerator(99, stream: 3) { Offset = 12 };
        var z = new float[n];
        g.FillNormal(z, mean: 1.5f, std: 0.25f);
        for (int i = 0; i < n; i++)
        {
            int pair = i & ~1;
            var (first, second) = BoxMuller.Pair(Word(99, 3, 12, pair), Word(99, 3, 12, pair + 1), 1.5f, 0.25f);
            Assert.Equal((i & 1) == 0 ? first : second, z[i]);
        }
        Assert.Equal(12 + (ulong)((n + 3) / 4), g.Offset);
    }

    [Theory]
    [InlineData(4, 9_996)]
    [InlineData(4_096, 4)]
    [InlineData(1_000, 5_001)]
    public void Splitting_a_fill_on_block_boundaries_changes_nothing(int firstPart, int secondPart)
    {
        var whole = new float[firstPart + secondPart];
        var parts = new float[whole.Length];
        var g = new PhiloxGenerator(5);
        g.FillUniform(whole);
        g.Offset = 0;
        g.FillUniform(parts.AsSpan(0, firstPart));
        g.FillUniform(parts.AsSpan(firstPart));
        Assert.Equal(whole, parts);

        g.Offset = 0;
        g.FillNormal(whole);
        g.Offset = 0;
        g.FillNormal(parts.AsSpan(0, firstPart));
        g.FillNormal(parts.AsSpan(firstPart));
        Assert.Equal(whole, parts);
    }

    [Fact]
    public void Vector_normals_equal_the_scalar_reference_bit_for_bit()
    {
        var words = new uint[100_002];
        PhiloxKernel.Fill(1, 2, 3, 4, words);
        var fast = new float[100_001];
        var reference = new float[fast.Length];
        BoxMuller.Fill(words, fast, -0.5f, 3f);
        BoxMuller.FillScalar(words, reference, -0.5f, 3f);
        Assert.Equal(reference, fast);
    }

    [Fact]
    public void Normals_are_within_a_few_ulps_of_the_double_formula()
    {
        var words = new uint[200_000];
        PhiloxKernel.Fill(11, 12, 0, 0, words);
        var z = new float[words.Length];
        BoxMuller.Fill(words, z, 0f, 1f);
        for (int i = 0; i < z.Length; i++)
        {
            double u1 = ((words[i & ~1] >> 8) + 1) / 16777216.0;
            double angle = 2 * Math.PI * (words[i | 1] >> 8) / 16777216.0;
            double r = Math.Sqrt(-2 * Math.Log(u1));
            double exact = (i & 1) == 0 ? r * Math.Cos(angle) : r * Math.Sin(angle);
            Assert.True(Math.Abs(exact - z[i]) <= 2e-6 * Math.Max(1, Math.Abs(exact)), $"element {i}: {z[i]} vs {exact}");
        }
    }

    [Fact]
    public void Successive_calls_seeds_and_streams_give_different_numbers()
    {
        var a = new float[1000];
        var b = new float[1000];
        var g = new PhiloxGenerator(1);
        g.FillUniform(a);
        g.FillUniform(b);
        Assert.NotEqual(a, b);
        new PhiloxGenerator(2).FillUniform(b);
        Assert.NotEqual(a, b);
        new PhiloxGenerator(1, stream: 1).FillUniform(b);
        Assert.NotEqual(a, b);
        new PhiloxGenerator(1).FillUniform(b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Restoring_the_offset_replays_the_draws()
    {
        var g = new PhiloxGenerator(77);
        g.FillUniform(new float[13]);
        ulong saved = g.Offset;
        var a = new float[300];
        var b = new float[300];
        g.FillNormal(a);
        g.Offset = saved;
        g.FillNormal(b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Uniforms_lie_in_the_unit_interval_with_mean_one_half_and_variance_one_twelfth()
    {
        const int n = 1_000_000;
        var u = new float[n];
        new PhiloxGenerator(2024).FillUniform(u);
        double sum = 0, sumSq = 0;
        foreach (float x in u)
        {
            Assert.True(x >= 0f && x < 1f, $"{x} is outside [0, 1)");
            sum += x;
            sumSq += x * (double)x;
        }
        double mean = sum / n;
        double variance = sumSq / n - mean * mean;
        Assert.InRange(mean, 0.5 - 5 * Math.Sqrt(1.0 / 12 / n), 0.5 + 5 * Math.Sqrt(1.0 / 12 / n));
        double varianceSigma = Math.Sqrt((1.0 / 80 - 1.0 / 144) / n);
        Assert.InRange(variance, 1.0 / 12 - 5 * varianceSigma, 1.0 / 12 + 5 * varianceSigma);
    }

    [Fact]
    public void Normals_have_the_requested_mean_and_standard_deviation()
    {
        const int n = 1_000_000;
        var g = new PhiloxGenerator(31337);
        using var z = g.Normal(new Shape(1000, 1000), mean: 3f, std: 2f);
        double sum = 0, sumSq = 0;
        foreach (float x in z.AsReadOnlySpan())
        {
            sum += x;
            sumSq += x * (double)x;
        }
        double mean = sum / n;
        double variance = sumSq / n - mean * mean;
        Assert.InRange(mean, 3 - 5 * 2 / Math.Sqrt(n), 3 + 5 * 2 / Math.Sqrt(n));
        // The sample variance of a normal has standard deviation sqrt(2 / n) sigma^2.
        Assert.InRange(variance, 4 - 5 * 4 * Math.Sqrt(2.0 / n), 4 + 5 * 4 * Math.Sqrt(2.0 / n));
    }

    [Fact]
    public void Zero_std_gives_the_mean_everywhere()
    {
        var z = new float[37];
        new PhiloxGenerator(1).FillNormal(z, mean: -2f, std: 0f);
        Assert.All(z, x => Assert.Equal(-2f, x));
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.02)]
    [InlineData(0.9)]
    public void Bernoulli_fires_at_the_requested_rate(double p)
    {
        const int rows = 1000, cols = 1000;
        using var probabilities = Tensor.Full(new Shape(rows, cols), (float)p);
        using var spikes = new PhiloxGenerator(8).Bernoulli(probabilities);
        double sigma = Math.Sqrt(p * (1 - p) / (rows * cols));
        Assert.InRange(spikes.FiringRate, p - 5 * sigma, p + 5 * sigma);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 63)]
    [InlineData(5, 64)]
    [InlineData(7, 65)]
    [InlineData(40, 200)]
    public void Probability_zero_never_fires_and_one_always_fires_with_zero_padding(int rows, int cols)
    {
        var g = new PhiloxGenerator(4);
        using var zeros = Tensor.Zeros(new Shape(rows, cols));
        using var none = g.Bernoulli(zeros);
        Assert.Equal(0, none.PopCount());
        using var ones = Tensor.Ones(new Shape(rows, cols));
        using var all = g.Bernoulli(ones);
        Assert.Equal((long)rows * cols, all.PopCount());
        ulong lastMask = (cols & 63) == 0 ? ulong.MaxValue : (1UL << (cols & 63)) - 1;
        for (int r = 0; r < rows; r++) Assert.Equal(0UL, all.Row(r)[^1] & ~lastMask);
    }

    [Fact]
    public void A_uniform_of_exactly_zero_fires_only_for_positive_probability()
    {
        Assert.Equal(0f, PhiloxTransforms.Uniform(0x0000_00FFu));
        Assert.False(PhiloxTransforms.Spike(0x0000_00FFu, 0f));
        Assert.False(PhiloxTransforms.Spike(0x0000_00FFu, -1f));
        Assert.False(PhiloxTransforms.Spike(0x0000_00FFu, float.NaN));
        Assert.True(PhiloxTransforms.Spike(0x0000_00FFu, float.Epsilon));
        Assert.True(PhiloxTransforms.Spike(uint.MaxValue, 1f));
        Assert.False(PhiloxTransforms.Spike(uint.MaxValue, 0.9999999f));
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Bernoulli_bits_are_uniform_at_most_p_from_the_same_state(SpikeCase shape)
    {
        var p = Probabilities(shape);
        int wordsPerRow = SpikeTensor.WordsFor(shape.Cols);
        var words = new ulong[shape.Rows * wordsPerRow];
        var g = new PhiloxGenerator((ulong)shape.Seed, stream: 9) { Offset = (ulong)shape.Seed * 1000 };
        ulong offset = g.Offset;
        g.FillBernoulli(p, shape.Cols, words);
        Assert.Equal(offset + (ulong)((p.Length + 3) / 4), g.Offset);

        var u = new float[p.Length];
        g.Offset = offset;
        g.FillUniform(u);
        for (int r = 0; r < shape.Rows; r++)
        {
            for (int c = 0; c < wordsPerRow * 64; c++)
            {
                bool bit = (words[r * wordsPerRow + (c >> 6)] >> (c & 63) & 1) != 0;
                int i = r * shape.Cols + c;
                bool expected = c < shape.Cols && p[i] > 0f && u[i] <= p[i];
                Assert.True(expected == bit, $"row {r}, column {c}: bit {bit}, u {(c < shape.Cols ? u[i] : float.NaN)}, p {(c < shape.Cols ? p[i] : float.NaN)}");
            }
        }
    }

    [Fact]
    public void Bernoulli_into_a_spike_tensor_matches_the_allocating_overload()
    {
        using var p = new PhiloxGenerator(1).Uniform(new Shape(3, 5, 130));
        using var expected = new PhiloxGenerator(2).Bernoulli(p);
        using var actual = SpikeTensor.Zeros(3, 5, 130);
        actual.Words.Fill(ulong.MaxValue);
        new PhiloxGenerator(2).Bernoulli(p, actual);
        Assert.Equal(expected.Words.ToArray(), actual.Words.ToArray());
    }

    [Fact]
    public void Mismatched_shapes_and_lengths_are_rejected_with_both_sizes()
    {
        var g = new PhiloxGenerator(1);
        using var p = Tensor.Zeros(4, 70);
        using var wrong = SpikeTensor.Zeros(4, 71);
        var e = Assert.Throws<ArgumentException>(() => g.Bernoulli(p, wrong));
        Assert.Contains("[4, 70]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[4, 71]", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => g.FillBernoulli(new float[140], 70, new ulong[3]));
        Assert.Contains("3", e.Message, StringComparison.Ordinal);
        Assert.Contains("4", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => g.FillBernoulli(new float[141], 70, new ulong[4]));
        Assert.Contains("141", e.Message, StringComparison.Ordinal);
        Assert.Contains("70", e.Message, StringComparison.Ordinal);

        using var scalar = Tensor.Scalar(0.5f);
        Assert.Throws<ArgumentException>(() => g.Bernoulli(scalar));
        Assert.Equal(0UL, g.Offset);
    }

    [Fact]
    public void A_negative_or_NaN_std_is_rejected_by_name()
    {
        var g = new PhiloxGenerator(1);
        Assert.Equal("std", Assert.Throws<ArgumentOutOfRangeException>(() => g.FillNormal(new float[4], 0f, -1f)).ParamName);
        Assert.Equal("std", Assert.Throws<ArgumentOutOfRangeException>(() => g.FillNormal(new float[4], 0f, float.NaN)).ParamName);
        Assert.Equal("std", Assert.Throws<ArgumentOutOfRangeException>(() => g.Normal(new Shape(2), 0f, -0.5f)).ParamName);
        Assert.Equal(0UL, g.Offset);
    }

    /// <summary>Word <paramref name="index"/> of a fill from block <paramref name="offset"/>, straight from the definition.</summary>
    internal static uint Word(ulong seed, ulong stream, ulong offset, long index)
    {
        ulong block = offset + (ulong)(index / 4);
        var r = Philox4x32.Generate((uint)block, (uint)(block >> 32), (uint)stream, (uint)(stream >> 32), (uint)seed, (uint)(seed >> 32));
        return (index % 4) switch { 0 => r.X0, 1 => r.X1, 2 => r.X2, _ => r.X3 };
    }

    private static float Uniform(uint word) => (word >> 8) / 16777216f;

    /// <summary>Probabilities around the case's rate, with the edges (0, 1, negative, above 1, NaN) mixed in.</summary>
    private static float[] Probabilities(SpikeCase shape)
    {
        var rng = new System.Random(shape.Seed);
        var p = new float[shape.Rows * shape.Cols];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = rng.Next(10) switch
            {
                0 => 0f,
                1 => 1f,
                2 => -0.25f,
                3 => 1.5f,
                4 => float.NaN,
                5 => (float)rng.NextDouble(),
                _ => (float)shape.Rate,
            };
        }
        return p;
    }
}

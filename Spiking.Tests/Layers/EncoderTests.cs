using System;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class EncoderTests
{
    private static float[] Intensities(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            // Exact 0s and 1s mixed in, so the never/always-fire ends are exercised.
            int kind = rng.Next(6);
            x[i] = kind == 0 ? 0f : kind == 1 ? 1f : (float)rng.NextDouble();
        }
        return x;
    }

    /// <summary>The spikes SpikingJelly's rule gives with the uniforms a fresh generator of the same seed, on the encoder's default stream, draws per step.</summary>
    private static bool[] PoissonReference(float[] x, int steps, ulong seed)
    {
        var g = new PhiloxGenerator(seed, RandomStreams.Poisson);
        var bits = new bool[steps * x.Length];
        var u = new float[x.Length];
        for (int t = 0; t < steps; t++)
        {
            g.FillUniform(u);
            for (int i = 0; i < x.Length; i++) bits[t * x.Length + i] = x[i] > 0 && u[i] <= x[i];
        }
        return bits;
    }

    private static bool[] Bits(SpikeTensor s)
    {
        var dense = new float[s.Length];
        s.UnpackTo(dense);
        var bits = new bool[dense.Length];
        for (int i = 0; i < dense.Length; i++) bits[i] = dense[i] != 0;
        return bits;
    }

    [Theory]
    [InlineData(new[] { 3, 70 }, 4)]
    [InlineData(new[] { 2, 3, 64 }, 3)]
    [InlineData(new[] { 5 }, 7)]
    public void Poisson_spikes_are_u_le_x_with_the_generators_uniforms(int[] dims, int steps)
    {
        var shape = new Shape(dims);
        var x = Intensities(shape.ElementCount, 11);
        using var input = Tensor.FromSpan(x, shape);
        var encoder = new PoissonEncoder(42);
        using var spikes = encoder.Encode(input, steps);
        Assert.Equal(steps, spikes.Shape[0]);
        Assert.True(spikes.Shape.Dimensions[1..].SequenceEqual(dims));
        Assert.Equal(PoissonReference(x, steps, 42), Bits(spikes));
    }

    [Fact]
    public void Poisson_firing_rate_follows_intensity_and_the_ends_are_exact()
    {
        float[] levels = [0f, 0.1f, 0.5f, 0.9f, 1f];
        const int perLevel = 400, steps = 50;
        var x = new float[levels.Length * perLevel];
        for (int i = 0; i < x.Length; i++) x[i] = levels[i / perLevel];
        using var input = Tensor.FromArray(x, levels.Length, perLevel);
        using var spikes = new PoissonEncoder(7).Encode(input, steps);
        var bits = Bits(spikes);
        for (int l = 0; l < levels.Length; l++)
        {
            int count = 0;
            for (int t = 0; t < steps; t++)
            {
                for (int j = 0; j < perLevel; j++) count += bits[t * x.Length + l * perLevel + j] ? 1 : 0;
            }
            double rate = (double)count / (steps * perLevel);
            if (levels[l] == 0f) Assert.Equal(0, count);
            else if (levels[l] == 1f) Assert.Equal(steps * perLevel, count);
            // 20,000 draws: the standard error is at most 0.0036, so 0.02 is over five of them.
            else Assert.InRange(rate, levels[l] - 0.02, levels[l] + 0.02);
        }
    }

    [Fact]
    public void Poisson_same_seed_same_bits_and_each_call_draws_fresh_noise()
    {
        var x = Intensities(200, 3);
        using var input = Tensor.FromArray(x, 2, 100);
        var a = new PoissonEncoder(5);
        var b = new PoissonEncoder(5);
        using var a1 = a.Encode(input, 3);
        using var a2 = a.Encode(input, 3);
        using var b1 = b.Encode(input, 3);
        using var b2 = b.Encode(input, 3);
        Assert.Equal(a1.Words.ToArray(), b1.Words.ToArray());
        Assert.Equal(a2.Words.ToArray(), b2.Words.ToArray());
        Assert.NotEqual(a1.Words.ToArray(), a2.Words.ToArray());
        using var other = new PoissonEncoder(6).Encode(input, 3);
        Assert.NotEqual(a1.Words.ToArray(), other.Words.ToArray());
    }

    [Fact]
    public void Poisson_bytes_and_floats_agree_and_destination_overloads_match()
    {
        var rng = new Random(9);
        var pixels = new byte[4 * 100];
        rng.NextBytes(pixels);
        pixels[0] = 0;
        pixels[1] = 255;
        var x = new float[pixels.Length];
        for (int i = 0; i < x.Length; i++) x[i] = pixels[i] / 255f;
        using var input = Tensor.FromArray(x, 4, 100);

        using var fromFloats = new PoissonEncoder(1).Encode(input, 5);
        using var fromBytes = new PoissonEncoder(1).Encode(pixels, new Shape(4, 100), 5);
        Assert.Equal(fromFloats.Words.ToArray(), fromBytes.Words.ToArray());

        var encoder = new PoissonEncoder(1);
        using var destination = SpikeTensor.Zeros(5, 4, 100);
        encoder.Encode(pixels, destination);
        Assert.Equal(fromFloats.Words.ToArray(), destination.Words.ToArray());
        var floatEncoder = new PoissonEncoder(1);
        using var floatDestination = SpikeTensor.Zeros(5, 4, 100);
        floatEncoder.Encode(input, floatDestination);
        Assert.Equal(fromFloats.Words.ToArray(), floatDestination.Words.ToArray());
        Assert.Equal(PoissonReference(x, 5, 1), Bits(fromBytes));
    }

    [Fact]
    public void Poisson_rejects_bad_shapes_naming_them()
    {
        var encoder = new PoissonEncoder(0);
        using var x = Tensor.Zeros(4, 10);
        using var wrong = SpikeTensor.Zeros(3, 4, 11);
        var e = Assert.Throws<ArgumentException>(() => encoder.Encode(x, wrong));
        Assert.Equal("destination", e.ParamName);
        Assert.Contains("[3, 4, 11]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[T, 4, 10]", e.Message, StringComparison.Ordinal);
        Assert.Equal("timeSteps", Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(x, 0)).ParamName);
        using var scalar = Tensor.Scalar(0.5f);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => encoder.Encode(scalar, 2)).ParamName);
        var pixels = new byte[39];
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => encoder.Encode(pixels, new Shape(4, 10), 2)).ParamName);
        using var short_ = SpikeTensor.Zeros(2, 4, 10);
        var b = Assert.Throws<ArgumentException>(() => encoder.Encode(pixels, short_));
        Assert.Contains("39", b.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Direct_repeats_the_input_at_every_step()
    {
        var x = Intensities(60, 2);
        using var input = Tensor.FromArray(x, 3, 20);
        using var encoded = DirectEncoder.Encode(input, 4);
        Assert.Equal(new Shape(4, 3, 20), encoded.Shape);
        for (int t = 0; t < 4; t++) Assert.Equal(x, encoded.AsReadOnlySpan().Slice(t * 60, 60).ToArray());
        using var destination = Tensor.Full(new Shape(4, 3, 20), float.NaN);
        DirectEncoder.Encode(input, destination);
        Assert.Equal(encoded.ToArray(), destination.ToArray());
        using var wrong = Tensor.Zeros(4, 20, 3);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => DirectEncoder.Encode(input, wrong)).ParamName);
    }

    /// <summary>The firing step in double; null when it sits within float rounding of a half-way point.</summary>
    private static int? LatencyReference(double x, int steps, LatencyFunction function)
    {
        double time = function == LatencyFunction.Linear
            ? (steps - 1) * (1 - x)
            : steps - 1 - Math.Log((Math.Exp(steps - 1) - 1) * x + 1);
        double fraction = time - Math.Floor(time);
        if (Math.Abs(fraction - 0.5) < 1e-4) return null;
        return Math.Clamp((int)Math.Round(time), 0, steps - 1);
    }

    [Theory]
    [InlineData(LatencyFunction.Linear, 1)]
    [InlineData(LatencyFunction.Linear, 8)]
    [InlineData(LatencyFunction.Log, 8)]
    [InlineData(LatencyFunction.Log, 20)]
    public void Latency_fires_exactly_once_at_the_right_step(LatencyFunction function, int steps)
    {
        var x = Intensities(3 * 70, 4);
        using var input = Tensor.FromArray(x, 3, 70);
        var encoder = new LatencyEncoder(steps, function);
        using var spikes = encoder.Encode(input);
        Assert.Equal(new Shape(steps, 3, 70), spikes.Shape);
        var bits = Bits(spikes);
        int checkedCount = 0;
        for (int i = 0; i < x.Length; i++)
        {
            int fired = -1, count = 0;
            for (int t = 0; t < steps; t++)
            {
                if (bits[t * x.Length + i]) { fired = t; count++; }
            }
            Assert.Equal(1, count);
            if (LatencyReference(x[i], steps, function) is { } expected)
            {
                Assert.Equal(expected, fired);
                checkedCount++;
            }
            if (x[i] == 1f) Assert.Equal(0, fired);
            if (x[i] == 0f) Assert.Equal(steps - 1, fired);
        }
        Assert.True(checkedCount > x.Length * 9 / 10, $"only {checkedCount} of {x.Length} steps were away from a rounding tie");

        using var destination = SpikeTensor.Zeros(steps, 3, 70);
        encoder.Encode(input, destination);
        Assert.Equal(spikes.Words.ToArray(), destination.Words.ToArray());
    }

    [Fact]
    public void Latency_rejects_out_of_range_intensities_and_step_counts()
    {
        var encoder = new LatencyEncoder(4);
        using var x = Tensor.FromArray([0.5f, 1.5f], 1, 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(x));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("1.5", e.Message, StringComparison.Ordinal);
        using var nan = Tensor.FromArray([float.NaN], 1, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(nan));
        Assert.Equal("timeSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new LatencyEncoder(0)).ParamName);
        Assert.Equal("timeSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new LatencyEncoder(100, LatencyFunction.Log)).ParamName);
        using var ok = Tensor.Zeros(1, 2);
        using var wrongSteps = SpikeTensor.Zeros(5, 1, 2);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => encoder.Encode(ok, wrongSteps)).ParamName);
    }
}

[Collection("Parallelism")]
public sealed class EncoderThreadTests
{
    [Fact]
    public void Poisson_gives_the_same_bits_on_one_or_several_threads()
    {
        var rng = new Random(21);
        var pixels = new byte[64 * 784];
        rng.NextBytes(pixels);
        Assert.Equal(Encode(pixels, 1), Encode(pixels, 4));
    }

    private static ulong[] Encode(byte[] pixels, int threads)
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = threads;
            var encoder = new PoissonEncoder(77);
            using var destination = SpikeTensor.Zeros(8, 64, 784);
            encoder.Encode(pixels, destination);
            encoder.Encode(pixels, destination);
            return destination.Words.ToArray();
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }
}

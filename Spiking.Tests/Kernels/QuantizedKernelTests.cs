using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Spiking.Tensors;
using Spiking.Tensors.Backends;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Kernels;

/// <summary>
/// The integer kernels against naive long-integer sums: every path this machine accelerates (scalar, portable at each
/// accelerated width, AVX-VNNI, AVX-512BW pair sums) must give the exact sums, and outputs that equal, bit for bit, the float product of the
/// exact sum and the scale (plus the bias).
/// </summary>
[Collection("Parallelism")]
public sealed class QuantizedKernelTests
{
    /// <summary>A path with the portable vector width it runs at.</summary>
    public sealed record Variant(string Name, IntegerKernelPath Path, int PortableBits)
    {
        public override string ToString() => Name;
    }

    /// <summary>Every path that runs here; widths the hardware does not accelerate are left out (CI also runs with AVX2 off).</summary>
    public static IEnumerable<Variant> Variants()
    {
        yield return new Variant("scalar", IntegerKernelPath.Scalar, SimdWidth.Bits);
        if (Vector128.IsHardwareAccelerated) yield return new Variant("portable-128", IntegerKernelPath.Portable, 128);
        if (Vector256.IsHardwareAccelerated) yield return new Variant("portable-256", IntegerKernelPath.Portable, 256);
        if (Vector512.IsHardwareAccelerated) yield return new Variant("portable-512", IntegerKernelPath.Portable, 512);
        if (AvxVnni.IsSupported) yield return new Variant("avx-vnni", IntegerKernelPath.DotProduct, SimdWidth.Bits);
        if (IntegerKernelPaths.IsSupported(IntegerKernelPath.PairSums)) yield return new Variant("avx512-pairs", IntegerKernelPath.PairSums, SimdWidth.Bits);
    }

    private static QuantizedLinearKernel Create(QuantizedCase c, sbyte[] codes, Variant v, float[] scales, float[]? bias)
    {
        if (c.Bits == 8) return QuantizedLinearKernel.CreateInt8(codes, c.N, c.K, scales, bias, v.Path, v.PortableBits);
        var packed = new byte[c.N * Int4Codes.RowBytes(c.K)];
        Int4Codes.Pack(codes, c.N, c.K, packed);
        return QuantizedLinearKernel.CreateInt4(packed, c.N, c.K, scales, bias, v.Path, v.PortableBits);
    }

    private static long[] NaiveCounts(byte[] x, sbyte[] q, int m, int k, int n)
    {
        var sums = new long[m * n];
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                long s = 0;
                for (int c = 0; c < k; c++) s += (long)x[r * k + c] * q[j * k + c];
                sums[r * n + j] = s;
            }
        }
        return sums;
    }

    private static long[] NaiveSpikes(ulong[] words, sbyte[] q, int m, int k, int n)
    {
        var sums = new long[m * n];
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                long s = 0;
                for (int c = 0; c < k; c++)
                {
                    if (Reference.Bit(words, k, r, c)) s += q[j * k + c];
                }
                sums[r * n + j] = s;
            }
        }
        return sums;
    }

    /// <summary>The specified output: the exact sum rounded to float, times the scale, plus the bias, in float32 steps.</summary>
    private static float[] Expected(long[] sums, int m, int n, float[] scales, float[]? bias)
    {
        var y = new float[m * n];
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                float product = (float)sums[r * n + j] * scales[j];
                y[r * n + j] = bias is null ? product : product + bias[j];
            }
        }
        return y;
    }

    private static void AssertSums(long[] expected, int[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i]) Assert.Fail($"{what}: sum {i} is {actual[i]}, expected {expected[i]}");
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 60)]
    public void Every_path_gives_the_exact_sums_of_counts_and_the_specified_outputs(QuantizedCase c)
    {
        var codes = c.Codes();
        var counts = c.Counts();
        var scales = c.Scales();
        var bias = c.Bias();
        var exact = NaiveCounts(counts, codes, c.M, c.K, c.N);
        var expected = Expected(exact, c.M, c.N, scales, bias);
        var expectedNoBias = Expected(exact, c.M, c.N, scales, null);
        foreach (var v in Variants())
        {
            var sums = new int[c.M * c.N];
            Create(c, codes, v, scales, bias).Accumulate(counts, c.M, sums);
            AssertSums(exact, sums, $"{v} counts sums");
            var y = new float[c.M * c.N];
            Create(c, codes, v, scales, bias).Forward(counts, c.M, y);
            Reference.AssertBitwise(expected, y, $"{v} counts outputs");
            Create(c, codes, v, scales, null).Forward(counts, c.M, y);
            Reference.AssertBitwise(expectedNoBias, y, $"{v} counts outputs without bias");
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 60)]
    public void Every_path_gives_the_exact_sums_of_codes_selected_by_spikes(QuantizedCase c)
    {
        var codes = c.Codes();
        var spikes = c.Spikes();
        var scales = c.Scales();
        var bias = c.Bias();
        var exact = NaiveSpikes(spikes, codes, c.M, c.K, c.N);
        var expected = Expected(exact, c.M, c.N, scales, bias);
        foreach (var v in Variants())
        {
            var kernel = Create(c, codes, v, scales, bias);
            var sums = new int[c.M * c.N];
            kernel.Accumulate(spikes, c.M, sums);
            AssertSums(exact, sums, $"{v} spike sums");
            var y = new float[c.M * c.N];
            kernel.Forward(spikes, c.M, y);
            Reference.AssertBitwise(expected, y, $"{v} spike outputs");
            if (v.Path != IntegerKernelPath.Scalar)
            {
                // Forward picks one of the two by the firing rate; each is checked at every rate.
                var expanded = new float[c.M * c.N];
                kernel.ForwardSpikesExpanded(spikes, c.M, expanded);
                Reference.AssertBitwise(expected, expanded, $"{v} spikes expanded to counts");
                var selected = new float[c.M * c.N];
                kernel.ForwardSpikesSelected(spikes, c.M, selected);
                Reference.AssertBitwise(expected, selected, $"{v} codes selected by spikes");
            }
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 20)]
    public void Set_bits_past_the_row_length_are_ignored(QuantizedCase c)
    {
        var codes = c.Codes();
        var exact = NaiveSpikes(c.Spikes(), codes, c.M, c.K, c.N);
        var stray = c.Spikes(strayPadding: true);
        foreach (var v in Variants())
        {
            var sums = new int[c.M * c.N];
            Create(c, codes, v, c.Scales(), null).Accumulate(stray, c.M, sums);
            AssertSums(exact, sums, $"{v} with stray padding bits");
        }
    }

    /// <summary>
    /// The float equivalence the integer engine rests on: a float model that sums the integer products
    /// <c>x_k·q_k</c> in float32, in any order, gets the exact sum while every partial sum stays within 2²⁴ (all
    /// integers up to 2²⁴ are floats), so its <c>Σ·α</c> has the bits of the kernel's <c>acc·α</c>; and a model
    /// carrying counts as <c>count/4</c> equals the kernel with scale <c>α/4</c>, because scaling by a power of two is exact.
    /// </summary>
    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Outputs_equal_a_float_model_of_the_same_codes_and_counts(QuantizedCase c)
    {
        if ((long)c.K * c.MaxCount * (1 << (c.Bits - 1)) > 1 << 24) return;
        var codes = c.Codes();
        var counts = c.Counts();
        var scales = c.Scales();
        var quarter = scales.Select(s => s / 4).ToArray();
        var order = Enumerable.Range(0, c.K).ToArray();
        new Random(c.Seed).Shuffle(order);
        var model = new float[c.M * c.N];
        var modelQuarter = new float[c.M * c.N];
        for (int r = 0; r < c.M; r++)
        {
            for (int j = 0; j < c.N; j++)
            {
                float s = 0f, sq = 0f;
                foreach (int k in order)
                {
                    s += (float)counts[r * c.K + k] * codes[j * c.K + k];
                    sq += counts[r * c.K + k] / 4f * codes[j * c.K + k];
                }
                model[r * c.N + j] = s * scales[j];
                modelQuarter[r * c.N + j] = sq * scales[j];
            }
        }
        foreach (var v in Variants())
        {
            var y = new float[c.M * c.N];
            Create(c, codes, v, scales, null).Forward(counts, c.M, y);
            Reference.AssertBitwise(model, y, $"{v} against Σ(x·q) in float times α");
            Create(c, codes, v, quarter, null).Forward(counts, c.M, y);
            Reference.AssertBitwise(modelQuarter, y, $"{v} with scale α/4 against Σ(x/4·q) in float times α");
        }
    }

    [Fact]
    public void One_two_and_three_threads_give_the_same_bits()
    {
        var c = new QuantizedCase(M: 517, K: 300, N: 201, Bits: 8, MaxCount: 4, Rate: 0.3, Seed: 11);
        var codes = c.Codes();
        var counts = c.Counts();
        var spikes = c.Spikes();
        int saved = Parallelism.MaxThreads;
        try
        {
            foreach (var v in Variants())
            {
                var kernel = Create(c, codes, v, c.Scales(), c.Bias());
                float[]? countsOne = null, spikesOne = null;
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    Parallelism.MaxThreads = threads;
                    var y = new float[c.M * c.N];
                    var z = new float[c.M * c.N];
                    kernel.Forward(counts, c.M, y);
                    kernel.Forward(spikes, c.M, z);
                    if (countsOne is null || spikesOne is null)
                    {
                        countsOne = y;
                        spikesOne = z;
                        continue;
                    }
                    Reference.AssertBitwise(countsOne, y, $"{v} counts at {threads} threads");
                    Reference.AssertBitwise(spikesOne, z, $"{v} spikes at {threads} threads");
                }
            }
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [Fact]
    public void Int4_codes_pack_low_nibble_first_with_rows_on_byte_boundaries()
    {
        sbyte[] codes = [1, -2, 7, -8, 0, 3];
        var packed = new byte[2 * Int4Codes.RowBytes(3)];
        Int4Codes.Pack(codes, rows: 2, length: 3, packed);
        // Row 0: 1 | −2 → 0xE1, then 7 and a zero pad nibble → 0x07. Row 1: −8 | 0 → 0x08, then 3 → 0x03.
        Assert.Equal(new byte[] { 0xE1, 0x07, 0x08, 0x03 }, packed);
        var back = new sbyte[6];
        Int4Codes.Unpack(packed, 2, 3, back);
        Assert.Equal(codes, back);
        Assert.Equal(-2, Int4Codes.Code(packed, 3, 0, 1));
    }

    [Fact]
    public void Int4_packing_rejects_a_code_outside_minus_8_to_7_naming_where()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Int4Codes.Pack(new sbyte[] { 0, 0, 0, 8 }, 2, 2, new byte[2]));
        Assert.Contains("[1, 1] is 8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_shapes_are_refused_with_the_dimensions_named()
    {
        var scales = new float[3];
        var e = Assert.Throws<ArgumentException>(() => QuantizedLinearKernel.FromInt8(new sbyte[10], 3, 4, scales));
        Assert.Contains("[3, 4]", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => QuantizedLinearKernel.FromInt4(new byte[6], 3, 5, scales));
        Assert.Contains("needs 9", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => QuantizedLinearKernel.FromInt8(new sbyte[12], 3, 4, new float[2]));
        Assert.Equal("scales", e.ParamName);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedLinearKernel.FromInt8(default, 0, QuantizedLinearKernel.MaxInFeatures + 1, default));
        Assert.Equal("inFeatures", range.ParamName);
        var kernel = QuantizedLinearKernel.FromInt8(new sbyte[12], 3, 4, scales);
        e = Assert.Throws<ArgumentException>(() => kernel.Forward(new byte[7], 2, new float[6]));
        Assert.Contains("[2, 4]", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => kernel.Forward(new ulong[2], 2, new float[5]));
        Assert.Equal("output", e.ParamName);
    }

    private static long[] NaiveConvolution(byte[] x, sbyte[] q, SlidingWindow g, int outChannels, bool depthwise)
    {
        var sums = new long[g.Images * outChannels * g.Positions];
        int inPerOut = depthwise ? 1 : g.Channels;
        for (int b = 0; b < g.Images; b++)
        {
            for (int o = 0; o < outChannels; o++)
            {
                for (int y = 0; y < g.OutHeight; y++)
                {
                    for (int xo = 0; xo < g.OutWidth; xo++)
                    {
                        long s = 0;
                        for (int ci = 0; ci < inPerOut; ci++)
                        {
                            int c = depthwise ? o : ci;
                            for (int i = 0; i < g.KernelHeight; i++)
                            {
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int iy = y * g.Stride - g.Padding + i, ix = xo * g.Stride - g.Padding + j;
                                    if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                    s += (long)x[((b * g.Channels + c) * g.Height + iy) * g.Width + ix]
                                        * q[((o * inPerOut + ci) * g.KernelHeight + i) * g.KernelWidth + j];
                                }
                            }
                        }
                        sums[((b * outChannels + o) * g.OutHeight + y) * g.OutWidth + xo] = s;
                    }
                }
            }
        }
        return sums;
    }

    private static float[] ExpectedChannels(long[] sums, int outChannels, int positions, float[] scales, float[] bias)
    {
        var y = new float[sums.Length];
        for (int i = 0; i < y.Length; i++)
        {
            int o = i / positions % outChannels;
            y[i] = (float)sums[i] * scales[o] + bias[o];
        }
        return y;
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 60)]
    public void Convolution_on_counts_matches_the_naive_convolution(QuantizedConvCase c)
    {
        var g = c.Window;
        int patch = g.Patch;
        var codes = c.Codes(c.OutChannels, patch);
        var counts = c.Counts();
        var scales = c.Scales(c.OutChannels);
        var bias = c.Bias(c.OutChannels);
        var exact = NaiveConvolution(counts, codes, g, c.OutChannels, depthwise: false);
        var reference = new int[exact.Length];
        QuantizedReference.Convolution(counts, g, codes, c.OutChannels, reference);
        AssertSums(exact, reference, "QuantizedReference.Convolution");
        var expected = ExpectedChannels(exact, c.OutChannels, g.Positions, scales, bias);
        var packed = new byte[c.OutChannels * Int4Codes.RowBytes(patch)];
        if (c.Bits == 4) Int4Codes.Pack(codes, c.OutChannels, patch, packed);
        foreach (var v in Variants().Where(v => v.PortableBits == SimdWidth.Bits || v.Path == IntegerKernelPath.Scalar))
        {
            var kernel = c.Bits == 8
                ? QuantizedConvKernel.FromInt8(codes, c.OutChannels, c.Channels, c.KernelHeight, c.KernelWidth, c.Stride, c.Padding, scales, bias, v.Path)
                : QuantizedConvKernel.FromInt4(packed, c.OutChannels, c.Channels, c.KernelHeight, c.KernelWidth, c.Stride, c.Padding, scales, bias, v.Path);
            var y = new float[exact.Length];
            kernel.Forward(counts, c.Images, c.Height, c.Width, y);
            Reference.AssertBitwise(expected, y, $"{v} convolution");
        }
    }

    /// <summary>A 1×1 window at stride 1 without padding skips the unrolling (its patch rows are the channels-last image); rare in the generator, so pinned here.</summary>
    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    public void A_pointwise_convolution_matches_the_naive_convolution(int bits) =>
        Convolution_on_counts_matches_the_naive_convolution(new QuantizedConvCase(3, 5, 7, 19, 6, 1, 1, 1, 0, bits, 4, 3));

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 60)]
    public void Depthwise_convolution_on_counts_matches_the_naive_convolution(QuantizedConvCase c)
    {
        var g = c.Window;
        int taps = c.KernelHeight * c.KernelWidth;
        var codes = c.Codes(c.Channels, taps);
        var counts = c.Counts();
        var scales = c.Scales(c.Channels);
        var bias = c.Bias(c.Channels);
        var exact = NaiveConvolution(counts, codes, g, c.Channels, depthwise: true);
        var reference = new int[exact.Length];
        QuantizedReference.DepthwiseConvolution(counts, g, codes, reference);
        AssertSums(exact, reference, "QuantizedReference.DepthwiseConvolution");
        var expected = ExpectedChannels(exact, c.Channels, g.Positions, scales, bias);
        var packed = new byte[c.Channels * Int4Codes.RowBytes(taps)];
        if (c.Bits == 4) Int4Codes.Pack(codes, c.Channels, taps, packed);
        foreach (var v in Variants())
        {
            var kernel = c.Bits == 8
                ? QuantizedDepthwiseConvKernel.CreateInt8(codes, c.Channels, c.KernelHeight, c.KernelWidth, c.Stride, c.Padding, scales, bias, v.Path, v.PortableBits)
                : QuantizedDepthwiseConvKernel.FromInt4(packed, c.Channels, c.KernelHeight, c.KernelWidth, c.Stride, c.Padding, scales, bias, v.Path);
            var y = new float[exact.Length];
            kernel.Forward(counts, c.Images, c.Height, c.Width, y);
            Reference.AssertBitwise(expected, y, $"{v} depthwise convolution");
        }
    }

    [Fact]
    public void A_convolution_refuses_an_input_smaller_than_its_kernel()
    {
        var kernel = QuantizedConvKernel.FromInt8(new sbyte[2 * 3 * 5 * 5], 2, 3, 5, 5, 1, 1, new float[2]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => kernel.Forward(new byte[3 * 2 * 9], 1, 2, 9, new float[2 * 7]));
        Assert.Contains("2×9 padded by 1", e.Message, StringComparison.Ordinal);
        var counts = Assert.Throws<ArgumentException>(() => kernel.Forward(new byte[10], 1, 8, 8, new float[2 * 36]));
        Assert.Contains("[1, 3, 8, 8]", counts.Message, StringComparison.Ordinal);
    }
}

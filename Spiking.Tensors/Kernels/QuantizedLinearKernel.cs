using System;
using System.Buffers;
using System.Numerics;
using System.Threading;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// A quantized linear layer prepared once and run many times: <c>y[m, n] = (Σ_k x[m, k]·q[n, k])·scale[n] + bias[n]</c>
/// with integer codes q <c>[N, K]</c> (8-bit −128…127, or 4-bit −8…7 two to a byte, see <see cref="Int4Codes"/>), a
/// float scale per output and an optional float bias. The input x is either unsigned 8-bit counts (multi-level spikes
/// 0…D) or bit-packed binary spikes (<see cref="SpikeTensor"/> rows). The sum is exact in int32 and converted to float
/// once, so the output equals, bit for bit, <c>fl(fl(S)·scale) + bias</c> for the exact integer S, on every path and
/// thread count (<see cref="QuantizedEpilogue"/>).
/// </summary>
/// <remarks>
/// The codes are laid out for the chosen <see cref="IntegerKernelPath"/> on first use of each input kind (counts or
/// spikes), and kept; a kernel is safe to call from several threads at once. K is at most
/// <see cref="MaxInFeatures"/>, so no sum of u8 × s8 products can overflow int32.
/// </remarks>
public sealed class QuantizedLinearKernel
{
    /// <summary>The largest K: <c>K·255·128</c> fits in int32.</summary>
    public const int MaxInFeatures = int.MaxValue / (255 * 128);

    private readonly byte[] _source;
    private readonly float[] _scales;
    private readonly float[]? _bias;
    private readonly int _portableBits;
    private sbyte[]? _codes;
    private QuantizedCountsPanels? _countPanels;
    private QuantizedCountsPanels? _portablePanels;
    private QuantizedSpikePanels? _spikePanels;

    private QuantizedLinearKernel(byte[] source, int bits, int outFeatures, int inFeatures, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias,
        IntegerKernelPath path, int portableBits)
    {
        if (scales.Length != outFeatures) throw new ArgumentException($"Scales have length {scales.Length}; expected one per output, {outFeatures}.", nameof(scales));
        if (!bias.IsEmpty && bias.Length != outFeatures) throw new ArgumentException($"Bias has length {bias.Length}; expected {outFeatures} (or none).", nameof(bias));
        if (!IntegerKernelPaths.IsSupported(path)) throw new PlatformNotSupportedException($"The {path} integer kernel path needs instructions this CPU lacks.");
        _source = source;
        Bits = bits;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        _scales = scales.ToArray();
        _bias = bias.IsEmpty ? null : bias.ToArray();
        Path = path;
        _portableBits = portableBits;
    }

    /// <summary>Prepares a kernel from 8-bit codes <c>[outFeatures, inFeatures]</c>, row-major (PyTorch's <c>Linear</c> layout).</summary>
    /// <param name="codes">The codes, −128…127.</param>
    /// <param name="outFeatures">N.</param>
    /// <param name="inFeatures">K, at most <see cref="MaxInFeatures"/>.</param>
    /// <param name="scales">The float scale of each output, length N.</param>
    /// <param name="bias">The float bias of each output (length N), or empty for none.</param>
    /// <param name="path">The instruction path; <see cref="IntegerKernelPaths.Best"/> when null.</param>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or K exceeds <see cref="MaxInFeatures"/>.</exception>
    /// <exception cref="PlatformNotSupportedException"><paramref name="path"/> is not supported here.</exception>
    public static QuantizedLinearKernel FromInt8(ReadOnlySpan<sbyte> codes, int outFeatures, int inFeatures, ReadOnlySpan<float> scales,
        ReadOnlySpan<float> bias = default, IntegerKernelPath? path = null) =>
        CreateInt8(codes, outFeatures, inFeatures, scales, bias, path ?? IntegerKernelPaths.Best, SimdWidth.Bits);

    /// <summary>Prepares a kernel from 4-bit codes packed as <see cref="Int4Codes"/> describes, <c>[outFeatures, ⌈inFeatures/2⌉]</c> bytes.</summary>
    /// <param name="packedCodes">The codes, two to a byte, each row starting on a byte.</param>
    /// <param name="outFeatures">N.</param>
    /// <param name="inFeatures">K, at most <see cref="MaxInFeatures"/>.</param>
    /// <param name="scales">The float scale of each output, length N.</param>
    /// <param name="bias">The float bias of each output (length N), or empty for none.</param>
    /// <param name="path">The instruction path; <see cref="IntegerKernelPaths.Best"/> when null.</param>
    /// <exception cref="ArgumentException">A span's length does not match the dimensions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or K exceeds <see cref="MaxInFeatures"/>.</exception>
    /// <exception cref="PlatformNotSupportedException"><paramref name="path"/> is not supported here.</exception>
    public static QuantizedLinearKernel FromInt4(ReadOnlySpan<byte> packedCodes, int outFeatures, int inFeatures, ReadOnlySpan<float> scales,
        ReadOnlySpan<float> bias = default, IntegerKernelPath? path = null) =>
        CreateInt4(packedCodes, outFeatures, inFeatures, scales, bias, path ?? IntegerKernelPaths.Best, SimdWidth.Bits);

    /// <summary><see cref="FromInt8(ReadOnlySpan{sbyte}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, IntegerKernelPath?)"/> with the portable path's vector width chosen (tests compare every accelerated width).</summary>
    internal static QuantizedLinearKernel CreateInt8(ReadOnlySpan<sbyte> codes, int outFeatures, int inFeatures, ReadOnlySpan<float> scales,
        ReadOnlySpan<float> bias, IntegerKernelPath path, int portableBits)
    {
        CheckDims(outFeatures, inFeatures);
        if (codes.Length != (long)outFeatures * inFeatures)
        {
            throw new ArgumentException($"Codes hold {codes.Length} values; [{outFeatures}, {inFeatures}] needs {(long)outFeatures * inFeatures}.", nameof(codes));
        }
        var source = new byte[codes.Length];
        for (int i = 0; i < source.Length; i++) source[i] = (byte)codes[i];
        return new QuantizedLinearKernel(source, 8, outFeatures, inFeatures, scales, bias, path, portableBits);
    }

    /// <summary><see cref="FromInt4(ReadOnlySpan{byte}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, IntegerKernelPath?)"/> with the portable path's vector width chosen.</summary>
    internal static QuantizedLinearKernel CreateInt4(ReadOnlySpan<byte> packedCodes, int outFeatures, int inFeatures, ReadOnlySpan<float> scales,
        ReadOnlySpan<float> bias, IntegerKernelPath path, int portableBits)
    {
        CheckDims(outFeatures, inFeatures);
        long bytes = (long)outFeatures * Int4Codes.RowBytes(inFeatures);
        if (packedCodes.Length != bytes)
        {
            throw new ArgumentException($"Packed 4-bit codes hold {packedCodes.Length} bytes; [{outFeatures}, {inFeatures}] at two a byte, rows byte-aligned, needs {bytes}.", nameof(packedCodes));
        }
        return new QuantizedLinearKernel(packedCodes.ToArray(), 4, outFeatures, inFeatures, scales, bias, path, portableBits);
    }

    /// <summary>K, the length of an input row.</summary>
    public int InFeatures { get; }

    /// <summary>N, the length of an output row.</summary>
    public int OutFeatures { get; }

    /// <summary>The code width: 8 or 4.</summary>
    public int Bits { get; }

    /// <summary>The instruction path the kernel runs.</summary>
    public IntegerKernelPath Path { get; }

    /// <summary>
    /// <c>output[rows, N] = (counts[rows, K]·qᵀ)·scale + bias</c> for unsigned 8-bit counts (any value 0…255 is exact).
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the dimensions need.</exception>
    public void Forward(ReadOnlySpan<byte> counts, int rows, Span<float> output)
    {
        CheckCounts(counts, rows);
        CheckOutput(output.Length, rows, nameof(output));
        RunCounts(counts, rows, output, default, positions: 0);
    }

    /// <summary><c>sums[rows, N] = counts[rows, K]·qᵀ</c> in int32, before the epilogue.</summary>
    /// <exception cref="ArgumentException">A span is shorter than the dimensions need.</exception>
    public void Accumulate(ReadOnlySpan<byte> counts, int rows, Span<int> sums)
    {
        CheckCounts(counts, rows);
        CheckOutput(sums.Length, rows, nameof(sums));
        RunCounts(counts, rows, default, sums, positions: 0);
    }

    /// <summary>
    /// <c>output[rows, N] = (spikes[rows, K]·qᵀ)·scale + bias</c> for binary spikes as packed <see cref="SpikeTensor"/>
    /// rows (<see cref="SpikeTensor.WordsFor"/>(K) words each, LSB first): the codes selected by the set bits, summed.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the dimensions need.</exception>
    public void Forward(ReadOnlySpan<ulong> spikes, int rows, Span<float> output)
    {
        CheckSpikes(spikes, rows);
        CheckOutput(output.Length, rows, nameof(output));
        RunSpikes(spikes, rows, output, default);
    }

    /// <summary><c>sums[rows, N] = spikes[rows, K]·qᵀ</c> in int32, before the epilogue.</summary>
    /// <exception cref="ArgumentException">A span is shorter than the dimensions need.</exception>
    public void Accumulate(ReadOnlySpan<ulong> spikes, int rows, Span<int> sums)
    {
        CheckSpikes(spikes, rows);
        CheckOutput(sums.Length, rows, nameof(sums));
        RunSpikes(spikes, rows, default, sums);
    }

    /// <summary>
    /// The outputs of <paramref name="counts"/> <c>[rows, K]</c> written channel-major,
    /// <c>output[rows / positions, N, positions]</c>: a convolution's NCHW output from its im2col rows.
    /// </summary>
    internal void ForwardChannelMajor(ReadOnlySpan<byte> counts, int rows, int positions, Span<float> output) =>
        RunCounts(counts, rows, output, default, positions);

    /// <summary>
    /// The spike product by expanding the bits into 0/1 counts (a byte a spike, through a table) and running the
    /// counts kernel: what <see cref="Forward(ReadOnlySpan{ulong}, int, Span{float})"/> does on the dot-product and
    /// pair-sum paths when the spikes are denser than <see cref="ExpandAboveRate"/>; callable directly to measure it.
    /// </summary>
    internal void ForwardSpikesExpanded(ReadOnlySpan<ulong> spikes, int rows, Span<float> output) =>
        RunExpanded(spikes.Slice(0, rows * SpikeTensor.WordsFor(InFeatures)), rows, output, default);

    /// <summary>The spike product by selecting codes bit by bit, whatever the rate; callable directly to measure it.</summary>
    internal void ForwardSpikesSelected(ReadOnlySpan<ulong> spikes, int rows, Span<float> output) =>
        RunSelected(spikes.Slice(0, rows * SpikeTensor.WordsFor(InFeatures)), rows, output, default);

    /// <summary>
    /// The firing rate above which spikes are expanded into counts rather than selecting codes bit by bit, on
    /// <paramref name="path"/>: selection costs in proportion to the set bits, the counts kernel does not. The
    /// crossovers measured on AMD Zen 5 (docs/INTEGER_INFERENCE.md) are about 0.15–0.22 against the pair sums and 0.38
    /// against AVX-VNNI; the portable counts kernel is slower still, so the portable path always selects.
    /// </summary>
    internal static double ExpandAboveRate(IntegerKernelPath path) => path switch
    {
        IntegerKernelPath.PairSums => 0.2,
        IntegerKernelPath.DotProduct => 0.35,
        _ => double.PositiveInfinity,
    };

    private void RunCounts(ReadOnlySpan<byte> counts, int rows, Span<float> output, Span<int> sums, int positions)
    {
        counts = counts.Slice(0, rows * InFeatures);
        if (Path == IntegerKernelPath.Scalar)
        {
            var buffer = sums.IsEmpty ? ArrayPool<int>.Shared.Rent(Math.Max(1, rows * OutFeatures)) : null;
            try
            {
                var s = buffer is null ? sums.Slice(0, rows * OutFeatures) : buffer.AsSpan(0, rows * OutFeatures);
                QuantizedReference.AccumulateCounts(counts, rows, InFeatures, Codes(), OutFeatures, s);
                if (buffer is not null) ScalarEpilogue(s, rows, output, positions);
            }
            finally
            {
                if (buffer is not null) ArrayPool<int>.Shared.Return(buffer);
            }
            return;
        }
        int maxCount = QuantizedCountsProduct.MaxCount(counts);
        QuantizedCountsProduct.Run(counts, InFeatures, rows, maxCount, CountPanels(maxCount), _scales, _bias, output, sums, positions);
    }

    private void RunSpikes(ReadOnlySpan<ulong> spikes, int rows, Span<float> output, Span<int> sums)
    {
        spikes = spikes.Slice(0, rows * SpikeTensor.WordsFor(InFeatures));
        if (Path == IntegerKernelPath.Scalar)
        {
            var buffer = sums.IsEmpty ? ArrayPool<int>.Shared.Rent(Math.Max(1, rows * OutFeatures)) : null;
            try
            {
                var s = buffer is null ? sums.Slice(0, rows * OutFeatures) : buffer.AsSpan(0, rows * OutFeatures);
                QuantizedReference.AccumulateSpikes(spikes, rows, InFeatures, Codes(), OutFeatures, s);
                if (buffer is not null) ScalarEpilogue(s, rows, output, positions: 0);
            }
            finally
            {
                if (buffer is not null) ArrayPool<int>.Shared.Return(buffer);
            }
            return;
        }
        if (Rate(spikes, rows) > ExpandAboveRate(Path)) RunExpanded(spikes, rows, output, sums);
        else RunSelected(spikes, rows, output, sums);
    }

    private void RunSelected(ReadOnlySpan<ulong> spikes, int rows, Span<float> output, Span<int> sums)
    {
        var panels = Volatile.Read(ref _spikePanels) ?? LazyInitializer.EnsureInitialized(ref _spikePanels,
            () => new QuantizedSpikePanels(Codes(), OutFeatures, InFeatures, Bits, _portableBits));
        QuantizedSpikeProduct.Run(spikes, rows, panels, _scales, _bias, output, sums);
    }

    private void RunExpanded(ReadOnlySpan<ulong> spikes, int rows, Span<float> output, Span<int> sums)
    {
        var panels = CountPanels(1);
        int stride = panels.RowStride;
        var counts = ArrayPool<byte>.Shared.Rent(Math.Max(1, rows * stride));
        try
        {
            BitPack.UnpackBytes(spikes, rows, InFeatures, counts, stride);
            QuantizedCountsProduct.Run(counts.AsSpan(0, rows * stride), stride, rows, 1, panels, _scales, _bias, output, sums, positions: 0);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(counts);
        }
    }

    /// <summary>The fraction of the K·rows bits that are set (bits past K in a row's last word not counted).</summary>
    private double Rate(ReadOnlySpan<ulong> spikes, int rows)
    {
        int wpr = SpikeTensor.WordsFor(InFeatures);
        ulong lastMask = BitPack.LastWordMask(InFeatures);
        long set = 0;
        for (int i = 0; i < spikes.Length; i++) set += BitOperations.PopCount(i % wpr == wpr - 1 ? spikes[i] & lastMask : spikes[i]);
        return (double)set / Math.Max(1L, (long)rows * InFeatures);
    }

    /// <summary>
    /// The count panels of the path, made on first use; on the pair-sum path, the portable ones instead when counts up
    /// to <paramref name="maxCount"/> could saturate a pair sum.
    /// </summary>
    private QuantizedCountsPanels CountPanels(int maxCount)
    {
        // Volatile.Read first: the lambda (and its delegate allocation) is only evaluated on the first call.
        var panels = Volatile.Read(ref _countPanels) ?? LazyInitializer.EnsureInitialized(ref _countPanels,
            () => new QuantizedCountsPanels(Codes(), OutFeatures, InFeatures, Bits, Path, _portableBits));
        if (Path == IntegerKernelPath.PairSums && !QuantizedCountsProduct.PairSumsExact(maxCount, panels.MaxAbsCode))
        {
            panels = Volatile.Read(ref _portablePanels) ?? LazyInitializer.EnsureInitialized(ref _portablePanels,
                () => new QuantizedCountsPanels(Codes(), OutFeatures, InFeatures, Bits, IntegerKernelPath.Portable, _portableBits));
        }
        return panels;
    }

    /// <summary>The scalar path's epilogue: row-major, or channel-major <c>[rows / positions, N, positions]</c> when <paramref name="positions"/> is positive.</summary>
    private void ScalarEpilogue(ReadOnlySpan<int> sums, int rows, Span<float> output, int positions)
    {
        int n = OutFeatures;
        if (positions == 0)
        {
            QuantizedReference.Epilogue(sums, rows, n, _scales, _bias, output.Slice(0, rows * n));
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < n; j++)
            {
                int sum = sums[r * n + j];
                output[(r / positions * n + j) * positions + r % positions] =
                    _bias is null ? QuantizedEpilogue.Apply(sum, _scales[j]) : QuantizedEpilogue.Apply(sum, _scales[j], _bias[j]);
            }
        }
    }

    /// <summary>The codes unpacked to int8 <c>[N, K]</c>, made once.</summary>
    private sbyte[] Codes() => Volatile.Read(ref _codes) ?? LazyInitializer.EnsureInitialized(ref _codes, () =>
    {
        var codes = new sbyte[OutFeatures * InFeatures];
        if (Bits == 4) Int4Codes.Unpack(_source, OutFeatures, InFeatures, codes);
        else for (int i = 0; i < codes.Length; i++) codes[i] = (sbyte)_source[i];
        return codes;
    });

    private static void CheckDims(int outFeatures, int inFeatures)
    {
        if (outFeatures < 0) throw new ArgumentOutOfRangeException(nameof(outFeatures), $"outFeatures is {outFeatures}; it must be non-negative.");
        if (inFeatures < 0 || inFeatures > MaxInFeatures)
        {
            throw new ArgumentOutOfRangeException(nameof(inFeatures), $"inFeatures is {inFeatures}; it must lie in 0…{MaxInFeatures} so that int32 sums of u8 × s8 products cannot overflow.");
        }
    }

    private void CheckCounts(ReadOnlySpan<byte> counts, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (counts.Length < (long)rows * InFeatures) throw new ArgumentException($"Counts hold {counts.Length} bytes; [{rows}, {InFeatures}] needs {(long)rows * InFeatures}.", nameof(counts));
    }

    private void CheckSpikes(ReadOnlySpan<ulong> spikes, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        long words = (long)rows * SpikeTensor.WordsFor(InFeatures);
        if (spikes.Length < words) throw new ArgumentException($"Spikes hold {spikes.Length} words; [{rows}, {InFeatures}] bits need {words}.", nameof(spikes));
    }

    private void CheckOutput(int length, int rows, string name)
    {
        if (length < (long)rows * OutFeatures) throw new ArgumentException($"'{name}' holds {length} elements; [{rows}, {OutFeatures}] needs {(long)rows * OutFeatures}.", name);
    }
}

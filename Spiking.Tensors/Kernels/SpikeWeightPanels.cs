using System;
using System.Numerics.Tensors;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// A weight laid out for <see cref="SpikeAccumulate"/>: <c>Wᵀ[K,N]</c> cut into column panels of
/// <see cref="PanelWidth"/> floats, each panel stored contiguously as <c>[K][PanelWidth]</c> and the last one
/// zero-padded, plus the column sums <c>Σ_k Wᵀ[k,:]</c> for the complement strategy.
/// </summary>
/// <remarks>
/// Why panels: a spike selects whole rows of <c>Wᵀ</c>, and a kernel tile reads one column block of those rows.
/// In the plain row-major layout the rows of a block are <c>N</c> floats apart; for the power-of-two widths of
/// real layers (512, 1024, 4096) every such row falls into the same few cache sets, so a block that should sit in
/// L2 thrashes out to L3. Contiguous panels keep the whole block in distinct sets (the packing BLIS does for GEMM).
/// </remarks>
public sealed class SpikeWeightPanels : IDisposable
{
    private float[] _panels = [];
    private float[] _sums = [];

    /// <summary>The width of one panel: eight vectors of the width the kernels dispatch to (the accumulate loop keeps eight vector accumulators).</summary>
    public static int PanelWidth { get; } = 8 * (SimdWidth.Bits == 0 ? 4 : SimdWidth.Bits / 32);

    /// <summary>K, the number of rows of <c>Wᵀ</c> (the layer's in-features).</summary>
    public int InFeatures { get; private set; }

    /// <summary>N, the number of columns of <c>Wᵀ</c> (the layer's out-features).</summary>
    public int OutFeatures { get; private set; }

    /// <summary>The packed panels: <c>ceil(N / PanelWidth)</c> blocks of <c>[K][PanelWidth]</c>.</summary>
    public ReadOnlySpan<float> Panels => _panels.AsSpan(0, PanelLength(InFeatures, OutFeatures));

    /// <summary>The column sums of <c>Wᵀ</c>, length N.</summary>
    public ReadOnlySpan<float> ColumnSums => _sums.AsSpan(0, OutFeatures);

    /// <summary>The number of floats the panels of a <c>[rows, width]</c> matrix take.</summary>
    public static int PanelLength(int rows, int width) => PanelLength(rows, width, PanelWidth);

    /// <summary>The number of floats panels of <paramref name="blockWidth"/> columns take for a <c>[rows, width]</c> matrix.</summary>
    internal static int PanelLength(int rows, int width, int blockWidth) =>
        checked((width + blockWidth - 1) / blockWidth * rows * blockWidth);

    /// <summary>
    /// The narrowest panel width of 2, 4 or 8 vectors that holds <paramref name="width"/> columns in one panel (8
    /// vectors when none does), so a narrow matrix (a convolution's output gradient) is not padded to full panels.
    /// </summary>
    internal static int NarrowPanelWidth(int width)
    {
        int vector = PanelWidth / 8;
        return width <= 2 * vector ? 2 * vector : width <= 4 * vector ? 4 * vector : PanelWidth;
    }

    /// <summary>Packs a PyTorch-layout weight <c>W[N, K]</c> (transposing it into panels of <c>Wᵀ</c>).</summary>
    /// <exception cref="ArgumentException">The span holds fewer than N·K floats, or a dimension is negative.</exception>
    public void PackWeight(ReadOnlySpan<float> weight, int outFeatures, int inFeatures)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(outFeatures);
        ArgumentOutOfRangeException.ThrowIfNegative(inFeatures);
        if (weight.Length < (long)outFeatures * inFeatures)
        {
            throw new ArgumentException($"Weight holds {weight.Length} floats; [{outFeatures}, {inFeatures}] needs {(long)outFeatures * inFeatures}.", nameof(weight));
        }
        Resize(inFeatures, outFeatures);
        int b = PanelWidth;
        var panels = _panels.AsSpan();
        for (int j0 = 0; j0 < outFeatures; j0 += b)
        {
            var panel = panels.Slice(j0 * inFeatures, inFeatures * b);
            int width = Math.Min(b, outFeatures - j0);
            if (width < b) panel.Clear();
            for (int j = 0; j < width; j++)
            {
                var row = weight.Slice((j0 + j) * inFeatures, inFeatures);
                for (int k = 0; k < inFeatures; k++) panel[k * b + j] = row[k];
            }
        }
        var sums = _sums.AsSpan(0, outFeatures);
        for (int j = 0; j < outFeatures; j++) sums[j] = TensorPrimitives.Sum(weight.Slice(j * inFeatures, inFeatures));
    }

    /// <summary>
    /// Packs a weight given already transposed, <c>Wᵀ[K, N]</c> row-major (the right operand of <c>S·Wᵀ</c>, the layout
    /// of a <c>torch.mm(S, W)</c> operand).
    /// </summary>
    /// <exception cref="ArgumentException">The span holds fewer than K·N floats, or a dimension is negative.</exception>
    public void PackTransposed(ReadOnlySpan<float> weightTransposed, int inFeatures, int outFeatures)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(outFeatures);
        ArgumentOutOfRangeException.ThrowIfNegative(inFeatures);
        if (weightTransposed.Length < (long)outFeatures * inFeatures)
        {
            throw new ArgumentException($"Transposed weight holds {weightTransposed.Length} floats; [{inFeatures}, {outFeatures}] needs {(long)outFeatures * inFeatures}.", nameof(weightTransposed));
        }
        Resize(inFeatures, outFeatures);
        PackRows(weightTransposed, inFeatures, outFeatures, _panels);
        var sums = _sums.AsSpan(0, outFeatures);
        sums.Clear();
        for (int k = 0; k < inFeatures; k++) TensorPrimitives.Add(sums, weightTransposed.Slice(k * outFeatures, outFeatures), sums);
    }

    /// <summary>Drops the packed buffers; the next pack allocates them again.</summary>
    public void Dispose()
    {
        _panels = [];
        _sums = [];
        InFeatures = OutFeatures = 0;
    }

    /// <summary>Packs a row-major <c>[rows, width]</c> matrix into panels: <c>panels[j / B][r][j % B] = source[r, j]</c>.</summary>
    internal static void PackRows(ReadOnlySpan<float> source, int rows, int width, Span<float> panels) =>
        PackRows(source, rows, width, panels, PanelWidth);

    /// <summary><see cref="PackRows(ReadOnlySpan{float}, int, int, Span{float})"/> into panels <paramref name="blockWidth"/> columns wide.</summary>
    internal static void PackRows(ReadOnlySpan<float> source, int rows, int width, Span<float> panels, int blockWidth)
    {
        int b = blockWidth;
        for (int j0 = 0; j0 < width; j0 += b)
        {
            var panel = panels.Slice(j0 * rows, rows * b);
            int w = Math.Min(b, width - j0);
            for (int r = 0; r < rows; r++)
            {
                var dst = panel.Slice(r * b, b);
                source.Slice(r * width + j0, w).CopyTo(dst);
                if (w < b) dst[w..].Clear();
            }
        }
    }

    private void Resize(int inFeatures, int outFeatures)
    {
        int length = PanelLength(inFeatures, outFeatures);
        if (_panels.Length < length) _panels = new float[length];
        if (_sums.Length < outFeatures) _sums = new float[outFeatures];
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
    }
}

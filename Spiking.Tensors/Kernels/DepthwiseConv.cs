using System;
using System.Buffers;
using System.Numerics.Tensors;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Depthwise 2-D convolution (PyTorch's <c>conv2d</c> with <c>groups == C</c>): each channel plane of an NCHW input
/// is cross-correlated with its own filter <c>w[c, 0, kh, kw]</c>, zero padded. A channel has no inner product
/// across channels to hand to the SGEMM, so each kernel tap runs as a row-wise multiply-add (a contiguous
/// <see cref="TensorPrimitives"/> run at stride 1) over the output rows and columns it reaches inside the image.
/// Spike planes are unpacked to floats one plane at a time into a pooled buffer: at one multiply-add per tap and
/// pixel, gathering bits would cost as much as the arithmetic it replaces.
/// Work items are (image block, channel) pairs, a partition by shape only; every output element sums its taps in a
/// fixed order and the weight and bias gradients sum one partial per block in block order, so every result is
/// bitwise the same for any thread count.
/// </summary>
internal static class DepthwiseConv
{
    /// <summary>Images per work item: parameter-gradient partials stay few while a channel's items still spread over threads.</summary>
    private const int ImageBlock = 4;

    /// <summary><c>y[n, c] = x[n, c] ⋆ w[c] + bias[c]</c>; the input is either the dense <paramref name="x"/> or the <paramref name="spikes"/>.</summary>
    public static void Forward(Tensor? x, SpikeTensor? spikes, Tensor weight, Tensor? bias, int images, ConvGeometry g, Tensor y)
    {
        var state = (x, spikes, weight, bias, images, g, y);
        Parallelism.For(Items(images, g), WorkPerItem(g), state, static (item, s) =>
        {
            var g = s.g;
            int c = item % g.Channels, block = item / g.Channels, plane = g.Height * g.Width, taps = g.KernelHeight * g.KernelWidth;
            var buffer = s.spikes is null ? null : ArrayPool<float>.Shared.Rent(Math.Max(1, plane));
            try
            {
                ReadOnlySpan<float> w = Raw(s.weight).Slice(c * taps, taps);
                Span<float> ys = Raw(s.y);
                float b = s.bias is null ? 0f : Raw(s.bias)[c];
                int end = Math.Min(s.images, (block + 1) * ImageBlock);
                for (int n = block * ImageBlock; n < end; n++)
                {
                    var yp = ys.Slice((n * g.Channels + c) * g.Positions, g.Positions);
                    yp.Fill(b);
                    PlaneForward(Plane(s.x, s.spikes, n, c, g, buffer), w, yp, g);
                }
            }
            finally
            {
                if (buffer is not null) ArrayPool<float>.Shared.Return(buffer);
            }
        });
    }

    /// <summary><c>dx[n, c] = Σ_taps w[c, tap]·G[n, c]</c> scattered back to the input positions each tap read.</summary>
    public static void InputGradient(Tensor gradOutput, Tensor weight, int images, ConvGeometry g, Tensor dx)
    {
        var state = (gradOutput, weight, images, g, dx);
        Parallelism.For(Items(images, g), WorkPerItem(g), state, static (item, s) =>
        {
            var g = s.g;
            int c = item % g.Channels, block = item / g.Channels, plane = g.Height * g.Width, taps = g.KernelHeight * g.KernelWidth;
            ReadOnlySpan<float> w = Raw(s.weight).Slice(c * taps, taps), gs = Raw(s.gradOutput);
            Span<float> dxs = Raw(s.dx);
            int end = Math.Min(s.images, (block + 1) * ImageBlock);
            for (int n = block * ImageBlock; n < end; n++)
            {
                var dxp = dxs.Slice((n * g.Channels + c) * plane, plane);
                dxp.Clear();
                PlaneInputGradient(gs.Slice((n * g.Channels + c) * g.Positions, g.Positions), w, dxp, g);
            }
        });
    }

    /// <summary>
    /// <c>dW[c, tap] = Σ_n Σ_pos G[n, c, pos]·x[n, c, pos·stride − p + tap]</c> into <paramref name="weightGradient"/>
    /// and <c>db[c] = Σ_n Σ_pos G[n, c, pos]</c> into <paramref name="biasGradient"/>, each skipped when null.
    /// </summary>
    public static void ParameterGradients(Tensor gradOutput, Tensor? x, SpikeTensor? spikes, int images, ConvGeometry g, Tensor? weightGradient, Tensor? biasGradient)
    {
        int blocks = Parallelism.ChunkCount(images, ImageBlock), channels = g.Channels, taps = g.KernelHeight * g.KernelWidth;
        int perBlock = channels * taps;
        var wPartials = weightGradient is null ? null : ArrayPool<float>.Shared.Rent(Math.Max(1, blocks * perBlock));
        var bPartials = biasGradient is null ? null : ArrayPool<float>.Shared.Rent(Math.Max(1, blocks * channels));
        try
        {
            var state = (gradOutput, x, spikes, images, g, wPartials, bPartials);
            Parallelism.For(Items(images, g), WorkPerItem(g), state, static (item, s) =>
            {
                var g = s.g;
                int c = item % g.Channels, block = item / g.Channels, plane = g.Height * g.Width, taps = g.KernelHeight * g.KernelWidth;
                var buffer = s.spikes is null || s.wPartials is null ? null : ArrayPool<float>.Shared.Rent(Math.Max(1, plane));
                try
                {
                    ReadOnlySpan<float> gs = Raw(s.gradOutput);
                    var dw = s.wPartials is null ? default : s.wPartials.AsSpan((block * g.Channels + c) * taps, taps);
                    dw.Clear();
                    float db = 0f;
                    int end = Math.Min(s.images, (block + 1) * ImageBlock);
                    for (int n = block * ImageBlock; n < end; n++)
                    {
                        var gp = gs.Slice((n * g.Channels + c) * g.Positions, g.Positions);
                        if (s.bPartials is not null) db += TensorPrimitives.Sum(gp);
                        if (s.wPartials is not null) PlaneWeightGradient(gp, Plane(s.x, s.spikes, n, c, g, buffer), dw, g);
                    }
                    if (s.bPartials is not null) s.bPartials[block * g.Channels + c] = db;
                }
                finally
                {
                    if (buffer is not null) ArrayPool<float>.Shared.Return(buffer);
                }
            });
            if (weightGradient is not null) SumBlocks(wPartials!, blocks, perBlock, Raw(weightGradient));
            if (biasGradient is not null) SumBlocks(bPartials!, blocks, channels, Raw(biasGradient));
        }
        finally
        {
            if (wPartials is not null) ArrayPool<float>.Shared.Return(wPartials);
            if (bPartials is not null) ArrayPool<float>.Shared.Return(bPartials);
        }
    }

    private static int Items(int images, ConvGeometry g) => Parallelism.ChunkCount(images, ImageBlock) * g.Channels;

    private static long WorkPerItem(ConvGeometry g) => (long)ImageBlock * g.Positions * g.KernelHeight * g.KernelWidth;

    private static void SumBlocks(float[] partials, int blocks, int perBlock, Span<float> destination)
    {
        var total = destination[..perBlock];
        if (blocks == 0)
        {
            total.Clear();
            return;
        }
        partials.AsSpan(0, perBlock).CopyTo(total);
        for (int b = 1; b < blocks; b++) TensorPrimitives.Add(total, partials.AsSpan(b * perBlock, perBlock), total);
    }

    /// <summary>Image <paramref name="n"/>'s channel <paramref name="c"/> as floats: a view of the dense input, or the spike plane unpacked into <paramref name="buffer"/>.</summary>
    private static ReadOnlySpan<float> Plane(Tensor? x, SpikeTensor? spikes, int n, int c, ConvGeometry g, float[]? buffer)
    {
        int plane = g.Height * g.Width, index = n * g.Channels + c;
        if (spikes is null) return Raw(x!).Slice(index * plane, plane);
        int wpr = spikes.WordsPerRow;
        var floats = buffer.AsSpan(0, plane);
        BitPack.Unpack(spikes.Words.Slice(index * g.Height * wpr, g.Height * wpr), g.Width, floats);
        return floats;
    }

    /// <summary>The output rows <c>[lo, hi)</c> whose input row <c>oy·stride − p + offset</c> lies inside the image.</summary>
    private static (int Lo, int Hi) InsideRows(ConvGeometry g, int offset)
    {
        int first = g.Padding - offset;
        int lo = first <= 0 ? 0 : (first + g.Stride - 1) / g.Stride;
        int last = g.Height - 1 + g.Padding - offset;
        int hi = last < 0 ? 0 : Math.Min(g.OutHeight, last / g.Stride + 1);
        return (lo, Math.Max(lo, hi));
    }

    private static void PlaneForward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, ConvGeometry g)
    {
        int s = g.Stride, kw = g.KernelWidth, wo = g.OutWidth;
        for (int i = 0; i < g.KernelHeight; i++)
        {
            var (rowLo, rowHi) = InsideRows(g, i);
            for (int j = 0; j < kw; j++)
            {
                var (lo, hi) = g.InsideColumns(j);
                int len = hi - lo, ix0 = lo * s - g.Padding + j;
                if (len == 0) continue;
                float wij = w[i * kw + j];
                for (int oy = rowLo; oy < rowHi; oy++)
                {
                    var xr = x.Slice((oy * s - g.Padding + i) * g.Width);
                    var yr = y.Slice(oy * wo + lo, len);
                    if (s == 1)
                    {
                        TensorPrimitives.MultiplyAdd(xr.Slice(ix0, len), wij, yr, yr);
                        continue;
                    }
                    for (int t = 0; t < len; t++) yr[t] += wij * xr[ix0 + t * s];
                }
            }
        }
    }

    private static void PlaneInputGradient(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> w, Span<float> dx, ConvGeometry g)
    {
        int s = g.Stride, kw = g.KernelWidth, wo = g.OutWidth;
        for (int i = 0; i < g.KernelHeight; i++)
        {
            var (rowLo, rowHi) = InsideRows(g, i);
            for (int j = 0; j < kw; j++)
            {
                var (lo, hi) = g.InsideColumns(j);
                int len = hi - lo, ix0 = lo * s - g.Padding + j;
                if (len == 0) continue;
                float wij = w[i * kw + j];
                for (int oy = rowLo; oy < rowHi; oy++)
                {
                    var dxr = dx.Slice((oy * s - g.Padding + i) * g.Width);
                    var gr = gradOutput.Slice(oy * wo + lo, len);
                    if (s == 1)
                    {
                        var target = dxr.Slice(ix0, len);
                        TensorPrimitives.MultiplyAdd(gr, wij, target, target);
                        continue;
                    }
                    for (int t = 0; t < len; t++) dxr[ix0 + t * s] += wij * gr[t];
                }
            }
        }
    }

    private static void PlaneWeightGradient(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> x, Span<float> dw, ConvGeometry g)
    {
        int s = g.Stride, kw = g.KernelWidth, wo = g.OutWidth;
        for (int i = 0; i < g.KernelHeight; i++)
        {
            var (rowLo, rowHi) = InsideRows(g, i);
            for (int j = 0; j < kw; j++)
            {
                var (lo, hi) = g.InsideColumns(j);
                int len = hi - lo, ix0 = lo * s - g.Padding + j;
                if (len == 0) continue;
                float sum = 0f;
                for (int oy = rowLo; oy < rowHi; oy++)
                {
                    var xr = x.Slice((oy * s - g.Padding + i) * g.Width);
                    var gr = gradOutput.Slice(oy * wo + lo, len);
                    if (s == 1)
                    {
                        sum += TensorPrimitives.Dot(gr, xr.Slice(ix0, len));
                        continue;
                    }
                    for (int t = 0; t < len; t++) sum += gr[t] * xr[ix0 + t * s];
                }
                dw[i * kw + j] += sum;
            }
        }
    }

    private static Span<float> Raw(Tensor t) => t.StorageArray.AsSpan(t.StorageOffset, t.Length);
}

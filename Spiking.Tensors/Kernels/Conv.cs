using System;
using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// 2-D convolution (PyTorch's cross-correlation with zero padding) on NCHW tensors and a PyTorch-layout weight
/// <c>[O, C, kh, kw]</c> seen as <c>W[O, K]</c> with <c>K = C·kh·kw</c>.
/// <list type="bullet">
/// <item>Dense: each image is unrolled into <c>cols[K, P]</c> (P output positions) in a pooled buffer and
/// multiplied by the SGEMM, <c>Y[O, P] = W·cols</c>, which is already the image's NCHW output.</item>
/// <item>Spikes: the patches are gathered straight from the packed input rows into a bit matrix
/// <c>[N·P, K]</c>, the left operand of the spike product, so the input never becomes floats.</item>
/// </list>
/// Work items are fixed blocks of images (a partition by shape only); the weight gradient sums one partial per
/// block in block order, so every result is bitwise the same for any thread count.
/// </summary>
internal static class Conv
{
    /// <summary>Images per work item: enough work per item to amortise the dispatch, few enough partial weight gradients.</summary>
    private const int ImageBlock = 4;

    /// <summary><c>y[N, O, Ho, Wo] = conv(x[N, C, H, W], w[O, K]) + bias</c>.</summary>
    public static void Forward(Tensor x, Tensor weight, Tensor? bias, int images, int outChannels, ConvGeometry g, Tensor y)
    {
        var state = (x, weight, bias, images, outChannels, g, y);
        Parallelism.For(Parallelism.ChunkCount(images, ImageBlock), (long)ImageBlock * outChannels * g.Patch * g.Positions, state, static (block, s) =>
        {
            int k = s.g.Patch, p = s.g.Positions, o = s.outChannels;
            var cols = ArrayPool<float>.Shared.Rent(Math.Max(1, k * p));
            try
            {
                ReadOnlySpan<float> xs = Raw(s.x), w = Raw(s.weight);
                Span<float> ys = Raw(s.y);
                int end = Math.Min(s.images, (block + 1) * ImageBlock);
                for (int n = block * ImageBlock; n < end; n++)
                {
                    Im2Col(xs.Slice(n * s.g.ImageSize, s.g.ImageSize), s.g, cols);
                    var yn = ys.Slice(n * o * p, o * p);
                    Gemm.Multiply(w, false, cols.AsSpan(0, k * p), false, yn, o, p, k);
                    if (s.bias is not null)
                    {
                        ReadOnlySpan<float> b = Raw(s.bias);
                        for (int c = 0; c < o; c++) TensorPrimitives.Add(yn.Slice(c * p, p), b[c], yn.Slice(c * p, p));
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(cols);
            }
        });
    }

    /// <summary><c>dx[N, C, H, W] = col2im(Wᵀ·G)</c> per image, for a gradient <c>G[N, O, P]</c>.</summary>
    public static void InputGradient(Tensor gradOutput, Tensor weight, int images, int outChannels, ConvGeometry g, Tensor dx)
    {
        if (g.Stride == 1 && g.Padding < g.KernelHeight && g.Padding < g.KernelWidth)
        {
            InputGradientShifted(gradOutput, weight, images, outChannels, g, dx);
            return;
        }
        var state = (gradOutput, weight, images, outChannels, g, dx);
        Parallelism.For(Parallelism.ChunkCount(images, ImageBlock), (long)ImageBlock * outChannels * g.Patch * g.Positions, state, static (block, s) =>
        {
            int k = s.g.Patch, p = s.g.Positions, o = s.outChannels, size = s.g.ImageSize;
            var cols = ArrayPool<float>.Shared.Rent(Math.Max(1, k * p));
            try
            {
                ReadOnlySpan<float> gs = Raw(s.gradOutput), w = Raw(s.weight);
                Span<float> dxs = Raw(s.dx);
                int end = Math.Min(s.images, (block + 1) * ImageBlock);
                for (int n = block * ImageBlock; n < end; n++)
                {
                    Gemm.Multiply(w, true, gs.Slice(n * o * p, o * p), false, cols.AsSpan(0, k * p), k, p, o);
                    var image = dxs.Slice(n * size, size);
                    image.Clear();
                    Col2ImAdd(cols, s.g, image);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(cols);
            }
        });
    }

    /// <summary>
    /// <see cref="InputGradient"/> at stride 1 as one SGEMM per image with no col2im: the gradient is zero-padded
    /// by the kernel size less one (above, below, and before each row, where a row's leading zeros also pad the row
    /// before it) to rows of width <c>Wp = Wo + kw − 1</c>, so every kernel tap's contribution to <c>dx</c> reads
    /// one contiguous run of the padded planes at a fixed flat offset. Those runs stacked give
    /// <c>B[kh·kw·O, H·Wp]</c>, and <c>dx</c> (with <c>Wp − W</c> junk columns per row, dropped) is the flipped
    /// weight <c>[C, kh·kw·O]</c> times B.
    /// </summary>
    private static void InputGradientShifted(Tensor gradOutput, Tensor weight, int images, int outChannels, ConvGeometry g, Tensor dx)
    {
        int o = outChannels, c = g.Channels, kh = g.KernelHeight, kw = g.KernelWidth, taps = kh * kw;
        var flipped = ArrayPool<float>.Shared.Rent(Math.Max(1, c * taps * o));
        try
        {
            // flipped[c, (i', j', o)] = W[o, c, kh − 1 − i', kw − 1 − j'].
            ReadOnlySpan<float> w = Raw(weight);
            for (int ci = 0; ci < c; ci++)
            for (int t = 0; t < taps; t++)
            for (int oi = 0; oi < o; oi++)
            {
                flipped[(ci * taps + t) * o + oi] = w[(oi * c + ci) * taps + taps - 1 - t];
            }
            var state = (gradOutput, flipped, images, o, g, dx);
            Parallelism.For(Parallelism.ChunkCount(images, ImageBlock), (long)ImageBlock * o * g.Patch * g.Positions, state, static (block, s) =>
            {
                var g = s.g;
                int o = s.o, c = g.Channels, kh = g.KernelHeight, kw = g.KernelWidth, taps = kh * kw;
                int ho = g.OutHeight, wo = g.OutWidth, wp = wo + kw - 1, hp = ho + 2 * (kh - 1);
                // One spare row: the junk columns of the last output row read past the padded planes.
                int planeSize = hp * wp, run = g.Height * wp, padded = o * planeSize + wp;
                var gp = ArrayPool<float>.Shared.Rent(padded);
                var b = ArrayPool<float>.Shared.Rent(taps * o * run);
                var dxp = ArrayPool<float>.Shared.Rent(c * run);
                try
                {
                    ReadOnlySpan<float> gs = Raw(s.gradOutput);
                    Span<float> dxs = Raw(s.dx);
                    var gpad = gp.AsSpan(0, padded);
                    gpad.Clear();
                    int end = Math.Min(s.images, (block + 1) * ImageBlock);
                    for (int n = block * ImageBlock; n < end; n++)
                    {
                        var gn = gs.Slice(n * o * g.Positions, o * g.Positions);
                        for (int oi = 0; oi < o; oi++)
                        {
                            for (int y = 0; y < ho; y++)
                            {
                                gn.Slice((oi * ho + y) * wo, wo).CopyTo(gpad.Slice(oi * planeSize + (y + kh - 1) * wp + kw - 1, wo));
                            }
                        }
                        for (int t = 0; t < taps; t++)
                        {
                            int offset = (g.Padding + t / kw) * wp + g.Padding + t % kw;
                            for (int oi = 0; oi < o; oi++)
                            {
                                gpad.Slice(oi * planeSize + offset, run).CopyTo(b.AsSpan((t * o + oi) * run, run));
                            }
                        }
                        Gemm.Multiply(s.flipped, false, b.AsSpan(0, taps * o * run), false, dxp.AsSpan(0, c * run), c, run, taps * o);
                        var image = dxs.Slice(n * g.ImageSize, g.ImageSize);
                        for (int ci = 0; ci < c; ci++)
                        {
                            for (int y = 0; y < g.Height; y++)
                            {
                                dxp.AsSpan((ci * g.Height + y) * wp, g.Width).CopyTo(image.Slice((ci * g.Height + y) * g.Width, g.Width));
                            }
                        }
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(gp);
                    ArrayPool<float>.Shared.Return(b);
                    ArrayPool<float>.Shared.Return(dxp);
                }
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(flipped);
        }
    }

    /// <summary>Patches at most this long (a one-channel input's first layer) take plain dot products for the weight gradient, where the SGEMM's blocking does not pay.</summary>
    private const int FewTaps = 32;

    /// <summary><c>dW[O, K] = Σ_n G_n[O, P]·cols_nᵀ</c>, the patches re-unrolled from the saved input.</summary>
    public static void WeightGradient(Tensor gradOutput, Tensor x, int images, int outChannels, ConvGeometry g, Span<float> weightGradient)
    {
        int blocks = Parallelism.ChunkCount(images, ImageBlock);
        int ok = outChannels * g.Patch;
        var partials = ArrayPool<float>.Shared.Rent(Math.Max(1, blocks * ok));
        try
        {
            var state = (gradOutput, x, images, outChannels, g, partials);
            Parallelism.For(blocks, (long)ImageBlock * outChannels * g.Patch * g.Positions, state, static (block, s) =>
            {
                int k = s.g.Patch, p = s.g.Positions, o = s.outChannels;
                var cols = ArrayPool<float>.Shared.Rent(Math.Max(1, k * p));
                try
                {
                    ReadOnlySpan<float> gs = Raw(s.gradOutput), xs = Raw(s.x);
                    var partial = s.partials.AsSpan(block * o * k, o * k);
                    int start = block * ImageBlock, end = Math.Min(s.images, start + ImageBlock);
                    for (int n = start; n < end; n++)
                    {
                        Im2Col(xs.Slice(n * s.g.ImageSize, s.g.ImageSize), s.g, cols);
                        if (k > FewTaps)
                        {
                            Gemm.Multiply(gs.Slice(n * o * p, o * p), false, cols.AsSpan(0, k * p), true, partial, o, k, p, accumulate: n > start);
                            continue;
                        }
                        for (int r = 0; r < o; r++)
                        {
                            var gr = gs.Slice((n * o + r) * p, p);
                            var pr = partial.Slice(r * k, k);
                            for (int c = 0; c < k; c++)
                            {
                                float dot = TensorPrimitives.Dot(gr, cols.AsSpan(c * p, p));
                                pr[c] = n > start ? pr[c] + dot : dot;
                            }
                        }
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(cols);
                }
            });
            var dw = weightGradient[..ok];
            partials.AsSpan(0, ok).CopyTo(dw);
            for (int b = 1; b < blocks; b++) TensorPrimitives.Add(dw, partials.AsSpan(b * ok, ok), dw);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partials);
        }
    }

    /// <summary><c>db[o] = Σ_{n,p} G[n, o, p]</c>, per image and channel then over images in order.</summary>
    public static void BiasGradient(ReadOnlySpan<float> gradOutput, int images, int outChannels, int positions, Span<float> biasGradient)
    {
        var db = biasGradient[..outChannels];
        db.Clear();
        for (int n = 0; n < images; n++)
        {
            for (int o = 0; o < outChannels; o++) db[o] += TensorPrimitives.Sum(gradOutput.Slice((n * outChannels + o) * positions, positions));
        }
    }

    /// <summary>Unrolls one image <c>[C, H, W]</c> into <c>cols[K, P]</c>: row <c>(c, i, j)</c> holds the input under kernel tap (i, j) at every output position, zero where it falls in the padding.</summary>
    public static void Im2Col(ReadOnlySpan<float> image, ConvGeometry g, Span<float> cols)
    {
        int ho = g.OutHeight, wo = g.OutWidth, p = g.Positions, s = g.Stride;
        for (int c = 0; c < g.Channels; c++)
        {
            for (int i = 0; i < g.KernelHeight; i++)
            {
                for (int j = 0; j < g.KernelWidth; j++)
                {
                    var row = cols.Slice(((c * g.KernelHeight + i) * g.KernelWidth + j) * p, p);
                    var (lo, hi) = g.InsideColumns(j);
                    for (int oy = 0; oy < ho; oy++)
                    {
                        var seg = row.Slice(oy * wo, wo);
                        int y = oy * s - g.Padding + i;
                        if ((uint)y >= (uint)g.Height)
                        {
                            seg.Clear();
                            continue;
                        }
                        var src = image.Slice((c * g.Height + y) * g.Width, g.Width);
                        seg[..lo].Clear();
                        seg[hi..].Clear();
                        int x0 = lo * s - g.Padding + j;
                        if (s == 1)
                        {
                            src.Slice(x0, hi - lo).CopyTo(seg[lo..hi]);
                        }
                        else
                        {
                            for (int ox = lo; ox < hi; ox++) seg[ox] = src[x0 + (ox - lo) * s];
                        }
                    }
                }
            }
        }
    }

    /// <summary>The plain per-element version of <see cref="Im2Col"/>.</summary>
    public static void Im2ColReference(ReadOnlySpan<float> image, ConvGeometry g, Span<float> cols)
    {
        int ho = g.OutHeight, wo = g.OutWidth;
        for (int c = 0; c < g.Channels; c++)
        for (int i = 0; i < g.KernelHeight; i++)
        for (int j = 0; j < g.KernelWidth; j++)
        for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++)
        {
            int y = oy * g.Stride - g.Padding + i, x = ox * g.Stride - g.Padding + j;
            bool inside = y >= 0 && y < g.Height && x >= 0 && x < g.Width;
            cols[(((c * g.KernelHeight + i) * g.KernelWidth + j) * ho + oy) * wo + ox] = inside ? image[(c * g.Height + y) * g.Width + x] : 0f;
        }
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: adds each entry of <c>cols[K, P]</c> to the input element it was read from (padding entries are dropped).</summary>
    public static void Col2ImAdd(ReadOnlySpan<float> cols, ConvGeometry g, Span<float> image)
    {
        int ho = g.OutHeight, wo = g.OutWidth, p = g.Positions, s = g.Stride;
        for (int c = 0; c < g.Channels; c++)
        {
            for (int i = 0; i < g.KernelHeight; i++)
            {
                for (int j = 0; j < g.KernelWidth; j++)
                {
                    var row = cols.Slice(((c * g.KernelHeight + i) * g.KernelWidth + j) * p, p);
                    var (lo, hi) = g.InsideColumns(j);
                    if (hi == lo) continue;
                    for (int oy = 0; oy < ho; oy++)
                    {
                        int y = oy * s - g.Padding + i;
                        if ((uint)y >= (uint)g.Height) continue;
                        var seg = row.Slice(oy * wo, wo);
                        var dst = image.Slice((c * g.Height + y) * g.Width, g.Width);
                        int x0 = lo * s - g.Padding + j;
                        if (s == 1)
                        {
                            AddShort(seg[lo..hi], dst.Slice(x0, hi - lo));
                        }
                        else
                        {
                            for (int ox = lo; ox < hi; ox++) dst[x0 + (ox - lo) * s] += seg[ox];
                        }
                    }
                }
            }
        }
    }

    /// <summary><c>d += a</c> for the short runs of one output row, where a library call per run costs more than the adds.</summary>
    private static void AddShort(ReadOnlySpan<float> a, Span<float> d)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (new Vector<float>(d[i..]) + new Vector<float>(a[i..])).CopyTo(d[i..]);
            }
        }
        for (; i < a.Length; i++) d[i] += a[i];
    }

    /// <summary>The plain per-element version of <see cref="Col2ImAdd"/>, in the same order.</summary>
    public static void Col2ImAddReference(ReadOnlySpan<float> cols, ConvGeometry g, Span<float> image)
    {
        int ho = g.OutHeight, wo = g.OutWidth;
        for (int c = 0; c < g.Channels; c++)
        for (int i = 0; i < g.KernelHeight; i++)
        for (int j = 0; j < g.KernelWidth; j++)
        for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++)
        {
            int y = oy * g.Stride - g.Padding + i, x = ox * g.Stride - g.Padding + j;
            if (y >= 0 && y < g.Height && x >= 0 && x < g.Width)
            {
                image[(c * g.Height + y) * g.Width + x] += cols[(((c * g.KernelHeight + i) * g.KernelWidth + j) * ho + oy) * wo + ox];
            }
        }
    }

    /// <summary>
    /// Gathers the patches of spike input <c>x[N, C, H, W]</c> into the bit matrix <c>cols[N·P, K]</c>: row
    /// <c>(n, oy, ox)</c>, bit <c>(c, i, j)</c>. Each kernel row of a patch is one run of kw input bits, moved as
    /// a word; positions in the padding read as zero.
    /// </summary>
    public static void Im2ColBits(SpikeTensor x, int images, ConvGeometry g, SpikeTensor cols)
    {
        if (g.Width + 2 * g.Padding <= 64)
        {
            Im2ColBitsNarrow(x, images, g, cols);
            return;
        }
        var state = (x, images, g, cols);
        Parallelism.For(images, (long)g.Positions * g.Channels * g.KernelHeight, state, static (n, s) =>
        {
            var g = s.g;
            ReadOnlySpan<ulong> src = s.x.Words;
            int wIn = s.x.WordsPerRow, wCol = s.cols.WordsPerRow, wo = g.OutWidth, kw = g.KernelWidth;
            var dst = s.cols.Words.Slice(n * g.Positions * wCol, g.Positions * wCol);
            dst.Clear();
            for (int oy = 0; oy < g.OutHeight; oy++)
            {
                for (int c = 0; c < g.Channels; c++)
                {
                    for (int i = 0; i < g.KernelHeight; i++)
                    {
                        int y = oy * g.Stride - g.Padding + i;
                        if ((uint)y >= (uint)g.Height) continue;
                        var row = src.Slice(((n * g.Channels + c) * g.Height + y) * wIn, wIn);
                        int bit = (c * g.KernelHeight + i) * kw;
                        for (int ox = 0; ox < wo; ox++)
                        {
                            var col = dst.Slice((oy * wo + ox) * wCol, wCol);
                            int x0 = ox * g.Stride - g.Padding;
                            for (int done = 0; done < kw; done += 64)
                            {
                                int len = Math.Min(64, kw - done);
                                ulong bits = BitRange.Extract(row, x0 + done, len);
                                if (bits != 0) BitRange.Deposit(col, bit + done, bits, len);
                            }
                        }
                    }
                }
            }
        });
    }

    /// <summary>
    /// <see cref="Im2ColBits"/> for inputs whose padded rows fit one word: each input row is shifted into its
    /// padded place once, every patch run is a shift and a mask of that word, and all-zero rows (most of them,
    /// spikes being sparse) are skipped.
    /// </summary>
    private static void Im2ColBitsNarrow(SpikeTensor x, int images, ConvGeometry g, SpikeTensor cols)
    {
        var state = (x, images, g, cols);
        Parallelism.For(images, (long)g.Positions * g.Channels * g.KernelHeight, state, static (n, s) =>
        {
            var g = s.g;
            ReadOnlySpan<ulong> src = s.x.Words;
            int wIn = s.x.WordsPerRow, wCol = s.cols.WordsPerRow, wo = g.OutWidth, kw = g.KernelWidth, stride = g.Stride;
            ulong runMask = kw == 64 ? ulong.MaxValue : (1UL << kw) - 1;
            var dst = s.cols.Words.Slice(n * g.Positions * wCol, g.Positions * wCol);
            dst.Clear();
            for (int oy = 0; oy < g.OutHeight; oy++)
            {
                var outRows = dst.Slice(oy * wo * wCol, wo * wCol);
                for (int c = 0; c < g.Channels; c++)
                {
                    for (int i = 0; i < g.KernelHeight; i++)
                    {
                        int y = oy * g.Stride - g.Padding + i;
                        if ((uint)y >= (uint)g.Height) continue;
                        ulong padded = src[((n * g.Channels + c) * g.Height + y) * wIn] << g.Padding;
                        if (padded == 0) continue;
                        int bit = (c * g.KernelHeight + i) * kw, word = bit >> 6, shift = bit & 63;
                        bool straddles = shift + kw > 64;
                        for (int ox = 0, at = word; ox < wo; ox++, at += wCol)
                        {
                            ulong run = (padded >> (ox * stride)) & runMask;
                            if (run == 0) continue;
                            outRows[at] |= run << shift;
                            if (straddles) outRows[at + 1] |= run >> (64 - shift);
                        }
                    }
                }
            }
        });
    }

    /// <summary>The plain one-bit-at-a-time version of <see cref="Im2ColBits"/>.</summary>
    public static void Im2ColBitsReference(SpikeTensor x, int images, ConvGeometry g, SpikeTensor cols)
    {
        cols.Words.Clear();
        for (int n = 0; n < images; n++)
        for (int oy = 0; oy < g.OutHeight; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        for (int c = 0; c < g.Channels; c++)
        for (int i = 0; i < g.KernelHeight; i++)
        for (int j = 0; j < g.KernelWidth; j++)
        {
            int y = oy * g.Stride - g.Padding + i, xx = ox * g.Stride - g.Padding + j;
            if (y >= 0 && y < g.Height && xx >= 0 && xx < g.Width && x[n, c, y, xx])
            {
                cols[(n * g.OutHeight + oy) * g.OutWidth + ox, (c * g.KernelHeight + i) * g.KernelWidth + j] = true;
            }
        }
    }

    /// <summary><c>channels[n, o, p] = rows[n·P + p, o]</c>: the spike product's row-per-position output laid out as NCHW.</summary>
    public static void RowsToChannels(Tensor rows, int images, int outChannels, int positions, Tensor channels)
    {
        var state = (rows, outChannels, positions, channels);
        Parallelism.For(images, (long)outChannels * positions, state, static (n, s) =>
        {
            int o = s.outChannels, p = s.positions;
            Transpose.Matrix(Raw(s.rows).Slice(n * o * p, o * p), p, o, Raw(s.channels).Slice(n * o * p, o * p));
        });
    }

    /// <summary><c>rows[n·P + p, o] = channels[n, o, p]</c>: the inverse of <see cref="RowsToChannels"/>.</summary>
    public static void ChannelsToRows(Tensor channels, int images, int outChannels, int positions, Tensor rows)
    {
        var state = (channels, outChannels, positions, rows);
        Parallelism.For(images, (long)outChannels * positions, state, static (n, s) =>
        {
            int o = s.outChannels, p = s.positions;
            Transpose.Matrix(Raw(s.channels).Slice(n * o * p, o * p), o, p, Raw(s.rows).Slice(n * o * p, o * p));
        });
    }

    private static Span<float> Raw(Tensor t) => t.StorageArray.AsSpan(t.StorageOffset, t.Length);
}

using System;
using System.Numerics;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// RWKV's token shift with per-channel mixing, <c>x·mu + xx·(1 − mu)</c>, where <c>xx</c> is <paramref name="x"/>
    /// <c>[B, T, C]</c> shifted one step along T within each batch row (SpikeGPT's <c>nn.ZeroPad2d((0, 0, 1, -1))</c>):
    /// <c>xx[b, t] = x[b, t − 1]</c>, and <c>xx[b, 0]</c> is zero, or <paramref name="previous"/>[b] when given.
    /// With <paramref name="timeFirst"/>, <paramref name="x"/> is <c>[T, B, C]</c> instead (the layout of the neurons
    /// and <see cref="Wkv(Variable, Variable, Variable, Variable)"/>), with the same values. <paramref name="mu"/> is <c>[C]</c> or <c>[1, 1, C]</c> (the layout
    /// of a state dict's <c>time_mix_k</c>).
    /// </summary>
    /// <remarks>
    /// <paramref name="previous"/> <c>[B, C]</c> carries the last token of the chunk before (streaming, RNN mode); it
    /// is read as a constant, so no gradient flows into it, which is what truncated backpropagation through the
    /// chunks needs. Backward: <c>dx[t] = G[t]·mu + G[t + 1]·(1 − mu)</c> and <c>dmu = Σ G·(x − xx)</c> over batch
    /// and time, summed in double in order, so the result is the same bits for any thread count.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not rank 3, <paramref name="mu"/> is not <c>[C]</c> or <c>[1, 1, C]</c>, <paramref name="previous"/> is not <c>[B, C]</c>, or an operand holds spikes.</exception>
    /// <exception cref="NotSupportedException">An operand is not on the CPU.</exception>
    public static Variable TokenShiftMix(Variable x, Variable mu, Tensor? previous = null, bool timeFirst = false) =>
        TokenShiftMixNode.Forward(x, mu, previous, timeFirst);
}

/// <summary>Token shift and mix. Saves the input, mu and the carried previous token when there is one.</summary>
internal sealed class TokenShiftMixNode : Node
{
    private readonly int _channels;
    private readonly RowLayout _layout;
    private SavedTensor? _x, _mu, _previous;

    private TokenShiftMixNode(Variable x, Variable mu, Tensor xs, Tensor m, Tensor? previous, RowLayout layout, int channels) : base(x, mu)
    {
        (_layout, _channels) = (layout, channels);
        if (mu.RequiresGrad)
        {
            _x = new SavedTensor(xs, "token shift's input");
            if (previous is not null) _previous = new SavedTensor(previous, "token shift's previous token");
        }
        if (x.RequiresGrad) _mu = new SavedTensor(m, "token shift's mu");
    }

    public override string Name => "token_shift_mix";

    public static Variable Forward(Variable x, Variable mu, Tensor? previous, bool timeFirst)
    {
        var xs = OpChecks.Dense(x, nameof(x), "TokenShiftMix");
        var m = OpChecks.Dense(mu, nameof(mu), "TokenShiftMix");
        var shape = xs.Shape;
        if (shape.Rank != 3)
        {
            throw new ArgumentException($"TokenShiftMix needs 'x' of shape {(timeFirst ? "[T, B, C]" : "[B, T, C]")}; it has shape {shape}.", nameof(x));
        }
        int batch = timeFirst ? shape[1] : shape[0], steps = timeFirst ? shape[0] : shape[1], channels = shape[2];
        var layout = new RowLayout(batch, steps, timeFirst);
        if (m.Shape != new Shape(channels) && m.Shape != new Shape(1, 1, channels))
        {
            throw new ArgumentException($"TokenShiftMix: 'mu' has shape {m.Shape}; 'x' of shape {shape} needs [{channels}] or [1, 1, {channels}].", nameof(mu));
        }
        if (previous is not null && previous.Shape != new Shape(batch, channels))
        {
            throw new ArgumentException($"TokenShiftMix: 'previous' has shape {previous.Shape}; 'x' of shape {shape} needs [{batch}, {channels}].", nameof(previous));
        }
        if (!xs.IsOnHost) throw OpChecks.NoDeviceKernel("TokenShiftMix", xs.Device);
        if (!m.IsOnHost) throw OpChecks.NoDeviceKernel("TokenShiftMix", m.Device, "its mu");
        if (previous is { IsOnHost: false }) throw OpChecks.NoDeviceKernel("TokenShiftMix", previous.Device, "its previous token");

        var y = Tensor.Empty(shape);
        var job = new ForwardJob(xs, m, previous, y, layout, channels);
        Parallelism.For(job.Blocks, (long)RowBlock * channels * 3, job, static (block, j) => j.Run(block));
        var node = Record(() => new TokenShiftMixNode(x, mu, xs, m, previous, layout, channels), x, mu);
        return Variable.FromOp(y, node);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var grads = new Tensor?[2];
        if (NeedsGrad(0))
        {
            var dx = Tensor.Empty(gradOutput.Shape);
            var job = new InputGradientJob(gradOutput, _mu!.Value, dx, _layout, _channels);
            Parallelism.For(job.Blocks, (long)RowBlock * _channels * 3, job, static (block, j) => j.Run(block));
            grads[0] = dx;
        }
        if (NeedsGrad(1))
        {
            var job = new MuGradientJob(_x!.Value, _previous?.Value, gradOutput, _layout, _channels);
            Parallelism.For(job.Blocks, (long)SumRows * _channels * 3, job, static (block, j) => j.Run(block));
            job.Reduce();
            grads[1] = DoubleSums.ToTensor(job.Sum, Inputs[1].Shape);
        }
        return grads;
    }

    protected internal override void ReleaseSaved()
    {
        _x?.Release();
        _mu?.Release();
        _previous?.Release();
        _x = null;
        _mu = null;
        _previous = null;
    }

    /// <summary>
    /// Where a row of C channels sits: row <c>b·T + t</c> of <c>[B, T, C]</c>, or row <c>t·B + b</c> of <c>[T, B, C]</c>;
    /// the token before is one row back, or one batch of rows back.
    /// </summary>
    private readonly record struct RowLayout(int Batch, int Steps, bool TimeFirst)
    {
        public int Rows => Batch * Steps;

        public int Step(int row) => TimeFirst ? row / Batch : row % Steps;

        public int BatchIndex(int row) => TimeFirst ? row % Batch : row / Steps;

        /// <summary>The rows between a token and the next one of its sequence.</summary>
        public int Stride => TimeFirst ? Batch : 1;
    }

    /// <summary>Rows per work item of the row-wise kernels.</summary>
    private const int RowBlock = 128;

    /// <summary>Rows per partial sum of the mu gradient.</summary>
    private const int SumRows = 256;

    /// <summary>A block of <c>(b, t)</c> rows per work item, in PyTorch's order of operations: <c>x·mu + xx·(1 − mu)</c>.</summary>
    private sealed class ForwardJob(Tensor x, Tensor mu, Tensor? previous, Tensor y, RowLayout layout, int channels)
    {
        public int Blocks => (layout.Rows + RowBlock - 1) / RowBlock;

        public void Run(int block)
        {
            int c = channels, end = Math.Min(layout.Rows, (block + 1) * RowBlock);
            var xs = x.AsReadOnlySpan();
            var m = mu.AsReadOnlySpan();
            for (int row = block * RowBlock; row < end; row++)
            {
                int t = layout.Step(row);
                var xr = xs.Slice(row * c, c);
                var yr = y.AsSpan().Slice(row * c, c);
                // At t = 0 without a carried token the shifted row is zeros; the zero term stays so that a non-finite
                // mu gives PyTorch's NaN (0·∞) rather than a finite value.
                var shifted = t > 0 ? xs.Slice((row - layout.Stride) * c, c)
                    : previous is null ? default : previous.AsReadOnlySpan().Slice(layout.BatchIndex(row) * c, c);
                Mix(xr, shifted, m, yr);
            }
        }
    }

    /// <summary><c>y = a·mu + b·(1 − mu)</c> elementwise (b empty: zeros), two products and a sum, as PyTorch rounds them.</summary>
    private static void Mix(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> mu, Span<float> y)
    {
        int width = Vector<float>.Count, i = 0;
        var one = Vector<float>.One;
        if (b.IsEmpty)
        {
            for (; i <= a.Length - width; i += width)
            {
                var m = new Vector<float>(mu.Slice(i));
                (new Vector<float>(a.Slice(i)) * m + Vector<float>.Zero * (one - m)).CopyTo(y.Slice(i));
            }
            for (; i < a.Length; i++) y[i] = a[i] * mu[i] + 0f * (1f - mu[i]);
            return;
        }
        for (; i <= a.Length - width; i += width)
        {
            var m = new Vector<float>(mu.Slice(i));
            (new Vector<float>(a.Slice(i)) * m + new Vector<float>(b.Slice(i)) * (one - m)).CopyTo(y.Slice(i));
        }
        for (; i < a.Length; i++) y[i] = a[i] * mu[i] + b[i] * (1f - mu[i]);
    }

    /// <summary>A block of <c>(b, t)</c> rows of <c>dx</c> per work item: its own gradient through mu, the next step's through 1 − mu.</summary>
    private sealed class InputGradientJob(Tensor gradOutput, Tensor mu, Tensor dx, RowLayout layout, int channels)
    {
        public int Blocks => (layout.Rows + RowBlock - 1) / RowBlock;

        public void Run(int block)
        {
            int c = channels, end = Math.Min(layout.Rows, (block + 1) * RowBlock);
            var g = gradOutput.AsReadOnlySpan();
            var m = mu.AsReadOnlySpan();
            for (int row = block * RowBlock; row < end; row++)
            {
                var next = layout.Step(row) == layout.Steps - 1 ? default : g.Slice((row + layout.Stride) * c, c);
                MixGradient(g.Slice(row * c, c), next, m, dx.AsSpan().Slice(row * c, c));
            }
        }

        /// <summary><c>d = g·mu + next·(1 − mu)</c>, or <c>g·mu</c> for the last token.</summary>
        private static void MixGradient(ReadOnlySpan<float> g, ReadOnlySpan<float> next, ReadOnlySpan<float> mu, Span<float> d)
        {
            int width = Vector<float>.Count, i = 0;
            if (next.IsEmpty)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(g, mu, d);
                return;
            }
            var one = Vector<float>.One;
            for (; i <= g.Length - width; i += width)
            {
                var m = new Vector<float>(mu.Slice(i));
                (new Vector<float>(g.Slice(i)) * m + new Vector<float>(next.Slice(i)) * (one - m)).CopyTo(d.Slice(i));
            }
            for (; i < g.Length; i++) d[i] = g[i] * mu[i] + next[i] * (1f - mu[i]);
        }
    }

    /// <summary>
    /// <c>Σ G·(x − xx)</c> over every <c>(b, t)</c> row in double: each block of rows sums into its own row of doubles
    /// and the blocks are added in order, so the bits do not depend on the thread count.
    /// </summary>
    private sealed class MuGradientJob(Tensor x, Tensor? previous, Tensor gradOutput, RowLayout layout, int channels)
    {
        private readonly double[] _partials = new double[(layout.Rows + SumRows - 1) / SumRows * channels];

        public int Blocks => (layout.Rows + SumRows - 1) / SumRows;

        public double[] Sum { get; } = new double[channels];

        public void Run(int block)
        {
            int c = channels, end = Math.Min(layout.Rows, (block + 1) * SumRows);
            var sum = _partials.AsSpan(block * c, c);
            var xs = x.AsReadOnlySpan();
            var g = gradOutput.AsReadOnlySpan();
            for (int row = block * SumRows; row < end; row++)
            {
                int t = layout.Step(row);
                var shifted = t > 0 ? xs.Slice((row - layout.Stride) * c, c)
                    : previous is null ? default : previous.AsReadOnlySpan().Slice(layout.BatchIndex(row) * c, c);
                WideRows.AccumulateDifferenceProducts(g.Slice(row * c, c), xs.Slice(row * c, c), shifted, sum);
            }
        }

        public void Reduce()
        {
            for (int block = 0; block < Blocks; block++)
            {
                var partial = _partials.AsSpan(block * channels, channels);
                for (int i = 0; i < channels; i++) Sum[i] += partial[i];
            }
        }
    }
}

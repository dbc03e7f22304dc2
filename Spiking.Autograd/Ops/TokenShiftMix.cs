using System;
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
    /// <summary>Channels per work item of the mu gradient: its doubles stay in L1 while every row passes.</summary>
    private const int ChannelBlock = 256;

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
        Parallelism.For(batch * steps, (long)channels * 3, job, static (row, j) => j.Run(row));
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
            Parallelism.For(_layout.Rows, (long)_channels * 3, job, static (row, j) => j.Run(row));
            grads[0] = dx;
        }
        if (NeedsGrad(1))
        {
            var job = new MuGradientJob(_x!.Value, _previous?.Value, gradOutput, _layout, _channels);
            Parallelism.For(job.Blocks, (long)_layout.Rows * ChannelBlock * 3, job, static (block, j) => j.Run(block));
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

    /// <summary>One <c>(b, t)</c> row per work item, in PyTorch's order of operations: <c>x·mu + xx·(1 − mu)</c>.</summary>
    private sealed class ForwardJob(Tensor x, Tensor mu, Tensor? previous, Tensor y, RowLayout layout, int channels)
    {
        public void Run(int row)
        {
            int c = channels, t = layout.Step(row);
            var xs = x.AsReadOnlySpan();
            var xr = xs.Slice(row * c, c);
            var m = mu.AsReadOnlySpan();
            var yr = y.AsSpan().Slice(row * c, c);
            if (t == 0 && previous is null)
            {
                // The zero term stays so that a non-finite mu gives PyTorch's NaN (0·∞) rather than a finite value.
                for (int i = 0; i < c; i++) yr[i] = xr[i] * m[i] + 0f * (1f - m[i]);
                return;
            }
            var shifted = t > 0 ? xs.Slice((row - layout.Stride) * c, c) : previous!.AsReadOnlySpan().Slice(layout.BatchIndex(row) * c, c);
            for (int i = 0; i < c; i++) yr[i] = xr[i] * m[i] + shifted[i] * (1f - m[i]);
        }
    }

    /// <summary>One <c>(b, t)</c> row of <c>dx</c> per work item: its own gradient through mu, the next step's through 1 − mu.</summary>
    private sealed class InputGradientJob(Tensor gradOutput, Tensor mu, Tensor dx, RowLayout layout, int channels)
    {
        public void Run(int row)
        {
            int c = channels;
            var g = gradOutput.AsReadOnlySpan();
            var gr = g.Slice(row * c, c);
            var m = mu.AsReadOnlySpan();
            var dr = dx.AsSpan().Slice(row * c, c);
            if (layout.Step(row) == layout.Steps - 1)
            {
                for (int i = 0; i < c; i++) dr[i] = gr[i] * m[i];
                return;
            }
            var next = g.Slice((row + layout.Stride) * c, c);
            for (int i = 0; i < c; i++) dr[i] = gr[i] * m[i] + next[i] * (1f - m[i]);
        }
    }

    /// <summary>
    /// <c>Σ G·(x − xx)</c> over every <c>(b, t)</c> row, in row order, for one block of channels per work item: blocks
    /// never share a sum, so the bits do not depend on the thread count.
    /// </summary>
    private sealed class MuGradientJob(Tensor x, Tensor? previous, Tensor gradOutput, RowLayout layout, int channels)
    {
        public int Blocks { get; } = (channels + ChannelBlock - 1) / ChannelBlock;

        public double[] Sum { get; } = new double[channels];

        public void Run(int block)
        {
            int start = block * ChannelBlock, length = Math.Min(ChannelBlock, channels - start);
            var sum = Sum.AsSpan(start, length);
            var xs = x.AsReadOnlySpan();
            var g = gradOutput.AsReadOnlySpan();
            for (int b = 0; b < layout.Batch; b++)
            {
                for (int t = 0; t < layout.Steps; t++)
                {
                    int row = layout.TimeFirst ? t * layout.Batch + b : b * layout.Steps + t;
                    var xr = xs.Slice(row * channels + start, length);
                    var gr = g.Slice(row * channels + start, length);
                    if (t == 0 && previous is null)
                    {
                        for (int i = 0; i < length; i++) sum[i] += (double)gr[i] * xr[i];
                        continue;
                    }
                    var shifted = t > 0 ? xs.Slice((row - layout.Stride) * channels + start, length) : previous!.AsReadOnlySpan().Slice(b * channels + start, length);
                    for (int i = 0; i < length; i++) sum[i] += (double)gr[i] * ((double)xr[i] - shifted[i]);
                }
            }
        }
    }
}

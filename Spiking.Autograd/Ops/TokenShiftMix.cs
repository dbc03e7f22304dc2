using System;
using System.Collections.Generic;
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
    /// and time, summed in double in order, so the result is the same bits for any thread count. Several mixes of one
    /// input are cheaper with <see cref="TokenShiftMix(Variable, IReadOnlyList{Variable}, Tensor?, bool)"/>, whose
    /// outputs are the same bits.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not rank 3, <paramref name="mu"/> is not <c>[C]</c> or <c>[1, 1, C]</c>, <paramref name="previous"/> is not <c>[B, C]</c>, or an operand holds spikes.</exception>
    /// <exception cref="NotSupportedException">An operand is not on the CPU.</exception>
    public static Variable TokenShiftMix(Variable x, Variable mu, Tensor? previous = null, bool timeFirst = false) =>
        TokenShiftMixNode.Forward(x, [mu], previous, timeFirst, fused: false)[0];

    /// <summary>
    /// Several token-shift mixes of one input, one per element of <paramref name="mus"/>: output <c>i</c> is
    /// <see cref="TokenShiftMix(Variable, Variable, Tensor?, bool)"/> of <paramref name="x"/> with <paramref name="mus"/>[i],
    /// the same bits, and the shape of <paramref name="x"/>. One node makes them all (RWKV's key, value and receptance
    /// mixes): the forward reads each row of <paramref name="x"/> and the row before it once for every output, and the
    /// backward makes one input gradient, <c>Σᵢ Gᵢ[t]·muᵢ + Gᵢ[t + 1]·(1 − muᵢ)</c> added in the order of
    /// <paramref name="mus"/>, in the same pass over the rows as the gradient of every <c>muᵢ</c>. Outputs no gradient
    /// reached add nothing. The gradients are the same bits for any thread count.
    /// </summary>
    /// <remarks>
    /// Each element of <paramref name="mus"/> is <c>[C]</c> or <c>[1, 1, C]</c>, independently; the same variable may
    /// appear more than once (its gradients add). <paramref name="previous"/> and <paramref name="timeFirst"/> are as in
    /// the one-mu form.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> or <paramref name="mus"/> is null, or an element of <paramref name="mus"/> is.</exception>
    /// <exception cref="ArgumentException"><paramref name="mus"/> is empty, <paramref name="x"/> is not rank 3, an element of <paramref name="mus"/> is not <c>[C]</c> or <c>[1, 1, C]</c>, <paramref name="previous"/> is not <c>[B, C]</c>, or an operand holds spikes.</exception>
    /// <exception cref="NotSupportedException">An operand is not on the CPU.</exception>
    public static IReadOnlyList<Variable> TokenShiftMix(Variable x, IReadOnlyList<Variable> mus, Tensor? previous = null, bool timeFirst = false) =>
        TokenShiftMixNode.Forward(x, mus, previous, timeFirst, fused: true);
}

/// <summary>
/// Token shift and mix with one output per mu. Saves the input and the carried previous token when some mu needs a
/// gradient, and the mus when the input does.
/// </summary>
internal sealed class TokenShiftMixNode : MultiOutputNode
{
    private const string Op = "TokenShiftMix";

    private readonly int _channels;
    private readonly RowLayout _layout;
    private SavedTensor? _x, _previous;
    private SavedTensor[]? _mus;

    private TokenShiftMixNode(Variable[] inputs, Tensor xs, Tensor[] mus, Tensor? previous, RowLayout layout, int channels) : base(mus.Length, inputs)
    {
        (_layout, _channels) = (layout, channels);
        bool muGrad = false;
        for (int i = 1; i < inputs.Length; i++) muGrad |= inputs[i].RequiresGrad;
        if (muGrad)
        {
            _x = new SavedTensor(xs, "token shift's input");
            if (previous is not null) _previous = new SavedTensor(previous, "token shift's previous token");
        }
        if (inputs[0].RequiresGrad)
        {
            _mus = new SavedTensor[mus.Length];
            for (int i = 0; i < mus.Length; i++) _mus[i] = new SavedTensor(mus[i], "token shift's mu");
        }
    }

    public override string Name => "token_shift_mix";

    /// <summary>
    /// The mixes of <paramref name="x"/> with each of <paramref name="mus"/>; <paramref name="fused"/> names them
    /// <c>mus[i]</c> in errors, otherwise <c>mu</c> (the one-mu form).
    /// </summary>
    public static IReadOnlyList<Variable> Forward(Variable x, IReadOnlyList<Variable> mus, Tensor? previous, bool timeFirst, bool fused)
    {
        var xs = OpChecks.Dense(x, nameof(x), Op);
        if (fused) OpChecks.NonEmpty(mus, nameof(mus), Op);
        int n = mus.Count;
        var ms = new Tensor[n];
        for (int i = 0; i < n; i++) ms[i] = OpChecks.Dense(mus[i], MuName(fused, i), Op);
        var shape = xs.Shape;
        if (shape.Rank != 3)
        {
            throw new ArgumentException($"{Op} needs 'x' of shape {(timeFirst ? "[T, B, C]" : "[B, T, C]")}; it has shape {shape}.", nameof(x));
        }
        int batch = timeFirst ? shape[1] : shape[0], steps = timeFirst ? shape[0] : shape[1], channels = shape[2];
        var layout = new RowLayout(batch, steps, timeFirst);
        for (int i = 0; i < n; i++)
        {
            if (ms[i].Shape != new Shape(channels) && ms[i].Shape != new Shape(1, 1, channels))
            {
                string name = MuName(fused, i);
                throw new ArgumentException($"{Op}: '{name}' has shape {ms[i].Shape}; 'x' of shape {shape} needs [{channels}] or [1, 1, {channels}].", name);
            }
        }
        if (previous is not null && previous.Shape != new Shape(batch, channels))
        {
            throw new ArgumentException($"{Op}: 'previous' has shape {previous.Shape}; 'x' of shape {shape} needs [{batch}, {channels}].", nameof(previous));
        }
        if (!xs.IsOnHost) throw OpChecks.NoDeviceKernel(Op, xs.Device);
        for (int i = 0; i < n; i++)
        {
            if (!ms[i].IsOnHost) throw OpChecks.NoDeviceKernel(Op, ms[i].Device, fused ? $"its mus[{i}]" : "its mu");
        }
        if (previous is { IsOnHost: false }) throw OpChecks.NoDeviceKernel(Op, previous.Device, "its previous token");

        var ys = new Tensor[n];
        for (int i = 0; i < n; i++) ys[i] = Tensor.Empty(shape);
        try
        {
            var job = new ForwardJob(xs, ms, previous, ys, layout, channels);
            Parallelism.For(job.Blocks, (long)RowBlock * channels * (1 + 2 * n), job, static (block, j) => j.Run(block));
        }
        catch
        {
            // A disposed operand: the outputs go back to the pool.
            foreach (var y in ys) y.Dispose();
            throw;
        }
        var inputs = new Variable[n + 1];
        inputs[0] = x;
        for (int i = 0; i < n; i++) inputs[i + 1] = mus[i];
        var node = Record(() => new TokenShiftMixNode(inputs, xs, ms, previous, layout, channels), inputs);
        var outputs = new Variable[n];
        // Without a node (no grad) every output is a plain result: output 0 of nothing.
        for (int i = 0; i < n; i++) outputs[i] = Variable.FromOp(ys[i], node, node is null ? 0 : i);
        return outputs;
    }

    private static string MuName(bool fused, int i) => fused ? $"mus[{i}]" : "mu";

    protected internal override void Backward(IReadOnlyList<Tensor?> gradOutputs, InputGradients gradients)
    {
        ArgumentNullException.ThrowIfNull(gradOutputs);
        ArgumentNullException.ThrowIfNull(gradients);
        int n = OutputCount;
        var grads = new Tensor?[n];
        var muGrad = new bool[n];
        bool anyGrad = false, anyMu = false;
        for (int i = 0; i < n; i++)
        {
            grads[i] = gradOutputs[i];
            if (grads[i] is null) continue;
            anyGrad = true;
            muGrad[i] = NeedsGrad(i + 1);
            anyMu |= muGrad[i];
        }
        bool inputGrad = NeedsGrad(0);
        if (!anyGrad || !(inputGrad || anyMu)) return;

        Tensor[]? mus = null;
        if (inputGrad)
        {
            mus = new Tensor[n];
            for (int i = 0; i < n; i++) mus[i] = _mus![i].Value;
        }
        var dx = inputGrad ? Tensor.Empty(Inputs[0].Shape) : null;
        var job = new BackwardJob(grads, mus, dx, anyMu ? _x!.Value : null, anyMu ? _previous?.Value : null, muGrad, _layout, _channels);
        try
        {
            Parallelism.For(job.Blocks, (long)SumRows * _channels * 3 * n, job, static (block, j) => j.Run(block));
        }
        catch
        {
            dx?.Dispose();
            throw;
        }
        if (dx is not null) gradients.Add(0, dx);
        for (int i = 0; i < n; i++)
        {
            if (muGrad[i]) gradients.Add(i + 1, DoubleSums.ToTensor(job.Sum(i), Inputs[i + 1].Shape));
        }
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("input", _x);
        saved.Add("previous token", _previous);
        if (_mus is not null)
        {
            foreach (var mu in _mus) saved.Add("mu", mu);
        }
    }

    protected internal override void ReleaseSaved()
    {
        _x?.Release();
        _previous?.Release();
        if (_mus is not null)
        {
            foreach (var m in _mus) m.Release();
        }
        _x = null;
        _mus = null;
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

    /// <summary>
    /// A host tensor's rows of C floats straight from its array, so that a work item can take rows of several tensors
    /// without a span per tensor; only for tensors this op made (writing through it counts no version) or reads.
    /// </summary>
    private readonly record struct HostRows(float[] Array, int Offset, int Channels)
    {
        public static HostRows Of(Tensor t, int channels)
        {
            ObjectDisposedException.ThrowIf(t.IsDisposed, t);
            return new(t.StorageArray, t.StorageOffset, channels);
        }

        public Span<float> Row(int row) => Array.AsSpan(Offset + row * Channels, Channels);
    }

    /// <summary>Rows per work item of the forward.</summary>
    private const int RowBlock = 128;

    /// <summary>Rows per work item of the backward, which is also a partial sum of the mu gradients.</summary>
    private const int SumRows = 256;

    /// <summary>
    /// A block of <c>(b, t)</c> rows per work item, in PyTorch's order of operations: <c>x·mu + xx·(1 − mu)</c>. Each row
    /// and the row before it are read once for every output.
    /// </summary>
    private sealed class ForwardJob
    {
        private readonly Tensor _x;
        private readonly Tensor? _previous;
        private readonly HostRows[] _mus, _ys;
        private readonly RowLayout _layout;
        private readonly int _channels;

        public ForwardJob(Tensor x, Tensor[] mus, Tensor? previous, Tensor[] ys, RowLayout layout, int channels)
        {
            (_x, _previous, _layout, _channels) = (x, previous, layout, channels);
            _mus = new HostRows[mus.Length];
            _ys = new HostRows[ys.Length];
            for (int i = 0; i < mus.Length; i++)
            {
                _mus[i] = HostRows.Of(mus[i], channels);
                _ys[i] = HostRows.Of(ys[i], channels);
            }
        }

        public int Blocks => (_layout.Rows + RowBlock - 1) / RowBlock;

        public void Run(int block)
        {
            int c = _channels, end = Math.Min(_layout.Rows, (block + 1) * RowBlock);
            var xs = _x.AsReadOnlySpan();
            for (int row = block * RowBlock; row < end; row++)
            {
                int t = _layout.Step(row);
                var xr = xs.Slice(row * c, c);
                // At t = 0 without a carried token the shifted row is zeros; the zero term stays so that a non-finite
                // mu gives PyTorch's NaN (0·∞) rather than a finite value.
                var shifted = t > 0 ? xs.Slice((row - _layout.Stride) * c, c)
                    : _previous is null ? default : _previous.AsReadOnlySpan().Slice(_layout.BatchIndex(row) * c, c);
                for (int i = 0; i < _ys.Length; i++) Mix(xr, shifted, _mus[i].Row(0), _ys[i].Row(row));
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

    /// <summary>
    /// A block of <c>(b, t)</c> rows per work item, once over the rows for every output's gradient: the row of
    /// <c>dx</c> (each output's gradient through its mu and the next step's through 1 − mu, added in output order), then
    /// <c>Σ G·(x − xx)</c> of each mu that needs it over the same rows, still in cache, in double: each block sums into
    /// its own rows of doubles and the blocks are added in order, so the bits do not depend on the thread count.
    /// </summary>
    private sealed class BackwardJob
    {
        private readonly HostRows[] _grads, _mus;
        private readonly bool[] _hasGrad;

        /// <summary>The outputs whose mu needs a gradient, in order.</summary>
        private readonly int[] _muOutputs;
        private readonly HostRows? _dx;
        private readonly Tensor? _x, _previous;
        private readonly RowLayout _layout;
        private readonly int _channels, _outputs;
        private readonly double[]? _partials;

        public BackwardJob(Tensor?[] grads, Tensor[]? mus, Tensor? dx, Tensor? x, Tensor? previous, bool[] muGrad, RowLayout layout, int channels)
        {
            (_x, _previous, _layout, _channels, _outputs) = (x, previous, layout, channels, grads.Length);
            int count = 0;
            foreach (bool wanted in muGrad) count += wanted ? 1 : 0;
            _muOutputs = new int[count];
            for (int i = 0, k = 0; i < muGrad.Length; i++)
            {
                if (muGrad[i]) _muOutputs[k++] = i;
            }
            _grads = new HostRows[_outputs];
            _hasGrad = new bool[_outputs];
            for (int i = 0; i < _outputs; i++)
            {
                if (grads[i] is not { } g) continue;
                _grads[i] = HostRows.Of(g, channels);
                _hasGrad[i] = true;
            }
            _mus = new HostRows[mus?.Length ?? 0];
            for (int i = 0; i < _mus.Length; i++) _mus[i] = HostRows.Of(mus![i], channels);
            if (dx is not null) _dx = HostRows.Of(dx, channels);
            if (x is not null)
            {
                _partials = new double[Blocks * _outputs * channels];
            }
        }

        public int Blocks => (_layout.Rows + SumRows - 1) / SumRows;

        /// <summary>Output <paramref name="output"/>'s mu gradient: the blocks' partial sums added in block order.</summary>
        public double[] Sum(int output)
        {
            int c = _channels;
            var sum = new double[c];
            for (int block = 0; block < Blocks; block++)
            {
                var partial = Partial(block, output);
                for (int i = 0; i < c; i++) sum[i] += partial[i];
            }
            return sum;
        }

        public void Run(int block)
        {
            int start = block * SumRows, end = Math.Min(_layout.Rows, start + SumRows);
            if (_dx is { } dx)
            {
                for (int row = start; row < end; row++) InputGradientRow(row, dx.Row(row));
            }
            if (_x is not null) MuGradients(block, start, end);
        }

        /// <summary>
        /// <c>dx[t] = Σᵢ Gᵢ[t]·muᵢ + Gᵢ[t + 1]·(1 − muᵢ)</c>: the first output with a gradient writes the row, the others
        /// add to it in order.
        /// </summary>
        private void InputGradientRow(int row, Span<float> d)
        {
            bool last = _layout.Step(row) == _layout.Steps - 1, first = true;
            for (int i = 0; i < _outputs; i++)
            {
                if (!_hasGrad[i]) continue;
                var g = _grads[i];
                MixGradient(g.Row(row), last ? default : g.Row(row + _layout.Stride), _mus[i].Row(0), d, first);
                first = false;
            }
        }

        /// <summary>
        /// <c>Σ G·(x − xx)</c> over rows <c>[start, end)</c> into the block's partial sum of each mu that needs it, in
        /// runs of rows whose shifted rows are contiguous too (the rows before, the carried tokens or zeros), in row
        /// order, for three mus at a time.
        /// </summary>
        private void MuGradients(int block, int start, int end)
        {
            int c = _channels;
            var xs = _x!.AsReadOnlySpan();
            for (int row = start; row < end;)
            {
                int runEnd;
                ReadOnlySpan<float> shifted;
                if (_layout.Step(row) == 0)
                {
                    // The first tokens: rows [0, B) time-first, one row batch-first; their carried tokens are as many
                    // rows of previous from the batch index on.
                    runEnd = _layout.TimeFirst ? Math.Min(end, _layout.Batch) : row + 1;
                    shifted = _previous is null ? default : _previous.AsReadOnlySpan().Slice(_layout.BatchIndex(row) * c, (runEnd - row) * c);
                }
                else
                {
                    runEnd = _layout.TimeFirst ? end : Math.Min(end, (row / _layout.Steps + 1) * _layout.Steps);
                    shifted = xs.Slice((row - _layout.Stride) * c, (runEnd - row) * c);
                }
                var run = xs.Slice(row * c, (runEnd - row) * c);
                for (int k = 0; k < _muOutputs.Length; k += 3)
                {
                    WideRows.AccumulateDifferenceProducts(run, shifted,
                        GradientRows(_muOutputs[k], row, runEnd), Partial(block, _muOutputs[k]),
                        k + 1 < _muOutputs.Length ? GradientRows(_muOutputs[k + 1], row, runEnd) : default,
                        k + 1 < _muOutputs.Length ? Partial(block, _muOutputs[k + 1]) : default,
                        k + 2 < _muOutputs.Length ? GradientRows(_muOutputs[k + 2], row, runEnd) : default,
                        k + 2 < _muOutputs.Length ? Partial(block, _muOutputs[k + 2]) : default);
                }
                row = runEnd;
            }
        }

        /// <summary>Rows <c>[start, end)</c> of output <paramref name="output"/>'s gradient.</summary>
        private ReadOnlySpan<float> GradientRows(int output, int start, int end) =>
            _grads[output].Array.AsSpan(_grads[output].Offset + start * _channels, (end - start) * _channels);

        /// <summary>Block <paramref name="block"/>'s partial sum of output <paramref name="output"/>'s mu gradient.</summary>
        private Span<double> Partial(int block, int output) => _partials.AsSpan((block * _outputs + output) * _channels, _channels);

        /// <summary><c>d = g·mu + next·(1 − mu)</c>, or <c>g·mu</c> for the last token; <c>d +=</c> that unless <paramref name="write"/>.</summary>
        private static void MixGradient(ReadOnlySpan<float> g, ReadOnlySpan<float> next, ReadOnlySpan<float> mu, Span<float> d, bool write)
        {
            int width = Vector<float>.Count, i = 0;
            if (next.IsEmpty)
            {
                if (write)
                {
                    System.Numerics.Tensors.TensorPrimitives.Multiply(g, mu, d);
                    return;
                }
                for (; i <= g.Length - width; i += width)
                {
                    (new Vector<float>(d.Slice(i)) + new Vector<float>(g.Slice(i)) * new Vector<float>(mu.Slice(i))).CopyTo(d.Slice(i));
                }
                for (; i < g.Length; i++) d[i] += g[i] * mu[i];
                return;
            }
            var one = Vector<float>.One;
            if (write)
            {
                for (; i <= g.Length - width; i += width)
                {
                    var m = new Vector<float>(mu.Slice(i));
                    (new Vector<float>(g.Slice(i)) * m + new Vector<float>(next.Slice(i)) * (one - m)).CopyTo(d.Slice(i));
                }
                for (; i < g.Length; i++) d[i] = g[i] * mu[i] + next[i] * (1f - mu[i]);
                return;
            }
            for (; i <= g.Length - width; i += width)
            {
                var m = new Vector<float>(mu.Slice(i));
                (new Vector<float>(d.Slice(i)) + (new Vector<float>(g.Slice(i)) * m + new Vector<float>(next.Slice(i)) * (one - m))).CopyTo(d.Slice(i));
            }
            for (; i < g.Length; i++) d[i] += g[i] * mu[i] + next[i] * (1f - mu[i]);
        }
    }
}

using System;
using System.Buffers;
using Spiking.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// RWKV-4's WKV scan over the sequence (SpikeGPT's and RWKV's time mixing), per channel <c>c</c> with decay
    /// <c>w = −exp(timeDecay)</c> and bonus <c>u = timeFirst</c>:
    /// <c>wkv_t = (Σ_{i&lt;t} e^{(t−1−i)w + k_i} v_i + e^{u + k_t} v_t) / (Σ_{i&lt;t} e^{(t−1−i)w + k_i} + e^{u + k_t})</c>,
    /// a weighted average of the values, in the overflow-free form of the official CUDA kernel (sums kept scaled by
    /// a running maximum exponent), so any finite <c>k</c> gives a finite result.
    /// </summary>
    /// <param name="timeDecay">The decay parameter <c>[C]</c> (RWKV's <c>time_decay</c>); larger forgets faster.</param>
    /// <param name="timeFirst">The current token's bonus <c>[C]</c> (RWKV's <c>time_first</c>).</param>
    /// <param name="k">The keys <c>[T, B, C]</c>, time first.</param>
    /// <param name="v">The values <c>[T, B, C]</c>.</param>
    /// <returns><c>[T, B, C]</c>. Backward gives all four gradients and keeps only its inputs and output (O(T·B·C)).</returns>
    /// <exception cref="ArgumentException">The shapes are not <c>[C]</c>, <c>[C]</c>, <c>[T, B, C]</c>, <c>[T, B, C]</c>, or an input holds spikes.</exception>
    public static Variable Wkv(Variable timeDecay, Variable timeFirst, Variable k, Variable v) => WkvNode.Forward(timeDecay, timeFirst, k, v, null);

    /// <summary>
    /// <see cref="Wkv(Variable, Variable, Variable, Variable)"/> continuing from <paramref name="state"/> (<c>[B, C]</c>
    /// sums left by the piece before) instead of empty sums, and leaving the state after the last token in it: a
    /// sequence fed in pieces, or one token at a time (RNN mode), gives the same values as in one call. The carried
    /// state is a constant to the backward (no gradient flows into the piece before), as truncated backpropagation
    /// through the pieces needs.
    /// </summary>
    /// <exception cref="ArgumentException">The state is not for B rows of C channels.</exception>
    public static Variable Wkv(Variable timeDecay, Variable timeFirst, Variable k, Variable v, WkvState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return WkvNode.Forward(timeDecay, timeFirst, k, v, state);
    }
}

/// <summary>
/// The WKV scan, forward and backward side by side. Every (batch row, channel) is an independent recurrence over
/// T; the kernels run one batch row per work item and all its channels at once, a row of C floats per step through
/// <see cref="TensorPrimitives"/>. Backward recomputes the forward's scaled sums instead of saving them, and derives
/// the state gradients by a reverse scan with its own running maximum, as the official kernel does.
/// </summary>
internal sealed class WkvNode : Node
{
    /// <summary>The kernel's "minus infinity" for a running exponent: <c>exp(MinExponent + anything finite) = 0</c> without NaN.</summary>
    internal const float MinExponent = -1e38f;

    private SavedTensor? _w, _u, _k, _v, _y;
    private Tensor? _initial;

    private WkvNode(Variable timeDecay, Variable timeFirst, Variable k, Variable v, Tensor w, Tensor y, Tensor? initial)
        : base(timeDecay, timeFirst, k, v)
    {
        _initial = initial;
        _w = new SavedTensor(w, "WKV's decay");
        _u = new SavedTensor(timeFirst.Dense, "WKV's time_first");
        _k = new SavedTensor(k.Dense, "WKV's keys");
        _v = new SavedTensor(v.Dense, "WKV's values");
        _y = new SavedTensor(y, "WKV's output");
    }

    public override string Name => "wkv";

    public static Variable Forward(Variable timeDecay, Variable timeFirst, Variable k, Variable v, WkvState? state)
    {
        ArgumentNullException.ThrowIfNull(timeDecay);
        ArgumentNullException.ThrowIfNull(timeFirst);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        var keys = OpChecks.Dense(k, nameof(k), "Wkv");
        var values = OpChecks.Dense(v, nameof(v), "Wkv");
        var decay = OpChecks.Dense(timeDecay, nameof(timeDecay), "Wkv");
        var first = OpChecks.Dense(timeFirst, nameof(timeFirst), "Wkv");
        if (keys.Rank != 3 || values.Shape != keys.Shape)
        {
            throw new ArgumentException($"Wkv needs keys and values of one shape [T, B, C]; got k {keys.Shape} and v {values.Shape}.", nameof(v));
        }
        int channels = keys.Shape[2];
        if (decay.Shape != new Shape(channels) || first.Shape != new Shape(channels))
        {
            throw new ArgumentException(
                $"Wkv needs time_decay and time_first of shape [{channels}] (the channels of k {keys.Shape}); got {decay.Shape} and {first.Shape}.", nameof(timeDecay));
        }
        if (state is not null && (state.Batch != keys.Shape[1] || state.Channels != channels))
        {
            throw new ArgumentException(
                $"Wkv: the carried state is for {state.Batch} rows of {state.Channels} channels; k {keys.Shape} needs {keys.Shape[1]} rows of {channels}.", nameof(state));
        }
        var w = Tensor.Empty(decay.Shape);
        TensorPrimitives.Exp(decay.AsReadOnlySpan(), w.AsSpan());
        TensorPrimitives.Negate(w.AsReadOnlySpan(), w.AsSpan());
        var y = Tensor.Empty(keys.Shape);
        // The state is overwritten with the final one; the backward recomputes the scan from the initial one.
        var initial = state?.Values.Clone();
        var job = new Job(keys.Shape[0], keys.Shape[1], channels, w, first, keys, values, y, gradOutput: null, null, null, null, null)
        {
            Initial = initial, Final = state?.Values,
        };
        job.Run();
        var node = Record(() => new WkvNode(timeDecay, timeFirst, k, v, w, y, initial), timeDecay, timeFirst, k, v);
        if (node is null) initial?.Dispose();
        return Variable.FromOp(y, node);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var k = _k!.Value;
        int steps = k.Shape[0], batch = k.Shape[1], channels = k.Shape[2];
        var gk = Tensor.Empty(k.Shape);
        var gv = Tensor.Empty(k.Shape);
        // Per batch row, the decay and bonus gradients are summed over time; rows are summed afterwards in a fixed
        // order, so the result does not depend on the thread count.
        var gwRows = new float[batch * channels];
        var guRows = new float[batch * channels];
        var job = new Job(steps, batch, channels, _w!.Value, _u!.Value, k, _v!.Value, _y!.Value, gradOutput, gk, gv, gwRows, guRows)
        {
            Initial = _initial,
        };
        job.Run();
        var gDecay = Tensor.Zeros(channels);
        var gFirst = Tensor.Zeros(channels);
        var gd = gDecay.AsSpan();
        var gf = gFirst.AsSpan();
        for (int b = 0; b < batch; b++)
        {
            TensorPrimitives.Add(gd, gwRows.AsSpan(b * channels, channels), gd);
            TensorPrimitives.Add(gf, guRows.AsSpan(b * channels, channels), gf);
        }
        // d w / d time_decay = −exp(time_decay) = w.
        TensorPrimitives.Multiply(gd, _w.Value.AsReadOnlySpan(), gd);
        return [gDecay, gFirst, gk, gv];
    }

    protected internal override void ReleaseSaved()
    {
        _w?.Release();
        _u?.Release();
        _k?.Release();
        _v?.Release();
        _y?.Release();
        _w = _u = _k = _v = _y = null;
        _initial?.Dispose();
        _initial = null;
    }

    /// <summary>One scan (forward, or backward when a gradient is given), one batch row per work item.</summary>
    private sealed class Job(int steps, int batch, int channels, Tensor w, Tensor u, Tensor k, Tensor v, Tensor y,
        Tensor? gradOutput, Tensor? gk, Tensor? gv, float[]? gwRows, float[]? guRows)
    {
        /// <summary>The state the scan starts from, <c>[3, B, C]</c> (p, q, o); null: empty sums.</summary>
        public Tensor? Initial { get; init; }

        /// <summary>Where the forward leaves the state after the last token, <c>[3, B, C]</c>; null: nowhere.</summary>
        public Tensor? Final { get; init; }

        public void Run() =>
            Parallelism.For(batch, (long)steps * channels * (gradOutput is null ? 16 : 48), this, static (b, job) => job.Row(b));

        private void Row(int b)
        {
            // State rows: p, q (the scaled sums), o (their exponent), and per-step scratch.
            int rowLength = gradOutput is null ? ScanRows.Count * channels : (ScanRows.Count + 2) * channels + 2 * steps * channels;
            var buffer = ArrayPool<float>.Shared.Rent(rowLength);
            try
            {
                var scratch = buffer.AsSpan(0, rowLength);
                if (gradOutput is null) ForwardRow(b, scratch);
                else BackwardRow(b, scratch);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(buffer);
            }
        }

        private void ForwardRow(int b, Span<float> scratch)
        {
            int c = channels;
            var rows = new ScanRows(scratch, c, Initial, batch, b);
            Span<float> p = rows.P, q = rows.Q, o = rows.O, no = rows.No, a = rows.A, e = rows.E, t1 = rows.T1;
            var wRow = w.AsReadOnlySpan();
            var uRow = u.AsReadOnlySpan();
            var ks = k.AsReadOnlySpan();
            var vs = v.AsReadOnlySpan();
            var ys = y.AsSpan();
            for (int t = 0; t < steps; t++)
            {
                int at = (t * batch + b) * c;
                var kt = ks.Slice(at, c);
                var vt = vs.Slice(at, c);
                // Output: (e^{o−no} p + e^{u+k−no} v) / (e^{o−no} q + e^{u+k−no}), no = max(o, u+k).
                rows.WeighCurrentToken(uRow, kt);
                TensorPrimitives.Multiply(a, p, t1);
                TensorPrimitives.FusedMultiplyAdd(e, vt, t1, t1);
                var yt = ys.Slice(at, c);
                TensorPrimitives.FusedMultiplyAdd(a, q, e, yt);
                TensorPrimitives.Divide(t1, yt, yt);
                Advance(wRow, kt, vt, p, q, o, no, a, e, Span<float>.Empty, Span<float>.Empty);
            }
            if (Final is { } final)
            {
                var f = final.AsSpan();
                p.CopyTo(f.Slice(b * c, c));
                q.CopyTo(f.Slice((batch + b) * c, c));
                o.CopyTo(f.Slice((2 * batch + b) * c, c));
            }
        }

        /// <summary>
        /// The state after token t: <c>(p, q) ← e^{w+o−no}(p, q) + e^{k−no}(v, 1)</c>, <c>o ← no = max(w+o, k)</c>; with
        /// <paramref name="dp"/>, <paramref name="dq"/> also their derivatives by w, <c>d ← e^{w+o−no}(d + (p, q))</c>.
        /// </summary>
        private static void Advance(ReadOnlySpan<float> wRow, ReadOnlySpan<float> kt, ReadOnlySpan<float> vt, Span<float> p, Span<float> q,
            Span<float> o, Span<float> no, Span<float> a, Span<float> e, Span<float> dp, Span<float> dq)
        {
            TensorPrimitives.Add(wRow, o, o);
            TensorPrimitives.Max(o, kt, no);
            Scale(o, no, a);
            Scale(kt, no, e);
            if (!dp.IsEmpty)
            {
                TensorPrimitives.Add(dp, p, dp);
                TensorPrimitives.Multiply(dp, a, dp);
                TensorPrimitives.Add(dq, q, dq);
                TensorPrimitives.Multiply(dq, a, dq);
            }
            TensorPrimitives.Multiply(a, p, p);
            TensorPrimitives.FusedMultiplyAdd(e, vt, p, p);
            TensorPrimitives.FusedMultiplyAdd(a, q, e, q);
            no.CopyTo(o);
        }

        /// <summary>
        /// A row's scan state, one row of C floats each, carved from its scratch: the scaled sums <c>p</c>, <c>q</c>
        /// (cleared), their exponent <c>o</c> (at <see cref="MinExponent"/>), and the working rows of a step.
        /// </summary>
        private readonly ref struct ScanRows
        {
            /// <summary>The rows a scan uses.</summary>
            public const int Count = 8;

            public readonly Span<float> P, Q, O, Uk, No, A, E, T1;

            public ScanRows(Span<float> scratch, int c, Tensor? initial, int batch, int b)
            {
                P = scratch[..c];
                Q = scratch.Slice(c, c);
                O = scratch.Slice(2 * c, c);
                Uk = scratch.Slice(3 * c, c);
                No = scratch.Slice(4 * c, c);
                A = scratch.Slice(5 * c, c);
                E = scratch.Slice(6 * c, c);
                T1 = scratch.Slice(7 * c, c);
                if (initial is null)
                {
                    P.Clear();
                    Q.Clear();
                    O.Fill(MinExponent);
                    return;
                }
                var s = initial.AsReadOnlySpan();
                s.Slice(b * c, c).CopyTo(P);
                s.Slice((batch + b) * c, c).CopyTo(Q);
                s.Slice((2 * batch + b) * c, c).CopyTo(O);
            }

            /// <summary>The current token's weights against the state's: <c>no = max(o, u+k)</c>, <c>A = e^{o−no}</c>, <c>E = e^{u+k−no}</c>.</summary>
            public void WeighCurrentToken(ReadOnlySpan<float> uRow, ReadOnlySpan<float> kt)
            {
                TensorPrimitives.Add(uRow, kt, Uk);
                TensorPrimitives.Max(O, Uk, No);
                Scale(O, No, A);
                Scale(Uk, No, E);
            }
        }

        /// <summary><c>destination = e^{x − max}</c>: a weight relative to the running maximum, at most 1.</summary>
        private static void Scale(ReadOnlySpan<float> x, ReadOnlySpan<float> max, Span<float> destination)
        {
            TensorPrimitives.Subtract(x, max, destination);
            TensorPrimitives.Exp(destination, destination);
        }

        private void BackwardRow(int b, Span<float> scratch)
        {
            int c = channels;
            var rows = new ScanRows(scratch, c, Initial, batch, b);
            Span<float> p = rows.P, q = rows.Q, o = rows.O, uk = rows.Uk, no = rows.No, a = rows.A, e = rows.E, t1 = rows.T1;
            int used = ScanRows.Count * c;
            var dp = scratch.Slice(used, c);
            var dq = scratch.Slice(used + c, c);
            var gwRow = gwRows.AsSpan(b * c, c);
            var guRow = guRows.AsSpan(b * c, c);
            // Per step: gy/den and no1 = max(o, u+k), kept for the reverse scan (2·T·C floats of this row).
            var gyz = scratch.Slice(used + 2 * c, steps * c);
            var top = scratch.Slice(used + 2 * c + steps * c, steps * c);
            dp.Clear();
            dq.Clear();
            gwRow.Clear();
            guRow.Clear();
            var wRow = w.AsReadOnlySpan();
            var uRow = u.AsReadOnlySpan();
            var ks = k.AsReadOnlySpan();
            var vs = v.AsReadOnlySpan();
            var ys = y.AsReadOnlySpan();
            var gys = gradOutput!.AsReadOnlySpan();
            for (int t = 0; t < steps; t++)
            {
                int at = (t * batch + b) * c;
                var kt = ks.Slice(at, c);
                var vt = vs.Slice(at, c);
                var yt = ys.Slice(at, c);
                var gz = gyz.Slice(t * c, c);
                rows.WeighCurrentToken(uRow, kt);
                no.CopyTo(top.Slice(t * c, c));
                // gz = gy / den, den = a q + e.
                TensorPrimitives.FusedMultiplyAdd(a, q, e, t1);
                TensorPrimitives.Divide(gys.Slice(at, c), t1, gz);
                // dL/dw += gz · a · (dp − dq·y): y's numerator and denominator both move with w through the state.
                TensorPrimitives.Multiply(dq, yt, t1);
                TensorPrimitives.Subtract(dp, t1, t1);
                TensorPrimitives.Multiply(t1, a, t1);
                TensorPrimitives.FusedMultiplyAdd(t1, gz, gwRow, gwRow);
                // dL/du += gz · e · (v − y), the current token's direct term.
                TensorPrimitives.Subtract(vt, yt, t1);
                TensorPrimitives.Multiply(t1, e, t1);
                TensorPrimitives.FusedMultiplyAdd(t1, gz, guRow, guRow);
                Advance(wRow, kt, vt, p, q, o, no, a, e, dp, dq);
            }

            // Reverse scan: (gp, gq), the gradients of the state entering step t+1, kept scaled by e^{−r}, r their own
            // running maximum exponent: r_t = max(r_{t+1} + w, −no1_t).
            var gp = p;
            var gq = q;
            var r = o;
            gp.Clear();
            gq.Clear();
            r.Fill(MinExponent);
            var gks = gk!.AsSpan();
            var gvs = gv!.AsSpan();
            for (int t = steps - 1; t >= 0; t--)
            {
                int at = (t * batch + b) * c;
                var kt = ks.Slice(at, c);
                var vt = vs.Slice(at, c);
                var yt = ys.Slice(at, c);
                var gz = gyz.Slice(t * c, c);
                var no1 = top.Slice(t * c, c);
                // Direct term: gz · e^{u+k−no1}.
                TensorPrimitives.Add(uRow, kt, uk);
                Scale(uk, no1, e);
                TensorPrimitives.Multiply(e, gz, e);
                // Through the state: e^{k + r_{t+1}} (gp·v + gq) for k, e^{k + r_{t+1}} gp for v.
                TensorPrimitives.Add(kt, r, a);
                TensorPrimitives.Exp(a, a);
                var gkt = gks.Slice(at, c);
                var gvt = gvs.Slice(at, c);
                TensorPrimitives.FusedMultiplyAdd(gp, vt, gq, t1);
                TensorPrimitives.Multiply(t1, a, t1);
                TensorPrimitives.Subtract(vt, yt, gkt);
                TensorPrimitives.FusedMultiplyAdd(gkt, e, t1, gkt);
                TensorPrimitives.FusedMultiplyAdd(a, gp, e, gvt);
                // r ← max(r + w, −no1); (gp, gq) ← e^{r+w−r'}(gp, gq) + gz e^{−no1−r'} (1, −y).
                TensorPrimitives.Add(r, wRow, r);
                TensorPrimitives.Negate(no1, t1);
                TensorPrimitives.Max(r, t1, no);
                Scale(r, no, a);
                Scale(t1, no, e);
                TensorPrimitives.Multiply(e, gz, e);
                TensorPrimitives.FusedMultiplyAdd(a, gp, e, gp);
                TensorPrimitives.Multiply(e, yt, t1);
                TensorPrimitives.Multiply(a, gq, gq);
                TensorPrimitives.Subtract(gq, t1, gq);
                no.CopyTo(r);
            }
        }
    }
}

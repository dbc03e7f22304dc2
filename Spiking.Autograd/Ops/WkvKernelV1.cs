using System;
using System.Buffers;
using Spiking.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Autograd;

/// <summary>
/// The first WKV kernel, kept runnable beside <see cref="WkvKernel"/> (which replaced it) so the tests and benchmarks
/// compare the two: one batch row per work item, all its channels at once, a row of C floats per step through
/// <see cref="TensorPrimitives"/>. It pays a call per operation per step (about 50 per token in the backward), which
/// at RWKV's widths costs more than the arithmetic.
/// </summary>
internal static class WkvKernelV1
{
    /// <summary>Runs <paramref name="scan"/>: its forward, or its backward when it has an output gradient.</summary>
    public static void Run(WkvScan scan) =>
        new Job(scan.Steps, scan.Batch, scan.Channels, scan.W, scan.U, scan.K, scan.V, scan.Y, scan.GradOutput, scan.GradK, scan.GradV,
            scan.GradWRows, scan.GradURows) { Initial = scan.Initial, Final = scan.Final }.Run();

    private sealed class Job(int steps, int batch, int channels, Tensor w, Tensor u, Tensor k, Tensor v, Tensor y,
        Tensor? gradOutput, Tensor? gk, Tensor? gv, float[]? gwRows, float[]? guRows)
    {
        public Tensor? Initial { get; init; }

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
        /// (cleared), their exponent <c>o</c> (at <see cref="WkvScan.MinExponent"/>), and the working rows of a step.
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
                    O.Fill(WkvScan.MinExponent);
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
            r.Fill(WkvScan.MinExponent);
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

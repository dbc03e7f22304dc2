using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

/// <summary>
/// The WKV scan with its state in registers: a work item is one batch row, which runs one vector of channels at a
/// time through all T steps, its sums <c>p</c>, <c>q</c>, their exponent <c>o</c> and, in the backward, the decay and
/// bonus gradient sums held in vector registers, so a token costs a few vector instructions and exponentials instead
/// of a library call per operation (<see cref="WkvKernelV1"/>). Written once over <see cref="ISimd{TVec}"/>; the
/// channels past the last whole vector run through the same code on zero-padded copies, so every channel gets the
/// same bits at every vector width and thread count.
/// </summary>
internal static class WkvKernel
{
    /// <summary>Runs <paramref name="scan"/> at the widest accelerated vector width: its forward, or its backward when it has an output gradient.</summary>
    public static void Run(WkvScan scan)
    {
        switch (SimdWidth.Bits)
        {
            case 512: Run<Simd512, Vector512<float>>(scan); break;
            case 256: Run<Simd256, Vector256<float>>(scan); break;
            default: Run<Simd128, Vector128<float>>(scan); break;
        }
    }

    /// <summary>Runs <paramref name="scan"/> with vectors of <typeparamref name="TVec"/> (the tests compare the widths).</summary>
    public static void Run<TSimd, TVec>(WkvScan scan) where TSimd : ISimd<TVec> where TVec : struct =>
        Parallelism.For(scan.Batch, (long)scan.Steps * scan.Channels * (scan.GradOutput is null ? 16 : 48), scan,
            static (b, s) => Row<TSimd, TVec>(s, b));

    private static void Row<TSimd, TVec>(WkvScan s, int b) where TSimd : ISimd<TVec> where TVec : struct
    {
        int n = TSimd.Count, c = s.Channels, steps = s.Steps, stepFloats = steps * n;
        bool backward = s.GradOutput is not null, hasTail = c % n != 0;
        // Sequences of T vectors: the backward's per-step gz and running maximum, then the padded copies of the last
        // vector's k, v, y (and gy, gk, gv); one vector of lanes for loading and storing the partial rows.
        int sequences = (backward ? 2 : 0) + (hasTail ? backward ? 6 : 3 : 0);
        int length = sequences * stepFloats + n;
        var rented = ArrayPool<float>.Shared.Rent(length);
        try
        {
            var scratch = rented.AsSpan(0, length);
            var lanes = scratch[..n];
            var sequence = scratch[n..];
            int rowAt = b * c, batchRows = s.Batch * c;
            var row = Operands.Direct(s, rowAt, batchRows);
            for (int c0 = 0; c0 < c; c0 += n)
            {
                int rest = Math.Min(n, c - c0);
                var w = Load<TSimd, TVec>(s.W.AsReadOnlySpan(), c0, rest, 0f, lanes);
                var u = Load<TSimd, TVec>(s.U.AsReadOnlySpan(), c0, rest, 0f, lanes);
                TVec p = TSimd.Zero, q = TSimd.Zero, o = TSimd.Broadcast(WkvScan.MinExponent);
                if (s.Initial is { } initial)
                {
                    var state = initial.AsReadOnlySpan();
                    p = Load<TSimd, TVec>(state, rowAt + c0, rest, 0f, lanes);
                    q = Load<TSimd, TVec>(state, batchRows + rowAt + c0, rest, 0f, lanes);
                    o = Load<TSimd, TVec>(state, 2 * batchRows + rowAt + c0, rest, WkvScan.MinExponent, lanes);
                }
                var operands = rest == n
                    ? row.Advance(c0)
                    : Operands.Padded(s, rowAt + c0, batchRows, rest, n, sequence[((backward ? 2 : 0) * stepFloats)..]);
                if (!backward)
                {
                    Forward<TSimd, TVec>(steps, operands, w, u, ref p, ref q, ref o);
                    if (rest < n) Scatter(sequence.Slice(2 * stepFloats, stepFloats), s.Y.AsSpan(), steps, n, rowAt + c0, batchRows, rest);
                    if (s.Final is { } final)
                    {
                        var state = final.AsSpan();
                        Store<TSimd, TVec>(p, state, rowAt + c0, rest, lanes);
                        Store<TSimd, TVec>(q, state, batchRows + rowAt + c0, rest, lanes);
                        Store<TSimd, TVec>(o, state, 2 * batchRows + rowAt + c0, rest, lanes);
                    }
                    continue;
                }
                Backward<TSimd, TVec>(steps, operands, w, u, p, q, o, ref MemoryMarshal.GetReference(sequence), out var gw, out var gu);
                Store<TSimd, TVec>(gw, s.GradWRows!, rowAt + c0, rest, lanes);
                Store<TSimd, TVec>(gu, s.GradURows!, rowAt + c0, rest, lanes);
                if (rest < n)
                {
                    var padded = sequence[(2 * stepFloats)..];
                    Scatter(padded.Slice(4 * stepFloats, stepFloats), s.GradK!.AsSpan(), steps, n, rowAt + c0, batchRows, rest);
                    Scatter(padded.Slice(5 * stepFloats, stepFloats), s.GradV!.AsSpan(), steps, n, rowAt + c0, batchRows, rest);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Where one vector of channels of one batch row lives across the steps: in the tensors themselves (a step is
    /// <c>B·C</c> floats on), or, for the last partial vector, in zero-padded copies (a step is one vector on).
    /// </summary>
    private readonly ref struct Operands
    {
        public readonly ref float K, V, Y, GradY, GradK, GradV;
        public readonly nint Stride;

        private Operands(ref float k, ref float v, ref float y, ref float gy, ref float gk, ref float gv, nint stride)
        {
            K = ref k;
            V = ref v;
            Y = ref y;
            GradY = ref gy;
            GradK = ref gk;
            GradV = ref gv;
            Stride = stride;
        }

        /// <summary>
        /// Row <paramref name="at"/> of the tensors themselves. The writable spans are taken once per row: each taking
        /// bumps the tensor's version, a counter the threads share.
        /// </summary>
        public static Operands Direct(WkvScan s, int at, int stride)
        {
            bool backward = s.GradOutput is not null;
            return new Operands(
                ref Element(s.K.AsReadOnlySpan(), at),
                ref Element(s.V.AsReadOnlySpan(), at),
                ref backward ? ref Element(s.Y.AsReadOnlySpan(), at) : ref Element(s.Y.AsSpan(), at),
                ref backward ? ref Element(s.GradOutput!.AsReadOnlySpan(), at) : ref Unsafe.NullRef<float>(),
                ref backward ? ref Element(s.GradK!.AsSpan(), at) : ref Unsafe.NullRef<float>(),
                ref backward ? ref Element(s.GradV!.AsSpan(), at) : ref Unsafe.NullRef<float>(),
                stride);
        }

        /// <summary>The same operands <paramref name="channels"/> channels on (a row's next vector).</summary>
        public Operands Advance(int channels) => new(
            ref Unsafe.Add(ref K, channels), ref Unsafe.Add(ref V, channels), ref Unsafe.Add(ref Y, channels),
            ref Unsafe.IsNullRef(ref GradY) ? ref GradY : ref Unsafe.Add(ref GradY, channels),
            ref Unsafe.IsNullRef(ref GradK) ? ref GradK : ref Unsafe.Add(ref GradK, channels),
            ref Unsafe.IsNullRef(ref GradV) ? ref GradV : ref Unsafe.Add(ref GradV, channels),
            Stride);

        private static ref float Element(ReadOnlySpan<float> span, int at) => ref Unsafe.Add(ref MemoryMarshal.GetReference(span), at);

        /// <summary>
        /// Copies of the inputs in <paramref name="padded"/>: k, v, y, then (backward) gy, gk, gv, T vectors each;
        /// the lanes past <paramref name="rest"/> are zero (finite, so they cannot disturb the real lanes).
        /// </summary>
        public static Operands Padded(WkvScan s, int at, int stride, int rest, int n, Span<float> padded)
        {
            int steps = s.Steps, stepFloats = steps * n;
            bool backward = s.GradOutput is not null;
            var copies = padded[..((backward ? 6 : 3) * stepFloats)];
            copies.Clear();
            Gather(s.K.AsReadOnlySpan(), copies[..stepFloats], steps, n, at, stride, rest);
            Gather(s.V.AsReadOnlySpan(), copies.Slice(stepFloats, stepFloats), steps, n, at, stride, rest);
            if (backward)
            {
                Gather(s.Y.AsReadOnlySpan(), copies.Slice(2 * stepFloats, stepFloats), steps, n, at, stride, rest);
                Gather(s.GradOutput!.AsReadOnlySpan(), copies.Slice(3 * stepFloats, stepFloats), steps, n, at, stride, rest);
            }
            ref float first = ref MemoryMarshal.GetReference(copies);
            ref float none = ref Unsafe.NullRef<float>();
            return new Operands(ref first, ref Unsafe.Add(ref first, stepFloats), ref Unsafe.Add(ref first, 2 * stepFloats),
                ref backward ? ref Unsafe.Add(ref first, 3 * stepFloats) : ref none,
                ref backward ? ref Unsafe.Add(ref first, 4 * stepFloats) : ref none,
                ref backward ? ref Unsafe.Add(ref first, 5 * stepFloats) : ref none,
                n);
        }
    }

    /// <summary>
    /// Output: <c>(e^{o−no} p + e^{u+k−no} v) / (e^{o−no} q + e^{u+k−no})</c> with <c>no = max(o, u+k)</c>, then the
    /// state moves past the token.
    /// </summary>
    private static void Forward<TSimd, TVec>(int steps, in Operands x, TVec w, TVec u, ref TVec p, ref TVec q, ref TVec o)
        where TSimd : ISimd<TVec> where TVec : struct
    {
        for (int t = 0; t < steps; t++)
        {
            nint at = t * x.Stride;
            var kt = TSimd.Load(ref Unsafe.Add(ref x.K, at));
            var vt = TSimd.Load(ref Unsafe.Add(ref x.V, at));
            Weigh<TSimd, TVec>(o, TSimd.Add(u, kt), out var a, out var e, out _);
            var numerator = TSimd.MultiplyAdd(e, vt, TSimd.Multiply(a, p));
            TSimd.Store(TSimd.Divide(numerator, TSimd.MultiplyAdd(a, q, e)), ref Unsafe.Add(ref x.Y, at));
            Decay<TSimd, TVec>(w, kt, ref o, out a, out e);
            p = TSimd.MultiplyAdd(e, vt, TSimd.Multiply(a, p));
            q = TSimd.MultiplyAdd(a, q, e);
        }
    }

    /// <summary>
    /// The gradients of one vector of channels: a forward pass that recomputes the state, keeps each step's
    /// <c>gz = gy / den</c> and running maximum in <paramref name="perStep"/> (2·T vectors) and sums the decay and bonus
    /// gradients, with the state's derivatives by w carried as <c>d ← e^{w+o−no}(d + (p, q))</c>; then a reverse scan
    /// for the key and value gradients, whose state gradients (gp, gq) are kept scaled by their own running maximum
    /// exponent <c>r_t = max(r_{t+1} + w, −no_t)</c>.
    /// </summary>
    private static void Backward<TSimd, TVec>(int steps, in Operands x, TVec w, TVec u, TVec p, TVec q, TVec o, ref float perStep,
        out TVec gradW, out TVec gradU) where TSimd : ISimd<TVec> where TVec : struct
    {
        int n = TSimd.Count;
        ref float gzs = ref perStep;
        ref float tops = ref Unsafe.Add(ref perStep, steps * n);
        TVec dp = TSimd.Zero, dq = TSimd.Zero, gw = TSimd.Zero, gu = TSimd.Zero;
        for (int t = 0; t < steps; t++)
        {
            nint at = t * x.Stride;
            var kt = TSimd.Load(ref Unsafe.Add(ref x.K, at));
            var vt = TSimd.Load(ref Unsafe.Add(ref x.V, at));
            var yt = TSimd.Load(ref Unsafe.Add(ref x.Y, at));
            Weigh<TSimd, TVec>(o, TSimd.Add(u, kt), out var a, out var e, out var no);
            TSimd.Store(no, ref Unsafe.Add(ref tops, t * n));
            var gz = TSimd.Divide(TSimd.Load(ref Unsafe.Add(ref x.GradY, at)), TSimd.MultiplyAdd(a, q, e));
            TSimd.Store(gz, ref Unsafe.Add(ref gzs, t * n));
            // y's numerator and denominator both move with w through the state; u only through the current token.
            gw = TSimd.MultiplyAdd(TSimd.Multiply(TSimd.Subtract(dp, TSimd.Multiply(dq, yt)), a), gz, gw);
            gu = TSimd.MultiplyAdd(TSimd.Multiply(TSimd.Subtract(vt, yt), e), gz, gu);
            Decay<TSimd, TVec>(w, kt, ref o, out a, out e);
            dp = TSimd.Multiply(TSimd.Add(dp, p), a);
            dq = TSimd.Multiply(TSimd.Add(dq, q), a);
            p = TSimd.MultiplyAdd(e, vt, TSimd.Multiply(a, p));
            q = TSimd.MultiplyAdd(a, q, e);
        }
        (gradW, gradU) = (gw, gu);

        TVec gp = TSimd.Zero, gq = TSimd.Zero, r = TSimd.Broadcast(WkvScan.MinExponent);
        for (int t = steps - 1; t >= 0; t--)
        {
            nint at = t * x.Stride;
            var kt = TSimd.Load(ref Unsafe.Add(ref x.K, at));
            var vt = TSimd.Load(ref Unsafe.Add(ref x.V, at));
            var yt = TSimd.Load(ref Unsafe.Add(ref x.Y, at));
            var gz = TSimd.Load(ref Unsafe.Add(ref gzs, t * n));
            var top = TSimd.Load(ref Unsafe.Add(ref tops, t * n));
            // Directly gz·e^{u+k−no}; through the state e^{k+r}(gp·v + gq) for k and e^{k+r}·gp for v.
            var direct = TSimd.Multiply(Scale<TSimd, TVec>(TSimd.Add(u, kt), top), gz);
            var a = TSimd.Exp(TSimd.Add(kt, r));
            var throughState = TSimd.Multiply(TSimd.MultiplyAdd(gp, vt, gq), a);
            TSimd.Store(TSimd.MultiplyAdd(TSimd.Subtract(vt, yt), direct, throughState), ref Unsafe.Add(ref x.GradK, at));
            TSimd.Store(TSimd.MultiplyAdd(a, gp, direct), ref Unsafe.Add(ref x.GradV, at));
            // r ← max(r + w, −no); (gp, gq) ← e^{r+w−r'}(gp, gq) + gz·e^{−no−r'}(1, −y).
            Weigh<TSimd, TVec>(TSimd.Add(r, w), TSimd.Negate(top), out a, out var e, out r);
            e = TSimd.Multiply(e, gz);
            gp = TSimd.MultiplyAdd(a, gp, e);
            gq = TSimd.Subtract(TSimd.Multiply(a, gq), TSimd.Multiply(e, yt));
        }
    }

    /// <summary>
    /// The state's move past a token: <c>no = max(w + o, k)</c>, <c>a = e^{w+o−no}</c> (the old sums' weight),
    /// <c>e = e^{k−no}</c> (the token's), <c>o ← no</c>; the caller then sets <c>(p, q) ← a(p, q) + e(v, 1)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Decay<TSimd, TVec>(TVec w, TVec kt, ref TVec o, out TVec a, out TVec e) where TSimd : ISimd<TVec> where TVec : struct =>
        Weigh<TSimd, TVec>(TSimd.Add(w, o), kt, out a, out e, out o);

    /// <summary>
    /// Two exponents' weights against their maximum, <c>a = e^{x−m}</c>, <c>b = e^{y−m}</c>, <c>m = max(x, y)</c>, with
    /// one exponential: one weight is <c>e^0 = 1</c> and the other <c>e^{−|x−y|}</c>, the same bits as two.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Weigh<TSimd, TVec>(TVec x, TVec y, out TVec a, out TVec b, out TVec max) where TSimd : ISimd<TVec> where TVec : struct
    {
        var smaller = TSimd.Exp(TSimd.Negate(TSimd.Abs(TSimd.Subtract(x, y))));
        var xIsMax = TSimd.GreaterThanOrEqual(x, y);
        a = TSimd.ConditionalSelect(xIsMax, TSimd.One, smaller);
        b = TSimd.ConditionalSelect(xIsMax, smaller, TSimd.One);
        max = TSimd.Max(x, y);
    }

    /// <summary><c>e^{x − max}</c>: a weight relative to the running maximum, at most 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Scale<TSimd, TVec>(TVec x, TVec max) where TSimd : ISimd<TVec> where TVec : struct =>
        TSimd.Exp(TSimd.Subtract(x, max));

    /// <summary>Lanes <c>[at, at + rest)</c> of <paramref name="source"/>, the others <paramref name="fill"/>.</summary>
    private static TVec Load<TSimd, TVec>(ReadOnlySpan<float> source, int at, int rest, float fill, Span<float> lanes)
        where TSimd : ISimd<TVec> where TVec : struct
    {
        if (rest == TSimd.Count) return TSimd.Load(ref Unsafe.AsRef(in source[at]));
        lanes.Fill(fill);
        source.Slice(at, rest).CopyTo(lanes);
        return TSimd.Load(ref lanes[0]);
    }

    /// <summary>Stores the first <paramref name="rest"/> lanes of <paramref name="value"/> at <paramref name="at"/>.</summary>
    private static void Store<TSimd, TVec>(TVec value, Span<float> destination, int at, int rest, Span<float> lanes)
        where TSimd : ISimd<TVec> where TVec : struct
    {
        if (rest == TSimd.Count)
        {
            TSimd.Store(value, ref destination[at]);
            return;
        }
        TSimd.Store(value, ref lanes[0]);
        lanes[..rest].CopyTo(destination.Slice(at, rest));
    }

    private static void Gather(ReadOnlySpan<float> source, Span<float> padded, int steps, int n, int at, int stride, int rest)
    {
        for (int t = 0; t < steps; t++) source.Slice(at + t * stride, rest).CopyTo(padded.Slice(t * n, rest));
    }

    private static void Scatter(ReadOnlySpan<float> padded, Span<float> destination, int steps, int n, int at, int stride, int rest)
    {
        for (int t = 0; t < steps; t++) padded.Slice(t * n, rest).CopyTo(destination.Slice(at + t * stride, rest));
    }
}

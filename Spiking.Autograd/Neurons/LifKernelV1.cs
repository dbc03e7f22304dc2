using System;
using System.Buffers;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The first fused IF/LIF/PLIF kernel, kept runnable beside <see cref="NeuronKernel"/> (which replaced it) so the
/// tests and benchmarks compare the two: the fused multi-step neuron: all T steps of charge, fire and reset over <c>[T, M]</c> (M neurons per step) in one
/// pass, and the backward through time. The neurons are split into chunks of whole rows (the last axis, which the
/// spikes pack into words), fixed by the shape alone; each chunk runs every step with its membrane state in a small
/// pooled buffer, so the result is bitwise the same for any thread count. The per-step work is SIMD over
/// <see cref="ISimd{TVec}"/>; the compare masks become the spikes' bits (collected per chunk, then laid into the
/// tensor's word-aligned rows), with no float 0/1 tensor in between.
/// </summary>
internal static class LifKernelV1
{
    /// <summary>About this many neurons per chunk (whole rows): the chunk's state and scratch stay in L1/L2.</summary>
    private const int TargetChunk = 4096;

    /// <summary>Rows per chunk for rows of <paramref name="rowLength"/> neurons.</summary>
    public static int RowsPerChunk(int rowLength) => Math.Max(1, TargetChunk / Math.Max(1, rowLength));

    /// <summary>
    /// The forward of the multi-step op as it ran on this kernel: the spikes of <paramref name="model"/> (IF, LIF or
    /// parametric LIF with learnable <paramref name="w"/>) over <paramref name="x"/> <c>[T, ...]</c>, the pre-reset
    /// potentials <paramref name="h"/> it saved, and the post-reset ones into <paramref name="v"/> when given.
    /// </summary>
    public static SpikeTensor ForwardOp(Tensor x, ThresholdNeuron model, float w, out Tensor h, Tensor? v = null)
    {
        var p = NeuronParameters.Of(model, (float)(1.0 / (1.0 + Math.Exp(-w))));
        var spikes = SpikeTensor.Zeros(x.Shape);
        h = Tensor.Empty(x.Shape);
        Forward(x, x.Shape[0], p, spikes, h, v);
        return spikes;
    }

    /// <summary>The backward of the multi-step op on this kernel: <c>dL/dx</c> and, for the parametric LIF, <paramref name="gradW"/>.</summary>
    public static Tensor BackwardOp(Tensor h, Tensor gradSpikes, Tensor x, ThresholdNeuron model, float w, out float gradW)
    {
        double k = 1.0 / (1.0 + Math.Exp(-w));
        var p = NeuronParameters.Of(model, (float)k);
        var gradX = Tensor.Empty(h.Shape);
        double dk = Backward(h, gradSpikes, x, h.Shape[0], h.Shape.LastDimension, p, model.Surrogate!, gradX);
        gradW = (float)(dk * k * (1 - k));
        return gradX;
    }

    /// <summary>
    /// Runs the forward over <paramref name="x"/> <c>[T, ...]</c> viewed as <c>[steps, perStep]</c>: writes the spikes,
    /// and the pre-reset potentials <paramref name="hSeq"/> and post-reset potentials <paramref name="vSeq"/> when given.
    /// The state starts at <c>v_reset</c> (0 for soft reset).
    /// </summary>
    public static void Forward(Tensor x, int steps, in NeuronParameters p, SpikeTensor spikes, Tensor? hSeq, Tensor? vSeq)
    {
        int total = x.Length;
        if (total == 0 || steps == 0) return;
        var job = new ForwardJob(x, steps, total / steps, spikes.RowLength, p, spikes, hSeq, vSeq);
        Parallelism.For(job.Chunks, (long)steps * job.ChunkLength * 8, job, static (c, j) => j.Run(c));
    }

    /// <summary>
    /// Back-propagates through time: from the saved <paramref name="hSeq"/> and the gradient of the spikes
    /// <paramref name="gradSpikes"/>, writes <c>dL/dx</c> into <paramref name="gradX"/> and returns <c>dL/dk</c> (summed
    /// over every neuron and step; 0 unless <see cref="NeuronParameters.LearnK"/>). <paramref name="x"/> is needed only
    /// for the parametric LIF with <c>decay_input</c>.
    /// </summary>
    public static double Backward(Tensor hSeq, Tensor gradSpikes, Tensor? x, int steps, int rowLength, in NeuronParameters p, Surrogate surrogate, Tensor gradX)
    {
        int total = hSeq.Length;
        if (total == 0 || steps == 0) return 0;
        var job = new BackwardJob(hSeq, gradSpikes, x, gradX, steps, total / steps, rowLength, p, surrogate);
        Parallelism.For(job.Chunks, (long)steps * job.ChunkLength * 16, job, static (c, j) => j.Run(c));
        double sum = 0;
        foreach (double partial in job.PartialDk) sum += partial;
        return sum;
    }

    /// <summary>Splits the rows of one step into fixed chunks.</summary>
    private abstract class ChunkedJob
    {
        protected ChunkedJob(int steps, int perStep, int rowLength)
        {
            StepCount = steps;
            PerStep = perStep;
            RowLength = rowLength;
            int rows = perStep / rowLength;
            RowsPerChunk = LifKernelV1.RowsPerChunk(rowLength);
            Chunks = (rows + RowsPerChunk - 1) / RowsPerChunk;
            ChunkLength = Math.Min(rows, RowsPerChunk) * rowLength;
        }

        public int StepCount { get; }

        public int PerStep { get; }

        public int RowLength { get; }

        public int RowsPerChunk { get; }

        public int Chunks { get; }

        /// <summary>The largest chunk, in neurons.</summary>
        public int ChunkLength { get; }

        /// <summary>The first neuron of <paramref name="chunk"/> within a step, and its number of neurons.</summary>
        protected (int Start, int Length) Range(int chunk)
        {
            int start = chunk * RowsPerChunk * RowLength;
            return (start, Math.Min(RowsPerChunk * RowLength, PerStep - start));
        }
    }

    private sealed class ForwardJob(Tensor x, int steps, int perStep, int rowLength, NeuronParameters p,
        SpikeTensor spikes, Tensor? hSeq, Tensor? vSeq) : ChunkedJob(steps, perStep, rowLength)
    {
        public void Run(int chunk)
        {
            var (start, length) = Range(chunk);
            var rented = ArrayPool<float>.Shared.Rent(2 * length);
            var bits = ArrayPool<ulong>.Shared.Rent((length + 63) >> 6);
            try
            {
                var state = rented.AsSpan(0, length);
                var scratch = rented.AsSpan(length, length);
                state.Fill(p.VReset);
                var spans = new ForwardSpans
                {
                    X = x.AsReadOnlySpan(),
                    H = hSeq is null ? default : hSeq.AsSpan(),
                    Scratch = scratch,
                    State = state,
                    VSeq = vSeq is null ? default : vSeq.AsSpan(),
                    Bits = bits.AsSpan(0, (length + 63) >> 6),
                    Words = spikes.Words,
                };
                switch (SimdWidth.Bits)
                {
                    case 512: ByCharge<Simd512, Vector512<float>>(ref spans, start, length); break;
                    case 256: ByCharge<Simd256, Vector256<float>>(ref spans, start, length); break;
                    default: ByCharge<Simd128, Vector128<float>>(ref spans, start, length); break;
                }
            }
            finally
            {
                ArrayPool<ulong>.Shared.Return(bits);
                ArrayPool<float>.Shared.Return(rented);
            }
        }

        private void ByCharge<TSimd, TVec>(ref ForwardSpans s, int start, int length) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            if (!p.Leaky) ByReset<TSimd, TVec, IntegrateCharge>(ref s, start, length);
            else if (p.DecayInput) ByReset<TSimd, TVec, DecayInputCharge>(ref s, start, length);
            else ByReset<TSimd, TVec, LeakCharge>(ref s, start, length);
        }

        private void ByReset<TSimd, TVec, TCharge>(ref ForwardSpans s, int start, int length)
            where TSimd : struct, ISimd<TVec> where TVec : struct where TCharge : struct, IChargeRule
        {
            if (p.Hard) Sweep<TSimd, TVec, TCharge, HardReset>(ref s, start, length);
            else Sweep<TSimd, TVec, TCharge, SoftReset>(ref s, start, length);
        }

        private void Sweep<TSimd, TVec, TCharge, TReset>(ref ForwardSpans s, int start, int length)
            where TSimd : struct, ISimd<TVec> where TVec : struct where TCharge : struct, IChargeRule where TReset : struct, IResetRule
        {
            var k = TSimd.Broadcast(p.K);
            var vr = TSimd.Broadcast(p.VReset);
            var theta = TSimd.Broadcast(p.Threshold);
            var one = TSimd.Broadcast(1f);
            float kS = p.K, vrS = p.VReset, thetaS = p.Threshold;
            int wpr = SpikeTensor.WordsFor(RowLength);
            int rows = length / RowLength;
            ref float v = ref MemoryMarshal.GetReference(s.State);
            ref ulong bits = ref MemoryMarshal.GetReference(s.Bits);
            for (int t = 0; t < StepCount; t++)
            {
                int offset = t * PerStep + start;
                ref float xt = ref Unsafe.Add(ref MemoryMarshal.GetReference(s.X), offset);
                ref float ht = ref s.H.IsEmpty ? ref MemoryMarshal.GetReference(s.Scratch) : ref Unsafe.Add(ref MemoryMarshal.GetReference(s.H), offset);
                s.Bits.Clear();
                int i = 0;
                for (; i <= length - TSimd.Count; i += TSimd.Count)
                {
                    var h = TCharge.Charge<TSimd, TVec>(TSimd.Load(ref Unsafe.Add(ref v, i)), TSimd.Load(ref Unsafe.Add(ref xt, i)), k, vr);
                    TSimd.Store(h, ref Unsafe.Add(ref ht, i));
                    ulong mask = TSimd.GreaterThanOrEqualMask(h, theta);
                    // Count divides 64 and i is a multiple of Count, so a mask never straddles two words.
                    Unsafe.Add(ref bits, i >> 6) |= mask << (i & 63);
                    TSimd.Store(TReset.Reset<TSimd, TVec>(h, TSimd.ExpandBits((uint)mask), one, vr, theta), ref Unsafe.Add(ref v, i));
                }
                for (; i < length; i++)
                {
                    float h = TCharge.Charge(Unsafe.Add(ref v, i), Unsafe.Add(ref xt, i), kS, vrS);
                    Unsafe.Add(ref ht, i) = h;
                    float spike = h >= thetaS ? 1f : 0f;
                    if (spike != 0f) Unsafe.Add(ref bits, i >> 6) |= 1UL << (i & 63);
                    Unsafe.Add(ref v, i) = TReset.Reset(h, spike, vrS, thetaS);
                }
                SpikeBits.CopyRows(s.Bits, rows, RowLength, s.Words.Slice(offset / RowLength * wpr, rows * wpr));
                if (!s.VSeq.IsEmpty) s.State.CopyTo(s.VSeq.Slice(offset, length));
            }
        }
    }

    private ref struct ForwardSpans
    {
        public ReadOnlySpan<float> X;
        public Span<float> H;
        public Span<float> Scratch;
        public Span<float> State;
        public Span<float> VSeq;
        public Span<ulong> Bits;
        public Span<ulong> Words;
    }

    private sealed class BackwardJob : ChunkedJob
    {
        private readonly Tensor _h, _gradSpikes, _gradX;
        private readonly Tensor? _x;
        private readonly NeuronParameters _p;
        private readonly Surrogate _surrogate;

        public BackwardJob(Tensor h, Tensor gradSpikes, Tensor? x, Tensor gradX, int steps, int perStep, int rowLength, NeuronParameters p, Surrogate surrogate)
            : base(steps, perStep, rowLength)
        {
            _h = h;
            _gradSpikes = gradSpikes;
            _x = x;
            _gradX = gradX;
            _p = p;
            _surrogate = surrogate;
            PartialDk = new double[Chunks];
        }

        /// <summary><c>dL/dk</c> of each chunk, summed in chunk order afterwards.</summary>
        public double[] PartialDk { get; }

        public void Run(int chunk)
        {
            var (start, length) = Range(chunk);
            var rented = ArrayPool<float>.Shared.Rent(2 * length);
            try
            {
                var spans = new BackwardSpans
                {
                    H = _h.AsReadOnlySpan(),
                    GradSpikes = _gradSpikes.AsReadOnlySpan(),
                    X = _x is null ? default : _x.AsReadOnlySpan(),
                    GradX = _gradX.AsSpan(),
                    GradV = rented.AsSpan(0, length),
                    Surrogate = rented.AsSpan(length, length),
                };
                spans.GradV.Clear();
                PartialDk[chunk] = SimdWidth.Bits switch
                {
                    512 => ByReset<Simd512, Vector512<float>>(ref spans, start, length),
                    256 => ByReset<Simd256, Vector256<float>>(ref spans, start, length),
                    _ => ByReset<Simd128, Vector128<float>>(ref spans, start, length),
                };
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }

        private double ByReset<TSimd, TVec>(ref BackwardSpans s, int start, int length) where TSimd : struct, ISimd<TVec> where TVec : struct =>
            (_p.Hard, _p.Detach) switch
            {
                (true, false) => Sweep<TSimd, TVec, HardReset>(ref s, start, length),
                (true, true) => Sweep<TSimd, TVec, HardResetDetached>(ref s, start, length),
                (false, false) => Sweep<TSimd, TVec, SoftReset>(ref s, start, length),
                _ => Sweep<TSimd, TVec, SoftResetDetached>(ref s, start, length),
            };

        private double Sweep<TSimd, TVec, TReset>(ref BackwardSpans s, int start, int length)
            where TSimd : struct, ISimd<TVec> where TVec : struct where TReset : struct, IResetRule
        {
            var p = _p;
            var vr = TSimd.Broadcast(p.VReset);
            var theta = TSimd.Broadcast(p.Threshold);
            var one = TSimd.Broadcast(1f);
            var dhdx = TSimd.Broadcast(p.DhDx);
            var dhdv = TSimd.Broadcast(p.DhDv);
            float vrS = p.VReset, thetaS = p.Threshold;
            bool learnK = p.LearnK, decayInput = p.DecayInput;
            Span<float> lanes = stackalloc float[TSimd.Count];
            double dk = 0;
            ref float gv = ref MemoryMarshal.GetReference(s.GradV);
            ref float sg = ref MemoryMarshal.GetReference(s.Surrogate);
            for (int t = StepCount - 1; t >= 0; t--)
            {
                int offset = t * PerStep + start;
                var hSlice = s.H.Slice(offset, length);
                TensorPrimitives.Subtract(hSlice, p.Threshold, s.Surrogate);
                _surrogate.Derivative(s.Surrogate, s.Surrogate);
                ref float ht = ref MemoryMarshal.GetReference(hSlice);
                ref float gst = ref Unsafe.Add(ref MemoryMarshal.GetReference(s.GradSpikes), offset);
                ref float gxt = ref Unsafe.Add(ref MemoryMarshal.GetReference(s.GradX), offset);
                // For dL/dk: the previous potential after reset, recomputed from the previous h and its spike.
                bool first = t == 0;
                ref float hp = ref first ? ref ht : ref Unsafe.Add(ref MemoryMarshal.GetReference(s.H), offset - PerStep);
                ref float xt = ref learnK && decayInput ? ref Unsafe.Add(ref MemoryMarshal.GetReference(s.X), offset) : ref ht;
                var v0 = vr;
                var acc = TSimd.Zero;
                int i = 0;
                for (; i <= length - TSimd.Count; i += TSimd.Count)
                {
                    var h = TSimd.Load(ref Unsafe.Add(ref ht, i));
                    var spike = TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(h, theta));
                    var g = TSimd.Load(ref Unsafe.Add(ref sg, i));
                    var gh = TSimd.Add(
                        TSimd.Multiply(TSimd.Load(ref Unsafe.Add(ref gst, i)), g),
                        TSimd.Multiply(TSimd.Load(ref Unsafe.Add(ref gv, i)), TReset.DvDh<TSimd, TVec>(h, spike, g, one, vr, theta)));
                    TSimd.Store(TSimd.Multiply(gh, dhdx), ref Unsafe.Add(ref gxt, i));
                    TSimd.Store(TSimd.Multiply(gh, dhdv), ref Unsafe.Add(ref gv, i));
                    if (learnK)
                    {
                        TVec vPrevious = v0;
                        if (!first)
                        {
                            var hPrevious = TSimd.Load(ref Unsafe.Add(ref hp, i));
                            var sPrevious = TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(hPrevious, theta));
                            vPrevious = TReset.Reset<TSimd, TVec>(hPrevious, sPrevious, one, vr, theta);
                        }
                        var leak = TSimd.Subtract(vPrevious, vr);
                        var dhdk = decayInput ? TSimd.Subtract(TSimd.Load(ref Unsafe.Add(ref xt, i)), leak) : TSimd.Subtract(TSimd.Zero, leak);
                        acc = TSimd.Add(acc, TSimd.Multiply(gh, dhdk));
                    }
                }
                double tail = 0;
                for (; i < length; i++)
                {
                    float h = Unsafe.Add(ref ht, i);
                    float spike = h >= thetaS ? 1f : 0f;
                    float g = Unsafe.Add(ref sg, i);
                    float gh = Unsafe.Add(ref gst, i) * g + Unsafe.Add(ref gv, i) * TReset.DvDh(h, spike, g, vrS, thetaS);
                    Unsafe.Add(ref gxt, i) = gh * p.DhDx;
                    Unsafe.Add(ref gv, i) = gh * p.DhDv;
                    if (learnK)
                    {
                        float vPrevious = vrS;
                        if (!first)
                        {
                            float hPrevious = Unsafe.Add(ref hp, i);
                            vPrevious = TReset.Reset(hPrevious, hPrevious >= thetaS ? 1f : 0f, vrS, thetaS);
                        }
                        tail += (double)gh * p.DhDk(decayInput ? Unsafe.Add(ref xt, i) : 0f, vPrevious);
                    }
                }
                if (learnK)
                {
                    TSimd.Store(acc, ref MemoryMarshal.GetReference(lanes));
                    double sum = tail;
                    foreach (float lane in lanes) sum += lane;
                    dk += sum;
                }
            }
            return dk;
        }
    }

    private ref struct BackwardSpans
    {
        public ReadOnlySpan<float> H;
        public ReadOnlySpan<float> GradSpikes;
        public ReadOnlySpan<float> X;
        public Span<float> GradX;
        public Span<float> GradV;
        public Span<float> Surrogate;
    }
}

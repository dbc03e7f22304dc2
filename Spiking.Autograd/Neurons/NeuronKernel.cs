using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>The tensors of one fused forward over <c>[T, …]</c>, viewed as <c>[T, perStep]</c>.</summary>
internal sealed class NeuronForwardBuffers
{
    /// <summary>The input current, dense, <see cref="Steps"/> times the neurons of one step.</summary>
    public required Tensor X { get; init; }

    /// <summary>The number of steps.</summary>
    public required int Steps { get; init; }

    /// <summary>The length of the last axis (a row of spike bits); chunks are whole rows.</summary>
    public required int RowLength { get; init; }

    /// <summary>The output spikes of a spiking model (shape of X).</summary>
    public SpikeTensor? Spikes { get; init; }

    /// <summary>The float output of a model that emits no spikes (shape of X).</summary>
    public Tensor? Output { get; init; }

    /// <summary>The internal spikes of a float-output model, when traced.</summary>
    public SpikeTensor? InternalSpikes { get; init; }

    /// <summary>Where the forward saves for the backward: <c>[SavedCount, T, perStep]</c>; null when nothing is recorded or traced.</summary>
    public Tensor? Saved { get; init; }

    /// <summary>The state after every step, <c>[StateCount, T, perStep]</c>, when traced.</summary>
    public Tensor? StateTrace { get; init; }

    /// <summary>The state before the first step, <c>[StateCount, perStep]</c>; null starts from rest.</summary>
    public Tensor? Initial { get; init; }

    /// <summary>Receives the state after the last step, <c>[StateCount, perStep]</c>, when asked.</summary>
    public Tensor? Final { get; init; }
}

/// <summary>The tensors of one fused backward.</summary>
internal sealed class NeuronBackwardBuffers
{
    /// <summary>What the forward saved, <c>[SavedCount, T, perStep]</c>.</summary>
    public required Tensor Saved { get; init; }

    /// <summary>The number of steps.</summary>
    public required int Steps { get; init; }

    /// <summary>The length of the last axis: chunks are whole rows, as in the forward.</summary>
    public required int RowLength { get; init; }

    /// <summary>The input, when the dynamics reads it in its backward.</summary>
    public Tensor? X { get; init; }

    /// <summary>The state the forward started from, <c>[StateCount, perStep]</c>; null for rest.</summary>
    public Tensor? Initial { get; init; }

    /// <summary>The gradient of the output <c>[T, perStep]</c>; null when no gradient reached it.</summary>
    public Tensor? GradOutput { get; init; }

    /// <summary>The gradient of the final state <c>[StateCount, perStep]</c>; null when none reached it.</summary>
    public Tensor? GradFinal { get; init; }

    /// <summary>Receives the gradient of the input, <c>[T, perStep]</c>.</summary>
    public required Tensor GradX { get; init; }

    /// <summary>Receives the gradient of the initial state, <c>[StateCount, perStep]</c>, when asked.</summary>
    public Tensor? GradInitial { get; init; }
}

/// <summary>
/// The fused multi-step kernel every neuron model runs: all T steps of its <see cref="INeuronDynamics"/> over
/// <c>[T, perStep]</c> in one pass, and the backward through time. The neurons are split into chunks of whole rows
/// (the last axis, which spikes pack into words), fixed by the shape alone; each chunk keeps its state in a small
/// pooled buffer and runs every step, so results are bitwise the same for any thread count. A chunk's last partial
/// vector runs through the same dynamics as a zero-padded vector, so there is no scalar twin of any formula.
/// </summary>
internal static class NeuronKernel
{
    /// <summary>About this many neurons per chunk (whole rows): the chunk's state and scratch stay in L1/L2.</summary>
    private const int TargetChunk = 4096;

    /// <summary>Rows per chunk for rows of <paramref name="rowLength"/> neurons.</summary>
    public static int RowsPerChunk(int rowLength) => Math.Max(1, TargetChunk / Math.Max(1, rowLength));

    public static void Forward<TDynamics>(in TDynamics dynamics, NeuronForwardBuffers buffers) where TDynamics : struct, INeuronDynamics
    {
        int total = buffers.X.Length;
        int steps = buffers.Steps;
        if (total == 0 || steps == 0)
        {
            CopyInitialToFinal(dynamics, buffers, total / Math.Max(1, steps));
            return;
        }
        var job = new ForwardJob<TDynamics>(dynamics, buffers, steps, total / steps, buffers.RowLength);
        Parallelism.For(job.Chunks, (long)steps * job.ChunkLength * 8 * Math.Max(1, TDynamics.StateCount), job, static (c, j) => j.Run(c));
    }

    /// <summary>Back-propagates through time; returns the parameter gradient sums (one per dynamics parameter).</summary>
    public static double[] Backward<TDynamics, TSurrogate>(in TDynamics dynamics, in TSurrogate surrogate, NeuronBackwardBuffers buffers)
        where TDynamics : struct, INeuronDynamics where TSurrogate : struct, ISurrogateFunction
    {
        int total = buffers.GradX.Length;
        int steps = buffers.Steps;
        var sums = new double[TDynamics.ParameterCount];
        if (total == 0 || steps == 0)
        {
            if (buffers.GradInitial is { } gi)
            {
                if (buffers.GradFinal is { } gf) gf.CopyTo(gi);
                else gi.Clear();
            }
            return sums;
        }
        var job = new BackwardJob<TDynamics, TSurrogate>(dynamics, surrogate, buffers, steps, total / steps, buffers.RowLength);
        Parallelism.For(job.Chunks, (long)steps * job.ChunkLength * 16 * Math.Max(1, TDynamics.StateCount), job, static (c, j) => j.Run(c));
        for (int chunk = 0; chunk < job.Chunks; chunk++)
        {
            for (int p = 0; p < sums.Length; p++) sums[p] += job.PartialSums[chunk * sums.Length + p];
        }
        return sums;
    }

    private static void CopyInitialToFinal<TDynamics>(in TDynamics dynamics, NeuronForwardBuffers buffers, int perStep) where TDynamics : struct, INeuronDynamics
    {
        if (buffers.Final is not { } final) return;
        if (buffers.Initial is { } initial)
        {
            initial.CopyTo(final);
            return;
        }
        var f = final.AsSpan();
        for (int j = 0; j < TDynamics.StateCount; j++) f.Slice(j * perStep, perStep).Fill(dynamics.RestValue(j));
    }

    /// <summary>Splits the rows of one step into fixed chunks.</summary>
    private abstract class ChunkedJob
    {
        protected ChunkedJob(int steps, int perStep, int rowLength)
        {
            StepCount = steps;
            PerStep = perStep;
            RowLength = Math.Max(1, rowLength);
            int rows = perStep / RowLength;
            RowsPerChunk = NeuronKernel.RowsPerChunk(RowLength);
            Chunks = (rows + RowsPerChunk - 1) / RowsPerChunk;
            ChunkLength = Math.Min(rows, RowsPerChunk) * RowLength;
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

        /// <summary>Fills <paramref name="state"/> (<c>[StateCount][padded]</c>) with the initial state of a chunk, padding lanes at rest.</summary>
        protected void LoadInitial<TDynamics>(in TDynamics dynamics, Tensor? initial, Span<float> state, int start, int length, int padded)
            where TDynamics : struct, INeuronDynamics
        {
            for (int j = 0; j < TDynamics.StateCount; j++)
            {
                var lane = state.Slice(j * padded, padded);
                lane.Fill(dynamics.RestValue(j));
                initial?.AsReadOnlySpan().Slice(j * PerStep + start, length).CopyTo(lane);
            }
        }

        /// <summary>Rounds <paramref name="length"/> up to whole vectors of the widest width.</summary>
        protected static int Padded(int length) => (length + 15) & ~15;
    }

    private sealed class ForwardJob<TDynamics>(TDynamics dynamics, NeuronForwardBuffers b, int steps, int perStep, int rowLength)
        : ChunkedJob(steps, perStep, rowLength) where TDynamics : struct, INeuronDynamics
    {
        private readonly TDynamics _dynamics = dynamics;

        public void Run(int chunk)
        {
            switch (SimdWidth.Bits)
            {
                case 512: Sweep<Simd512, Vector512<float>>(chunk); break;
                case 256: Sweep<Simd256, Vector256<float>>(chunk); break;
                default: Sweep<Simd128, Vector128<float>>(chunk); break;
            }
        }

        private void Sweep<TSimd, TVec>(int chunk) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            var (start, length) = Range(chunk);
            int count = TSimd.Count, padded = Padded(length);
            int stateCount = TDynamics.StateCount, savedCount = Math.Max(1, TDynamics.SavedCount);
            // state | scratch saved (when nothing is kept) | tail input | tail saved | tail output
            int scratchAt = stateCount * padded, tailX = scratchAt + savedCount * count, tailSaved = tailX + count, tailOut = tailSaved + savedCount * count;
            var rented = ArrayPool<float>.Shared.Rent(tailOut + count);
            var bits = ArrayPool<ulong>.Shared.Rent((padded + 63) >> 6);
            try
            {
                var buffer = rented.AsSpan(0, tailOut + count);
                buffer[scratchAt..].Clear();
                // A copy on this thread's stack: the kernel reads the constants every vector, and the job object's cache line
                // is shared with whatever the heap put beside it.
                var dynamics = _dynamics;
                LoadInitial(dynamics, b.Initial, buffer, start, length, padded);
                bool emits = TDynamics.EmitsSpikes;
                var packed = emits ? b.Spikes : b.InternalSpikes;
                var words = bits.AsSpan(0, (padded + 63) >> 6);
                ref float state = ref MemoryMarshal.GetReference(buffer);
                ref float scratch = ref buffer[scratchAt];
                ref float x = ref MemoryMarshal.GetReference(b.X.AsReadOnlySpan());
                var savedSpan = b.Saved is null ? default : b.Saved.AsSpan();
                ref float saved = ref MemoryMarshal.GetReference(savedSpan);
                bool keep = !savedSpan.IsEmpty;
                var outputSpan = b.Output is null ? default : b.Output.AsSpan();
                ref float output = ref MemoryMarshal.GetReference(outputSpan);
                nint stepStride = (nint)StepCount * PerStep;
                int full = length - length % count;
                int rows = length / RowLength, wordsPerRow = SpikeTensor.WordsFor(RowLength);
                for (int t = 0; t < StepCount; t++)
                {
                    int offset = t * PerStep + start;
                    words.Clear();
                    for (int i = 0; i < full; i += count)
                    {
                        var stateLanes = new NeuronLanes<TVec>(ref Unsafe.Add(ref state, i), padded);
                        var savedLanes = keep ? new NeuronLanes<TVec>(ref Unsafe.Add(ref saved, offset + i), stepStride) : new NeuronLanes<TVec>(ref scratch, count);
                        var y = dynamics.Forward<TSimd, TVec>(TSimd.Load(ref Unsafe.Add(ref x, offset + i)), stateLanes, savedLanes, out ulong mask);
                        // Count divides 64 and i is a multiple of Count, so a mask never straddles two words.
                        if (packed is not null) Unsafe.Add(ref MemoryMarshal.GetReference(words), i >> 6) |= mask << (i & 63);
                        if (!emits) TSimd.Store(y, ref Unsafe.Add(ref output, offset + i));
                    }
                    if (full < length)
                    {
                        int rest = length - full;
                        var tail = buffer.Slice(tailX, count);
                        tail.Clear();
                        b.X.AsReadOnlySpan().Slice(offset + full, rest).CopyTo(tail);
                        var stateLanes = new NeuronLanes<TVec>(ref Unsafe.Add(ref state, full), padded);
                        var savedLanes = new NeuronLanes<TVec>(ref buffer[tailSaved], count);
                        var y = dynamics.Forward<TSimd, TVec>(TSimd.Load(ref tail[0]), stateLanes, savedLanes, out ulong mask);
                        if (packed is not null) words[full >> 6] |= (mask & ((1UL << rest) - 1)) << (full & 63);
                        if (keep)
                        {
                            for (int j = 0; j < TDynamics.SavedCount; j++)
                            {
                                buffer.Slice(tailSaved + j * count, rest).CopyTo(savedSpan.Slice((int)(j * stepStride) + offset + full, rest));
                            }
                        }
                        if (!emits)
                        {
                            TSimd.Store(y, ref buffer[tailOut]);
                            buffer.Slice(tailOut, rest).CopyTo(outputSpan.Slice(offset + full, rest));
                        }
                    }
                    if (packed is not null) SpikeBits.CopyRows(words, rows, RowLength, packed.Words.Slice(offset / RowLength * wordsPerRow, rows * wordsPerRow));
                    if (b.StateTrace is { } trace)
                    {
                        var traceSpan = trace.AsSpan();
                        for (int j = 0; j < stateCount; j++) buffer.Slice(j * padded, length).CopyTo(traceSpan.Slice((int)(j * stepStride) + offset, length));
                    }
                }
                if (b.Final is { } final)
                {
                    var finalSpan = final.AsSpan();
                    for (int j = 0; j < stateCount; j++) buffer.Slice(j * padded, length).CopyTo(finalSpan.Slice(j * PerStep + start, length));
                }
            }
            finally
            {
                ArrayPool<ulong>.Shared.Return(bits);
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    private sealed class BackwardJob<TDynamics, TSurrogate> : ChunkedJob
        where TDynamics : struct, INeuronDynamics where TSurrogate : struct, ISurrogateFunction
    {
        private readonly TDynamics _dynamics;
        private readonly TSurrogate _surrogate;
        private readonly NeuronBackwardBuffers _b;

        public BackwardJob(TDynamics dynamics, TSurrogate surrogate, NeuronBackwardBuffers b, int steps, int perStep, int rowLength)
            : base(steps, perStep, rowLength)
        {
            _dynamics = dynamics;
            _surrogate = surrogate;
            _b = b;
            PartialSums = new double[Chunks * TDynamics.ParameterCount];
        }

        /// <summary>The parameter gradient sums of each chunk (<c>[chunk, parameter]</c>), added in chunk order afterwards.</summary>
        public double[] PartialSums { get; }

        public void Run(int chunk)
        {
            switch (SimdWidth.Bits)
            {
                case 512: Sweep<Simd512, Vector512<float>>(chunk); break;
                case 256: Sweep<Simd256, Vector256<float>>(chunk); break;
                default: Sweep<Simd128, Vector128<float>>(chunk); break;
            }
        }

        private void Sweep<TSimd, TVec>(int chunk) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            var (start, length) = Range(chunk);
            int count = TSimd.Count, padded = Padded(length);
            int stateCount = TDynamics.StateCount, savedCount = TDynamics.SavedCount, parameterCount = TDynamics.ParameterCount;
            // gradient of the state | the rest state, one vector per variable | parameter sums | tail: saved, previous saved,
            // input, initial state, gradient of the output, gradient of x
            int restAt = stateCount * padded, sumsAt = restAt + stateCount * count, tailSaved = sumsAt + Math.Max(1, parameterCount) * count;
            int tailPrevious = tailSaved + Math.Max(1, savedCount) * count, tailX = tailPrevious + Math.Max(1, savedCount) * count;
            int tailInitial = tailX + count, tailGradOutput = tailInitial + stateCount * count, tailGradX = tailGradOutput + count, size = tailGradX + count;
            var rented = ArrayPool<float>.Shared.Rent(size);
            try
            {
                var buffer = rented.AsSpan(0, size);
                buffer[..restAt].Clear();
                if (_b.GradFinal is { } gradFinal)
                {
                    var gf = gradFinal.AsReadOnlySpan();
                    for (int j = 0; j < stateCount; j++) gf.Slice(j * PerStep + start, length).CopyTo(buffer.Slice(j * padded, length));
                }
                var dynamics = _dynamics;
                var surrogate = _surrogate;
                Span<double> partial = stackalloc double[parameterCount];
                partial.Clear();
                for (int j = 0; j < stateCount; j++) buffer.Slice(restAt + j * count, count).Fill(dynamics.RestValue(j));
                // The state before the first step: the rest vectors for every lane (stride 0 along the chunk), or the carried state.
                var initialSpan = _b.Initial is null ? default : _b.Initial.AsReadOnlySpan();
                bool carried = !initialSpan.IsEmpty;
                ref float initial = ref carried ? ref MemoryMarshal.GetReference(initialSpan) : ref buffer[restAt];
                nint initialStride = carried ? PerStep : count;
                int initialOffset = carried ? start : 0, initialStep = carried ? 1 : 0;
                ref float gradState = ref MemoryMarshal.GetReference(buffer);
                ref float sums = ref buffer[sumsAt];
                var savedSpan = _b.Saved.AsReadOnlySpan();
                ref float saved = ref MemoryMarshal.GetReference(savedSpan);
                bool readsX = dynamics.BackwardReadsInput && _b.X is not null;
                var xSpan = readsX ? _b.X!.AsReadOnlySpan() : default;
                ref float x = ref MemoryMarshal.GetReference(xSpan);
                var gradOutputSpan = _b.GradOutput is null ? default : _b.GradOutput.AsReadOnlySpan();
                ref float gradOutput = ref MemoryMarshal.GetReference(gradOutputSpan);
                bool hasGradOutput = !gradOutputSpan.IsEmpty;
                var gradXSpan = _b.GradX.AsSpan();
                ref float gradX = ref MemoryMarshal.GetReference(gradXSpan);
                nint stepStride = (nint)StepCount * PerStep;
                int full = length - length % count;
                for (int t = StepCount - 1; t >= 0; t--)
                {
                    int offset = t * PerStep + start;
                    bool first = t == 0;
                    int previous = first ? offset : offset - PerStep;
                    buffer.Slice(sumsAt, parameterCount * count).Clear();
                    var sumLanes = new NeuronLanes<TVec>(ref sums, count);
                    for (int i = 0; i < full; i += count)
                    {
                        var lanes = new NeuronBackwardLanes<TVec>(
                            new NeuronLanes<TVec>(ref Unsafe.Add(ref saved, offset + i), stepStride),
                            new NeuronLanes<TVec>(ref Unsafe.Add(ref saved, previous + i), stepStride),
                            new NeuronLanes<TVec>(ref Unsafe.Add(ref initial, initialOffset + i * initialStep), initialStride),
                            first,
                            readsX ? TSimd.Load(ref Unsafe.Add(ref x, offset + i)) : TSimd.Zero,
                            new NeuronLanes<TVec>(ref Unsafe.Add(ref gradState, i), padded),
                            sumLanes);
                        var g = hasGradOutput ? TSimd.Load(ref Unsafe.Add(ref gradOutput, offset + i)) : TSimd.Zero;
                        TSimd.Store(dynamics.Backward<TSimd, TVec, TSurrogate>(lanes, g, surrogate), ref Unsafe.Add(ref gradX, offset + i));
                    }
                    if (full < length)
                    {
                        int rest = length - full;
                        buffer[tailSaved..size].Clear();
                        for (int j = 0; j < stateCount; j++)
                        {
                            var lane = buffer.Slice(tailInitial + j * count, count);
                            lane.Fill(dynamics.RestValue(j));
                            if (carried) initialSpan.Slice(j * PerStep + start + full, rest).CopyTo(lane);
                        }
                        for (int j = 0; j < savedCount; j++)
                        {
                            savedSpan.Slice((int)(j * stepStride) + offset + full, rest).CopyTo(buffer.Slice(tailSaved + j * count, rest));
                            if (!first) savedSpan.Slice((int)(j * stepStride) + previous + full, rest).CopyTo(buffer.Slice(tailPrevious + j * count, rest));
                        }
                        if (readsX) xSpan.Slice(offset + full, rest).CopyTo(buffer.Slice(tailX, rest));
                        if (hasGradOutput) gradOutputSpan.Slice(offset + full, rest).CopyTo(buffer.Slice(tailGradOutput, rest));
                        var lanes = new NeuronBackwardLanes<TVec>(
                            new NeuronLanes<TVec>(ref buffer[tailSaved], count),
                            new NeuronLanes<TVec>(ref buffer[tailPrevious], count),
                            new NeuronLanes<TVec>(ref buffer[tailInitial], count),
                            first,
                            TSimd.Load(ref buffer[tailX]),
                            new NeuronLanes<TVec>(ref Unsafe.Add(ref gradState, full), padded),
                            sumLanes);
                        TSimd.Store(dynamics.Backward<TSimd, TVec, TSurrogate>(lanes, TSimd.Load(ref buffer[tailGradOutput]), surrogate), ref buffer[tailGradX]);
                        buffer.Slice(tailGradX, rest).CopyTo(gradXSpan.Slice(offset + full, rest));
                    }
                    for (int p = 0; p < parameterCount; p++)
                    {
                        double sum = 0;
                        foreach (float lane in buffer.Slice(sumsAt + p * count, count)) sum += lane;
                        partial[p] += sum;
                    }
                }
                partial.CopyTo(PartialSums.AsSpan(chunk * parameterCount, parameterCount));
                if (_b.GradInitial is { } gradInitial)
                {
                    var gi = gradInitial.AsSpan();
                    for (int j = 0; j < stateCount; j++) buffer.Slice(j * padded, length).CopyTo(gi.Slice(j * PerStep + start, length));
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }
}

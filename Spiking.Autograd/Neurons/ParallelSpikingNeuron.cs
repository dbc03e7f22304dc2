using System;
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd
{
    public static partial class Functional
    {
        /// <summary>
        /// SpikingJelly's <c>PSN</c> (parallel spiking neuron) over <paramref name="xSeq"/> <c>[T, ...]</c> in one fused op:
        /// with <c>X</c> the input viewed as <c>[T, N]</c>, <c>H = W·X + b</c> (<c>h[t, n] = Σ_j W[t, j]·X[j, n] + b[t]</c>)
        /// through the SGEMM, and <c>spike = heaviside(H)</c> as bits in the same op (<c>−b</c> plays the threshold). The
        /// backward evaluates the surrogate at <c>H</c>: <c>dL/dH = dL/dspike · g'(H)</c>, <c>dL/dX = Wᵀ·dL/dH</c>,
        /// <c>dL/dW = dL/dH·Xᵀ</c>, <c>dL/db[t] = Σ_n dL/dH[t, n]</c>.
        /// </summary>
        /// <param name="xSeq">The input, <c>[T, ...]</c> with at least one axis after time; dense, on the CPU.</param>
        /// <param name="weight">The learnable <c>W</c>, <c>[T, T]</c>.</param>
        /// <param name="bias">The learnable <c>b</c>, <c>[T, 1]</c> (SpikingJelly's shape) or <c>[T]</c>.</param>
        /// <param name="surrogate">The surrogate gradient of the spike function (SpikingJelly's default for PSN is <see cref="ATan"/>).</param>
        /// <exception cref="ArgumentException">The input holds spikes or has no axis after time, or a parameter's shape does not fit the input's T (the message names both).</exception>
        /// <exception cref="NotSupportedException">An operand is on a device; the message names the op and the device.</exception>
        public static Variable ParallelSpikingNeuron(Variable xSeq, Variable weight, Variable bias, Surrogate surrogate) =>
            ParallelSpikingNode.Run(xSeq, weight, bias, surrogate, ParallelWeights.Full, traces: false, out _);

        /// <summary>
        /// <see cref="ParallelSpikingNeuron(Variable, Variable, Variable, Surrogate)"/> that also returns <c>H</c> in the
        /// input's shape as the trace <c>h</c> (SpikingJelly's <c>h_seq</c>); the caller owns <paramref name="traces"/>.
        /// </summary>
        /// <exception cref="ArgumentException">The input holds spikes or has no axis after time, or a parameter's shape does not fit the input's T.</exception>
        /// <exception cref="NotSupportedException">An operand is on a device.</exception>
        public static Variable ParallelSpikingNeuron(Variable xSeq, Variable weight, Variable bias, Surrogate surrogate, out NeuronTraces traces)
        {
            var output = ParallelSpikingNode.Run(xSeq, weight, bias, surrogate, ParallelWeights.Full, traces: true, out var recorded);
            traces = recorded!;
            return output;
        }
    }
}

namespace Spiking.Autograd.Neurons
{
    /// <summary>
    /// How a parallel spiking neuron's learnable weight and bias become the <c>[T, T]</c> matrix and the per-step bias
    /// that <see cref="ParallelSpikingNode"/> multiplies and adds, and how the gradients of those map back to the
    /// parameters: the identity for PSN, a mask factor for MaskedPSN, a sliding band for SlidingPSN.
    /// </summary>
    internal abstract class ParallelWeights
    {
        /// <summary>The PSN: the matrix is the weight and the per-step bias is the bias.</summary>
        public static ParallelWeights Full { get; } = new FullWeights();

        /// <summary>SpikingJelly's class name, for messages.</summary>
        public abstract string Name { get; }

        /// <summary>The trace the effective matrix is recorded under (<c>masked_weight</c>, <c>gemm_weight</c>), or null when it is the weight itself.</summary>
        public virtual string? MatrixTrace => null;

        /// <summary>Throws unless <paramref name="weight"/> and <paramref name="bias"/> fit an input of <paramref name="steps"/> steps.</summary>
        public abstract void CheckShapes(Shape weight, Shape bias, int steps);

        /// <summary>Writes the <c>[T, T]</c> matrix and the bias of each step from the parameters' values.</summary>
        public abstract void Build(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int steps, Span<float> matrix, Span<float> stepBias);

        /// <summary>The gradient of the weight from that of the matrix, <c>[T, T]</c>.</summary>
        public abstract void WeightGradient(ReadOnlySpan<double> gradMatrix, int steps, Span<float> gradWeight);

        /// <summary>The gradient of the bias from that of each step's bias.</summary>
        public abstract void BiasGradient(ReadOnlySpan<double> gradStepBias, Span<float> gradBias);

        /// <summary>Throws unless <paramref name="bias"/> is <c>[T, 1]</c> or <c>[T]</c>: one learnable threshold per step.</summary>
        protected void CheckStepBias(Shape bias, int steps)
        {
            bool fits = bias.Rank == 1 ? bias[0] == steps : bias.Rank == 2 && bias[0] == steps && bias[1] == 1;
            if (!fits)
            {
                throw new ArgumentException($"{Name}: 'bias' must be [T, 1] (or [T]) with T = {steps}, the input's time steps; got {bias}.", nameof(bias));
            }
        }

        /// <summary>Throws unless <paramref name="weight"/> is <c>[T, T]</c>.</summary>
        protected void CheckSquare(Shape weight, int steps)
        {
            if (weight.Rank != 2 || weight[0] != steps || weight[1] != steps)
            {
                throw new ArgumentException($"{Name}: 'weight' must be [T, T] with T = {steps}, the input's time steps; got {weight}.", nameof(weight));
            }
        }

        /// <summary>Each gradient as is, rounded to float: the parameter is the effective one.</summary>
        protected static void PerStep(ReadOnlySpan<double> gradEffective, Span<float> gradParameter)
        {
            for (int i = 0; i < gradParameter.Length; i++) gradParameter[i] = (float)gradEffective[i];
        }

        private sealed class FullWeights : ParallelWeights
        {
            public override string Name => "PSN";

            public override void CheckShapes(Shape weight, Shape bias, int steps)
            {
                CheckSquare(weight, steps);
                CheckStepBias(bias, steps);
            }

            public override void Build(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int steps, Span<float> matrix, Span<float> stepBias)
            {
                weight.CopyTo(matrix);
                bias.CopyTo(stepBias);
            }

            public override void WeightGradient(ReadOnlySpan<double> gradMatrix, int steps, Span<float> gradWeight) => PerStep(gradMatrix, gradWeight);

            public override void BiasGradient(ReadOnlySpan<double> gradStepBias, Span<float> gradBias) => PerStep(gradStepBias, gradBias);
        }
    }

    /// <summary>
    /// The fused op of the parallel spiking neurons: inputs x, weight, bias. The forward builds the effective matrix,
    /// multiplies it into <c>H</c> with the SGEMM, adds each step's bias and fires into bits in one sweep; it saves
    /// <c>H</c>, the matrix and (when the weight learns) a view of x. The backward evaluates the surrogate into
    /// <c>dL/dH</c> block by block, summing the bias gradient and taking the matrix's gradient <c>dL/dH·Xᵀ</c> from the
    /// block while it is in cache, then <c>dL/dX = Wᵀ·dL/dH</c> with the SGEMM.
    /// </summary>
    internal sealed class ParallelSpikingNode : Node
    {
        private readonly ParallelWeights _weights;
        private readonly Surrogate _surrogate;
        private readonly float[] _matrix;
        private readonly Tensor _h;
        private readonly SavedTensor? _x;
        private readonly int _steps;

        private ParallelSpikingNode(Variable x, Variable weight, Variable bias, ParallelWeights weights, Surrogate surrogate, float[] matrix, Tensor h)
            : base(x, weight, bias)
        {
            _weights = weights;
            _surrogate = surrogate;
            _matrix = matrix;
            _h = h;
            _x = weight.RequiresGrad ? new SavedTensor(x.Dense, $"the input of the {weights.Name} neuron") : null;
            _steps = x.Shape[0];
        }

        public override string Name => $"neuron {_weights.Name}";

        public static Variable Run(Variable x, Variable weight, Variable bias, Surrogate surrogate, ParallelWeights weights, bool traces, out NeuronTraces? recorded)
        {
            NeuronChecks.Input(x, 2, "[T, ...]: time first, then at least one neuron axis", "xSeq");
            ArgumentNullException.ThrowIfNull(weight);
            ArgumentNullException.ThrowIfNull(bias);
            ArgumentNullException.ThrowIfNull(surrogate);
            HostOnly(x, "input", weights);
            HostOnly(weight, "weight", weights);
            HostOnly(bias, "bias", weights);
            int steps = x.Shape[0];
            weights.CheckShapes(weight.Shape, bias.Shape, steps);
            var matrix = new float[steps * steps];
            var stepBias = new float[steps];
            weights.Build(weight.Dense.AsReadOnlySpan(), bias.Dense.AsReadOnlySpan(), steps, matrix, stepBias);

            var shape = x.Shape;
            bool record = GradMode.IsEnabled && (x.RequiresGrad || weight.RequiresGrad || bias.RequiresGrad);
            var h = record || traces ? Tensor.Empty(shape) : null;
            var spikes = SpikeTensor.Zeros(shape);
            TimeMixKernel.MultiplyAndFire(matrix, stepBias, x.Dense, h, spikes, steps);

            recorded = null;
            if (traces)
            {
                recorded = new NeuronTraces();
                recorded.Add("h", h!.Reshape(shape));
                if (weights.MatrixTrace is { } name) recorded.Add(name, Tensor.FromSpan(matrix, new Shape(steps, steps)));
            }
            var node = record ? new ParallelSpikingNode(x, weight, bias, weights, surrogate, matrix, h!) : null;
            if (node is null) h?.Dispose();
            return Variable.FromOp(spikes, node);
        }

        private static void HostOnly(Variable v, string what, ParallelWeights weights)
        {
            if (v.Device.Kind != DeviceKind.Cpu)
            {
                throw OpChecks.NoDeviceKernel($"The {weights.Name} neuron (its {what})", v.Device, "the parallel spiking neurons run on the CPU");
            }
        }

        protected internal override Tensor?[] Backward(Tensor gradOutput)
        {
            var gradMatrix = NeedsGrad(1) ? new double[_steps * _steps] : null;
            Tensor? gradX = null, gradWeight = null, gradBias = null;
            float[]? transposed = null;
            if (NeedsGrad(0))
            {
                gradX = Tensor.Empty(Inputs[0].Shape);
                var rows = new float[_matrix.Length];
                for (int t = 0; t < _steps; t++)
                {
                    for (int j = 0; j < _steps; j++) rows[j * _steps + t] = _matrix[t * _steps + j];
                }
                transposed = TimeMixKernel.Padded(rows, _steps);
            }
            var gradStepBias = _surrogate.Accept(new SurrogateGradient(_h, gradOutput, gradMatrix is null ? null : _x!.Value, gradMatrix, transposed, gradX, _steps));
            if (gradMatrix is not null)
            {
                gradWeight = Tensor.Empty(Inputs[1].Shape);
                _weights.WeightGradient(gradMatrix, _steps, gradWeight.AsSpan());
            }
            if (NeedsGrad(2))
            {
                gradBias = Tensor.Empty(Inputs[2].Shape);
                _weights.BiasGradient(gradStepBias, gradBias.AsSpan());
            }
            return [gradX, gradWeight, gradBias];
        }

        protected internal override void DescribeSaved(SavedTensorSink saved)
        {
            saved.Add("h", _h);
            saved.Add("input", _x);
        }

        protected internal override void ReleaseSaved()
        {
            _h.Dispose();
            _x?.Release();
        }

        /// <summary>Runs the backward sweep compiled for the surrogate's operator struct.</summary>
        private sealed class SurrogateGradient(Tensor h, Tensor gradOutput, Tensor? x, double[]? gradMatrix, float[]? transposed, Tensor? gradX, int steps)
            : ISurrogateVisitor<double[]>
        {
            public double[] Visit<TFunction>(in TFunction function) where TFunction : struct, ISurrogateFunction =>
                ParallelSpikingKernel.Backward(function, h, gradOutput, x, gradMatrix, transposed, gradX, steps);
        }
    }

    /// <summary>
    /// The backward sweep of the parallel spiking neurons over <c>[T, M]</c> (the products with the time matrix are <see cref="TimeMixKernel"/>'s), in work items fixed by the shape
    /// alone, so results are bitwise the same for any thread count. A row's last partial vector runs zero-padded
    /// through the same arithmetic, so no formula has a scalar twin.
    /// </summary>
    internal static class ParallelSpikingKernel
    {
        /// <summary>
        /// The backward sweep over blocks of columns of <c>[T, M]</c>, every step of a block while it is in cache:
        /// <c>dL/dH = dL/dspike · g'(H)</c> (kept only in the block's buffer), each step's bias gradient <c>Σ_n dL/dH[t, n]</c>
        /// (returned), and when <paramref name="gradMatrix"/> is given, <c>dL/dW = dL/dH·Xᵀ</c> added into it. The SGEMM
        /// is slow for this product (an output of T×T from a reduction over all of N); here it is T² dot products over
        /// a block that was just written. Sums are taken in float lanes per row of a block and added in double, block by
        /// block in order.
        /// </summary>
        public static double[] Backward<TSurrogate>(in TSurrogate surrogate, Tensor h, Tensor gradOutput, Tensor? x, double[]? gradMatrix, float[]? transposed, Tensor? gradX, int steps)
            where TSurrogate : struct, ISurrogateFunction
        {
            var job = new GradientJob<TSurrogate>(surrogate, h, gradOutput, gradMatrix is null ? null : x, transposed, gradX, steps);
            Parallelism.For(job.Blocks, job.WorkPerBlock, job, static (block, j) => j.Run(block));
            var sums = new double[steps];
            int squared = steps * steps;
            for (int block = 0; block < job.Blocks; block++)
            {
                for (int t = 0; t < steps; t++) sums[t] += job.BiasPartial[block * steps + t];
                if (gradMatrix is null) continue;
                for (int i = 0; i < squared; i++) gradMatrix[i] += job.MatrixPartial![block * squared + i];
            }
            return sums;
        }

        private sealed class GradientJob<TSurrogate> where TSurrogate : struct, ISurrogateFunction
        {
            /// <summary>Columns per block, whose partial sums are kept: a multiple of every vector width and of <see cref="_piece"/>.</summary>
            private const int BlockLength = 4096;

            private readonly TSurrogate _surrogate;
            private readonly Tensor _h, _gradOutput;
            private readonly float[]? _transposed;
            private readonly Tensor? _gradX;
            private readonly Tensor? _x;
            private readonly int _steps, _perStep;

            /// <summary>
            /// Columns staged at a time for the dot products: T rows of dL/dH and of x, contiguous (the rows of a step are
            /// N floats apart, a multiple of 4 KB for most shapes, so read in place they would evict each other from L1),
            /// about 16 KB together: a power of two from 64 to 2048.
            /// </summary>
            private readonly int _piece;

            public GradientJob(TSurrogate surrogate, Tensor h, Tensor gradOutput, Tensor? x, float[]? transposed, Tensor? gradX, int steps)
            {
                _surrogate = surrogate;
                (_h, _gradOutput, _x, _transposed, _gradX, _steps) = (h, gradOutput, x, transposed, gradX, steps);
                _perStep = steps == 0 ? 0 : h.Length / steps;
                _piece = Math.Clamp((int)BitOperations.RoundUpToPowerOf2((uint)(2048 / Math.Max(1, steps)) + 1) / 2, 64, 2048);
                Blocks = (_perStep + BlockLength - 1) / BlockLength;
                WorkPerBlock = (long)BlockLength * steps * (x is null ? 4 : 4 + 2 * steps);
                BiasPartial = new double[Blocks * steps];
                MatrixPartial = x is null ? null : new double[Blocks * steps * steps];
            }

            public int Blocks { get; }

            public long WorkPerBlock { get; }

            /// <summary>Each block's sum of <c>dL/dH</c> per step, <c>[block, t]</c>.</summary>
            public double[] BiasPartial { get; }

            /// <summary>Each block's <c>dL/dW</c>, <c>[block, t, j]</c>, when the weight learns.</summary>
            public double[]? MatrixPartial { get; }

            public void Run(int block)
            {
                switch (SimdWidth.Bits)
                {
                    case 512: Sweep<Simd512, Vector512<float>>(block); break;
                    case 256: Sweep<Simd256, Vector256<float>>(block); break;
                    default: Sweep<Simd128, Vector128<float>>(block); break;
                }
            }

            private void Sweep<TSimd, TVec>(int block) where TSimd : struct, ISimd<TVec> where TVec : struct
            {
                int start = block * BlockLength, length = Math.Min(BlockLength, _perStep - start);
                int steps = _steps, piece = _piece, count = TSimd.Count, squared = steps * steps;
                bool weights = _x is not null;
                // staged dL/dH [T, piece] and zero rows up to a multiple of four | staged x [T, piece] and a zero row up to a
                // multiple of two | the dot products' float lanes [T·T, count]. The zero rows let the 4×2 tiles of the
                // dot products run without edge cases.
                int gradRows = (steps + 3) / 4 * 4, xRows = (steps + 1) / 2 * 2;
                int xAt = gradRows * piece, lanesAt = xAt + xRows * piece, size = lanesAt + (weights ? squared * count : 0);
                var rented = ArrayPool<float>.Shared.Rent(size);
                try
                {
                    var buffer = rented.AsSpan(0, size);
                    buffer[(steps * piece)..xAt].Clear();
                    buffer[(xAt + steps * piece)..].Clear();
                    var surrogate = _surrogate;
                    Span<float> tail = stackalloc float[2 * count];
                    var hs = _h.AsReadOnlySpan();
                    var gs = _gradOutput.AsReadOnlySpan();
                    var gradXs = _gradX is null ? default : _gradX.AsSpan();
                    var xs = weights ? _x!.AsReadOnlySpan() : default;
                    for (int t = 0; t < steps; t++) BiasPartial[block * steps + t] = 0;
                    for (int from = 0; from < length; from += piece)
                    {
                        int columns = Math.Min(piece, length - from);
                        // Zero padding up to whole groups of four vectors, so the dot products need no tail.
                        int padded = (columns + 4 * count - 1) / (4 * count) * (4 * count);
                        for (int t = 0; t < steps; t++)
                        {
                            int offset = t * _perStep + start + from;
                            var staged = buffer.Slice(t * piece, padded);
                            BiasPartial[block * steps + t] += GradientRow<TSimd, TVec>(surrogate, hs.Slice(offset, columns), gs.Slice(offset, columns), staged[..columns], tail);
                            staged[columns..].Clear();
                        }
                        // dL/dX = Wᵀ·dL/dH for these columns while dL/dH is in this buffer: it never goes to memory.
                        if (!gradXs.IsEmpty) TimeMixKernel.MultiplyBlock<TSimd, TVec>(_transposed!, steps, buffer, piece, gradXs, _perStep, start + from, columns);
                        if (!weights) continue;
                        for (int j = 0; j < steps; j++)
                        {
                            var staged = buffer.Slice(xAt + j * piece, padded);
                            xs.Slice(j * _perStep + start + from, columns).CopyTo(staged);
                            staged[columns..].Clear();
                        }
                        ref float first = ref MemoryMarshal.GetReference(buffer);
                        for (int t0 = 0; t0 < steps; t0 += 4)
                        {
                            for (int j0 = 0; j0 < steps; j0 += 2)
                            {
                                DotTile<TSimd, TVec>(ref Unsafe.Add(ref first, t0 * piece), ref Unsafe.Add(ref first, xAt + j0 * piece), piece, padded,
                                    ref Unsafe.Add(ref first, lanesAt), t0, j0, steps);
                            }
                        }
                    }
                    if (!weights) return;
                    for (int e = 0; e < squared; e++) MatrixPartial![block * squared + e] = SumLanes<TSimd, TVec>(TSimd.Load(ref buffer[lanesAt + e * count]), tail);
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(rented);
                }
            }

            /// <summary>
            /// The dot products of rows t0..t0+3 of the staged <c>dL/dH</c> with rows j0, j0+1 of the staged x over
            /// <paramref name="length"/> columns (whole vectors), as float lanes added into <c>lanes[t·T + j]</c> for the
            /// pairs inside T: eight accumulators, so each loaded vector serves two or four multiply-adds.
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void DotTile<TSimd, TVec>(ref float grad, ref float x, int stride, int length, ref float lanes, int t0, int j0, int steps)
                where TSimd : struct, ISimd<TVec> where TVec : struct
            {
                int count = TSimd.Count;
                TVec s00 = TSimd.Zero, s01 = TSimd.Zero, s10 = TSimd.Zero, s11 = TSimd.Zero;
                TVec s20 = TSimd.Zero, s21 = TSimd.Zero, s30 = TSimd.Zero, s31 = TSimd.Zero;
                for (int i = 0; i < length; i += count)
                {
                    var x0 = TSimd.Load(ref Unsafe.Add(ref x, i));
                    var x1 = TSimd.Load(ref Unsafe.Add(ref x, stride + i));
                    var g = TSimd.Load(ref Unsafe.Add(ref grad, i));
                    s00 = TSimd.MultiplyAdd(g, x0, s00);
                    s01 = TSimd.MultiplyAdd(g, x1, s01);
                    g = TSimd.Load(ref Unsafe.Add(ref grad, stride + i));
                    s10 = TSimd.MultiplyAdd(g, x0, s10);
                    s11 = TSimd.MultiplyAdd(g, x1, s11);
                    g = TSimd.Load(ref Unsafe.Add(ref grad, 2 * stride + i));
                    s20 = TSimd.MultiplyAdd(g, x0, s20);
                    s21 = TSimd.MultiplyAdd(g, x1, s21);
                    g = TSimd.Load(ref Unsafe.Add(ref grad, 3 * stride + i));
                    s30 = TSimd.MultiplyAdd(g, x0, s30);
                    s31 = TSimd.MultiplyAdd(g, x1, s31);
                }
                AddLanes<TSimd, TVec>(ref lanes, t0, j0, steps, s00, s01);
                AddLanes<TSimd, TVec>(ref lanes, t0 + 1, j0, steps, s10, s11);
                AddLanes<TSimd, TVec>(ref lanes, t0 + 2, j0, steps, s20, s21);
                AddLanes<TSimd, TVec>(ref lanes, t0 + 3, j0, steps, s30, s31);
            }

            /// <summary>Adds the sums of (t, j0) and (t, j0 + 1) into their lanes, for the pairs inside T.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void AddLanes<TSimd, TVec>(ref float lanes, int t, int j0, int steps, TVec first, TVec second)
                where TSimd : struct, ISimd<TVec> where TVec : struct
            {
                if (t >= steps) return;
                ref float a = ref Unsafe.Add(ref lanes, (t * steps + j0) * TSimd.Count);
                TSimd.Store(TSimd.Add(TSimd.Load(ref a), first), ref a);
                if (j0 + 1 >= steps) return;
                ref float b = ref Unsafe.Add(ref a, TSimd.Count);
                TSimd.Store(TSimd.Add(TSimd.Load(ref b), second), ref b);
            }

            /// <summary>One row of <c>dL/dH</c>; returns its sum (float lanes over the row, added in double).</summary>
            private static double GradientRow<TSimd, TVec>(in TSurrogate surrogate, ReadOnlySpan<float> h, ReadOnlySpan<float> g, Span<float> gradH, Span<float> tail)
                where TSimd : struct, ISimd<TVec> where TVec : struct
            {
                int count = TSimd.Count, length = h.Length, full = length - length % count;
                ref float hFirst = ref MemoryMarshal.GetReference(h);
                ref float gFirst = ref MemoryMarshal.GetReference(g);
                ref float outFirst = ref MemoryMarshal.GetReference(gradH);
                var lanes = TSimd.Zero;
                for (int i = 0; i < full; i += count)
                {
                    var d = TSimd.Multiply(TSimd.Load(ref Unsafe.Add(ref gFirst, i)), surrogate.Derivative<TSimd, TVec>(TSimd.Load(ref Unsafe.Add(ref hFirst, i))));
                    TSimd.Store(d, ref Unsafe.Add(ref outFirst, i));
                    lanes = TSimd.Add(lanes, d);
                }
                if (full < length)
                {
                    int rest = length - full;
                    tail.Clear();
                    h[full..].CopyTo(tail);
                    g[full..].CopyTo(tail[count..]);
                    // Padded lanes have upstream gradient 0, so they add nothing to the sum.
                    var d = TSimd.Multiply(TSimd.Load(ref tail[count]), surrogate.Derivative<TSimd, TVec>(TSimd.Load(ref MemoryMarshal.GetReference(tail))));
                    TSimd.Store(d, ref MemoryMarshal.GetReference(tail));
                    tail[..rest].CopyTo(gradH[full..]);
                    lanes = TSimd.Add(lanes, d);
                }
                return SumLanes<TSimd, TVec>(lanes, tail);
            }

            /// <summary>The lanes of <paramref name="lanes"/> added in double, in lane order.</summary>
            private static double SumLanes<TSimd, TVec>(TVec lanes, Span<float> scratch) where TSimd : struct, ISimd<TVec> where TVec : struct
            {
                TSimd.Store(lanes, ref MemoryMarshal.GetReference(scratch));
                double sum = 0;
                foreach (float lane in scratch[..TSimd.Count]) sum += lane;
                return sum;
            }
        }
    }
}

using System;
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
        public abstract void WeightGradient(ReadOnlySpan<float> gradMatrix, int steps, Span<float> gradWeight);

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

        /// <summary>Each step's bias gradient as the bias gradient, in float.</summary>
        protected static void PerStep(ReadOnlySpan<double> gradStepBias, Span<float> gradBias)
        {
            for (int t = 0; t < gradBias.Length; t++) gradBias[t] = (float)gradStepBias[t];
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

            public override void WeightGradient(ReadOnlySpan<float> gradMatrix, int steps, Span<float> gradWeight) => gradMatrix.CopyTo(gradWeight);

            public override void BiasGradient(ReadOnlySpan<double> gradStepBias, Span<float> gradBias) => PerStep(gradStepBias, gradBias);
        }
    }

    /// <summary>
    /// The fused op of the parallel spiking neurons: inputs x, weight, bias. The forward builds the effective matrix,
    /// multiplies it into <c>H</c> with the SGEMM, adds each step's bias and fires into bits in one sweep; it saves
    /// <c>H</c>, the matrix and (when the weight learns) a view of x. The backward evaluates the surrogate into
    /// <c>dL/dH</c> while summing the bias gradient, then takes <c>dL/dX</c> and the matrix's gradient with the SGEMM.
    /// </summary>
    internal sealed class ParallelSpikingNode : Node
    {
        private readonly ParallelWeights _weights;
        private readonly Surrogate _surrogate;
        private readonly float[] _matrix;
        private readonly Tensor _h;
        private readonly SavedTensor? _x;
        private readonly int _steps, _rowLength;

        private ParallelSpikingNode(Variable x, Variable weight, Variable bias, ParallelWeights weights, Surrogate surrogate, float[] matrix, Tensor h)
            : base(x, weight, bias)
        {
            _weights = weights;
            _surrogate = surrogate;
            _matrix = matrix;
            _h = h;
            _x = weight.RequiresGrad ? new SavedTensor(x.Dense, $"the input of the {weights.Name} neuron") : null;
            _steps = x.Shape[0];
            _rowLength = x.Shape.LastDimension;
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
            int perStep = shape.ElementCount / Math.Max(1, steps);
            var h = Tensor.Empty(shape);
            var spikes = SpikeTensor.Zeros(shape);
            Gemm.Multiply(matrix, false, x.Dense.AsReadOnlySpan(), false, h.AsSpan(), steps, perStep, steps);
            ParallelSpikingKernel.Fire(h, stepBias, spikes, steps, shape.LastDimension);

            recorded = null;
            if (traces)
            {
                recorded = new NeuronTraces();
                recorded.Add("h", h.Reshape(shape));
                if (weights.MatrixTrace is { } name) recorded.Add(name, Tensor.FromSpan(matrix, new Shape(steps, steps)));
            }
            var node = Record(() => new ParallelSpikingNode(x, weight, bias, weights, surrogate, matrix, h), x, weight, bias);
            if (node is null) h.Dispose();
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
            int perStep = _h.Length / Math.Max(1, _steps);
            using var gradH = Tensor.Empty(new Shape(_steps, perStep));
            var gradStepBias = _surrogate.Accept(new SurrogateGradient(_h, gradOutput, gradH, _steps, _rowLength));
            Tensor? gradX = null, gradWeight = null, gradBias = null;
            if (NeedsGrad(0))
            {
                gradX = Tensor.Empty(Inputs[0].Shape);
                Gemm.Multiply(_matrix, true, gradH.AsReadOnlySpan(), false, gradX.AsSpan(), _steps, perStep, _steps);
            }
            if (NeedsGrad(1))
            {
                var gradMatrix = new float[_steps * _steps];
                Gemm.Multiply(gradH.AsReadOnlySpan(), false, _x!.Value.AsReadOnlySpan(), true, gradMatrix, _steps, _steps, perStep);
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

        protected internal override void ReleaseSaved()
        {
            _h.Dispose();
            _x?.Release();
        }

        /// <summary>Runs the surrogate pass compiled for the surrogate's operator struct.</summary>
        private sealed class SurrogateGradient(Tensor h, Tensor gradOutput, Tensor gradH, int steps, int rowLength) : ISurrogateVisitor<double[]>
        {
            public double[] Visit<TFunction>(in TFunction function) where TFunction : struct, ISurrogateFunction =>
                ParallelSpikingKernel.SurrogateGradient(function, h, gradOutput, gradH, steps, rowLength);
        }
    }

    /// <summary>
    /// The element-wise sweeps around the parallel spiking neurons' SGEMMs, over <c>[T, rows, rowLength]</c>: items of
    /// one step and a block of whole rows, fixed by the shape alone, so results are bitwise the same for any thread
    /// count. A row's last partial vector runs zero-padded through the same arithmetic, so no formula has a scalar twin.
    /// </summary>
    internal static class ParallelSpikingKernel
    {
        /// <summary>Adds each step's bias to <paramref name="h"/> in place and writes <c>h ≥ 0</c> to <paramref name="spikes"/>.</summary>
        public static void Fire(Tensor h, float[] stepBias, SpikeTensor spikes, int steps, int rowLength)
        {
            var job = new FireJob(h, stepBias, spikes, steps, rowLength);
            Parallelism.For(job.Items, job.WorkPerItem, job, static (item, j) => j.Run(item));
        }

        /// <summary>
        /// <c>dL/dH = dL/dspike · g'(H)</c> into <paramref name="gradH"/>; returns each step's bias gradient
        /// <c>Σ_n dL/dH[t, n]</c>, summed in double per row and block in a fixed order.
        /// </summary>
        public static double[] SurrogateGradient<TSurrogate>(in TSurrogate surrogate, Tensor h, Tensor gradOutput, Tensor gradH, int steps, int rowLength)
            where TSurrogate : struct, ISurrogateFunction
        {
            var job = new GradientJob<TSurrogate>(surrogate, h, gradOutput, gradH, steps, rowLength);
            Parallelism.For(job.Items, job.WorkPerItem, job, static (item, j) => j.Run(item));
            var sums = new double[steps];
            for (int item = 0; item < job.Items; item++) sums[item / job.Blocks] += job.Partial[item];
            return sums;
        }

        /// <summary>Splits each step's rows into blocks of whole rows; an item is one block of one step.</summary>
        private abstract class RowBlocks
        {
            protected RowBlocks(int length, int steps, int rowLength)
            {
                RowLength = Math.Max(1, rowLength);
                RowsPerStep = steps == 0 || rowLength == 0 ? 0 : length / steps / rowLength;
                RowsPerBlock = NeuronKernel.RowsPerChunk(RowLength);
                Blocks = (RowsPerStep + RowsPerBlock - 1) / RowsPerBlock;
                Items = steps * Blocks;
                WorkPerItem = (long)RowsPerBlock * RowLength * 4;
            }

            public int RowLength { get; }

            public int RowsPerStep { get; }

            public int RowsPerBlock { get; }

            public int Blocks { get; }

            public int Items { get; }

            public long WorkPerItem { get; }

            /// <summary>The step of <paramref name="item"/>, its first row (counting rows over all steps) and its number of rows.</summary>
            protected (int Step, int FirstRow, int Rows) Block(int item)
            {
                int step = item / Blocks, block = item % Blocks;
                int first = block * RowsPerBlock;
                return (step, step * RowsPerStep + first, Math.Min(RowsPerBlock, RowsPerStep - first));
            }
        }

        private sealed class FireJob : RowBlocks
        {
            private readonly Tensor _h;
            private readonly float[] _stepBias;
            private readonly SpikeTensor _spikes;

            public FireJob(Tensor h, float[] stepBias, SpikeTensor spikes, int steps, int rowLength) : base(h.Length, steps, rowLength)
            {
                (_h, _stepBias, _spikes) = (h, stepBias, spikes);
            }

            public void Run(int item)
            {
                switch (SimdWidth.Bits)
                {
                    case 512: Sweep<Simd512, Vector512<float>>(item); break;
                    case 256: Sweep<Simd256, Vector256<float>>(item); break;
                    default: Sweep<Simd128, Vector128<float>>(item); break;
                }
            }

            private void Sweep<TSimd, TVec>(int item) where TSimd : struct, ISimd<TVec> where TVec : struct
            {
                var (step, firstRow, rows) = Block(item);
                var bias = TSimd.Broadcast(_stepBias[step]);
                Span<float> tail = stackalloc float[TSimd.Count];
                var values = _h.AsSpan();
                var words = _spikes.Words;
                int wordsPerRow = _spikes.WordsPerRow;
                for (int r = firstRow; r < firstRow + rows; r++)
                {
                    FireRow<TSimd, TVec>(values.Slice(r * RowLength, RowLength), bias, words.Slice(r * wordsPerRow, wordsPerRow), tail);
                }
            }

            /// <summary>One row: <c>h += b</c>, and its bits (a row starts on a word, and a vector never straddles two words).</summary>
            private static void FireRow<TSimd, TVec>(Span<float> row, TVec bias, Span<ulong> words, Span<float> tail)
                where TSimd : struct, ISimd<TVec> where TVec : struct
            {
                int count = TSimd.Count, length = row.Length, full = length - length % count;
                ref float first = ref MemoryMarshal.GetReference(row);
                ulong word = 0;
                for (int i = 0; i < full; i += count)
                {
                    var v = TSimd.Add(TSimd.Load(ref Unsafe.Add(ref first, i)), bias);
                    TSimd.Store(v, ref Unsafe.Add(ref first, i));
                    word |= TSimd.GreaterThanOrEqualMask(v, TSimd.Zero) << (i & 63);
                    if (((i + count) & 63) == 0)
                    {
                        words[i >> 6] = word;
                        word = 0;
                    }
                }
                if (full < length)
                {
                    int rest = length - full;
                    tail.Clear();
                    row[full..].CopyTo(tail);
                    var v = TSimd.Add(TSimd.Load(ref MemoryMarshal.GetReference(tail)), bias);
                    TSimd.Store(v, ref MemoryMarshal.GetReference(tail));
                    tail[..rest].CopyTo(row[full..]);
                    word |= (TSimd.GreaterThanOrEqualMask(v, TSimd.Zero) & ((1UL << rest) - 1)) << (full & 63);
                }
                if ((length & 63) != 0) words[length >> 6] = word;
            }
        }

        private sealed class GradientJob<TSurrogate> : RowBlocks where TSurrogate : struct, ISurrogateFunction
        {
            private readonly TSurrogate _surrogate;
            private readonly Tensor _h, _gradOutput, _gradH;

            public GradientJob(TSurrogate surrogate, Tensor h, Tensor gradOutput, Tensor gradH, int steps, int rowLength) : base(h.Length, steps, rowLength)
            {
                _surrogate = surrogate;
                (_h, _gradOutput, _gradH) = (h, gradOutput, gradH);
                Partial = new double[Items];
            }

            /// <summary>Each item's sum of <c>dL/dH</c>.</summary>
            public double[] Partial { get; }

            public void Run(int item)
            {
                switch (SimdWidth.Bits)
                {
                    case 512: Sweep<Simd512, Vector512<float>>(item); break;
                    case 256: Sweep<Simd256, Vector256<float>>(item); break;
                    default: Sweep<Simd128, Vector128<float>>(item); break;
                }
            }

            private void Sweep<TSimd, TVec>(int item) where TSimd : struct, ISimd<TVec> where TVec : struct
            {
                var (_, firstRow, rows) = Block(item);
                var surrogate = _surrogate;
                int count = TSimd.Count;
                Span<float> tail = stackalloc float[2 * count];
                var hs = _h.AsReadOnlySpan();
                var gs = _gradOutput.AsReadOnlySpan();
                var outs = _gradH.AsSpan();
                double sum = 0;
                for (int r = firstRow; r < firstRow + rows; r++)
                {
                    int offset = r * RowLength;
                    sum += GradientRow<TSimd, TVec>(surrogate, hs.Slice(offset, RowLength), gs.Slice(offset, RowLength), outs.Slice(offset, RowLength), tail);
                }
                Partial[item] = sum;
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
                TSimd.Store(lanes, ref MemoryMarshal.GetReference(tail));
                double sum = 0;
                foreach (float lane in tail[..count]) sum += lane;
                return sum;
            }
        }
    }
}

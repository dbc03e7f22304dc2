using System;
using System.Buffers;
using System.Globalization;
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
        /// SpikingJelly's <c>FewSpikeNode</c> (few-spikes coding) in multi-step mode over <paramref name="xSeq"/>
        /// <c>[K, ...]</c>, one fused op: <c>gate = Σ_t x_t</c>, <c>u_0 = gate</c>, and for <c>k = 0..K−1</c>
        /// <c>z_k = heaviside(u_k − θ_k)</c>, <c>y_k = d_k·z_k</c>, <c>u_{k+1} = u_k − h_k·z_k</c>; the output is
        /// <c>y</c> <c>[K, ...]</c>. The backward runs back through the K steps with the surrogate at <c>u_k − θ_k</c>
        /// (the spike also drives <c>u</c>, undetached): <c>dL/du_k = dL/du_{k+1} + g'(u_k − θ_k)·(dL/dy_k·d_k − h_k·dL/du_{k+1})</c>,
        /// and every input step gets <c>dL/dgate = dL/du_0</c>. Only the gate is saved; the backward recomputes <c>u</c>.
        /// </summary>
        /// <param name="xSeq">The input, <c>[K, ...]</c> (<c>[K]</c> alone is one neuron, as in SpikingJelly); dense, on the CPU.</param>
        /// <param name="theta">The thresholds <c>θ</c>, <c>[K]</c>.</param>
        /// <param name="h">The amounts subtracted after a spike, <c>[K]</c>.</param>
        /// <param name="d">The output weights, <c>[K]</c>.</param>
        /// <param name="surrogate">The surrogate gradient of the spike function (SpikingJelly's default here is <see cref="Sigmoid"/>).</param>
        /// <exception cref="ArgumentException">The input holds spikes, is a scalar, or has a time length other than K; or the table is not three host vectors of one length K ≥ 1 with finite values (the message names which).</exception>
        /// <exception cref="NotSupportedException">The input is on a device; the message names the op and the device.</exception>
        public static Variable FewSpike(Variable xSeq, Tensor theta, Tensor h, Tensor d, Surrogate surrogate) =>
            FewSpikeNode.Run(xSeq, theta, h, d, surrogate, traces: false, out _);

        /// <summary>
        /// <see cref="FewSpike(Variable, Tensor, Tensor, Tensor, Surrogate)"/> that also returns the traces <c>spike</c>
        /// (<c>z</c> as 0/1, <c>[K, ...]</c>), <c>h</c> (<c>u_k</c>, the value compared with <c>θ_k</c>, <c>[K, ...]</c>) and
        /// <c>gate</c> (one step's shape); the caller owns them.
        /// </summary>
        /// <exception cref="ArgumentException">The input or the table is not as <see cref="FewSpike(Variable, Tensor, Tensor, Tensor, Surrogate)"/> needs.</exception>
        /// <exception cref="NotSupportedException">The input is on a device.</exception>
        public static Variable FewSpike(Variable xSeq, Tensor theta, Tensor h, Tensor d, Surrogate surrogate, out NeuronTraces traces)
        {
            var output = FewSpikeNode.Run(xSeq, theta, h, d, surrogate, traces: true, out var recorded);
            traces = recorded!;
            return output;
        }
    }
}

namespace Spiking.Autograd.Neurons
{
    /// <summary>
    /// The fused few-spikes op: input x only (the table is constant). Saves the gate and a copy of the table; the
    /// backward recomputes <c>u_k</c> from the gate with the forward's own step, so both see the same bits.
    /// </summary>
    internal sealed class FewSpikeNode : Node
    {
        private readonly FewSpikeTable _table;
        private readonly Surrogate _surrogate;
        private readonly Tensor _gate;

        private FewSpikeNode(Variable x, FewSpikeTable table, Surrogate surrogate, Tensor gate) : base(x)
        {
            _table = table;
            _surrogate = surrogate;
            _gate = gate;
        }

        public override string Name => "neuron FewSpike";

        public static Variable Run(Variable xSeq, Tensor theta, Tensor h, Tensor d, Surrogate surrogate, bool traces, out NeuronTraces? recorded)
        {
            NeuronChecks.Input(xSeq, 1, "[K, ...]: time first", nameof(xSeq));
            ArgumentNullException.ThrowIfNull(surrogate);
            if (xSeq.Device.Kind != DeviceKind.Cpu) throw OpChecks.NoDeviceKernel("The FewSpikeNode neuron", xSeq.Device, "the few-spikes neuron runs on the CPU");
            var table = FewSpikeTable.From(theta, h, d);
            if (xSeq.Shape[0] != table.K)
            {
                throw new ArgumentException(
                    $"FewSpikeNode: the input's time length is {xSeq.Shape[0]} (shape {xSeq.Shape}), but the table has K = {table.K} entries; the input must be [K, ...].",
                    nameof(xSeq));
            }
            var shape = xSeq.Shape;
            var stepShape = shape.DropLeading();
            var y = Tensor.Empty(shape);
            var gate = Tensor.Empty(stepShape);
            recorded = traces ? new NeuronTraces() : null;
            var u = traces ? Tensor.Empty(shape) : null;
            var z = traces ? Tensor.Empty(shape) : null;
            FewSpikeKernel.Forward(table, xSeq.Dense, y, gate, u, z);
            if (recorded is not null)
            {
                recorded.Add("spike", z!);
                recorded.Add("h", u!);
                recorded.Add("gate", gate.Reshape(stepShape));
            }
            var node = Record(() => new FewSpikeNode(xSeq, table, surrogate, gate), xSeq);
            if (node is null) gate.Dispose();
            return Variable.FromOp(y, node);
        }

        protected internal override Tensor?[] Backward(Tensor gradOutput)
        {
            var gradX = Tensor.Empty(Inputs[0].Shape);
            _surrogate.Accept(new SurrogateBackward(_table, _gate, gradOutput, gradX));
            return [gradX];
        }

        protected internal override void DescribeSaved(SavedTensorSink saved)
        {
            saved.Add("gate", _gate);
        }

        protected internal override void ReleaseSaved() => _gate.Dispose();

        private sealed class SurrogateBackward(FewSpikeTable table, Tensor gate, Tensor gradOutput, Tensor gradX) : ISurrogateVisitor<bool>
        {
            public bool Visit<TFunction>(in TFunction function) where TFunction : struct, ISurrogateFunction
            {
                FewSpikeKernel.Backward(table, function, gate, gradOutput, gradX);
                return true;
            }
        }
    }

    /// <summary>The few-spikes coding table: K thresholds, subtractions and output weights, copied from the caller's vectors.</summary>
    internal sealed class FewSpikeTable
    {
        private FewSpikeTable(float[] theta, float[] h, float[] d)
        {
            (Theta, H, D) = (theta, h, d);
        }

        public float[] Theta { get; }

        public float[] H { get; }

        public float[] D { get; }

        public int K => Theta.Length;

        /// <summary>Checks and copies the three vectors.</summary>
        public static FewSpikeTable From(Tensor theta, Tensor h, Tensor d)
        {
            var t = Vector(theta, nameof(theta));
            var hs = Vector(h, nameof(h));
            var ds = Vector(d, nameof(d));
            if (hs.Length != t.Length || ds.Length != t.Length)
            {
                throw new ArgumentException(
                    $"FewSpikeNode: theta, h and d must have the same length K; got {t.Length}, {hs.Length} and {ds.Length}.", hs.Length != t.Length ? nameof(h) : nameof(d));
            }
            return new FewSpikeTable(t, hs, ds);
        }

        private static float[] Vector(Tensor values, string name)
        {
            ArgumentNullException.ThrowIfNull(values, name);
            if (!values.IsOnHost) throw OpChecks.NoDeviceKernel($"The FewSpikeNode neuron (its table '{name}')", values.Device, "the few-spikes neuron runs on the CPU");
            if (values.Rank != 1 || values.Length == 0)
            {
                throw new ArgumentException($"FewSpikeNode: '{name}' must be a non-empty vector [K]; got shape {values.Shape}.", name);
            }
            var copy = values.ToArray();
            for (int i = 0; i < copy.Length; i++)
            {
                if (!float.IsFinite(copy[i]))
                {
                    throw new ArgumentException($"FewSpikeNode: '{name}' must hold finite numbers; {name}[{i}] is {copy[i].ToString(CultureInfo.InvariantCulture)}.", name);
                }
            }
            return copy;
        }
    }

    /// <summary>
    /// The few-spikes forward and backward over <c>[K, M]</c>, in blocks of neurons fixed by the shape (bitwise the same
    /// for any thread count). Each vector of neurons runs all K steps in registers; a block's last partial vector runs
    /// zero-padded through the same code.
    /// </summary>
    internal static class FewSpikeKernel
    {
        /// <summary>Neurons per block: a multiple of every vector width.</summary>
        private const int BlockLength = 4096;

        public static void Forward(FewSpikeTable table, Tensor x, Tensor y, Tensor gate, Tensor? u, Tensor? z)
        {
            var job = new ForwardJob(table, x, y, gate, u, z);
            Parallelism.For(job.Blocks, (long)BlockLength * table.K * 4, job, static (b, j) => j.Run(b));
        }

        public static void Backward<TSurrogate>(FewSpikeTable table, in TSurrogate surrogate, Tensor gate, Tensor gradOutput, Tensor gradX)
            where TSurrogate : struct, ISurrogateFunction
        {
            var job = new BackwardJob<TSurrogate>(table, surrogate, gate, gradOutput, gradX);
            Parallelism.For(job.Blocks, (long)BlockLength * table.K * 8, job, static (b, j) => j.Run(b));
        }

        /// <summary>One coding step: <c>z = heaviside(u − θ)</c> as 0/1, and the next <c>u − h·z</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TVec Step<TSimd, TVec>(TVec u, float theta, float h, out TVec z) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            z = TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(u, TSimd.Broadcast(theta)));
            return TSimd.Subtract(u, TSimd.Multiply(TSimd.Broadcast(h), z));
        }

        private abstract class Blocked(FewSpikeTable table, int perStep)
        {
            protected FewSpikeTable Table { get; } = table;

            protected int PerStep { get; } = perStep;

            public int Blocks { get; } = (perStep + BlockLength - 1) / BlockLength;

            /// <summary>The first neuron of <paramref name="block"/> and its number of neurons.</summary>
            protected (int Start, int Length) Range(int block) => (block * BlockLength, Math.Min(BlockLength, PerStep - block * BlockLength));

            public void Run(int block)
            {
                switch (SimdWidth.Bits)
                {
                    case 512: Sweep<Simd512, Vector512<float>>(block); break;
                    case 256: Sweep<Simd256, Vector256<float>>(block); break;
                    default: Sweep<Simd128, Vector128<float>>(block); break;
                }
            }

            protected abstract void Sweep<TSimd, TVec>(int block) where TSimd : struct, ISimd<TVec> where TVec : struct;
        }

        private sealed class ForwardJob(FewSpikeTable table, Tensor x, Tensor y, Tensor gate, Tensor? u, Tensor? z) : Blocked(table, gate.Length)
        {
            protected override void Sweep<TSimd, TVec>(int block)
            {
                var (start, length) = Range(block);
                int count = TSimd.Count, k = Table.K, full = length - length % count;
                bool traced = u is not null;
                nint stride = PerStep;
                ref float xs = ref MemoryMarshal.GetReference(x.AsReadOnlySpan());
                ref float ys = ref MemoryMarshal.GetReference(y.AsSpan());
                ref float gs = ref MemoryMarshal.GetReference(gate.AsSpan());
                ref float us = ref traced ? ref MemoryMarshal.GetReference(u!.AsSpan()) : ref ys;
                ref float zs = ref traced ? ref MemoryMarshal.GetReference(z!.AsSpan()) : ref ys;
                for (int i = start; i < start + full; i += count)
                {
                    OneVector<TSimd, TVec>(ref Unsafe.Add(ref xs, i), ref Unsafe.Add(ref ys, i), ref Unsafe.Add(ref gs, i),
                        ref Unsafe.Add(ref us, i), ref Unsafe.Add(ref zs, i), stride, traced);
                }
                if (full == length) return;
                // The last partial vector, staged zero-padded with a stride of one vector: x | y | gate | u | z.
                int rest = length - full, at = start + full;
                var rented = ArrayPool<float>.Shared.Rent((4 * k + 1) * count);
                try
                {
                    var stage = rented.AsSpan(0, (4 * k + 1) * count);
                    stage.Clear();
                    var input = x.AsReadOnlySpan();
                    for (int t = 0; t < k; t++) input.Slice(t * PerStep + at, rest).CopyTo(stage.Slice(t * count, rest));
                    ref float s = ref MemoryMarshal.GetReference(stage);
                    OneVector<TSimd, TVec>(ref s, ref Unsafe.Add(ref s, k * count), ref Unsafe.Add(ref s, 2 * k * count),
                        ref Unsafe.Add(ref s, 2 * k * count + count), ref Unsafe.Add(ref s, 3 * k * count + count), count, traced);
                    Unstage(stage.Slice(k * count, k * count), y, at, rest, count, k);
                    stage.Slice(2 * k * count, rest).CopyTo(gate.AsSpan().Slice(at, rest));
                    if (!traced) return;
                    Unstage(stage.Slice(2 * k * count + count, k * count), u!, at, rest, count, k);
                    Unstage(stage.Slice(3 * k * count + count, k * count), z!, at, rest, count, k);
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(rented);
                }
            }

            /// <summary>All K steps of one vector of neurons; step t of a series is <paramref name="stride"/> floats after step t − 1.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private void OneVector<TSimd, TVec>(ref float x, ref float y, ref float gate, ref float u, ref float z, nint stride, bool traced)
                where TSimd : struct, ISimd<TVec> where TVec : struct
            {
                var table = Table;
                int k = table.K;
                var sum = TSimd.Zero;
                for (int t = 0; t < k; t++) sum = TSimd.Add(sum, TSimd.Load(ref Unsafe.Add(ref x, t * stride)));
                TSimd.Store(sum, ref gate);
                var potential = sum;
                for (int step = 0; step < k; step++)
                {
                    if (traced) TSimd.Store(potential, ref Unsafe.Add(ref u, step * stride));
                    potential = Step<TSimd, TVec>(potential, table.Theta[step], table.H[step], out var spike);
                    TSimd.Store(TSimd.Multiply(TSimd.Broadcast(table.D[step]), spike), ref Unsafe.Add(ref y, step * stride));
                    if (traced) TSimd.Store(spike, ref Unsafe.Add(ref z, step * stride));
                }
            }
        }

        private sealed class BackwardJob<TSurrogate>(FewSpikeTable table, TSurrogate surrogate, Tensor gate, Tensor gradOutput, Tensor gradX)
            : Blocked(table, gate.Length) where TSurrogate : struct, ISurrogateFunction
        {
            private readonly TSurrogate _surrogate = surrogate;

            protected override void Sweep<TSimd, TVec>(int block)
            {
                var (start, length) = Range(block);
                int count = TSimd.Count, k = Table.K, full = length - length % count;
                var surrogate = _surrogate;
                nint stride = PerStep;
                // u_0 .. u_{K−1} of the current vector | the staged last partial vector: gate | dL/dy | dL/dx.
                var rented = ArrayPool<float>.Shared.Rent((3 * k + 1) * count);
                try
                {
                    var buffer = rented.AsSpan(0, (3 * k + 1) * count);
                    ref float potentials = ref MemoryMarshal.GetReference(buffer);
                    ref float gates = ref MemoryMarshal.GetReference(gate.AsReadOnlySpan());
                    ref float gy = ref MemoryMarshal.GetReference(gradOutput.AsReadOnlySpan());
                    ref float gx = ref MemoryMarshal.GetReference(gradX.AsSpan());
                    for (int i = start; i < start + full; i += count)
                    {
                        OneVector<TSimd, TVec>(surrogate, ref Unsafe.Add(ref gates, i), ref Unsafe.Add(ref gy, i), ref Unsafe.Add(ref gx, i), stride, ref potentials);
                    }
                    if (full == length) return;
                    int rest = length - full, at = start + full;
                    var stage = buffer[(k * count)..];
                    stage.Clear();
                    gate.AsReadOnlySpan().Slice(at, rest).CopyTo(stage);
                    var g = gradOutput.AsReadOnlySpan();
                    for (int t = 0; t < k; t++) g.Slice(t * PerStep + at, rest).CopyTo(stage.Slice(count + t * count, rest));
                    ref float s = ref MemoryMarshal.GetReference(stage);
                    OneVector<TSimd, TVec>(surrogate, ref s, ref Unsafe.Add(ref s, count), ref Unsafe.Add(ref s, count + k * count), count, ref potentials);
                    Unstage(stage.Slice(count + k * count, k * count), gradX, at, rest, count, k);
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(rented);
                }
            }

            /// <summary>The backward of all K steps of one vector of neurons, recomputing <c>u_k</c> into <paramref name="potentials"/>.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private void OneVector<TSimd, TVec>(in TSurrogate surrogate, ref float gate, ref float gradY, ref float gradX, nint stride, ref float potentials)
                where TSimd : struct, ISimd<TVec> where TVec : struct
            {
                var table = Table;
                int k = table.K, count = TSimd.Count;
                var u = TSimd.Load(ref gate);
                for (int step = 0; step < k; step++)
                {
                    TSimd.Store(u, ref Unsafe.Add(ref potentials, step * count));
                    u = Step<TSimd, TVec>(u, table.Theta[step], table.H[step], out _);
                }
                var gradU = TSimd.Zero;
                for (int step = k - 1; step >= 0; step--)
                {
                    var uk = TSimd.Load(ref Unsafe.Add(ref potentials, step * count));
                    var slope = surrogate.Derivative<TSimd, TVec>(TSimd.Subtract(uk, TSimd.Broadcast(table.Theta[step])));
                    var gradZ = TSimd.Subtract(
                        TSimd.Multiply(TSimd.Load(ref Unsafe.Add(ref gradY, step * stride)), TSimd.Broadcast(table.D[step])),
                        TSimd.Multiply(TSimd.Broadcast(table.H[step]), gradU));
                    gradU = TSimd.Add(gradU, TSimd.Multiply(gradZ, slope));
                }
                for (int t = 0; t < k; t++) TSimd.Store(gradU, ref Unsafe.Add(ref gradX, t * stride));
            }
        }

        /// <summary>Copies the first <paramref name="rest"/> lanes of each of K staged vectors to <c>[K, M]</c> at column <paramref name="at"/>.</summary>
        private static void Unstage(ReadOnlySpan<float> staged, Tensor destination, int at, int rest, int count, int k)
        {
            var span = destination.AsSpan();
            int perStep = destination.Length / k;
            for (int t = 0; t < k; t++) staged.Slice(t * count, rest).CopyTo(span.Slice(t * perStep + at, rest));
        }
    }
}

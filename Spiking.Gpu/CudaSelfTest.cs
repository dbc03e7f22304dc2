using System;
using System.Collections.Generic;
using System.IO;
using Spiking.Tensors;
using Spiking.Tensors.Backends;

namespace Spiking.Gpu;

/// <summary>
/// Runs every kernel family of a <see cref="CudaBackend"/> on random inputs of awkward sizes (rows not a multiple of
/// 64 bits, odd M and N, firing rates 0, 0.1 and 1) on the device and on <see cref="ComputeBackend.Cpu"/>, and
/// compares. Tolerances: spikes, popcounts and Bernoulli draws must be identical; the neuron's <c>h</c> and <c>v</c>
/// within <see cref="NeuronTolerance"/>; every other float kernel within <see cref="FloatTolerance"/>, both relative to
/// <c>max(|cpu|, 1)</c> (an absolute floor of the same size, so a sum that cancels to near zero is judged by the
/// size of its terms).
/// </summary>
public static class CudaSelfTest
{
    /// <summary>The relative tolerance of float kernels: <c>|gpu − cpu| ≤ 1e-5 · max(|cpu|, 1)</c>.</summary>
    public const double FloatTolerance = 1e-5;

    /// <summary>The relative tolerance of the neuron's potentials: <c>|gpu − cpu| ≤ 1e-6 · max(|cpu|, 1)</c>.</summary>
    public const double NeuronTolerance = 1e-6;

    /// <summary>The kernel families, in the order <see cref="Run"/> checks them.</summary>
    public static IReadOnlyList<string> Families { get; } =
        ["elementwise", "reduce", "gemm", "pack", "spike_linear", "spike_weight_grad", "and_popcount", "bernoulli", "neuron_forward", "neuron_backward", "adam",
         "conv", "max_pool", "batch_norm"];

    /// <summary>Checks every family, writing one line per kernel to <paramref name="log"/> and the totals last.</summary>
    /// <exception cref="ArgumentException"><paramref name="backend"/> is not the backend registered for its device, so tensors placed there would use another.</exception>
    public static SelfTestReport Run(CudaBackend backend, int seed, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var results = new List<SelfTestResult>();
        foreach (var family in Families) results.AddRange(RunFamily(backend, family, seed, log));
        var report = new SelfTestReport(results);
        log.WriteLine($"{report.Passed} passed, {report.Failed} failed");
        return report;
    }

    /// <summary>Checks the kernels of one of <see cref="Families"/>, writing a line per kernel.</summary>
    public static IReadOnlyList<SelfTestResult> RunFamily(CudaBackend backend, string family, int seed, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(log);
        if (!ReferenceEquals(ComputeBackend.For(backend.Device), backend))
        {
            throw new ArgumentException($"The backend is not the one registered for {backend.Device}; open it with CudaBackend.Open.", nameof(backend));
        }
        var check = new Checker(backend, new Random(seed), log);
        switch (family)
        {
            case "elementwise": check.Elementwise(); break;
            case "reduce": check.Reductions(); break;
            case "gemm": check.Gemm(); break;
            case "pack": check.Pack(); break;
            case "spike_linear": check.SpikeLinear(); break;
            case "spike_weight_grad": check.SpikeWeightGradient(); break;
            case "and_popcount": check.AndPopCount(); break;
            case "bernoulli": check.Bernoulli(); break;
            case "neuron_forward": check.NeuronForward(); break;
            case "neuron_backward": check.NeuronBackward(); break;
            case "adam": check.Adam(); break;
            case "conv": check.Conv(); break;
            case "max_pool": check.MaxPool(); break;
            case "batch_norm": check.BatchNorm(); break;
            default: throw new ArgumentException($"Unknown kernel family '{family}'; expected one of {string.Join(", ", Families)}.", nameof(family));
        }
        backend.Synchronize();
        return check.Results;
    }

    /// <summary>Builds inputs on the host, runs each kernel on both backends and records the comparison.</summary>
    private sealed class Checker(CudaBackend backend, Random random, TextWriter log)
    {
        private static readonly ComputeBackend Cpu = ComputeBackend.Cpu;
        private readonly Device _device = backend.Device;

        public List<SelfTestResult> Results { get; } = [];

        public void Elementwise()
        {
            var shape = new Shape(7, 33);
            using var a = Uniform(shape, -2, 2);
            using var b = Uniform(shape, -2, 2);
            using var v = Uniform(new Shape(33), -1, 1);
            Both("fill", shape, (k, y, _) => k.Fill(y, 3.25f));
            Both("add", shape, (k, y, on) => { using var da = on(a); using var db = on(b); k.Add(da, db, y); });
            Both("add_scaled", shape, (k, y, on) => { using var da = on(a); using var db = on(b); k.Scale(da, 1f, y); k.AddScaled(y, db, -0.75f); });
            Both("multiply", shape, (k, y, on) => { using var da = on(a); using var db = on(b); k.Multiply(da, db, y); });
            Both("scale", shape, (k, y, on) => { using var da = on(a); k.Scale(da, 1.5f, y); });
            Both("add_row_vector", shape, (k, y, on) => { using var da = on(a); using var dv = on(v); k.Scale(da, 1f, y); k.AddRowVector(y, dv); });
        }

        public void Reductions()
        {
            using var x = Uniform(new Shape(37, 45), -1, 1);
            Both("sum_rows", new Shape(45), (k, y, on) => { using var dx = on(x); k.SumRows(dx, y); });
            using var big = Uniform(new Shape(5001), -1, 1);
            Both("sum", new Shape(1), (k, y, on) => { using var dx = on(big); k.Sum(dx, y); });
        }

        public void Gemm()
        {
            // M and N span several 64×64 tiles and end inside one; K ends inside a 16-deep slice.
            const int M = 70, N = 130, K = 45;
            foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
            {
                using var a = Uniform(ta ? new Shape(K, M) : new Shape(M, K), -1, 1);
                using var b = Uniform(tb ? new Shape(N, K) : new Shape(K, N), -1, 1);
                string name = $"gemm_{(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')}";
                Both(name, new Shape(M, N), (k, c, on) => { using var da = on(a); using var db = on(b); k.Gemm(da, ta, db, tb, c, M, N, K); });
            }
        }

        public void Pack()
        {
            using var x = Uniform(new Shape(5, 130), -1, 1);
            var values = x.AsSpan();
            values[3] = float.NaN;
            values[200] = 0.25f;
            using var cpuSpikes = SpikeTensor.Zeros(x.Shape);
            Cpu.PackGreaterOrEqual(x, 0.25f, cpuSpikes);
            using var dx = x.To(_device);
            using var gpuSpikes = SpikeTensor.Zeros(x.Shape, _device);
            backend.PackGreaterOrEqual(dx, 0.25f, gpuSpikes);
            ExactWords("pack_ge", cpuSpikes, gpuSpikes);

            using var spikes = Spikes(new Shape(5, 130), 0.3);
            using var cpuDense = Tensor.Zeros(spikes.Shape);
            Cpu.Unpack(spikes, cpuDense);
            using var ds = spikes.To(_device);
            using var gpuDense = Tensor.Zeros(spikes.Shape, _device);
            backend.Unpack(ds, gpuDense);
            Compare("unpack", cpuDense, gpuDense, 0);
        }

        public void SpikeLinear()
        {
            const int M = 7, In = 130, Out = 150;
            using var weight = Uniform(new Shape(Out, In), -1, 1);
            using var bias = Uniform(new Shape(Out), -1, 1);
            foreach (double rate in new[] { 0.0, 0.1, 1.0 })
            {
                using var spikes = Spikes(new Shape(M, In), rate);
                foreach (bool withBias in new[] { true, false })
                {
                    string name = FormattableString.Invariant($"spike_linear rate={rate}{(withBias ? " bias" : "")}");
                    Both(name, new Shape(M, Out), (k, y, on) =>
                    {
                        using var ds = k == Cpu ? spikes.To(Device.Cpu) : spikes.To(_device);
                        using var dw = on(weight);
                        using var db = on(bias);
                        k.SpikeLinear(ds, dw, withBias ? db : null, y);
                    });
                }
            }
        }

        public void SpikeWeightGradient()
        {
            const int M = 9, In = 130, Out = 11;
            using var grad = Uniform(new Shape(M, Out), -1, 1);
            foreach (double rate in new[] { 0.0, 0.1, 1.0 })
            {
                using var spikes = Spikes(new Shape(M, In), rate);
                Both(FormattableString.Invariant($"spike_weight_grad rate={rate}"), new Shape(Out, In), (k, dw, on) =>
                {
                    using var ds = k == Cpu ? spikes.To(Device.Cpu) : spikes.To(_device);
                    using var dg = on(grad);
                    k.SpikeWeightGradient(dg, ds, dw);
                });
            }
        }

        public void AndPopCount()
        {
            foreach (double rate in new[] { 0.0, 0.1, 1.0 })
            {
                using var a = Spikes(new Shape(9, 130), rate);
                using var b = Spikes(new Shape(11, 130), 0.5);
                Both(FormattableString.Invariant($"and_popcount rate={rate}"), new Shape(9, 11), (k, c, _) =>
                {
                    using var da = k == Cpu ? a.To(Device.Cpu) : a.To(_device);
                    using var db = k == Cpu ? b.To(Device.Cpu) : b.To(_device);
                    k.AndPopCount(da, db, c);
                }, exact: true);
            }
        }

        public void Bernoulli()
        {
            using var p = Uniform(new Shape(3, 70), -0.2f, 1.2f);
            var values = p.AsSpan();
            values[0] = 0f;
            values[1] = 1f;
            values[2] = float.NaN;
            const int Repeats = 4;
            var shape = new Shape(Repeats, 3, 70);
            using var cpuSpikes = SpikeTensor.Zeros(shape);
            Cpu.Bernoulli(p, Repeats, 0x12345678u, 0x9abcdef0u, 0x1_0000_0003UL, 0xFFFF_FFFEUL, cpuSpikes);
            using var dp = p.To(_device);
            using var gpuSpikes = SpikeTensor.Zeros(shape, _device);
            backend.Bernoulli(dp, Repeats, 0x12345678u, 0x9abcdef0u, 0x1_0000_0003UL, 0xFFFF_FFFEUL, gpuSpikes);
            ExactWords("bernoulli", cpuSpikes, gpuSpikes);
        }

        public void NeuronForward()
        {
            foreach (var (name, spec) in Variants(SurrogateKind.ATan))
            {
                const int T = 5;
                using var x = Uniform(new Shape(T, 3, 70), -0.5f, 1.5f);
                using var cpuSpikes = SpikeTensor.Zeros(x.Shape);
                using var cpuH = Tensor.Zeros(x.Shape);
                using var cpuV = Tensor.Zeros(x.Shape);
                Cpu.NeuronForward(x, T, spec, cpuSpikes, cpuH, cpuV);
                using var dx = x.To(_device);
                using var gpuSpikes = SpikeTensor.Zeros(x.Shape, _device);
                using var gpuH = Tensor.Zeros(x.Shape, _device);
                using var gpuV = Tensor.Zeros(x.Shape, _device);
                backend.NeuronForward(dx, T, spec, gpuSpikes, gpuH, gpuV);
                ExactWords($"neuron_forward {name} spikes", cpuSpikes, gpuSpikes);
                Compare($"neuron_forward {name} h", cpuH, gpuH, NeuronTolerance);
                Compare($"neuron_forward {name} v", cpuV, gpuV, NeuronTolerance);
            }
        }

        public void NeuronBackward()
        {
            foreach (var surrogate in new[] { SurrogateKind.ATan, SurrogateKind.Sigmoid })
            {
                foreach (var (name, spec) in Variants(surrogate))
                {
                    const int T = 5;
                    var shape = new Shape(T, 3, 70);
                    using var x = Uniform(shape, -0.5f, 1.5f);
                    using var h = Tensor.Zeros(shape);
                    using (var spikes = SpikeTensor.Zeros(shape)) Cpu.NeuronForward(x, T, spec, spikes, h, null);
                    using var gradSpikes = Uniform(shape, -1, 1);
                    Both($"neuron_backward {name} {surrogate}", shape, (k, gx, on) =>
                    {
                        using var dh = on(h);
                        using var dg = on(gradSpikes);
                        k.NeuronBackward(dh, dg, T, spec, gx);
                    });
                }
            }
        }

        public void Adam()
        {
            var specs = new (string Name, AdamStepSpec Spec)[]
            {
                ("adam l2", new AdamStepSpec(-1e-3f / 0.1f, MathF.Sqrt(0.001f), 1e-8f, 0.1f, 0.999f, 0.001f, 0.01f, 1f, true)),
                ("adamw", new AdamStepSpec(-1e-2f / 0.19f, MathF.Sqrt(0.002f), 1e-8f, 0.6f, 0.999f, 0.001f, 0f, 0.999f, false)),
            };
            foreach (var (name, spec) in specs)
            {
                var shape = new Shape(1001);
                using var param = Uniform(shape, -1, 1);
                using var grad = Uniform(shape, -1, 1);
                using var m = Uniform(shape, -0.1f, 0.1f);
                using var v = Uniform(shape, 0, 0.01f);
                using var cpuParam = param.Clone();
                using var cpuM = m.Clone();
                using var cpuV = v.Clone();
                Cpu.AdamStep(cpuParam, grad, cpuM, cpuV, spec);
                using var gpuParam = param.To(_device);
                using var gpuGrad = grad.To(_device);
                using var gpuM = m.To(_device);
                using var gpuV = v.To(_device);
                backend.AdamStep(gpuParam, gpuGrad, gpuM, gpuV, spec);
                Compare($"{name} param", cpuParam, gpuParam, FloatTolerance);
                Compare($"{name} m", cpuM, gpuM, FloatTolerance);
                Compare($"{name} v", cpuV, gpuV, FloatTolerance);
            }
        }

        public void Conv()
        {
            using var batched = Uniform(new Shape(3, 5, 7), -1, 1);
            Both("transpose_batched", new Shape(3, 7, 5), (k, y, on) => { using var dx = on(batched); k.TransposeBatched(dx, 3, 5, 7, y); }, exact: true);
            // Odd sizes; stride 1 with padding, and stride 2 where some taps never land on an input element.
            foreach (var window in new[] { new SlidingWindow(3, 2, 7, 9, 3, 3, 1, 1), new SlidingWindow(2, 3, 8, 5, 3, 2, 2, 1) })
            {
                string name = FormattableString.Invariant($"{window.KernelHeight}x{window.KernelWidth} stride={window.Stride}");
                using var x = Uniform(new Shape(window.Images, window.Channels, window.Height, window.Width), -1, 1);
                var colsShape = new Shape(window.Patch, window.Images * window.Positions);
                Both($"im2col {name}", colsShape, (k, cols, on) => { using var dx = on(x); k.Im2Col(dx, window, cols); }, exact: true);
                using var cols = Uniform(colsShape, -1, 1);
                Both($"col2im {name}", x.Shape, (k, y, on) => { using var dc = on(cols); k.Col2Im(dc, window, y); }, exact: true);
            }
        }

        public void MaxPool()
        {
            // 2×2 windows at stride 2 on odd sizes (a column and row outside every window), and overlapping 3×3
            // windows at stride 2 with padding; values on a coarse grid so that windows hold ties.
            foreach (var window in new[] { new SlidingWindow(2, 3, 7, 9, 2, 2, 2, 0), new SlidingWindow(2, 2, 6, 70, 3, 3, 2, 1) })
            {
                string name = FormattableString.Invariant($"{window.KernelHeight}x{window.KernelWidth} stride={window.Stride} padding={window.Padding}");
                var inShape = new Shape(window.Images, window.Channels, window.Height, window.Width);
                var outShape = new Shape(window.Images, window.Channels, window.OutHeight, window.OutWidth);
                using var x = Uniform(inShape, -2, 2);
                var values = x.AsSpan();
                for (int i = 0; i < values.Length; i++) values[i] = MathF.Round(values[i] * 2) / 2;
                values[5] = float.NaN;
                using var grad = Uniform(outShape, -1, 1);
                Both($"max_pool {name}", outShape, (k, y, on) => { using var dx = on(x); k.MaxPool(dx, window, y); }, exact: true);
                Both($"max_pool_backward {name}", inShape, (k, dx, on) => { using var dg = on(grad); using var dxIn = on(x); k.MaxPoolBackward(dg, dxIn, window, dx); }, exact: true);
                foreach (double rate in new[] { 0.0, 0.1, 1.0 })
                {
                    string bits = FormattableString.Invariant($"{name} rate={rate}");
                    using var spikes = Spikes(inShape, rate);
                    using var cpuPooled = SpikeTensor.Zeros(outShape);
                    Cpu.MaxPool(spikes, window, cpuPooled);
                    using var ds = spikes.To(_device);
                    using var gpuPooled = SpikeTensor.Zeros(outShape, _device);
                    backend.MaxPool(ds, window, gpuPooled);
                    ExactWords($"max_pool_bits {bits}", cpuPooled, gpuPooled);
                    Both($"max_pool_backward_bits {bits}", inShape, (k, dx, on) =>
                    {
                        using var dg = on(grad);
                        using var dsIn = k == Cpu ? spikes.To(Device.Cpu) : spikes.To(_device);
                        k.MaxPoolBackward(dg, dsIn, window, dx);
                    }, exact: true);
                }
            }
        }

        public void BatchNorm()
        {
            // [N, C, inner] with a mean far from zero next to the spread, and the channels-last form (inner 1).
            foreach (var shape in new[] { new Shape(5, 3, 7, 9), new Shape(37, 6) })
            {
                int channels = shape[1];
                using var x = Uniform(shape, 2.5f, 3.5f);
                using var gamma = Uniform(new Shape(channels), 0.5f, 1.5f);
                using var beta = Uniform(new Shape(channels), -0.5f, 0.5f);
                using var mean = Uniform(new Shape(channels), -0.1f, 0.1f);
                using var variance = Uniform(new Shape(channels), 0.5f, 2f);
                using var grad = Uniform(shape, -1, 1);
                foreach (bool training in new[] { true, false })
                {
                    string name = FormattableString.Invariant($"{shape} {(training ? "training" : "eval")}");
                    var spec = new BatchNormSpec(training, 0.1, 1e-5, 4);
                    using var cpuMean = mean.Clone();
                    using var cpuVar = variance.Clone();
                    using var cpuY = Tensor.Zeros(shape);
                    using var cpuStats = Tensor.Zeros(new Shape(2, channels));
                    Cpu.BatchNormForward(x, gamma, beta, cpuMean, cpuVar, spec, cpuY, cpuStats);
                    using var dx = x.To(_device);
                    using var dGamma = gamma.To(_device);
                    using var dBeta = beta.To(_device);
                    using var gpuMean = mean.To(_device);
                    using var gpuVar = variance.To(_device);
                    using var gpuY = Tensor.Zeros(shape, _device);
                    using var gpuStats = Tensor.Zeros(new Shape(2, channels), _device);
                    backend.BatchNormForward(dx, dGamma, dBeta, gpuMean, gpuVar, spec, gpuY, gpuStats);
                    Compare($"batch_norm_forward {name} y", cpuY, gpuY, FloatTolerance);
                    Compare($"batch_norm_forward {name} statistics", cpuStats, gpuStats, FloatTolerance);
                    Compare($"batch_norm_forward {name} running_mean", cpuMean, gpuMean, FloatTolerance);
                    Compare($"batch_norm_forward {name} running_var", cpuVar, gpuVar, FloatTolerance);

                    using var cpuDx = Tensor.Zeros(shape);
                    using var cpuDGamma = Tensor.Zeros(new Shape(channels));
                    using var cpuDBeta = Tensor.Zeros(new Shape(channels));
                    Cpu.BatchNormBackward(x, grad, gamma, cpuStats, training, cpuDx, cpuDGamma, cpuDBeta);
                    using var dg = grad.To(_device);
                    using var gpuDx = Tensor.Zeros(shape, _device);
                    using var gpuDGamma = Tensor.Zeros(new Shape(channels), _device);
                    using var gpuDBeta = Tensor.Zeros(new Shape(channels), _device);
                    backend.BatchNormBackward(dx, dg, dGamma, gpuStats, training, gpuDx, gpuDGamma, gpuDBeta);
                    Compare($"batch_norm_backward {name} dx", cpuDx, gpuDx, FloatTolerance);
                    Compare($"batch_norm_backward {name} dgamma", cpuDGamma, gpuDGamma, FloatTolerance);
                    Compare($"batch_norm_backward {name} dbeta", cpuDBeta, gpuDBeta, FloatTolerance);
                }
            }
        }

        /// <summary>The neuron variants: LIF with decay_input and hard reset, IF with soft reset, and both resets detached.</summary>
        private static (string Name, NeuronKernelSpec Spec)[] Variants(SurrogateKind surrogate)
        {
            float alpha = surrogate == SurrogateKind.ATan ? 2f : 4f;
            return
            [
                ("lif-decay-input-hard", new NeuronKernelSpec(ChargeRule.DecayInputLeak, true, false, 1f, 0f, 0.5f, surrogate, alpha)),
                ("if-soft", new NeuronKernelSpec(ChargeRule.Integrate, false, false, 1f, 0f, 0f, surrogate, alpha)),
                ("lif-leak-hard-detached", new NeuronKernelSpec(ChargeRule.Leak, true, true, 0.8f, -0.2f, 0.25f, surrogate, alpha)),
                ("if-soft-detached", new NeuronKernelSpec(ChargeRule.Integrate, false, true, 1f, 0f, 0f, surrogate, alpha)),
            ];
        }

        /// <summary>
        /// Runs <paramref name="kernel"/> once on the CPU and once on the device, each writing a fresh output of
        /// <paramref name="shape"/>; the third argument moves a host input to that backend's device.
        /// </summary>
        private void Both(string name, Shape shape, Action<ComputeBackend, Tensor, Func<Tensor, Tensor>> kernel, bool exact = false)
        {
            using var cpu = Tensor.Zeros(shape);
            kernel(Cpu, cpu, t => t.To(Device.Cpu));
            using var gpu = Tensor.Zeros(shape, _device);
            kernel(backend, gpu, t => t.To(_device));
            Compare(name, cpu, gpu, exact ? 0 : FloatTolerance);
        }

        private void Compare(string name, Tensor cpu, Tensor gpu, double tolerance)
        {
            var expected = cpu.ToArray();
            var actual = gpu.ToArray();
            double maxAbs = 0, maxRel = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                double e = expected[i], a = actual[i];
                if (double.IsNaN(e) && double.IsNaN(a)) continue;
                double abs = double.IsNaN(e) || double.IsNaN(a) ? double.PositiveInfinity : Math.Abs(a - e);
                maxAbs = Math.Max(maxAbs, abs);
                maxRel = Math.Max(maxRel, abs / Math.Max(Math.Abs(e), 1));
            }
            Record(name, maxAbs, maxRel, tolerance == 0 ? maxAbs == 0 : maxRel <= tolerance);
        }

        private void ExactWords(string name, SpikeTensor cpu, SpikeTensor gpu)
        {
            using var back = gpu.To(Device.Cpu);
            var expected = cpu.Words;
            var actual = back.Words;
            int differing = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                differing += ulong.PopCount(expected[i] ^ actual[i]) > 0 ? 1 : 0;
            }
            // For bits the error is the fraction of words that differ.
            double error = expected.Length == 0 ? 0 : (double)differing / expected.Length;
            Record(name, differing, error, differing == 0);
        }

        private void Record(string name, double maxAbs, double maxRel, bool passed)
        {
            var result = new SelfTestResult(name, maxAbs, maxRel, passed);
            Results.Add(result);
            log.WriteLine(result.ToString());
        }

        private Tensor Uniform(Shape shape, float low, float high)
        {
            var t = Tensor.Empty(shape);
            var span = t.AsSpan();
            for (int i = 0; i < span.Length; i++) span[i] = low + (high - low) * random.NextSingle();
            return t;
        }

        private SpikeTensor Spikes(Shape shape, double rate)
        {
            using var dense = Tensor.Empty(shape);
            var span = dense.AsSpan();
            for (int i = 0; i < span.Length; i++) span[i] = random.NextDouble() < rate ? 1f : 0f;
            return SpikeTensor.FromThreshold(dense, 0.5f);
        }
    }
}

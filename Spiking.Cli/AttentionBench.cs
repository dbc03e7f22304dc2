using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Cli;

/// <summary>
/// <c>spiking bench attention</c>: forward + backward of the spiking attention cores against our float softmax
/// attention, at the issue's two shapes (T=4, B=64, 49 tokens, D=64 in 4 heads; T=4, B=16, 196 tokens, D=384 in
/// 12 heads), with <c>[T·B, H, N, D/H]</c> operands.
/// <list type="bullet">
/// <item><c>ssa_spikes</c>: Spikformer's <c>(Q·Kᵀ)·V·0.125</c> on spikes (<c>Functional.SpikingAttention</c>).</item>
/// <item><c>sdsa1_spikes</c>: <c>Q ⊙ SN(Σ_tokens K ⊙ V)</c>, SN a Heaviside at 0.5 with the ATan surrogate
/// (<c>SpikeDrivenKeyValue</c>, <c>Spike</c>, <c>SpikeMask</c>).</item>
/// <item><c>sdsa3_spikes</c>: <c>Q·(Kᵀ·V)·0.125</c> on spikes (<c>SpikeLinearAttention</c>); SDSA-2, <c>(Q·Kᵀ)·V·0.125</c>,
/// is <c>ssa_spikes</c>'s op.</item>
/// <item><c>sdsa4_spikes</c>: <c>Q·SN(Kᵀ·V)·0.125</c>, SN a Heaviside at 0.5 with the ATan surrogate
/// (<c>SpikeKeyValueProduct</c>, <c>Spike</c>, <c>SpikeQueryProduct</c>).</item>
/// <item><c>float_softmax</c>: <c>softmax(Q·Kᵀ/√d)·V</c> on dense Q, K, V (<see cref="FloatSoftmaxAttention"/>), the baseline.</item>
/// <item><c>spike_inputs</c>: only the three <c>Spike</c> ops that give the spike variants Q, K and V with a gradient path
/// (thresholding potentials drawn with Philox to fire at the rate p, and their surrogate backward); every spike
/// variant's time includes this, so subtracting it leaves the attention alone.</item>
/// </list>
/// The bytes held for backward are computed from the shapes by each op's saving rule with all inputs needing a
/// gradient (spikes as 64-bit words per row of D/H bits, so rows shorter than 64 channels are padded), not measured:
/// the graph does not expose its saved tensors.
/// </summary>
internal static class AttentionBench
{
    private const string DefaultShapes = "4,64,49,64,4;4,16,196,384,12";
    private const float SpikeScale = 0.125f;
    private const float MaskThreshold = 0.5f;

    /// <summary>Where the float baseline sits in <see cref="Run"/>'s order, the reference of every ratio.</summary>
    private const int FloatIndex = 4;

    public static int Run(Options options)
    {
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1, max: Options.MaxThreads);
        var json = new JsonLines(OutputPaths.File(options, "json"));
        var shapes = ParseShapes(options.String("shapes") ?? DefaultShapes);
        double rate = options.Double("rate", 0.15, min: 0, max: 1);
        if (rate > 1) throw new UsageException($"--rate expects a firing rate in [0, 1], got {rate.ToString(CultureInfo.InvariantCulture)}");
        int reps = options.Int("reps", 20, min: 1, max: 1_000_000);
        double minTime = options.Double("min-time", 1.0, min: 0, max: Options.MaxSeconds);
        double maxTime = options.Double("max-time", 30.0, min: 0, max: Options.MaxSeconds);
        int warmup = options.Int("warmup", 3, min: 0, max: 1_000_000);
        int seed = options.Int("seed", 0);
        options.RejectUnknown(positional: 1);

        Parallelism.MaxThreads = threads;
        string cpu = MachineInfo.CpuName();
        string simd = MachineInfo.SimdName();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# spiking bench attention  rate={rate}  threads={threads}  simd={simd}  cpu={cpu}"));
        Console.WriteLine(
            $"{"variant",13}  {"T",2}  {"B",3}  {"N",4}  {"D",4}  {"H",3}  {"reps",5}  {"median_ms",10}  {"min_ms",10}  {"x_float",7}  " +
            $"{"saved_bytes",12}  {"float_saved",12}  {"float/saved",11}");
        var philox = new PhiloxGenerator((ulong)seed);
        var surrogate = new ATan();
        foreach (var (t, b, n, d, h) in shapes)
        {
            var shape = new Shape(t * b, h, n, d / h);
            using var qPotential = Variable.Input(Potentials(philox, shape, rate));
            using var kPotential = Variable.Input(Potentials(philox, shape, rate));
            using var vPotential = Variable.Input(Potentials(philox, shape, rate));
            using var qFloat = philox.Normal(shape);
            using var kFloat = philox.Normal(shape);
            using var vFloat = philox.Normal(shape);
            using var g = philox.Normal(shape);
            float floatScale = 1f / MathF.Sqrt(d / h);
            Variable Q() => Functional.Spike(qPotential, surrogate);
            Variable K() => Functional.Spike(kPotential, surrogate);
            Variable V() => Functional.Spike(vPotential, surrogate);
            void Zero()
            {
                qPotential.ZeroGrad();
                kPotential.ZeroGrad();
                vPotential.ZeroGrad();
            }

            var names = new[] { "ssa_spikes", "sdsa1_spikes", "sdsa3_spikes", "sdsa4_spikes", "float_softmax", "spike_inputs" };
            var fns = new List<Action>
            {
                () =>
                {
                    using var scope = DisposeScope.Begin();
                    Functional.SpikingAttention(Q(), K(), V(), SpikeScale).Backward(g);
                    Zero();
                },
                () =>
                {
                    using var scope = DisposeScope.Begin();
                    var mask = Functional.Spike(Functional.SpikeDrivenKeyValue(K(), V()), surrogate, MaskThreshold);
                    Functional.SpikeMask(Q(), mask).Backward(g);
                    Zero();
                },
                () =>
                {
                    using var scope = DisposeScope.Begin();
                    Functional.SpikeLinearAttention(Q(), K(), V(), SpikeScale).Backward(g);
                    Zero();
                },
                () =>
                {
                    using var scope = DisposeScope.Begin();
                    var map = Functional.Spike(Functional.SpikeKeyValueProduct(K(), V()), surrogate, MaskThreshold);
                    Functional.SpikeQueryProduct(Q(), map, SpikeScale).Backward(g);
                    Zero();
                },
                () =>
                {
                    var (y, saved) = FloatSoftmaxAttention.Forward(qFloat, kFloat, vFloat, floatScale);
                    var (dq, dk, dv) = saved.Backward(g);
                    saved.Dispose();
                    y.Dispose();
                    dq.Dispose();
                    dk.Dispose();
                    dv.Dispose();
                },
                () =>
                {
                    using var scope = DisposeScope.Begin();
                    Q().Backward(g);
                    K().Backward(g);
                    V().Backward(g);
                    Zero();
                },
            };
            var saved = SavedBytes(shape);
            var times = Timing.Interleaved(fns, reps, minTime, maxTime, warmup);
            double floatMs = Timing.Stats(times[FloatIndex]).MedianMs;
            for (int i = 0; i < fns.Count; i++)
            {
                var (median, min) = Timing.Stats(times[i]);
                double ratio = median / floatMs;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{names[i],13}  {t,2}  {b,3}  {n,4}  {d,4}  {h,3}  {times[i].Count,5}  {median,10:F3}  {min,10:F3}  {ratio,7:F2}  " +
                    $"{saved[i],12}  {saved[FloatIndex],12}  {(double)saved[FloatIndex] / saved[i],11:F1}"));
                json.Write(
                [
                    new("workload", "attention"), new("variant", names[i]), new("T", t), new("B", b), new("N", n), new("D", d),
                    new("heads", h), new("threads", threads), new("median_ms", median), new("min_ms", min), new("ratio_vs_float", ratio),
                    new("saved_bytes", saved[i]), new("float_saved_bytes", saved[FloatIndex]), new("rate", rate), new("reps", times[i].Count),
                    new("interleaved", true), new("engine", "spiking"), new("saved_bytes_from", "shapes"), new("simd", simd), new("cpu", cpu),
                ]);
            }
        }
        return 0;
    }

    /// <summary>
    /// Bytes each variant's graph holds for backward, in <see cref="Run"/>'s order, by the ops' saving rules:
    /// SSA keeps the bits of Q, K and V; SDSA-1 the bits of K and V (key-value sum), the float sums
    /// <c>[T·B, H, 1, d]</c> (the neuron's input) and the bits of Q and the mask; SDSA-3 the bits of Q, K, V and the
    /// float <c>Kᵀ·V</c> <c>[T·B, H, d, d]</c>; SDSA-4 the bits of K and V (key-value product), the float
    /// <c>Kᵀ·V</c> (the neuron's input) and the bits of Q and the map <c>[T·B, H, d, d]</c>; the float baseline Q, K,
    /// V and P <c>[T·B, H, N, N]</c> as floats; the
    /// spike inputs the float potentials of Q, K and V.
    /// </summary>
    internal static long[] SavedBytes(Shape shape)
    {
        long heads = (long)shape[0] * shape[1];
        int l = shape[2], d = shape[3];
        long bits = heads * l * SpikeTensor.WordsFor(d) * sizeof(ulong);
        long maskBits = heads * SpikeTensor.WordsFor(d) * sizeof(ulong);
        long floats = heads * l * d * sizeof(float);
        return
        [
            3 * bits,
            2 * bits + heads * d * sizeof(float) + bits + maskBits,
            3 * bits + heads * d * d * sizeof(float),
            3 * bits + heads * d * d * sizeof(float) + heads * d * SpikeTensor.WordsFor(d) * sizeof(ulong),
            FloatSoftmaxAttention.SavedBytes((int)heads, l, d),
            3 * floats,
        ];
    }

    /// <summary>Potentials <c>u − (1 − p)</c> with u uniform in [0, 1), which reach the threshold 0 with probability p.</summary>
    private static Tensor Potentials(PhiloxGenerator philox, Shape shape, double rate)
    {
        var u = philox.Uniform(shape);
        var span = u.AsSpan();
        System.Numerics.Tensors.TensorPrimitives.Subtract(span, (float)(1 - rate), span);
        return u;
    }

    private static List<(int T, int B, int N, int D, int H)> ParseShapes(string text)
    {
        var result = new List<(int, int, int, int, int)>();
        foreach (var item in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var p = item.Split(',', StringSplitOptions.TrimEntries);
            var v = new int[5];
            bool ok = p.Length == 5;
            for (int i = 0; ok && i < 5; i++) ok = Options.ParseInt(p[i], 1, 1 << 16, out v[i]);
            if (!ok || v[3] % v[4] != 0)
            {
                throw new UsageException($"bad shape '{item}' in --shapes; expected T,B,N,D,H with sizes from 1 to 65536 and D divisible by H, e.g. 4,64,49,64,4");
            }
            // The float attention's scores [T·B, H, N, N] are the largest tensor a shape makes.
            if ((long)v[0] * v[1] * v[4] * v[2] * v[2] > 1L << 28 || (long)v[0] * v[1] * v[2] * v[3] > 1L << 28)
            {
                throw new UsageException($"shape '{item}' in --shapes needs tensors of more than {1L << 28} floats (T·B·H·N·N and T·B·N·D must fit)");
            }
            result.Add((v[0], v[1], v[2], v[3], v[4]));
        }
        if (result.Count == 0) throw new UsageException("--shapes is empty");
        return result;
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Cli;

/// <summary>
/// <c>spiking bench kernels</c>: the work of <c>../shared/peers/torch_kernels.py</c> with this engine, with the same
/// workload names, shapes, rates, timing loop and JSON keys, so one script can join the two files.
/// <list type="bullet">
/// <item><c>dense</c>: <c>A[M,K]·W[K,N]</c> with the SGEMM kernel.</item>
/// <item><c>spike_fwd</c>: <c>S[M,K]·W[K,N]</c> with S bit-packed at the given rate: the spike-accumulate forward,
/// whose transposed-weight operand is W itself (a PyTorch-layout <c>Linear</c> weight is <c>Wᵀ</c>). W is packed
/// into <see cref="SpikeWeightPanels"/> once, outside the timing, as a layer's cache does once per weight update.</item>
/// <item><c>spike_wgrad</c>: <c>Sᵀ[K,M]·G[M,N]</c>, the weight gradient from spikes (written as <c>[N,K]</c>).</item>
/// </list>
/// </summary>
internal static class KernelBench
{
    private const string DefaultShapes = "512x784x512,512x1024x1024,2048x1024x1024,256x4096x4096";
    private const string DefaultRates = "0.05,0.1,0.2,0.3";

    /// <summary>The largest M, K or N accepted.</summary>
    private const int MaxSize = 1 << 16;

    /// <summary>The largest operand (M·K, K·N or M·N floats) accepted: 1 GiB of floats each.</summary>
    private const long MaxOperand = 1L << 28;

    public static int Run(Options options)
    {
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1, max: Options.MaxThreads);
        var json = new JsonLines(OutputPaths.File(options, "json"));
        var shapes = ParseShapes(options.String("shapes") ?? DefaultShapes);
        var rates = ParseRates(options.String("rates") ?? DefaultRates);
        int reps = options.Int("reps", 20, min: 1, max: 1_000_000);
        double minTime = options.Double("min-time", 1.0, min: 0, max: Options.MaxSeconds);
        double maxTime = options.Double("max-time", 30.0, min: 0, max: Options.MaxSeconds);
        int warmup = options.Int("warmup", 3, min: 0, max: 1_000_000);
        int seed = options.Int("seed", 0);
        string impl = options.String("impl") ?? "fast";
        if (impl is not ("fast" or "reference")) throw new UsageException($"--impl expects fast or reference, got '{impl}'");
        options.RejectUnknown(positional: 1);
        bool reference = impl == "reference";

        Parallelism.MaxThreads = threads;
        string cpu = MachineInfo.CpuName();
        Console.WriteLine($"# spiking bench kernels  threads={threads}  impl={impl}  simd={MachineInfo.SimdName()}  cpu={cpu}");
        Console.WriteLine($"{"workload",11}  {"M",5}  {"K",5}  {"N",5}  {"rate",5}  {"reps",5}  {"median_ms",10}  {"min_ms",10}  {"GFLOP/s",8}  {"dense/this",10}");
        var rng = new Random(seed);
        var philox = new PhiloxGenerator((ulong)seed);
        foreach (var (m, k, n) in shapes)
        {
            var w = new float[k * n];
            var g = new float[m * n];
            var a = new float[m * k];
            philox.FillNormal(w);
            philox.FillNormal(g);
            philox.FillNormal(a);
            var outF = new float[m * n];
            var outG = new float[n * k];
            using var panels = new SpikeWeightPanels();
            panels.PackTransposed(w, k, n);
            var names = new List<(string Name, double? Rate)> { ("dense", null) };
            var fns = new List<Action>
            {
                reference
                    ? () => Gemm.MultiplyReference(a, false, w, false, outF, m, n, k)
                    : () => Gemm.Multiply(a, false, w, false, outF, m, n, k),
            };
            var spikeTensors = new List<SpikeTensor>();
            foreach (var rate in rates)
            {
                var dense = new float[m * k];
                for (int i = 0; i < dense.Length; i++) dense[i] = rng.NextDouble() < rate ? 1f : 0f;
                using var denseTensor = Tensor.FromArray(dense, m, k);
                var s = SpikeTensor.FromBinary(denseTensor);
                spikeTensors.Add(s);
                names.Add(("spike_fwd", rate));
                fns.Add(reference
                    ? () => SpikeAccumulate.ForwardReference(s.Words, m, k, w, n, default, outF)
                    : () => SpikeAccumulate.Forward(s.Words, m, panels, default, outF));
                names.Add(("spike_wgrad", rate));
                fns.Add(reference
                    ? () => SpikeAccumulate.WeightGradientReference(g, s.Words, m, k, n, outG)
                    : () => SpikeAccumulate.WeightGradient(g, s.Words, m, k, n, outG));
            }
            var times = Timing.Interleaved(fns, reps, minTime, maxTime, warmup);
            double denseMs = Timing.Stats(times[0]).MedianMs;
            for (int i = 0; i < fns.Count; i++)
            {
                var (median, min) = Timing.Stats(times[i]);
                double gflops = 2.0 * m * k * n / (median * 1e-3) / 1e9;
                var (name, rate) = names[i];
                string rateText = rate is null ? "-" : rate.Value.ToString(CultureInfo.InvariantCulture);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,11}  {m,5}  {k,5}  {n,5}  {rateText,5}  {times[i].Count,5}  {median,10:F3}  {min,10:F3}  {gflops,8:F1}  {denseMs / median,10:F2}"));
                json.Write(
                [
                    new("workload", name), new("M", m), new("K", k), new("N", n), new("rate", rate), new("threads", threads),
                    new("median_ms", median), new("min_ms", min), new("gflops", gflops), new("reps", times[i].Count),
                    new("interleaved", true), new("engine", "spiking"), new("impl", impl), new("simd", MachineInfo.SimdName()), new("cpu", cpu),
                ]);
            }
            foreach (var s in spikeTensors) s.Dispose();
        }
        return 0;
    }



    private static List<(int M, int K, int N)> ParseShapes(string text)
    {
        var result = new List<(int, int, int)>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var p = item.ToLowerInvariant().Split('x');
            int m = 0, k = 0, n = 0;
            if (p.Length != 3 || !Options.ParseInt(p[0], 1, MaxSize, out m) || !Options.ParseInt(p[1], 1, MaxSize, out k) || !Options.ParseInt(p[2], 1, MaxSize, out n))
            {
                throw new UsageException($"bad shape '{item}' in --shapes; expected MxKxN with sizes from 1 to {MaxSize}, e.g. 512x784x512");
            }
            if ((long)m * k > MaxOperand || (long)k * n > MaxOperand || (long)m * n > MaxOperand)
            {
                throw new UsageException($"shape '{item}' in --shapes needs an operand of more than {MaxOperand} floats (M·K, K·N and M·N must each fit)");
            }
            result.Add((m, k, n));
        }
        if (result.Count == 0) throw new UsageException("--shapes is empty");
        return result;
    }

    private static List<double> ParseRates(string text)
    {
        var result = new List<double>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Options.ParseDouble(item, 0, 1, out double r))
            {
                throw new UsageException($"bad rate '{item}' in --rates; rates are numbers from 0 to 1");
            }
            result.Add(r);
        }
        if (result.Count == 0) throw new UsageException("--rates is empty");
        return result;
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Cli;

/// <summary>
/// <c>spiking bench neurons</c>: the fused multi-step LIF (tau 2, hard reset to 0, ATan surrogate, as in the W1/W2
/// workloads) over DESIGN.md's two neuron layers, <c>[T=8, B=64, 512]</c> and <c>[T=4, B=64, 32×28×28]</c>, timed with
/// the peers' interleaved loop and written in their JSON-lines style.
/// <list type="bullet">
/// <item><c>lif_fwd_bwd</c>: forward under grad mode (saving h), then the backward through time from an upstream
/// gradient of the spikes.</item>
/// <item><c>lif_fwd</c>: forward only, without grad (inference).</item>
/// </list>
/// </summary>
internal static class NeuronBench
{
    private static readonly (int T, int B, int[] Neuron)[] s_shapes = [(8, 64, [512]), (4, 64, [32, 28, 28])];

    public static int Run(Options options)
    {
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1);
        var json = new JsonLines(options.String("json"));
        int reps = options.Int("reps", 20, min: 1);
        double minTime = options.Double("min-time", 1.0, min: 0);
        double maxTime = options.Double("max-time", 30.0, min: 0);
        int warmup = options.Int("warmup", 3, min: 0);
        int seed = options.Int("seed", 0);
        options.RejectUnknown();

        Parallelism.MaxThreads = threads;
        string cpu = MachineInfo.CpuName();
        string simd = MachineInfo.SimdName();
        Console.WriteLine($"# spiking bench neurons  threads={threads}  simd={simd}  cpu={cpu}");
        Console.WriteLine($"{"workload",11}  {"T",2}  {"B",3}  {"N",6}  {"shape",18}  {"reps",5}  {"median_ms",10}  {"min_ms",10}  {"Melem/s",9}");
        var philox = new PhiloxGenerator((ulong)seed);
        var surrogate = new ATan();
        foreach (var (t, b, neuron) in s_shapes)
        {
            int n = 1;
            foreach (int d in neuron) n *= d;
            int[] dims = [t, b, .. neuron];
            var shape = new Shape(dims);
            using var x = Variable.Input(philox.Normal(shape, 0.6f, 0.8f));
            using var g = philox.Normal(shape);
            var names = new List<string> { "lif_fwd_bwd", "lif_fwd" };
            var fns = new List<Action>
            {
                () =>
                {
                    using var s = Functional.LifMultiStep(x, surrogate: surrogate);
                    s.Backward(g);
                    x.ZeroGrad();
                },
                () =>
                {
                    using var scope = GradMode.NoGrad();
                    using var s = Functional.LifMultiStep(x, surrogate: surrogate);
                },
            };
            var times = Timing.Interleaved(fns, reps, minTime, maxTime, warmup);
            string shapeText = shape.ToString();
            for (int i = 0; i < fns.Count; i++)
            {
                var (median, min) = Timing.Stats(times[i]);
                double elementsPerSecond = shape.ElementCount / (median * 1e-3);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{names[i],11}  {t,2}  {b,3}  {n,6}  {shapeText,18}  {times[i].Count,5}  {median,10:F3}  {min,10:F3}  {elementsPerSecond / 1e6,9:F1}"));
                json.Write(
                [
                    new("workload", names[i]), new("T", t), new("B", b), new("N", n), new("shape", shapeText), new("threads", threads),
                    new("median_ms", median), new("min_ms", min), new("reps", times[i].Count), new("elements_per_s", elementsPerSecond),
                    new("interleaved", true), new("engine", "spiking"), new("neuron", "LIF(tau=2, v_reset=0, ATan(alpha=2))"),
                    new("simd", simd), new("cpu", cpu),
                ]);
            }
        }
        return 0;
    }


}

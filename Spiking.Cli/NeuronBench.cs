using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Cli.Neurons;
using Spiking.Layers;
using Spiking.Tensors;

namespace Spiking.Cli;

/// <summary>
/// <c>spiking bench neurons</c>: every neuron of <see cref="NeuronWorkloads"/> over <c>[T=8, B=64, 1024]</c>, fused and
/// composed from ops, forward (inference, no graph) and forward plus backward through time (from an upstream gradient
/// of the output), all timed in one interleaved loop (the peers' <c>common.py</c> method) so the ratios are measured
/// side by side. Then the LIF of the W1/W2 workloads (tau 2, hard reset, ATan) over DESIGN.md's neuron layers
/// <c>[8, 64, 512]</c> and <c>[4, 64, 32, 28, 28]</c> on the shared kernel and on the first LIF kernel it replaced.
/// </summary>
internal static class NeuronBench
{
    private static readonly int[] s_default = [8, 64, 1024];
    private static readonly int[][] s_lifShapes = [[8, 64, 512], [4, 64, 32, 28, 28]];

    public static int Run(Options options)
    {
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1, max: Options.MaxThreads);
        var json = new JsonLines(OutputPaths.File(options, "json"));
        int reps = options.Int("reps", 10, min: 1, max: 1_000_000);
        double minTime = options.Double("min-time", 0.5, min: 0, max: Options.MaxSeconds);
        double maxTime = options.Double("max-time", 20.0, min: 0, max: Options.MaxSeconds);
        int warmup = options.Int("warmup", 2, min: 0, max: 1_000_000);
        int seed = options.Int("seed", 0);
        string? only = options.String("neuron");
        options.RejectUnknown(positional: 1);

        Parallelism.MaxThreads = threads;
        string cpu = MachineInfo.CpuName();
        string simd = MachineInfo.SimdName();
        Console.WriteLine($"# spiking bench neurons  threads={threads}  simd={simd}  cpu={cpu}");
        Console.WriteLine($"{"neuron",-16}  {"variant",-12}  {"pass",-8}  {"shape",18}  {"reps",5}  {"median_ms",10}  {"min_ms",10}  {"Melem/s",9}  {"vs composed",11}");
        var philox = new PhiloxGenerator((ulong)seed);
        var shape = new Shape(s_default);
        bool any = false;
        foreach (var workload in NeuronWorkloads.All)
        {
            if (only is not null && !string.Equals(only, workload.Name, StringComparison.OrdinalIgnoreCase)) continue;
            any = true;
            using var layer = workload.Layer();
            using var x = Variable.Input(philox.Normal(shape, 0.6f, 0.8f));
            using var g = philox.Normal(shape);
            var variants = new (string Variant, string Pass, Action Run)[]
            {
                ("fused", "fwd", () => Inference(() => layer.Forward(x))),
                ("fused", "fwd+bwd", () => Training(() => layer.Forward(x), g, x, layer)),
                ("composed", "fwd", () => Inference(() => workload.Composed(layer, x))),
                ("composed", "fwd+bwd", () => Training(() => workload.Composed(layer, x), g, x, layer)),
            };
            Report(workload.Name, shape, variants, reps, minTime, maxTime, warmup, threads, simd, cpu, json, compareTo: 2);
        }
        if (only is not null && !any) throw new UsageException($"unknown neuron '{only}'; known: {string.Join(", ", Names())}");

        if (only is null || string.Equals(only, "LIF", StringComparison.OrdinalIgnoreCase))
        {
            var lif = new LifNeuron { Surrogate = new Spiking.Autograd.Surrogates.ATan() };
            foreach (var dims in s_lifShapes)
            {
                var lifShape = new Shape(dims);
                using var x = Variable.Input(philox.Normal(lifShape, 0.6f, 0.8f));
                using var g = philox.Normal(lifShape);
                var variants = new (string Variant, string Pass, Action Run)[]
                {
                    ("shared", "fwd", () => Inference(() => Functional.Neuron(x, lif))),
                    ("shared", "fwd+bwd", () => Training(() => Functional.Neuron(x, lif), g, x, null)),
                    ("first-lif", "fwd", () => FirstLif(x.Dense, lif, null)),
                    ("first-lif", "fwd+bwd", () => FirstLif(x.Dense, lif, g)),
                };
                Report("LIF", lifShape, variants, reps, minTime, maxTime, warmup, threads, simd, cpu, json, compareTo: -1);
            }
        }
        return 0;
    }

    private static List<string> Names()
    {
        var names = new List<string>();
        foreach (var w in NeuronWorkloads.All) names.Add(w.Name);
        return names;
    }

    private static void Inference(Func<Variable> forward)
    {
        using var noGrad = GradMode.NoGrad();
        using var scope = DisposeScope.Begin();
        forward();
    }

    private static void Training(Func<Variable> forward, Tensor gradient, Variable x, Module? layer)
    {
        using (DisposeScope.Begin())
        {
            forward().Backward(gradient);
        }
        x.ZeroGrad();
        if (layer is null) return;
        foreach (var p in layer.Parameters()) p.Variable.ZeroGrad();
    }

    /// <summary>
    /// The first LIF kernel as the op ran it: forward saving h, and with a gradient the backward through time from a
    /// copy of it (Backward() copies the seed gradient it is given, so the shared rows pay that copy too).
    /// </summary>
    private static void FirstLif(Tensor x, LifNeuron lif, Tensor? gradient)
    {
        using var spikes = LifKernelV1.ForwardOp(x, lif, 0f, out var h);
        using (h)
        {
            if (gradient is null) return;
            using var seed = gradient.Clone();
            LifKernelV1.BackwardOp(h, seed, x, lif, 0f, out _).Dispose();
        }
    }

    private static void Report(string neuron, Shape shape, (string Variant, string Pass, Action Run)[] variants, int reps, double minTime, double maxTime,
        int warmup, int threads, string simd, string cpu, JsonLines json, int compareTo)
    {
        var actions = new List<Action>(variants.Length);
        foreach (var v in variants) actions.Add(v.Run);
        var times = Timing.Interleaved(actions, reps, minTime, maxTime, warmup);
        var medians = new double[variants.Length];
        for (int i = 0; i < variants.Length; i++) medians[i] = Timing.Stats(times[i]).MedianMs;
        string shapeText = shape.ToString();
        for (int i = 0; i < variants.Length; i++)
        {
            var (median, min) = Timing.Stats(times[i]);
            double elementsPerSecond = shape.ElementCount / (median * 1e-3);
            // The fused rows are compared with the composed row of the same pass; the LIF rows with each other (shared ÷ first).
            int baseline = compareTo >= 0 ? (i < compareTo ? i + compareTo : -1) : (i < 2 ? i + 2 : -1);
            double? speedup = baseline >= 0 ? medians[baseline] / median : null;
            string ratio = speedup is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) + "x" : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{neuron,-16}  {variants[i].Variant,-12}  {variants[i].Pass,-8}  {shapeText,18}  {times[i].Count,5}  {median,10:F3}  {min,10:F3}  {elementsPerSecond / 1e6,9:F1}  {ratio,11}"));
            json.Write(
            [
                new("workload", $"{neuron} {variants[i].Variant} {variants[i].Pass}"), new("neuron", neuron), new("variant", variants[i].Variant),
                new("pass", variants[i].Pass), new("shape", shapeText), new("threads", threads), new("median_ms", median), new("min_ms", min),
                new("reps", times[i].Count), new("elements_per_s", elementsPerSecond), new("speedup", speedup), new("interleaved", true),
                new("engine", "spiking"), new("simd", simd), new("cpu", cpu),
            ]);
        }
    }
}

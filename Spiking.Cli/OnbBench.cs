using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;

namespace Spiking.Cli;

/// <summary>
/// <c>spiking bench onb</c>: the Open Neuromorphic workload of <c>../shared/peers/torch_onb.py</c> with this engine,
/// with the same options, timing loop (one warm-up, then <c>--reps</c> repetitions of a forward timed alone and a
/// backward timed alone, medians), table columns and JSON keys, so one script can join the two files: one
/// <c>Linear(n, n)</c> over every time step and one multi-step LIF (tau 2, decay_input, threshold 1, hard reset to 0,
/// ATan(2), reset in the graph) on a constant <c>randn [T, B, n]</c> input, loss the sum of the output spikes.
/// </summary>
internal static class OnbBench
{
    private const string DefaultNeurons = "512,4096";

    /// <summary>The largest tensor of the workload (T·B·n floats) accepted: 1 GiB of floats, as the kernel bench's operands.</summary>
    private const long MaxElements = 1L << 28;

    /// <summary>The widest layer accepted: its weight, n·n floats, must fit the same limit.</summary>
    private const int MaxNeurons = 1 << 14;

    public static int Run(Options options)
    {
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1, max: Options.MaxThreads);
        var json = new JsonLines(OutputPaths.File(options, "json"));
        var widths = ParseNeurons(options.String("neurons") ?? DefaultNeurons);
        int batch = options.Int("batch", 16, min: 1, max: 1 << 20);
        int steps = options.Int("T", 500, min: 1, max: 1 << 20);
        int reps = options.Int("reps", 5, min: 1, max: 1_000_000);
        int seed = options.Int("seed", 0, min: 0);
        options.RejectUnknown(positional: 1);
        foreach (int n in widths)
        {
            if ((long)steps * batch * n > MaxElements)
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                    $"--T {steps} × --batch {batch} × --neurons {n} is {(long)steps * batch * n} elements; keep it at most {MaxElements}"));
            }
        }

        Parallelism.MaxThreads = threads;
        string cpu = MachineInfo.CpuName();
        string simd = MachineInfo.SimdName();
        Console.WriteLine($"# spiking bench onb  threads={threads}  simd={simd}  cpu={cpu}");
        var rows = new List<string>();
        foreach (int n in widths)
        {
            var (forward, backward) = Measure(n, batch, steps, reps, seed);
            double forwardMs = Timing.Stats(forward).MedianMs, backwardMs = Timing.Stats(backward).MedianMs;
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"{n,7}  {batch,5}  {steps,5}  {forwardMs,10:F1}  {backwardMs,11:F1}  {forwardMs + backwardMs,8:F1}"));
            json.Write(
            [
                new("workload", "onb"), new("neurons", n), new("batch", batch), new("T", steps), new("device", "cpu"), new("threads", threads),
                new("forward_ms", forwardMs), new("backward_ms", backwardMs), new("total_ms", forwardMs + backwardMs),
                new("forward_min_ms", Timing.Stats(forward).MinMs), new("backward_min_ms", Timing.Stats(backward).MinMs),
                new("gemm_gflop", 2.0 * GemmFlops(n, batch, steps) / 1e9), new("reps", reps), new("peak_rss_mib", MachineInfo.PeakRssMib()),
                new("engine", "spiking"), new("simd", simd), new("cpu", cpu),
            ]);
        }
        Console.WriteLine($"{"neurons",7}  {"batch",5}  {"T",5}  {"forward_ms",10}  {"backward_ms",11}  {"total_ms",8}");
        Console.WriteLine($"{new string('-', 7)}  {new string('-', 5)}  {new string('-', 5)}  {new string('-', 10)}  {new string('-', 11)}  {new string('-', 8)}");
        foreach (var row in rows) Console.WriteLine(row);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# peak_rss_mib={MachineInfo.PeakRssMib():F1}"));
        return 0;
    }

    /// <summary>The multiply–adds of one pass's product: <c>T·B·n·n</c> (the forward's <c>x·Wᵀ</c>, or the backward's <c>Gᵀ·x</c>).</summary>
    public static double GemmFlops(int neurons, int batch, int steps) => (double)steps * batch * neurons * neurons;

    /// <summary>One warm-up and <paramref name="reps"/> timed repetitions: the seconds of each forward and each backward.</summary>
    private static (List<double> Forward, List<double> Backward) Measure(int neurons, int batch, int steps, int reps, int seed)
    {
        using var workload = new OnbWorkload(neurons, batch, steps, seed);
        var forward = new List<double>(reps);
        var backward = new List<double>(reps);
        for (int i = 0; i <= reps; i++)
        {
            using (DisposeScope.Begin())
            {
                long t0 = Stopwatch.GetTimestamp();
                var spikes = workload.Forward();
                long t1 = Stopwatch.GetTimestamp();
                OnbWorkload.Backward(spikes);
                long t2 = Stopwatch.GetTimestamp();
                workload.ZeroGrad();
                if (i == 0) continue; // the first call is the warm-up
                forward.Add(Stopwatch.GetElapsedTime(t0, t1).TotalSeconds);
                backward.Add(Stopwatch.GetElapsedTime(t1, t2).TotalSeconds);
            }
        }
        return (forward, backward);
    }

    /// <summary>Reads <c>--neurons</c>: comma-separated widths from 1 to <see cref="MaxNeurons"/>.</summary>
    /// <exception cref="UsageException">An item is not such a width, or the list is empty.</exception>
    public static List<int> ParseNeurons(string text)
    {
        var result = new List<int>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Options.ParseInt(item, 1, MaxNeurons, out int n))
            {
                throw new UsageException($"bad width '{item}' in --neurons; expected comma-separated integers from 1 to {MaxNeurons}, e.g. 512,4096");
            }
            result.Add(n);
        }
        if (result.Count == 0) throw new UsageException("--neurons is empty");
        return result;
    }
}

/// <summary>
/// The Open Neuromorphic workload at one width, built from the engine's public pieces: a <see cref="Linear"/>
/// <c>(n, n)</c> with PyTorch's initialisation, a <see cref="LeakyIntegrateAndFire"/> with SpikingJelly's defaults and
/// the ATan(2) surrogate, and a constant input drawn from a standard normal, <c>[T, B, n]</c>.
/// </summary>
internal sealed class OnbWorkload : IDisposable
{
    /// <summary>The weight and bias are drawn first, then the input, from one Philox stream of <paramref name="seed"/>.</summary>
    public OnbWorkload(int neurons, int batch, int steps, int seed)
    {
        var generator = new PhiloxGenerator((ulong)seed);
        Linear = new Linear(neurons, neurons, bias: true, generator);
        Lif = new LeakyIntegrateAndFire(tau: 2.0, decayInput: true, vThreshold: 1f, vReset: 0f, detachReset: false, new Spiking.Autograd.Surrogates.ATan(2.0));
        Input = Variable.Constant(generator.Normal(new Shape(steps, batch, neurons)), "x");
    }

    public Linear Linear { get; }

    public LeakyIntegrateAndFire Lif { get; }

    /// <summary>The input current, <c>[T, B, n]</c>; it needs no gradient.</summary>
    public Variable Input { get; }

    /// <summary>
    /// The output spikes, <c>[T, B, n]</c>. The Linear's output lives in a scope of its own that closes once the neuron
    /// has run: the neuron keeps its potentials for the backward, not its input, so the current goes back to the pool
    /// here rather than at the end of the step (as PyTorch frees it when nothing refers to it any more).
    /// </summary>
    public Variable Forward()
    {
        using var scope = DisposeScope.Begin();
        var current = Linear.Forward(Input);
        return scope.MoveToOuter(Lif.Forward(current));
    }

    /// <summary>The loss, the sum of the output spikes, back-propagated to the weight and bias.</summary>
    public static void Backward(Variable spikes) => Functional.Sum(spikes).Backward();

    /// <summary>Clears the weight's and bias's gradients.</summary>
    public void ZeroGrad() => Linear.ZeroGrad();

    public void Dispose()
    {
        Input.Dispose();
        Linear.Dispose();
        Lif.Dispose();
    }
}

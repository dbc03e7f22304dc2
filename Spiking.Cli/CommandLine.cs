using System;
using System.Collections.Generic;

namespace Spiking.Cli;

/// <summary>Dispatches <c>spiking &lt;command&gt; [options]</c> to the command that handles it.</summary>
internal static class CommandLine
{
    private const string Usage = """
        usage: spiking <command> [options]

        commands:
          train [options]            train W1 (--model mlp, default), W2 (cnn) or W3 (spikformer, sdt) on Fashion-MNIST
              --model mlp|cnn|spikformer|sdt --epochs N (1) --batch N (64) --timesteps T (8 mlp, 4 cnn) --lr X (1e-3)
              --optimizer adam|adamw|sgd (adam) --schedule none|cosine|step (none) --seed S (0) --threads N
              --data DIR (default $FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist)
              --limit N --test-limit N   use only the first N train / test samples
              --out FILE                 write the trained model as safetensors (PyTorch state-dict names)
              --json FILE                append the final metrics as one JSON line
              --plot DIR                 write training.png, firing_rates.png and raster.png
              --device cpu|cuda|cuda:N   where to train (default cpu); cuda runs W1 and W2 through Spiking.Gpu's kernels
          eval --checkpoint FILE [--model mlp|cnn] [--data DIR] [--timesteps T] [--batch N] [--seed S] [--threads N] [--json FILE]
                                     test accuracy, firing rates and energy of a saved W1/W2 model (ours or PyTorch's)
          info                       the machine, SIMD width and thread count the engine sees, and whether CUDA is usable
          gpu-selftest [--device-index N] [--seed S]
                                     run every CUDA kernel against the CPU backend on random inputs; one line per kernel
          conformance DIR [--family F] [--file NAME]   recompute the golden SpikingJelly cases in DIR/*.json and compare
          bench kernels [options]    time the spike and dense kernels at DESIGN.md's shapes and rates
              --threads N              threads for the kernels (default: all cores)
              --json FILE              append one JSON line per measurement (torch_kernels.py's keys)
              --shapes MxKxN,...       shapes (default: 512x784x512,512x1024x1024,2048x1024x1024,256x4096x4096)
              --rates p,...            spike rates (default: 0.05,0.1,0.2,0.3)
              --reps N --min-time S --warmup N   timing loop, as torch_kernels.py
              --impl fast|reference    which kernel implementation to time (default: fast)
          bench neurons [options]    every neuron fused vs composed from ops at [8,64,1024] (forward, forward+backward),
                                     then LIF on the shared kernel vs the first LIF kernel at [8,64,512], [4,64,32,28,28]
              --neuron NAME --threads N --json FILE --reps N --min-time S --max-time S --warmup N
          bench attention [options]  time forward+backward of spiking attention (SSA = SDSA-2, SDSA-1, -3, -4 on spikes) vs
                                     float softmax attention, with the bytes each holds for backward
              --threads N --json FILE --reps N --min-time S --warmup N
              --rate p                 firing rate of the Q, K, V spikes (default: 0.15)
              --shapes "T,B,N,D,H;..."  shapes: timesteps, batch, tokens, channels, heads (default: 4,64,49,64,4;4,16,196,384,12)
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            var options = Options.Parse(args.AsSpan(1));
            return args[0] switch
            {
                "train" => Training.TrainCommand.Run(options),
                "eval" => Training.EvalCommand.Run(options),
                "conformance" => ConformanceCommand.Run(options),
                "info" => InfoCommand.Run(options),
                "gpu-selftest" => GpuSelfTestCommand.Run(options),
                "bench" => BenchCommand.Run(options),
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"spiking: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }
}

/// <summary>A command line that cannot be understood; reported with the usage text.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>Positional words and <c>--name value</c> pairs of a command line.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _named = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public static Options Parse(ReadOnlySpan<string> args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = a.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0) o._named[a[2..eq]] = a[(eq + 1)..];
                else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) o._named[a[2..]] = args[++i];
                else o._named[a[2..]] = "true";
            }
            else
            {
                o.Positional.Add(a);
            }
        }
        return o;
    }

    public string? String(string name)
    {
        _used.Add(name);
        return _named.TryGetValue(name, out var v) ? v : null;
    }

    public int Int(string name, int fallback, int min = int.MinValue)
    {
        var s = String(name);
        if (s is null) return fallback;
        if (!int.TryParse(s, out int v) || v < min) throw new UsageException($"--{name} expects an integer >= {min}, got '{s}'");
        return v;
    }

    public double Double(string name, double fallback, double min = double.MinValue)
    {
        var s = String(name);
        if (s is null) return fallback;
        if (!double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out double v) || v < min)
        {
            throw new UsageException($"--{name} expects a number >= {min}, got '{s}'");
        }
        return v;
    }

    /// <summary>Fails on any option that no command asked for, so a typo is never silently ignored.</summary>
    public void RejectUnknown()
    {
        foreach (var k in _named.Keys)
        {
            if (!_used.Contains(k)) throw new UsageException($"unknown option --{k}");
        }
    }
}

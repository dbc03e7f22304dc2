using System;
using System.IO;

namespace Spiking.Cli;

/// <summary>Dispatches <c>spiking &lt;command&gt; [options]</c> to the command that handles it.</summary>
internal static class CommandLine
{
    private const string Usage = """
        usage: spiking <command> [options]

        commands:
          train [options]            train W1 (--model mlp, default), W2 (cnn) or W3 (spikformer, sdt, metaspikeformer, qsd) on Fashion-MNIST
              --model mlp|cnn|spikformer|sdt|metaspikeformer|qsd --epochs N (1) --batch N (64) --lr X (1e-3)
              --timesteps T (8 mlp; 4 cnn, spikformer, sdt and metaspikeformer; 1 qsd)
              --sdsa 1|2|3|4             sdt only: its attention core, SDSA-1 (default, Q ⊙ SN(Σ K ⊙ V)) to SDSA-4
                                         (Meta-SpikeFormer's comparison); recorded in the checkpoint, which eval rebuilds
              --weight-bits 4|8|32       qsd only: its weights by LSQ at 4 (default) or 8 bits, or 32 for its float twin;
                                         recorded in the checkpoint, which eval rebuilds
              --optimizer adam|adamw|sgd (adam) --schedule none|cosine|step (none) --seed S (0) --threads N
              --data DIR (default $FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist)
              --limit N --test-limit N   use only the first N train / test samples
              --eval-batch N             test samples per evaluation pass (default: --batch); the evaluation holds
                                         T × N images' activations at once, so a larger N can pass the training step's memory
              --training METHOD          bptt (default), sltt, sltt-k=K, tbptt=k or checkpoint=k: run the time steps in
                                         pieces with the neurons' state carried (SLTT: one step at a time, the gradient
                                         cut through time, per-step TET loss; sltt-k: K random steps trained; tbptt:
                                         cut every k steps; checkpoint: BPTT's gradients, recomputing k steps at a time)
              --timesteps-schedule T1,T2,...   IIR-SNN's one-time-step training (mlp, cnn): train at T1 for --epochs, then
                                         fine-tune that model at T2, T3, ... for --epochs each (strictly decreasing, <= 1024),
                                         a fresh optimizer per stage; prints and (--json) writes one line per stage with its
                                         test accuracy and learned thresholds and leaks; --out holds the final T's model
              --neuron lif|iir-lif       the spiking layers of mlp and cnn: the reference LIF, or IIR-SNN's LIF with a
                                         learnable leak and threshold per layer (CPU only; default with a schedule)
              --readout spikes|membrane  mlp and cnn: the class that fires most (default), or IIR-SNN's non-spiking output
                                         layer: no output neuron, the last Linear's output averaged over T as logits, cross-entropy
              --out FILE                 write the trained model as safetensors (PyTorch state-dict names) with its recipe
                                         (model, T, encoding, neuron, readout) in the metadata; never written if training diverged
              --json FILE                append the final metrics as one JSON line, one per stage with a schedule (non-finite values as null)
              --plot DIR                 write training.png, firing_rates.png and raster.png
                                         (--out, --json and --plot are checked writable before training starts)
              --device cpu|cuda|cuda:N   where to train (default cpu); cuda runs W1 and W2 through Spiking.Gpu's kernels
          train --model spikegpt|spiking-lm [options]   train a character language model (SpikeGPT's recipe, as torch_spikegpt.py)
              --corpus kjv | --text FILE  the King James Bible from `bible` (apt-get install -y bible-kjv; default) or a UTF-8 file
              --context N (128) --layers N (4) --width N (128) --steps N (1000) --batch N (16) --lr X (6e-4) --lr-final X (1e-5)
              --seed S (0) --threads N   --init rwkv|rwkv-zero|torch (spikegpt only; rwkv)   --heads H (spiking-lm only; 4)
              --out FILE  safetensors with torch_spikegpt.py's metadata (model, vocab, n_layer, n_embd, ctx_len, steps, init, corpus, corpus_sha256)
              --json FILE  one JSON line: tokens_per_s, val_bpc, test_bpc, firing_rates, energy, peak_rss_mb, ...
              --plot DIR   write loss.png and firing_rates.png
                                     Adam (0.9, 0.99, eps 4e-9), cosine lr per step, grad-norm clip 1, cross-entropy + L2Wrap;
                                     then validation and test bits per character, firing rates and energy per character
          eval --checkpoint FILE [--corpus kjv | --text FILE] [--threads N] [--json FILE]
                                     a language-model checkpoint (ours or torch_spikegpt.py's): val/test BPC, firing rates, energy
          generate --checkpoint FILE [--prompt TEXT ("In the beginning")] [--tokens N (200)] [--temperature X (1)] [--seed S (0)] [--threads N (1)] [--json FILE]
                                     continue the prompt from a language-model checkpoint, one character at a time (recurrent mode)
          eval --checkpoint FILE [--model NAME] [--data DIR] [--timesteps T] [--batch N] [--seed S] [--threads N] [--json FILE]
                                     test accuracy, firing rates and energy of a saved model (ours or PyTorch's); the model,
                                     T and encoding come from the checkpoint's recipe, a contradicting --model is refused and
                                     another --timesteps is warned about; reads only the test files of --data
              --engine float|integer     integer: a qsd model's LSQ layers fed by spike counts run on the integer kernels
                                         (VNNI/AVX-512BW where the CPU has them), the same outputs bit for bit; reads packed checkpoints too
          export --checkpoint FILE --quantize packed --out FILE
                                     a qsd checkpoint (--weight-bits 4 or 8) with its LSQ weights packed at their width (I8, or
                                     U8 with two codes a byte, plus F32 scales), which eval reads; prints both files' sizes
          info                       the machine, SIMD width and thread count the engine sees, and whether CUDA is usable
          gpu-selftest [--device-index N] [--seed S]
                                     run every CUDA kernel against the CPU backend on random inputs; one line per kernel
          conformance DIR [--family F] [--file NAME]   recompute the golden SpikingJelly cases in DIR/*.json and compare;
                                     exits 3 if anything could not be checked (unknown family, no cases, a case with no values)
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
          bench saved [options]      what a training step of mlp, cnn, spikformer, sdt and metaspikeformer holds for backward,
                                     per sample: bits, floats, floats holding only 0/1 (spikes saved as floats), by op and largest tensor
              --model all|mlp|cnn|spikformer|sdt|metaspikeformer --batch N (default 8) --timesteps T --top N --seed S --threads N
              --sdsa 1|2|3|4           the sdt's attention core (default: 1, the one train uses)
          bench onb [options]        the Open Neuromorphic workload of ../shared/peers/torch_onb.py: Linear(n, n) and a multi-step
                                     LIF (ATan) on a randn input [T, B, n], loss the sum of the spikes; forward and backward timed
                                     apart (1 warm-up, then medians of --reps), with the peer's table and JSON keys
              --neurons n,...          layer widths (default: 512,4096)
              --batch N (16) --T N (500) --reps N (5) --threads N --seed S (0) --json FILE
        """;

    private const string ExitCodes = """

        exit status:
          0   done
          1   a check found a difference (conformance, gpu-selftest)
          2   usage: unknown command or option, missing or invalid value, stray word
          3   input: a file or folder is missing, unreadable, or does not hold what was expected
          4   output: --out, --json or --plot cannot be written (checked before any work starts)
          5   training diverged: a loss, gradient or parameter is not finite (nothing is written to --out)
          6   the requested device is unavailable (no CUDA driver or GPU)
          7   out of memory
          70  a bug in spiking: the message asks you to report it, with its stack trace

        Numbers use a decimal point (1.5, 1e-3); every option takes a value (--name value or --name=value).
        """;

    private const string Commands = "train, eval, export, generate, conformance, info, gpu-selftest, bench, help";

    /// <summary>Runs one command line; user errors go to <paramref name="error"/> (default: standard error) as one line, never as a stack trace.</summary>
    /// <returns>The process exit status (<see cref="ExitCode"/>).</returns>
    public static int Run(string[] args, TextWriter? error = null)
    {
        error ??= Console.Error;
        if (args.Length == 0)
        {
            error.WriteLine($"spiking: no command given; commands are {Commands} (see 'spiking help')");
            return (int)ExitCode.Usage;
        }
        if (args[0] is "-h" or "--help" or "help")
        {
            if (args.Length > 1)
            {
                error.WriteLine($"spiking: help takes no arguments, got '{args[1]}'");
                return (int)ExitCode.Usage;
            }
            Console.Out.WriteLine(Usage + ExitCodes);
            return (int)ExitCode.Success;
        }
        try
        {
            var options = Options.Parse(args.AsSpan(1), error);
            return args[0] switch
            {
                "train" => Training.TrainCommand.Run(options),
                "eval" => Training.EvalCommand.Run(options),
                "export" => Training.ExportCommand.Run(options),
                "generate" => Training.GenerateCommand.Run(options),
                "conformance" => ConformanceCommand.Run(options),
                "info" => InfoCommand.Run(options),
                "gpu-selftest" => GpuSelfTestCommand.Run(options),
                "bench" => BenchCommand.Run(options),
                _ => throw new UsageException($"unknown command '{args[0]}'; commands are {Commands}"),
            };
        }
        catch (Exception e)
        {
            var (code, message) = Classify(e);
            if (code == ExitCode.InternalError)
            {
                error.WriteLine($"spiking: internal error, a bug in spiking: {e.GetType().Name}: {OneLine(e.Message)}");
                error.WriteLine("Please report it to the Spiking developers with the command line and the text below.");
                error.WriteLine(e.ToString());
            }
            else
            {
                error.WriteLine($"spiking: {OneLine(message)}{(code == ExitCode.Usage ? " (see 'spiking help')" : "")}");
            }
            return (int)code;
        }
    }

    /// <summary>The exit status and message of an exception: user errors by type, anything else is a bug.</summary>
    internal static (ExitCode Code, string Message) Classify(Exception e) => e switch
    {
        CliException cli => (cli.Code, cli.Message),
        Layers.TrainingDivergedException diverged => (ExitCode.Diverged, diverged.Message),
        FileNotFoundException or DirectoryNotFoundException or InvalidDataException or EndOfStreamException => (ExitCode.InputData, e.Message),
        UnauthorizedAccessException or IOException => (ExitCode.InputData, e.Message),
        OutOfMemoryException or InsufficientMemoryException =>
            (ExitCode.OutOfMemory, $"out of memory ({e.Message}); lower --batch or --timesteps, or use --limit"),
        _ => (ExitCode.InternalError, e.Message),
    };

    /// <summary>A message on one line: the lines of multi-line messages (lists of problems) joined with "; ".</summary>
    internal static string OneLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var text = string.Join("; ", lines);
        return text.Replace(":; ", ": ", StringComparison.Ordinal);
    }
}

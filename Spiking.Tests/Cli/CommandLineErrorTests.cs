using System;
using System.IO;
using Spiking.Cli;
using Spiking.Tests.Layers;
using Xunit;

namespace Spiking.Tests.Cli;

/// <summary>
/// Every user error of <c>spiking</c> ends in one line on standard error, <c>spiking: …</c>, naming the input, and in
/// the exit status of its kind (usage 2, input 3, output 4, diverged 5); none shows a stack trace. These cases fail
/// before any work starts, so they run in process in milliseconds.
/// </summary>
[Collection("Parallelism")]
public sealed class CommandLineErrorTests
{
    internal static (int Code, string Error) Run(params string[] args)
    {
        var error = new StringWriter();
        int code = CommandLine.Run(args, error);
        return (code, error.ToString());
    }

    internal static void AssertOneLineError(string error, string mentions)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got:\n{error}");
        Assert.StartsWith("spiking: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(mentions, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain(" at Spiking.", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frobnicate", "unknown command 'frobnicate'")]
    [InlineData("train --lr 1,5", "--lr expects a finite number")]
    [InlineData("train --lr NaN", "got 'NaN'")]
    [InlineData("train --lr Infinity", "got 'Infinity'")]
    [InlineData("train --lr -1", "got '-1'")]
    [InlineData("train --lr 1e300", "got '1e300'")]
    [InlineData("train --lr 1e39", "got '1e39'")]
    [InlineData("train --epochs 0", "--epochs expects an integer from 1 to")]
    [InlineData("train --epochs 99999999999", "got '99999999999'")]
    [InlineData("train --batch 1.5", "--batch expects an integer")]
    [InlineData("train --batch 1,000", "got '1,000'")]
    [InlineData("train --batch 100000000", "--batch expects an integer from 1 to 65536")]
    [InlineData("train --timesteps 0", "--timesteps expects an integer from 1 to 1024")]
    [InlineData("train --timesteps 1000000", "got '1000000'")]
    [InlineData("train --timesteps 1024 --batch 65536", "--timesteps 1024 × --batch 65536 is too large for --model mlp")]
    [InlineData("train --model spikformer --timesteps 8 --batch 1024", "keep T × batch at most 4095")]
    [InlineData("train --threads 0", "--threads expects an integer from 1 to 1024")]
    [InlineData("train --seed -3", "--seed expects an integer >= 0")]
    [InlineData("train --model resnet", "--model expects mlp, cnn, spikformer, sdt, metaspikeformer, qsd, spikegpt or spiking-lm, got 'resnet'")]
    [InlineData("train --model metaspikeformer --timesteps 64 --batch 512", "keep T × batch at most 16383")]
    [InlineData("train --sdsa 3", "--sdsa is for --model sdt; --model mlp has no SDSA variants")]
    [InlineData("train --model metaspikeformer --sdsa 1", "--sdsa is for --model sdt; --model metaspikeformer has no SDSA variants")]
    [InlineData("train --model sdt --sdsa 5", "--sdsa expects an integer from 1 to 4, got '5'")]
    [InlineData("train --model metaspikeformer --weight-bits 4", "--weight-bits is for --model qsd; --model metaspikeformer has float weights only")]
    [InlineData("train --model qsd --weight-bits 2", "--weight-bits expects 4, 8 or 32 (float), got '2'")]
    [InlineData("train --model sdt --sdsa two", "--sdsa expects an integer from 1 to 4, got 'two'")]
    [InlineData("train --optimizer adagrad", "--optimizer expects adam, adamw or sgd, got 'adagrad'")]
    [InlineData("train --schedule linear", "--schedule expects none, cosine or step, got 'linear'")]
    [InlineData("train --device tpu", "--device")]
    [InlineData("train --out", "option --out needs a value (it ends the command line)")]
    [InlineData("train --out --epochs 2", "option --out needs a value before --epochs")]
    [InlineData("train --out=", "option --out has an empty value")]
    [InlineData("train --lr 0.1 --lr 0.2", "option --lr is given twice")]
    [InlineData("train --epcohs 2", "unknown option --epcohs")]
    [InlineData("train --eval-batch 0", "--eval-batch expects an integer from 1 to 65536")]
    [InlineData("train --training bpt", "--training: unknown training method 'bpt'")]
    [InlineData("train --training tbptt", "--training: training method 'tbptt' needs a count")]
    [InlineData("train --training checkpoint=0", "whole number of steps")]
    [InlineData("train --training sltt --device cuda", "--training sltt runs on the CPU only")]
    [InlineData("train 5", "unexpected word '5'")]
    [InlineData("train --epochs 2 extra", "unexpected word 'extra'")]
    [InlineData("train -- 2", "'--' is not an option")]
    [InlineData("eval", "eval needs --checkpoint FILE")]
    [InlineData("eval --checkpoint x --timesteps 0", "--timesteps expects an integer from 1 to 1024")]
    [InlineData("info extra", "unexpected word 'extra'")]
    [InlineData("info --verbose yes", "unknown option --verbose")]
    [InlineData("help me", "help takes no arguments")]
    [InlineData("conformance", "conformance needs one directory")]
    [InlineData("conformance a b", "unexpected word 'b' after a")]
    [InlineData("conformance . --family neuron", "--family expects one of surrogate, neurons")]
    [InlineData("bench", "bench needs a suite")]
    [InlineData("bench kernel", "unknown bench suite 'kernel'")]
    [InlineData("bench kernels extra", "unexpected word 'extra' after kernels")]
    [InlineData("bench kernels --min-time NaN", "--min-time expects a finite number from 0 to 8.64E+04, got 'NaN'")]
    [InlineData("bench kernels --max-time -1", "--max-time expects a finite number")]
    [InlineData("bench kernels --reps 0", "--reps expects an integer from 1 to")]
    [InlineData("bench kernels --rates NaN", "bad rate 'NaN' in --rates")]
    [InlineData("bench kernels --rates 0.1,1.5", "bad rate '1.5' in --rates")]
    [InlineData("bench kernels --rates ,", "--rates is empty")]
    [InlineData("bench kernels --shapes 8x8", "bad shape '8x8' in --shapes")]
    [InlineData("bench kernels --shapes 0x8x8", "bad shape '0x8x8'")]
    [InlineData("bench kernels --shapes 65536x65536x1", "needs an operand of more than")]
    [InlineData("bench kernels --impl turbo", "--impl expects fast or reference, got 'turbo'")]
    [InlineData("bench attention --rate 2", "--rate expects a finite number from 0 to 1")]
    [InlineData("bench attention --shapes 4,64,49,64,3", "D divisible by H")]
    [InlineData("bench attention --shapes 64,64,4096,64,4", "needs tensors of more than")]
    [InlineData("bench neurons --max-time Infinity", "--max-time expects a finite number")]
    [InlineData("gpu-selftest --device-index -1", "--device-index expects an integer from 0 to 1023")]
    public void A_bad_command_line_is_one_usage_line_and_exit_2(string commandLine, string mentions)
    {
        var (code, error) = Run(commandLine.Split(' '));
        Assert.Equal(2, code);
        AssertOneLineError(error, mentions);
    }

    [Fact]
    public void No_arguments_is_a_usage_error_while_help_succeeds_and_lists_the_exit_codes()
    {
        var (code, error) = Run();
        Assert.Equal(2, code);
        AssertOneLineError(error, "no command given; commands are train, eval, export");
        var output = new StringWriter();
        var saved = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, CommandLine.Run(["help"], new StringWriter()));
        }
        finally
        {
            Console.SetOut(saved);
        }
        Assert.Contains("usage: spiking <command>", output.ToString(), StringComparison.Ordinal);
        foreach (var line in new[] { "2   usage", "3   input", "4   output", "5   training diverged", "6   the requested device", "70  a bug" })
        {
            Assert.Contains(line, output.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Outputs_are_checked_before_the_data_is_read()
    {
        using var folder = new TempFolder();
        string missingData = Path.Combine(folder.Path, "no-data-here");
        string missingFolder = Path.Combine(folder.Path, "nope", "w.safetensors");

        // The data folder does not exist either: exit 4 (not 3) proves the outputs were checked first.
        var (code, error) = Run("train", "--data", missingData, "--out", missingFolder);
        Assert.Equal(4, code);
        AssertOneLineError(error, $"--out '{missingFolder}': folder '{Path.GetDirectoryName(missingFolder)}' does not exist");

        (code, error) = Run("train", "--data", missingData, "--json", folder.Path);
        Assert.Equal(4, code);
        AssertOneLineError(error, $"--json '{folder.Path}' is a folder");

        string file = folder.File("plots-is-a-file");
        File.WriteAllText(file, "x");
        (code, error) = Run("train", "--data", missingData, "--plot", file);
        Assert.Equal(4, code);
        AssertOneLineError(error, $"--plot '{file}' is a file");

        (code, error) = Run("eval", "--checkpoint", folder.File("none.safetensors"), "--json", missingFolder);
        Assert.Equal(4, code);
        AssertOneLineError(error, "--json");

        (code, error) = Run("bench", "kernels", "--json", missingFolder);
        Assert.Equal(4, code);
        AssertOneLineError(error, "--json");

        // The checks leave nothing behind.
        Assert.Equal(["plots-is-a-file"], folder.Names());
    }

    [Fact]
    public void Missing_or_malformed_inputs_exit_3_with_the_file_named()
    {
        using var folder = new TempFolder();
        var (code, error) = Run("eval", "--checkpoint", folder.File("none.safetensors"));
        Assert.Equal(3, code);
        AssertOneLineError(error, "none.safetensors");

        string junk = folder.File("junk.safetensors");
        File.WriteAllBytes(junk, [100, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'x']);
        (code, error) = Run("eval", "--checkpoint", junk);
        Assert.Equal(3, code);
        AssertOneLineError(error, $"Safetensors file '{junk}'");

        (code, error) = Run("train", "--data", folder.Path);
        Assert.Equal(3, code);
        AssertOneLineError(error, "dataset-fashion-mnist");

        (code, error) = Run("conformance", Path.Combine(folder.Path, "no-such-dir"));
        Assert.Equal(3, code);
        AssertOneLineError(error, "no such directory");
    }

    /// <summary>Writes the four raw IDX files of a data folder with <paramref name="count"/> images of rows × columns each.</summary>
    private static void WriteIdx(string folder, int count, int rows, int columns)
    {
        foreach (var prefix in new[] { "train", "t10k" })
        {
            using (var images = File.Create(Path.Combine(folder, $"{prefix}-images-idx3-ubyte")))
            {
                foreach (int v in new[] { Spiking.Layers.Data.IdxFile.ImagesMagic, count, rows, columns }) images.Write([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
                images.Write(new byte[count * rows * columns]);
            }
            using var labels = File.Create(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"));
            foreach (int v in new[] { Spiking.Layers.Data.IdxFile.LabelsMagic, count }) labels.Write([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
            labels.Write(new byte[count]);
        }
    }

    [Theory]
    [InlineData(4, 32, 32, "are 32×32 pixels; the models take 28×28")]
    [InlineData(4, 0, 28, "declares images of 0×28 pixels")]
    [InlineData(0, 28, 28, "hold no images")]
    public void Well_formed_data_the_models_cannot_take_is_an_input_error(int count, int rows, int columns, string mentions)
    {
        using var folder = new TempFolder();
        WriteIdx(folder.Path, count, rows, columns);
        var (code, error) = Run("train", "--data", folder.Path, "--threads", "1");
        Assert.Equal(3, code);
        AssertOneLineError(error, mentions);
    }

    [Fact]
    public void Only_a_bug_is_classified_as_internal_and_multi_line_messages_become_one_line()
    {
        Assert.Equal(ExitCode.InternalError, CommandLine.Classify(new InvalidOperationException()).Code);
        Assert.Equal(ExitCode.InternalError, CommandLine.Classify(new ArgumentOutOfRangeException()).Code);
        Assert.Equal(ExitCode.InputData, CommandLine.Classify(new InvalidDataException("x")).Code);
        Assert.Equal(ExitCode.Usage, CommandLine.Classify(new UsageException("x")).Code);
        Assert.Equal(ExitCode.Output, CommandLine.Classify(new OutputException("x")).Code);
        Assert.Equal(ExitCode.Diverged, CommandLine.Classify(new Spiking.Layers.TrainingDivergedException(3, "loss", null, double.NaN, 0.1)).Code);
        Assert.Equal(ExitCode.OutOfMemory, CommandLine.Classify(new InsufficientMemoryException()).Code);
        Assert.Equal("Checkpoint 'a' does not match: 'x' is missing; 'y' is not in the model",
            CommandLine.OneLine("Checkpoint 'a' does not match:\n  'x' is missing\n  'y' is not in the model"));
    }
}

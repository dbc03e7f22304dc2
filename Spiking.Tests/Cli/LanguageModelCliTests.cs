using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Spiking.Cli;
using Spiking.Layers.Serialization;
using Spiking.Tests.Layers;
using Xunit;

namespace Spiking.Tests.Cli;

/// <summary>
/// <c>spiking train --model spikegpt|spiking-lm</c>, <c>eval</c> of a language-model checkpoint (ours and the
/// PyTorch peer's) and <c>generate</c>, on a small text so a run takes seconds.
/// </summary>
[Collection("Parallelism")]
public sealed class LanguageModelCliTests
{
    /// <summary>About 6 000 characters of a few verses, repeated: enough for 90/5/5 with a context of 16.</summary>
    private static string WriteText(TempFolder folder)
    {
        var text = new StringBuilder();
        string[] verses =
        [
            "In the beginning God created the heaven and the earth.",
            "And the earth was without form, and void; and darkness was upon the face of the deep.",
            "And God said, Let there be light: and there was light.",
        ];
        for (int i = 0; text.Length < 6000; i++) text.Append(verses[i % verses.Length]).Append('\n');
        string path = folder.File("verses.txt");
        File.WriteAllText(path, text.ToString(), new UTF8Encoding(false));
        return path;
    }

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var saved = Console.Out;
        Console.SetOut(output);
        try
        {
            int code = CommandLine.Run(args, error);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(saved);
        }
    }

    [Theory]
    [InlineData("train --model spikegpt --heads 2", "--heads applies to --model spiking-lm only, not --model spikegpt")]
    [InlineData("train --model spiking-lm --init rwkv", "--init applies to --model spikegpt only, not --model spiking-lm")]
    [InlineData("train --model spikegpt --corpus kjv --text x.txt", "give --corpus or --text, not both")]
    [InlineData("train --model spikegpt --corpus wiki", "--corpus expects kjv, got 'wiki'")]
    [InlineData("train --model spikegpt --init zero", "--init expects rwkv, rwkv-zero or torch, got 'zero'")]
    [InlineData("train --model spikegpt --epochs 2", "unknown option --epochs")]
    [InlineData("train --model spikegpt --context 0", "--context expects an integer from 1 to 65536")]
    [InlineData("train --model spiking-lm --steps 0", "--steps expects an integer from 1 to")]
    [InlineData("train --model spikegpt --lr 0", "--lr expects a finite number")]
    [InlineData("train --model spikegpt --context 65536 --batch 65536", "passes 2147483647 elements")]
    [InlineData("generate", "generate needs --checkpoint FILE")]
    [InlineData("generate --checkpoint x --temperature 0", "--temperature expects a finite number from 1E-06")]
    [InlineData("generate --checkpoint x --tokens -1", "--tokens expects an integer >= 0")]
    [InlineData("generate --checkpoint x --top-p 0.9", "unknown option --top-p")]
    public void Usage_errors_are_one_line_and_exit_2(string commandLine, string mentions)
    {
        var (code, error) = CommandLineErrorTests.Run(commandLine.Split(' '));
        CommandLineErrorTests.AssertOneLineError(error, mentions);
        Assert.Equal(2, code);
    }

    [Fact]
    public void A_text_too_short_for_the_context_or_a_missing_file_is_an_input_error()
    {
        using var folder = new TempFolder();
        string tiny = folder.File("tiny.txt");
        File.WriteAllText(tiny, "abcdefghijklmnopqrstuvwxyz0123456789");
        var (code, error) = CommandLineErrorTests.Run("train", "--model", "spikegpt", "--text", tiny, "--context", "32");
        CommandLineErrorTests.AssertOneLineError(error, "corpus 'tiny.txt' (36 characters) is too short for --context 32");
        Assert.Equal(3, code);
        (code, error) = CommandLineErrorTests.Run("train", "--model", "spiking-lm", "--text", folder.File("absent.txt"));
        CommandLineErrorTests.AssertOneLineError(error, "absent.txt");
        Assert.Equal(3, code);
        (code, error) = CommandLineErrorTests.Run("generate", "--checkpoint", folder.File("absent.safetensors"));
        CommandLineErrorTests.AssertOneLineError(error, "absent.safetensors");
        Assert.Equal(3, code);
    }

    [Theory]
    [InlineData("spikegpt", "--init", "torch")]
    [InlineData("spiking-lm", "--heads", "2")]
    public void Train_writes_checkpoint_json_and_plots_that_eval_and_generate_read(string model, string option, string value)
    {
        using var folder = new TempFolder();
        string text = WriteText(folder);
        string checkpoint = folder.File("lm.safetensors"), json = folder.File("train.jsonl"), plots = Path.Combine(folder.Path, "plots");
        var (code, output, error) = Run("train", "--model", model, "--text", text, "--layers", "1", "--width", "16", "--context", "16", "--steps", "3",
            "--batch", "4", "--threads", "2", "--seed", "5", option, value, "--out", checkpoint, "--json", json, "--plot", plots);
        Assert.True(code == 0, $"exit {code}: {error}\n{output}");

        using (var metrics = JsonDocument.Parse(File.ReadAllLines(json).Single()))
        {
            var root = metrics.RootElement;
            Assert.Equal(model, root.GetProperty("workload").GetString());
            Assert.Equal("train", root.GetProperty("mode").GetString());
            Assert.Equal(3, root.GetProperty("steps").GetInt32());
            Assert.Equal(16, root.GetProperty("ctx").GetInt32());
            Assert.Equal(4, root.GetProperty("batch").GetInt32());
            Assert.Equal(1, root.GetProperty("layers").GetInt32());
            Assert.Equal(16, root.GetProperty("width").GetInt32());
            Assert.Equal("verses.txt", root.GetProperty("corpus").GetString());
            foreach (string key in new[] { "tokens_per_s", "val_bpc", "test_bpc", "peak_rss_mb", "train_s", "median_step_ms", "min_step_ms", "final_train_loss", "eval_s" })
            {
                Assert.True(root.GetProperty(key).GetDouble() > 0, key);
            }
            Assert.InRange(root.GetProperty("test_bpc").GetDouble(), 1, 8);
            Assert.NotEmpty(root.GetProperty("firing_rates").EnumerateObject());
            Assert.True(root.GetProperty("energy").GetProperty("microjoules_per_char").GetDouble() >= 0);
            Assert.Equal(64, root.GetProperty("corpus_sha256").GetString()!.Length);
        }
        var file = SafeTensors.Read(checkpoint);
        Assert.Equal(model, file.Metadata["model"]);
        Assert.Equal("1", file.Metadata["n_layer"]);
        Assert.Equal("16", file.Metadata["n_embd"]);
        Assert.Equal("16", file.Metadata["ctx_len"]);
        Assert.Equal("3", file.Metadata["steps"]);
        Assert.Equal("verses.txt", file.Metadata["corpus"]);
        Assert.Equal(Spiking.Layers.Data.CharVocabulary.FromText(File.ReadAllText(text)).ToString(), file.Metadata["vocab"]);
        if (model == "spikegpt") Assert.Equal("torch", file.Metadata["init"]);
        else Assert.Equal("2", file.Metadata["n_head"]);
        foreach (var png in new[] { "loss.png", "firing_rates.png" }) Assert.True(new FileInfo(Path.Combine(plots, png)).Length > 1000, png);

        // Eval reads the model back from the file and scores the same text alike.
        string evalJson = folder.File("eval.jsonl");
        (code, output, error) = Run("eval", "--checkpoint", checkpoint, "--text", text, "--json", evalJson, "--threads", "2");
        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        using (var train = JsonDocument.Parse(File.ReadAllLines(json).Single()))
        using (var eval = JsonDocument.Parse(File.ReadAllLines(evalJson).Single()))
        {
            Assert.Equal("eval", eval.RootElement.GetProperty("mode").GetString());
            Assert.Equal(train.RootElement.GetProperty("test_bpc").GetDouble(), eval.RootElement.GetProperty("test_bpc").GetDouble(), 1e-6);
            Assert.Equal(train.RootElement.GetProperty("val_bpc").GetDouble(), eval.RootElement.GetProperty("val_bpc").GetDouble(), 1e-6);
        }

        // Generation: the prompt, then the characters; a seed replays them.
        var first = Run("generate", "--checkpoint", checkpoint, "--prompt", "And God", "--tokens", "40", "--seed", "3");
        var again = Run("generate", "--checkpoint", checkpoint, "--prompt", "And God", "--tokens", "40", "--seed", "3");
        Assert.True(first.Code == 0, first.Error);
        Assert.StartsWith("And God", first.Output, StringComparison.Ordinal);
        Assert.Equal("And God".Length + 40 + Environment.NewLine.Length, first.Output.Length);
        Assert.Equal(first.Output, again.Output);
        var bad = Run("generate", "--checkpoint", checkpoint, "--prompt", "Zebra!");
        CommandLineErrorTests.AssertOneLineError(bad.Error, "'!' (U+0021), 'Z' (U+005A)");
        Assert.Equal(2, bad.Code);
        var other = Run("eval", "--checkpoint", checkpoint, "--text", text, "--timesteps", "4");
        CommandLineErrorTests.AssertOneLineError(other.Error, "unknown option --timesteps");
    }

    /// <summary>The peer script, found beside the repository (../shared/peers), and a Python with torch to run it; null with the reason otherwise.</summary>
    private static string? PeerScript(out string reason)
    {
        reason = "";
        string? script = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "peers", "torch_spikegpt.py");
            if (File.Exists(candidate))
            {
                script = candidate;
                break;
            }
        }
        if (script is null)
        {
            reason = "the PyTorch peer shared/peers/torch_spikegpt.py is not beside the repository";
            return null;
        }
        if (!File.Exists("/usr/bin/python3"))
        {
            reason = "/usr/bin/python3 is not installed";
            return null;
        }
        var probe = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", "import torch"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        probe.WaitForExit();
        if (probe.ExitCode != 0)
        {
            reason = "/usr/bin/python3 has no torch (apt-get install -y python3-torch)";
            return null;
        }
        return script;
    }

    [Fact]
    public async Task Eval_and_generate_read_a_checkpoint_the_pytorch_peer_wrote()
    {
        string? script = PeerScript(out string reason);
        if (script is null) Assert.Skip(reason);
        using var folder = new TempFolder();
        string text = WriteText(folder), checkpoint = folder.File("peer.safetensors"), peerJson = folder.File("peer.jsonl");
        var start = new ProcessStartInfo("/usr/bin/python3",
            [script, "--text", text, "--steps", "3", "--layers", "1", "--width", "16", "--ctx", "16", "--batch", "4", "--threads", "1",
             "--save", checkpoint, "--json", peerJson])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using (var peer = Process.Start(start)!)
        {
            var cancel = TestContext.Current.CancellationToken;
            var stdout = peer.StandardOutput.ReadToEndAsync(cancel);
            string stderr = await peer.StandardError.ReadToEndAsync(cancel);
            await peer.WaitForExitAsync(cancel);
            Assert.True(peer.ExitCode == 0, $"the peer failed: {stderr}\n{await stdout}");
        }
        string json = folder.File("eval.jsonl");
        var (code, output, error) = Run("eval", "--checkpoint", checkpoint, "--text", text, "--json", json, "--threads", "1");
        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        using var ours = JsonDocument.Parse(File.ReadAllLines(json).Single());
        using var theirs = JsonDocument.Parse(File.ReadAllLines(peerJson).Single());
        // The same weights on the same characters: BPC agrees to float rounding of the forward (a flipped spike aside).
        Assert.Equal(theirs.RootElement.GetProperty("test_bpc").GetDouble(), ours.RootElement.GetProperty("test_bpc").GetDouble(), 2e-3);
        Assert.Equal(theirs.RootElement.GetProperty("val_bpc").GetDouble(), ours.RootElement.GetProperty("val_bpc").GetDouble(), 2e-3);
        Assert.Equal(1, ours.RootElement.GetProperty("layers").GetInt32());
        Assert.Equal(16, ours.RootElement.GetProperty("width").GetInt32());
        Assert.Equal(16, ours.RootElement.GetProperty("ctx").GetInt32());
        var generated = Run("generate", "--checkpoint", checkpoint, "--prompt", "In the", "--tokens", "20");
        Assert.True(generated.Code == 0, generated.Error);
        Assert.StartsWith("In the", generated.Output, StringComparison.Ordinal);
    }
}

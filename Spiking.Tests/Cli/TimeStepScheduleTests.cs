using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Spiking.Cli;
using Spiking.Cli.Training;
using Spiking.Layers;
using Spiking.Layers.Serialization;
using Spiking.Tests.Layers;
using Xunit;

namespace Spiking.Tests.Cli;

/// <summary>
/// <c>spiking train --timesteps-schedule</c> (IIR-SNN's training down to one time step): the schedule's parsing and
/// its one-line usage errors, and two-stage runs (with the spiking and the membrane readout) that write a JSON line
/// per stage and a checkpoint that <c>spiking eval</c> runs at the final T with the learned neurons.
/// </summary>
[Collection("Parallelism")]
public sealed class TimeStepScheduleTests
{
    [Theory]
    [InlineData("4,2,1", new[] { 4, 2, 1 })]
    [InlineData("8", new[] { 8 })]
    [InlineData(" 16, 4 ,1", new[] { 16, 4, 1 })]
    [InlineData("1024,1", new[] { 1024, 1 })]
    public void A_schedule_is_strictly_decreasing_time_steps(string text, int[] expected) =>
        Assert.Equal(expected, TimeStepSchedule.Parse(text));

    [Theory]
    [InlineData("train --timesteps-schedule 4,2,2", "where T=2 follows T=2")]
    [InlineData("train --timesteps-schedule 1,2,4", "where T=2 follows T=1")]
    [InlineData("train --timesteps-schedule 4,,1", "with an empty entry")]
    [InlineData("train --timesteps-schedule 4,2,", "with an empty entry")]
    [InlineData("train --timesteps-schedule 4,0", "each an integer from 1 to 1024; got '0'")]
    [InlineData("train --timesteps-schedule 4,-1", "got '-1'")]
    [InlineData("train --timesteps-schedule 2048,1", "got '2048'")]
    [InlineData("train --timesteps-schedule 4;2", "got '4;2'")]
    [InlineData("train --timesteps-schedule 4,1.5", "got '1.5'")]
    [InlineData("train --model cnn --timesteps 4 --timesteps-schedule 4,1", "--timesteps and --timesteps-schedule both set the time steps")]
    [InlineData("train --model spikformer --timesteps-schedule 4,1", "--timesteps-schedule is for --model mlp or cnn")]
    [InlineData("train --model sdt --neuron iir-lif", "--neuron iir-lif is for --model mlp or cnn")]
    [InlineData("train --neuron alif", "--neuron expects lif or iir-lif, got 'alif'")]
    [InlineData("train --model cnn --timesteps-schedule 4,1 --device cuda", "--neuron iir-lif runs on the CPU only")]
    [InlineData("train --readout rate", "--readout expects spikes or membrane, got 'rate'")]
    [InlineData("train --model spikformer --readout membrane", "--readout membrane is for --model mlp or cnn")]
    public void A_bad_schedule_or_neuron_is_one_usage_line_and_exit_2(string commandLine, string mentions)
    {
        var (code, error) = CommandLineErrorTests.Run(commandLine.Split(' '));
        Assert.Equal(2, code);
        CommandLineErrorTests.AssertOneLineError(error, mentions);
    }

    [Fact]
    public void A_two_stage_schedule_writes_a_line_per_stage_and_a_checkpoint_eval_runs_at_the_final_T()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdx(folder.Path, 128, 64);
        string json = folder.File("stages.jsonl"), checkpoint = folder.File("w2.safetensors");
        var output = new StringWriter();
        int code = CommandLine.Run(["train", "--model", "cnn", "--data", folder.Path, "--timesteps-schedule", "3,1", "--threads", "2",
            "--json", json, "--out", checkpoint], output);
        Assert.Equal(0, code);

        var lines = File.ReadAllLines(json).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Equal([3, 1], lines.Select(l => l.GetProperty("T").GetInt32()));
        Assert.Equal([1, 2], lines.Select(l => l.GetProperty("stage").GetInt32()));
        foreach (var line in lines)
        {
            Assert.Equal(2, line.GetProperty("stages").GetInt32());
            Assert.Equal([3, 1], line.GetProperty("timesteps_schedule").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal("iir-lif", line.GetProperty("neuron").GetString());
            Assert.InRange(line.GetProperty("test_acc").GetDouble(), 0.0, 1.0);
            Assert.True(line.GetProperty("step_ms_median").GetDouble() > 0);
            Assert.True(line.GetProperty("train_peak_rss_mb").GetDouble() > 0);
            // W2's three spiking layers, by module index, each with its learned threshold and leak.
            Assert.Equal(["2", "6", "10"], line.GetProperty("thresholds").EnumerateObject().Select(p => p.Name));
            Assert.Equal(["2", "6", "10"], line.GetProperty("leaks").EnumerateObject().Select(p => p.Name));
            Assert.All(line.GetProperty("thresholds").EnumerateObject(), p => Assert.True(p.Value.GetDouble() > 0));
            Assert.All(line.GetProperty("leaks").EnumerateObject(), p => Assert.InRange(p.Value.GetDouble(), 0.0, 1.0));
        }
        // The second stage fine-tuned the first one's thresholds (from their common start of 1).
        Assert.NotEqual(1.0, lines[1].GetProperty("thresholds").GetProperty("2").GetDouble());

        var file = SafeTensors.Read(checkpoint);
        Assert.Equal("1", file.Metadata["T"]);
        Assert.Equal("iir-lif", file.Metadata["neuron"]);
        Assert.Equal("3,1", file.Metadata["timesteps_schedule"]);
        Assert.Contains("10.threshold_w", file.Entries.Select(e => e.Name));
        Assert.Contains("2.leak_w", file.Entries.Select(e => e.Name));

        string evalJson = folder.File("eval.jsonl");
        Assert.Equal(0, CommandLine.Run(["eval", "--checkpoint", checkpoint, "--data", folder.Path, "--threads", "2", "--json", evalJson], new StringWriter()));
        var eval = JsonDocument.Parse(File.ReadAllLines(evalJson).Single()).RootElement;
        Assert.Equal(1, eval.GetProperty("T").GetInt32());
        Assert.Equal("iir-lif", eval.GetProperty("neuron").GetString());
        // Direct input and batch norm in evaluation mode: eval sees exactly what the last stage measured.
        Assert.Equal(lines[1].GetProperty("test_acc").GetDouble(), eval.GetProperty("test_acc").GetDouble());
    }

    [Fact]
    public void The_membrane_readout_drops_the_output_neuron_and_eval_rebuilds_it_from_the_recipe()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdx(folder.Path, 128, 64);
        string json = folder.File("stages.jsonl"), checkpoint = folder.File("w2.safetensors");
        Assert.Equal(0, CommandLine.Run(["train", "--model", "cnn", "--data", folder.Path, "--timesteps-schedule", "2,1", "--readout", "membrane", "--threads", "2",
            "--json", json, "--out", checkpoint], new StringWriter()));
        var lines = File.ReadAllLines(json).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
        Assert.Equal(["membrane", "membrane"], lines.Select(l => l.GetProperty("readout").GetString()));
        // Two spiking layers left; the Linear's output is the logits.
        Assert.Equal(["2", "6"], lines[1].GetProperty("thresholds").EnumerateObject().Select(p => p.Name));
        var file = SafeTensors.Read(checkpoint);
        Assert.Equal("membrane", file.Metadata["readout"]);
        Assert.DoesNotContain(file.Entries, e => e.Name.StartsWith("10.", StringComparison.Ordinal));
        string evalJson = folder.File("eval.jsonl");
        Assert.Equal(0, CommandLine.Run(["eval", "--checkpoint", checkpoint, "--data", folder.Path, "--threads", "2", "--json", evalJson], new StringWriter()));
        var eval = JsonDocument.Parse(File.ReadAllLines(evalJson).Single()).RootElement;
        Assert.Equal("membrane", eval.GetProperty("readout").GetString());
        Assert.Equal(lines[1].GetProperty("test_acc").GetDouble(), eval.GetProperty("test_acc").GetDouble());
    }

    [Fact]
    public void A_checkpoint_without_a_neuron_in_its_recipe_is_recognised_by_its_names()
    {
        using var folder = new TempFolder();
        string iir = folder.File("iir.safetensors"), lif = folder.File("lif.safetensors");
        using (var net = ReferenceModels.SpikingCnn(() => new IirLeakyIntegrateAndFire())) Checkpoint.Save(net, iir, ModelKind.Cnn.Recipe(1));
        using (var net = ReferenceModels.SpikingCnn()) Checkpoint.Save(net, lif, ModelKind.Cnn.Recipe(1));
        Assert.Equal(NeuronKind.IirLif, ModelKind.NeuronOf(SafeTensors.Read(iir)));
        Assert.Equal(NeuronKind.Lif, ModelKind.NeuronOf(SafeTensors.Read(lif)));
        Assert.False(SafeTensors.Read(lif).Metadata.ContainsKey("neuron"));

        var recipe = ModelKind.Cnn.Recipe(1, NeuronKind.IirLif);
        recipe["neuron"] = "hodgkin-huxley";
        using (var net = ReferenceModels.SpikingCnn(() => new IirLeakyIntegrateAndFire())) Checkpoint.Save(net, iir, recipe);
        var e = Assert.Throws<InputException>(() => ModelKind.NeuronOf(SafeTensors.Read(iir)));
        Assert.Contains("neuron 'hodgkin-huxley'", e.Message, StringComparison.Ordinal);
    }
}

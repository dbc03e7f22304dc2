using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Spiking.Autograd;
using Spiking.Cli;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Layers.Serialization;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>
/// Divergence is loud: a non-finite loss, gradient or parameter stops training at the step it appears, naming it;
/// optimizers refuse learning rates that are not finite in float32; checkpoints refuse non-finite weights both ways;
/// and the CLI exits 5 without touching <c>--out</c>.
/// </summary>
[Collection("Parallelism")]
public sealed class DivergenceTests
{
    /// <summary>An identity op whose forward value or backward gradient is replaced by <c>poison</c>: a fault injected where it matters.</summary>
    private static Variable Poison(Variable x, float? forward, float? backward)
    {
        var value = forward is { } f ? Tensor.Full(x.Shape, f) : x.Dense.Clone();
        return Variable.FromOp(value, Node.Record(() => new PoisonNode(x, backward), x));
    }

    private sealed class PoisonNode(Variable x, float? backward) : Node(x)
    {
        public override string Name => "poison";

        protected internal override Tensor?[] Backward(Tensor gradOutput) =>
            [backward is { } b ? Tensor.Full(gradOutput.Shape, b) : gradOutput.Clone()];
    }

    private static (Sequential Net, ClassifierTrainer Trainer, Batch Batch, DataLoader Loader) Setup(double lr, float? lossValue = null, float? lossGradient = null, bool stop = true)
    {
        ModelSeed.Seed(4);
        var net = ReferenceModels.SpikingMlp();
        var trainer = new ClassifierTrainer(net, new Adam(net.Parameters(), lr), images =>
        {
            using var flat = images.Reshape(images.Shape[0], 784);
            return Variable.Constant(new PoissonEncoder(5).Encode(flat, 4));
        }, (o, labels, _) => Poison(Losses.FiringRateMse(o, labels), lossValue, lossGradient)) { StopOnNonFinite = stop };
        var loader = new DataLoader(SyntheticImages.Create(32, 1), 32, shuffle: false);
        foreach (var batch in loader.Epoch(0)) return (net, trainer, batch, loader);
        throw new InvalidOperationException("The loader gave no batch.");
    }

    private static float[] Weights(Module net) => net.StateDict().Where(e => e.Value is not null).SelectMany(e => e.Value!.AsReadOnlySpan().ToArray()).ToArray();

    [Fact]
    public void A_learning_rate_that_blows_the_weights_up_stops_at_the_first_step_naming_the_parameter()
    {
        var (net, trainer, batch, loader) = Setup(lr: 1e38);
        using (net)
        using (loader)
        {
            var e = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep(batch.Images, batch.Labels));
            Assert.Equal(1, e.Step);
            Assert.Equal("parameter", e.Quantity);
            Assert.Contains(e.ParameterName, net.StateDict().Select(s => s.Name));
            Assert.False(double.IsFinite(e.Value));
            Assert.Equal(1e38, e.LearningRate);
            Assert.Contains($"parameter '{e.ParameterName}'", e.Message, StringComparison.Ordinal);
            Assert.Contains("learning rate", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_non_finite_loss_stops_before_backward_and_the_parameters_stay_as_they_were()
    {
        var (net, trainer, batch, loader) = Setup(lr: 1e-3, lossValue: float.NaN);
        using (net)
        using (loader)
        {
            var before = Weights(net);
            var e = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep(batch.Images, batch.Labels));
            Assert.Equal(("loss", (string?)null), (e.Quantity, e.ParameterName));
            Assert.True(double.IsNaN(e.Value));
            Assert.Equal(before, Weights(net));
        }
    }

    [Fact]
    public void A_non_finite_gradient_is_named_as_the_cause_and_leaves_no_gradient_behind()
    {
        var (net, trainer, batch, loader) = Setup(lr: 1e-3, lossGradient: float.PositiveInfinity);
        using (net)
        using (loader)
        {
            var e = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep(batch.Images, batch.Labels));
            Assert.Equal(1, e.Step);
            Assert.Equal("gradient", e.Quantity);
            Assert.Contains(e.ParameterName, net.StateDict().Select(s => s.Name));
            Assert.Contains($"the gradient of '{e.ParameterName}' holds", e.Message, StringComparison.Ordinal);
            Assert.All(net.Parameters(), p => Assert.Null(p.Grad));
        }
    }

    [Fact]
    public void Without_the_check_the_step_runs_through()
    {
        var (net, trainer, batch, loader) = Setup(lr: 1e-3, lossValue: float.NaN, stop: false);
        using (net)
        using (loader)
        {
            Assert.True(double.IsNaN(trainer.TrainStep(batch.Images, batch.Labels).Loss));
        }
    }

    [Theory]
    [InlineData(1e300)]
    [InlineData(3.5e38)]
    [InlineData(double.NaN)]
    [InlineData(-1e-3)]
    public void Optimizers_refuse_learning_rates_that_are_not_finite_in_float32(double lr)
    {
        using var net = ReferenceModels.SpikingMlp();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(net.Parameters(), lr));
        Assert.Equal("LearningRate", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(net.Parameters(), lr));
        using var adam = new Adam(net.Parameters(), 3e38);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = lr);
        Assert.Equal(3e38, adam.LearningRate);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(net.Parameters(), 0.1, momentum: 1e39));
    }

    [Fact]
    public void Checkpoints_refuse_non_finite_weights_both_ways_unless_allowed()
    {
        using var folder = new TempFolder();
        string path = folder.File("w.safetensors");
        using var net = ReferenceModels.SpikingMlp();
        Checkpoint.Save(net, path);
        var good = File.ReadAllBytes(path);
        var weight = net.StateDict().First(e => e.Name == "3.weight").Value!;
        weight.AsSpan()[7] = float.NegativeInfinity;

        var save = Assert.Throws<InvalidOperationException>(() => Checkpoint.Save(net, path));
        Assert.Contains("'3.weight'", save.Message, StringComparison.Ordinal);
        Assert.Contains("element 7", save.Message, StringComparison.Ordinal);
        Assert.Equal(good, File.ReadAllBytes(path));

        string bad = folder.File("bad.safetensors");
        Checkpoint.Save(net, bad, allowNonFinite: true);
        using var other = ReferenceModels.SpikingMlp();
        var before = Weights(other);
        var load = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(other, bad));
        Assert.Contains("'3.weight' holds -Infinity at element 7", load.Message, StringComparison.Ordinal);
        Assert.Equal(before, Weights(other));

        Checkpoint.Load(other, bad, allowNonFinite: true);
        Assert.Equal(float.NegativeInfinity, other.StateDict().First(e => e.Name == "3.weight").Value!.AsReadOnlySpan()[7]);
    }

    [Fact]
    public void A_write_removes_the_temporaries_of_killed_writers_to_the_same_file_and_nothing_else()
    {
        using var folder = new TempFolder();
        using var net = ReferenceModels.SpikingMlp();
        string guid = new('a', 32);
        // PIDs above Linux's pid_max (2^22) cannot be running.
        string dead = $".w.safetensors.2000000000.{guid}.tmp";
        string ours = $".w.safetensors.{Environment.ProcessId}.{guid}.tmp";
        string otherFile = $".v.safetensors.2000000000.{guid}.tmp";
        string notOurs = ".w.safetensors.notes.tmp";
        foreach (var name in new[] { dead, ours, otherFile, notOurs }) File.WriteAllText(folder.File(name), "partial");
        Checkpoint.Save(net, folder.File("w.safetensors"));
        Assert.Equal(new[] { ours, otherFile, notOurs, "w.safetensors" }.Order(StringComparer.Ordinal), folder.Names());
    }

    [Fact]
    public void A_batch_larger_than_the_dataset_is_one_batch_of_everything()
    {
        using var loader = new DataLoader(SyntheticImages.Create(10, 1), int.MaxValue, shuffle: true, seed: 2);
        Assert.Equal(1, loader.BatchCount);
        var counts = new List<int>();
        foreach (var batch in loader.Epoch(0)) counts.Add(batch.Count);
        Assert.Equal([10], counts);
    }

    [Fact]
    public void A_label_beyond_the_classes_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new ImageDataset(new byte[8], [3, 200], 2, 2));
        Assert.Contains("Label 1 is 200", e.Message, StringComparison.Ordinal);
        Assert.Equal("labels", e.ParamName);
        Assert.Equal(3, new ImageDataset(new byte[8], [0, 2], 2, 2, classes: 3).Classes);
    }

    [Fact]
    public void Json_lines_write_non_finite_numbers_as_null()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.jsonl");
        new JsonLines(path).Write([new("loss", double.NaN), new("acc", 0.5), new("big", float.PositiveInfinity)]);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("loss").ValueKind);
        Assert.Equal(0.5, doc.RootElement.GetProperty("acc").GetDouble());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("big").ValueKind);
    }

    [Fact]
    public void Spiking_train_with_a_diverging_learning_rate_exits_5_and_leaves_out_and_json_untouched()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdx(folder.Path, 64, 32);
        string checkpoint = folder.File("w.safetensors"), json = folder.File("m.jsonl");
        File.WriteAllText(checkpoint, "the previous good checkpoint");
        var error = new StringWriter();
        int code = CommandLine.Run(["train", "--data", folder.Path, "--lr", "1e38", "--threads", "1", "--out", checkpoint, "--json", json], error);
        Assert.Equal(5, code);
        Spiking.Tests.Cli.CommandLineErrorTests.AssertOneLineError(error.ToString(), "training diverged at step 1");
        Assert.Contains($"nothing was written to '{checkpoint}'", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("the previous good checkpoint", File.ReadAllText(checkpoint));
        Assert.False(File.Exists(json));
    }

    [Fact]
    public void Chance_level_accuracy_is_warned_about()
    {
        Assert.Null(Spiking.Cli.Training.TrainCommand.ChanceWarning(0.5, 10, 1e-3, 1));
        var warning = Spiking.Cli.Training.TrainCommand.ChanceWarning(0.0977, 10, 1e6, 2);
        Assert.NotNull(warning);
        Assert.Contains("after epoch 2 the test accuracy 9.77 % is at chance level", warning, StringComparison.Ordinal);
        Assert.Contains("--lr 1000000", warning, StringComparison.Ordinal);
    }
}

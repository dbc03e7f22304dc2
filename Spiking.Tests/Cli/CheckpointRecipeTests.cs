using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Spiking.Cli;
using Spiking.Cli.Training;
using Spiking.Layers;
using Spiking.Layers.Quantization;
using Spiking.Layers.Serialization;
using Spiking.Tests.Layers;
using Xunit;

namespace Spiking.Tests.Cli;

/// <summary>
/// A checkpoint carries its recipe (model, time steps, encoding) and <c>spiking eval</c> uses it: a contradicting
/// <c>--model</c> or encoding is refused, another <c>--timesteps</c> is warned about, and eval needs only the test files.
/// </summary>
[Collection("Parallelism")]
public sealed class CheckpointRecipeTests
{
    private static SafeTensorsFile Written(TempFolder folder, Dictionary<string, string>? metadata)
    {
        string path = folder.File($"{Guid.NewGuid():N}.safetensors");
        using var net = ReferenceModels.SpikingMlp();
        Checkpoint.Save(net, path, metadata);
        return SafeTensors.Read(path);
    }

    [Fact]
    public void The_recipe_written_by_train_is_what_eval_uses()
    {
        using var folder = new TempFolder();
        var file = Written(folder, ModelKind.Cnn.Recipe(2));
        Assert.Equal("cnn", file.Metadata["model"]);
        Assert.Equal("2", file.Metadata["T"]);
        Assert.Equal("direct", file.Metadata["encoding"]);
        var (model, timeSteps, warning) = EvalCommand.Recipe(file, requested: null, requestedTimeSteps: null);
        Assert.Same(ModelKind.Cnn, model);
        Assert.Equal(2, timeSteps);
        Assert.Null(warning);
    }

    [Fact]
    public void Another_time_step_count_is_honoured_with_a_warning()
    {
        using var folder = new TempFolder();
        var file = Written(folder, ModelKind.Mlp.Recipe(2));
        var (_, timeSteps, warning) = EvalCommand.Recipe(file, requested: null, requestedTimeSteps: 8);
        Assert.Equal(8, timeSteps);
        Assert.Equal($"evaluating at T=8, but checkpoint '{file.Source}' was trained at T=2 (its metadata)", warning);
    }

    [Fact]
    public void A_contradicting_model_encoding_or_unreadable_recipe_is_an_input_error()
    {
        using var folder = new TempFolder();
        var cnn = Written(folder, ModelKind.Cnn.Recipe(4));
        var e = Assert.Throws<InputException>(() => EvalCommand.Recipe(cnn, ModelKind.Mlp, null));
        Assert.Contains("holds a --model cnn network (its metadata), not --model mlp", e.Message, StringComparison.Ordinal);

        var recipe = ModelKind.Mlp.Recipe(8);
        recipe["encoding"] = "latency";
        e = Assert.Throws<InputException>(() => EvalCommand.Recipe(Written(folder, recipe), null, null));
        Assert.Contains("trained on 'latency'-encoded input", e.Message, StringComparison.Ordinal);

        recipe = ModelKind.Mlp.Recipe(8);
        recipe["T"] = "eight";
        e = Assert.Throws<InputException>(() => EvalCommand.Recipe(Written(folder, recipe), null, null));
        Assert.Contains("records T='eight'", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<InputException>(() => EvalCommand.Recipe(Written(folder, new() { ["model"] = "resnet" }), null, null));
        Assert.Contains("model 'resnet'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_without_a_recipe_is_recognised_by_its_names_at_the_default_time_steps()
    {
        using var folder = new TempFolder();
        var (model, timeSteps, warning) = EvalCommand.Recipe(Written(folder, null), null, null);
        Assert.Same(ModelKind.Mlp, model);
        Assert.Equal(ModelKind.Mlp.DefaultTimeSteps, timeSteps);
        Assert.Null(warning);
    }

    [Fact]
    public void Eval_reads_only_the_test_files_and_reports_the_recipe_it_used()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdx(folder.Path, 1, 40);
        foreach (var name in new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz" }) File.Delete(folder.File(name));
        string checkpoint = folder.File("w.safetensors"), json = folder.File("eval.jsonl");
        using (var net = ReferenceModels.SpikingMlp()) Checkpoint.Save(net, checkpoint, ModelKind.Mlp.Recipe(3));
        var error = new StringWriter();
        Assert.Equal(0, CommandLine.Run(["eval", "--checkpoint", checkpoint, "--data", folder.Path, "--threads", "1", "--timesteps", "2", "--json", json], error));
        Assert.Contains("warning: evaluating at T=2, but checkpoint", error.ToString(), StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(2, doc.RootElement.GetProperty("T").GetInt32());
        Assert.Equal(40, doc.RootElement.GetProperty("test_samples").GetInt32());
        Assert.StartsWith("evaluating at T=2", doc.RootElement.GetProperty("warning").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_sdt_recipe_records_its_sdsa_core_and_no_other_model_has_one()
    {
        using var folder = new TempFolder();
        var file = Written(folder, ModelKind.SpikeDriven.Recipe(4, sdsa: SdsaVariant.LinearAttention));
        Assert.Equal("3", file.Metadata["sdsa"]);
        Assert.Equal(SdsaVariant.LinearAttention, ModelKind.SdsaOf(file));
        Assert.Equal("1", ModelKind.SpikeDriven.Recipe(4)["sdsa"]);
        Assert.False(ModelKind.MetaSpikeFormer.Recipe(1).ContainsKey("sdsa"));
        Assert.False(ModelKind.Cnn.Recipe(4).ContainsKey("sdsa"));
        // A checkpoint written before the key existed holds SDSA-1, the only core train built then.
        Assert.Equal(SdsaVariant.KeyValueMask, ModelKind.SdsaOf(Written(folder, ModelKind.Spikformer.Recipe(4))));
        var recipe = ModelKind.SpikeDriven.Recipe(4);
        recipe["sdsa"] = "5";
        var e = Assert.Throws<InputException>(() => ModelKind.SdsaOf(Written(folder, recipe)));
        Assert.Contains("records sdsa='5' in its metadata; expected 1, 2, 3 or 4", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ModelKind.Cnn.Build(4, sdsa: SdsaVariant.QueryKeyAttention));
    }

    [Fact]
    public void The_qsd_recipe_records_its_weight_width_and_a_state_dict_without_one_tells_float_from_lsq()
    {
        using var folder = new TempFolder();
        Assert.Equal("8", ModelKind.Qsd.Recipe(1, weightBits: 8)["weight_bits"]);
        Assert.Equal("4", ModelKind.Qsd.Recipe(1)["weight_bits"]);
        Assert.False(ModelKind.MetaSpikeFormer.Recipe(1).ContainsKey("weight_bits"));
        Assert.Equal(8, ModelKind.WeightBitsOf(Written(folder, ModelKind.Qsd.Recipe(1, weightBits: 8))));
        string lsq = folder.File("lsq.safetensors"), twin = folder.File("float.safetensors");
        using (var net = ModelKind.Qsd.Build(1, weightBits: 4)) Checkpoint.Save(net, lsq);
        using (var net = ModelKind.Qsd.Build(1, weightBits: 32)) Checkpoint.Save(net, twin);
        Assert.Equal(4, ModelKind.WeightBitsOf(SafeTensors.Read(lsq)));
        Assert.Equal(32, ModelKind.WeightBitsOf(SafeTensors.Read(twin)));
        Assert.Same(ModelKind.Qsd, ModelKind.FromCheckpoint(SafeTensors.Read(lsq)));
        Assert.Same(ModelKind.Qsd, ModelKind.FromCheckpoint(SafeTensors.Read(twin)));
        var recipe = ModelKind.Qsd.Recipe(1);
        recipe["weight_bits"] = "2";
        var e = Assert.Throws<InputException>(() => ModelKind.WeightBitsOf(Written(folder, recipe)));
        Assert.Contains("records weight_bits='2' in its metadata; expected 4, 8 or 32", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ModelKind.MetaSpikeFormer.Build(1, weightBits: 4));
    }

    [Theory]
    [InlineData("qsd", "8", null)]
    [InlineData("sdt", "3", "LinearAttention")]
    [InlineData("sdt", null, "KeyValueMask")]
    [InlineData("metaspikeformer", null, null)]
    public void Eval_rebuilds_the_transformer_train_wrote(string model, string? variantOption, string? variant)
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdx(folder.Path, 8, 8);
        string checkpoint = folder.File("t.safetensors"), trainJson = folder.File("train.jsonl"), evalJson = folder.File("eval.jsonl");
        string[] args = ["train", "--model", model, "--data", folder.Path, "--timesteps", "1", "--batch", "4", "--threads", "1", "--out", checkpoint, "--json", trainJson];
        if (variantOption is not null) args = [.. args, model == "qsd" ? "--weight-bits" : "--sdsa", variantOption];
        var error = new StringWriter();
        Assert.True(CommandLine.Run(args, error) == 0, error.ToString());
        var file = SafeTensors.Read(checkpoint);
        Assert.Equal(model, file.Metadata["model"]);
        Assert.Equal("1", file.Metadata["T"]);
        using var trained = JsonDocument.Parse(File.ReadAllLines(trainJson).Single());
        if (variant is null)
        {
            Assert.False(file.Metadata.ContainsKey("sdsa"));
            Assert.False(trained.RootElement.TryGetProperty("sdsa", out _));
        }
        else
        {
            Assert.Equal(ModelKind.SdsaNumber(Enum.Parse<SdsaVariant>(variant)).ToString(System.Globalization.CultureInfo.InvariantCulture), file.Metadata["sdsa"]);
            Assert.Equal(ModelKind.SdsaNumber(Enum.Parse<SdsaVariant>(variant)), trained.RootElement.GetProperty("sdsa").GetInt32());
        }

        Assert.True(CommandLine.Run(["eval", "--checkpoint", checkpoint, "--data", folder.Path, "--threads", "1", "--json", evalJson], error) == 0, error.ToString());
        using var eval = JsonDocument.Parse(File.ReadAllLines(evalJson).Single());
        var root = eval.RootElement;
        Assert.Equal(1, root.GetProperty("T").GetInt32());
        if (variant is null) Assert.Equal(JsonValueKind.Null, root.GetProperty("sdsa").ValueKind);
        else Assert.Equal(ModelKind.SdsaNumber(Enum.Parse<SdsaVariant>(variant)), root.GetProperty("sdsa").GetInt32());
        Assert.Equal(model switch { "sdt" => "W3-SDT", "qsd" => "W3-QSD", _ => "W3-MSF" }, root.GetProperty("workload").GetString());
        if (model == "qsd")
        {
            Assert.Equal(variantOption, file.Metadata["weight_bits"]);
            Assert.Equal(int.Parse(variantOption!, System.Globalization.CultureInfo.InvariantCulture), trained.RootElement.GetProperty("weight_bits").GetInt32());
            Assert.Equal(int.Parse(variantOption!, System.Globalization.CultureInfo.InvariantCulture), root.GetProperty("weight_bits").GetInt32());
        }
    }

    [Fact]
    public void Export_packs_a_qsd_checkpoint_that_eval_runs_on_both_engines_to_the_same_accuracy()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdx(folder.Path, 8, 16);
        string checkpoint = folder.File("q.safetensors"), packed = folder.File("q4.safetensors"), json = folder.File("eval.jsonl");
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["train", "--model", "qsd", "--data", folder.Path, "--batch", "4", "--threads", "1", "--out", checkpoint], error) == 0, error.ToString());
        Assert.True(CommandLine.Run(["export", "--checkpoint", checkpoint, "--quantize", "packed", "--out", packed], error) == 0, error.ToString());
        Assert.True(new FileInfo(packed).Length < new FileInfo(checkpoint).Length);
        Assert.True(PackedCheckpoint.IsPacked(SafeTensors.Read(packed)));
        foreach (var (file, engine) in new[] { (checkpoint, "float"), (packed, "float"), (packed, "integer") })
        {
            Assert.True(CommandLine.Run(["eval", "--checkpoint", file, "--data", folder.Path, "--threads", "1", "--engine", engine, "--json", json], error) == 0, error.ToString());
        }
        var accuracies = File.ReadAllLines(json).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("test_acc").GetDouble()).ToArray();
        Assert.Equal([accuracies[0], accuracies[0], accuracies[0]], accuracies);

        string floatModel = folder.File("msf.safetensors");
        Assert.True(CommandLine.Run(["train", "--model", "qsd", "--weight-bits", "32", "--data", folder.Path, "--batch", "4", "--threads", "1", "--out", floatModel], error) == 0, error.ToString());
        var refusal = new StringWriter();
        Assert.Equal(3, CommandLine.Run(["export", "--checkpoint", floatModel, "--quantize", "packed", "--out", folder.File("x.safetensors")], refusal));
        Assert.Contains("with float weights; --quantize packs the LSQ weights", refusal.ToString(), StringComparison.Ordinal);
        refusal = new StringWriter();
        Assert.Equal(2, CommandLine.Run(["eval", "--checkpoint", floatModel, "--data", folder.Path, "--engine", "integer"], refusal));
        Assert.Contains("--engine integer runs LSQ layers on the integer kernels", refusal.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_meta_spikeformer_checkpoint_without_a_recipe_is_recognised_by_its_names()
    {
        using var folder = new TempFolder();
        string path = folder.File("msf.safetensors");
        using (var net = ModelKind.MetaSpikeFormer.Build(1)) Checkpoint.Save(net, path);
        var (model, timeSteps, _) = EvalCommand.Recipe(SafeTensors.Read(path), null, null);
        Assert.Same(ModelKind.MetaSpikeFormer, model);
        Assert.Equal(ModelKind.MetaSpikeFormer.DefaultTimeSteps, timeSteps);
    }

    [Fact]
    public void Eval_refuses_a_checkpoint_with_non_finite_weights_as_an_input_error()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdx(folder.Path, 1, 8);
        string checkpoint = folder.File("nan.safetensors");
        using (var net = ReferenceModels.SpikingMlp())
        {
            net.StateDict()[0].Value!.AsSpan()[0] = float.NaN;
            Checkpoint.Save(net, checkpoint, ModelKind.Mlp.Recipe(8), allowNonFinite: true);
        }
        var error = new StringWriter();
        Assert.Equal(3, CommandLine.Run(["eval", "--checkpoint", checkpoint, "--data", folder.Path, "--threads", "1"], error));
        CommandLineErrorTests.AssertOneLineError(error.ToString(), "holds NaN at element 0");
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using Spiking.Autograd;
using Spiking.Cli.Training;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>
/// DESIGN.md's "spikes stay bits" for what a training step holds for backward: after the training forward of W1, W2
/// and the transformers as the CLI builds them (T = 4, a batch of 2), every op describes what it saved, and no saved
/// float activation holds only 0/1 values (a spike saved as float, 32 times the bytes of its bits).
/// </summary>
public sealed class SavedSpikesTests
{
    /// <summary>
    /// Ops allowed to save a float tensor that holds only 0/1, each with the reason it needs the float. None so far:
    /// an op added here must say why bits would not do.
    /// </summary>
    private static readonly Dictionary<string, string> s_needsFloat = new(StringComparer.Ordinal);

    public static TheoryData<string, int> Models => new()
    {
        { "mlp", 0 },
        { "cnn", 0 },
        { "spikformer", 0 },
        { "sdt", 1 },
        { "sdt", 2 },
        { "sdt", 3 },
        { "sdt", 4 },
        { "metaspikeformer", 0 },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void No_saved_float_activation_holds_only_spikes(string model, int sdsa)
    {
        using var scope = DisposeScope.Begin();
        using var net = Build(model, sdsa);
        var report = SavedActivations.Of(TrainingForward(net, model, batch: 2));

        Assert.Empty(report.UndescribedOps);
        Assert.NotEmpty(report.Tensors);
        var wasted = report.ZeroOneFloats.Where(t => !s_needsFloat.ContainsKey(t.Op)).Select(t => t.ToString()).ToList();
        Assert.True(wasted.Count == 0, $"{model}: spikes saved as float:\n{string.Join('\n', wasted)}");
        Assert.Equal(0, report.ZeroOneFloatBytes);
    }

    [Fact]
    public void No_saved_float_activation_holds_only_spikes_in_the_meta_spikeformer_conv_block()
    {
        // Not part of a CLI model, but a transformer block of the same family (separable conv, depthwise conv).
        using var scope = DisposeScope.Begin();
        ModelSeed.Seed(7);
        using var block = new MetaSpikeFormerConvBlock(16, mlpRatio: 2, kernelSize: 3);
        block.Train();
        var input = Variable.Constant(new PhiloxGenerator(8).Normal(new Shape(Steps, 2, 16, 6, 6), mean: 0.5f));
        var report = SavedActivations.Of(Functional.Sum(block.Forward(input)));

        Assert.Empty(report.UndescribedOps);
        Assert.Contains(report.Tensors, t => t.Op == "depthwise_conv2d");
        Assert.Empty(report.ZeroOneFloats.Where(t => !s_needsFloat.ContainsKey(t.Op)).Select(t => t.ToString()));
    }

    /// <summary>The network as <c>spiking train</c> builds it for T = 4 (the Spike-driven Transformer with SDSA-<paramref name="sdsa"/>).</summary>
    internal static Module Build(string model, int sdsa)
    {
        ModelSeed.Seed(7);
        return sdsa > 1 ? new SpikeDrivenTransformer(variant: (SdsaVariant)(sdsa - 1)) : Kind(model).Build(Steps);
    }

    /// <summary>The loss of a training forward of <paramref name="net"/> as <c>spiking train</c> runs it, on uniform random images.</summary>
    internal static Variable TrainingForward(Module net, string model, int batch)
    {
        var kind = Kind(model);
        net.Train();
        using var images = Tensor.Empty(new Shape(batch, 1, 28, 28));
        new PhiloxGenerator(8).FillUniform(images);
        var labels = Enumerable.Range(0, batch).Select(i => i % 10).ToArray();
        var input = kind.Encoder(Steps, seed: 9)(images);
        return kind.Loss(net.Forward(input), labels, Steps);
    }

    private const int Steps = 4;

    private static ModelKind Kind(string model) => ModelKind.TryParse(model) ?? throw new ArgumentException($"unknown model {model}", nameof(model));
}

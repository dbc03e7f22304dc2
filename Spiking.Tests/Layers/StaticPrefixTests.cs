using System;
using System.Linq;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class StaticPrefixTests
{
    [Fact]
    public void A_static_prefix_gives_the_values_gradients_and_running_statistics_of_T_copies()
    {
        const int steps = 3, batch = 4;
        var images = SyntheticImages.Create(batch, 7);
        using var pixels = Tensor.FromArray(images.Pixels.ToArray().Select(p => p / 255f).ToArray(), batch, 1, 28, 28);
        int[] labels = [.. images.Labels.ToArray().Select(l => (int)l)];

        ModelSeed.Seed(4);
        using var plain = ReferenceModels.SpikingCnn(channels: 4);
        ModelSeed.Seed(4);
        using var shortcut = ReferenceModels.SpikingCnn(channels: 4);
        shortcut.UseStaticPrefix(2, steps);

        using var scope = DisposeScope.Begin();
        using var repeated = Variable.Constant(DirectEncoder.Encode(pixels, steps));
        using var once = Variable.Constant(pixels.Clone().Reshape(1, batch, 1, 28, 28));
        var lossPlain = Losses.FiringRateMse(plain.Forward(repeated), labels);
        var lossShortcut = Losses.FiringRateMse(shortcut.Forward(once), labels);
        Assert.Equal(lossPlain.Dense.AsReadOnlySpan()[0], lossShortcut.Dense.AsReadOnlySpan()[0], 6);
        lossPlain.Backward();
        lossShortcut.Backward();

        var a = plain.StateDict();
        var b = shortcut.StateDict();
        for (int i = 0; i < a.Count; i++)
        {
            if (a[i].Value is null) continue;
            AssertClose(a[i].Value!.AsReadOnlySpan(), b[i].Value!.AsReadOnlySpan(), 1e-6, a[i].Name);
        }
        foreach (var ((name, p), (_, q)) in plain.NamedParameters().Zip(shortcut.NamedParameters()))
        {
            AssertClose(p.Grad!.AsReadOnlySpan(), q.Grad!.AsReadOnlySpan(), 1e-4, $"gradient of {name}");
        }
    }

    [Fact]
    public void A_static_prefix_rejects_neurons_and_multi_step_input()
    {
        using var net = ReferenceModels.SpikingCnn(channels: 4);
        Assert.Throws<ArgumentException>(() => net.UseStaticPrefix(3, 4));
        net.UseStaticPrefix(2, 4);
        using var multi = Variable.Constant(Tensor.Zeros(4, 2, 1, 28, 28));
        var e = Assert.Throws<ArgumentException>(() => net.Forward(multi));
        Assert.Contains("[4, 2, 1, 28, 28]", e.Message, StringComparison.Ordinal);
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (var v in expected) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(scale, 1e-3), $"{what}[{i}]: {actual[i]} vs {expected[i]}");
        }
    }
}

using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.LanguageModels;

/// <summary>
/// Neurons along the token axis, as the language models run them: a layer fed a long sequence in pieces, carrying its
/// state between calls (streaming), fires the same bits as in one call, and one token at a time as well.
/// </summary>
public sealed class TokenAxisNeuronTests
{
    private static Tensor Currents(int tokens, int batch, int channels, int seed)
    {
        var rng = new Random(seed);
        var x = new float[tokens * batch * channels];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2.4 - 0.4);
        return Tensor.FromArray(x, tokens, batch, channels);
    }

    [Theory]
    [InlineData(512, 1)]
    [InlineData(512, 37)]
    [InlineData(300, 128)]
    public void A_lif_layer_fed_in_pieces_fires_the_bits_of_one_call(int tokens, int piece)
    {
        const int batch = 3, channels = 40;
        using var currents = Currents(tokens, batch, channels, tokens + piece);
        using var layer = new LeakyIntegrateAndFire(tau: 2.0);
        using var whole = layer.Forward(Variable.Constant(currents));
        var expected = whole.Spikes!.ToTensor().AsReadOnlySpan().ToArray();
        double rate = 0;
        foreach (float s in expected) rate += s;
        rate /= expected.Length;
        Assert.InRange(rate, 0.05, 0.95);

        NeuronState? state = null;
        int step = batch * channels;
        for (int from = 0; from < tokens; from += piece)
        {
            int length = Math.Min(piece, tokens - from);
            using var chunk = Tensor.FromArray(currents.AsReadOnlySpan().Slice(from * step, length * step).ToArray(), length, batch, channels);
            using var spikes = layer.Forward(Variable.Constant(chunk), state, out var next);
            state?.Dispose();
            state = next;
            var actual = spikes.Spikes!.ToTensor().AsReadOnlySpan().ToArray();
            Assert.Equal(expected.AsSpan(from * step, length * step).ToArray(), actual);
        }
        state?.Dispose();
    }
}

using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Layers.Serialization;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.LanguageModels;

/// <summary>
/// SpikeGPT against the PyTorch peer (<c>../shared/peers/torch_spikegpt.py</c>, faithful to the official code):
/// <c>Fixtures/torch_spikegpt.safetensors</c> (written by <c>scripts/torch-spikegpt-fixture.py</c>) holds a small
/// model's float32 weights, windows of tokens, and the logits, loss and every parameter gradient PyTorch computed
/// from them in float64. The weights are perturbed so that a fifth to a third of the neurons fire, so the spikes,
/// their surrogate gradients through time, the WKV scan and the residual wiring are all exercised.
/// </summary>
[Collection("Parallelism")]
public sealed class SpikeGptTests
{
    private static readonly Lazy<SafeTensorsFile> s_fixture = new(() =>
        SafeTensors.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch_spikegpt.safetensors")));

    private static int Meta(string key) => int.Parse(s_fixture.Value.Metadata[key], CultureInfo.InvariantCulture);

    private static SpikeGpt PeerModel()
    {
        var fixture = s_fixture.Value;
        var model = new SpikeGpt(Meta("vocab"), Meta("layers"), Meta("width"), dropout: 0, generator: new PhiloxGenerator(1));
        foreach (var (name, parameter) in model.NamedParameters())
        {
            var entry = fixture["model." + name];
            Assert.Equal(entry.Shape, parameter.Value.Shape);
            entry.CopyTo(parameter.Value.AsSpan());
        }
        return model;
    }

    private static double[] Doubles(SafeTensorsEntry entry)
    {
        var bytes = entry.Data.Span;
        var values = new double[bytes.Length / 8];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]);
        return values;
    }

    /// <summary>The fixture's windows [B, T + 1] as inputs [B, T] and time-first targets (row t·B + b).</summary>
    private static (int[] Inputs, int[] Targets, int Batch, int Steps) Windows()
    {
        var entry = s_fixture.Value["tokens"];
        var ids = new long[entry.Shape.ElementCount];
        entry.CopyTo(ids);
        int batch = entry.Shape[0], steps = entry.Shape[1] - 1;
        var inputs = new int[batch * steps];
        var targets = new int[batch * steps];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < steps; t++)
            {
                inputs[b * steps + t] = (int)ids[b * (steps + 1) + t];
                targets[t * batch + b] = (int)ids[b * (steps + 1) + t + 1];
            }
        }
        return (inputs, targets, batch, steps);
    }

    private static void AssertClose(ReadOnlySpan<float> actual, double[] expected, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (double e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance * (1 + scale),
                $"{what}[{i}] is {actual[i]:G9}, PyTorch (float64) {expected[i]:G12}; largest |value| {scale:G4}");
        }
    }

    [Fact]
    public void The_state_dict_has_the_official_names_and_shapes()
    {
        var fixture = s_fixture.Value;
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in fixture.Entries)
        {
            if (entry.Name.StartsWith("model.", StringComparison.Ordinal)) expected.Add(entry.Name["model.".Length..]);
        }
        using var model = PeerModel();
        var actual = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in model.StateDict()) actual.Add(entry.Name);
        Assert.Equal(expected, actual);

        // The peer's defaults: 4 blocks of 128 over KJV's 63 characters hold 874 240 parameters.
        using var full = new SpikeGpt(63, 4, 128, generator: new PhiloxGenerator(2));
        long count = 0;
        foreach (var p in full.Parameters()) count += p.Value.Shape.ElementCount;
        Assert.Equal(874_240, count);
    }

    [Fact]
    public void Logits_loss_and_every_gradient_match_pytorch()
    {
        var fixture = s_fixture.Value;
        var (inputs, targets, batch, steps) = Windows();
        using var model = PeerModel();
        var logits = model.Forward(inputs, batch, steps);
        AssertClose(logits.Dense.AsReadOnlySpan(), Doubles(fixture["logits"]), 2e-5, "logits");
        var flat = Functional.Reshape(logits, batch * steps, model.VocabularySize);
        var loss = Functional.L2Wrap(Functional.CrossEntropy(flat, targets), logits);
        AssertClose(loss.Dense.AsReadOnlySpan(), Doubles(fixture["loss"]), 1e-6, "loss");
        loss.Backward();
        foreach (var (name, parameter) in model.NamedParameters())
        {
            AssertClose(parameter.Grad!.AsReadOnlySpan(), Doubles(fixture["grad." + name]), 1e-4, "d loss / d " + name);
        }
    }

    [Fact]
    public void Recurrent_mode_gives_the_logits_of_the_whole_window()
    {
        using var model = PeerModel();
        model.Eval();
        const int length = 300;
        var rng = new Random(5);
        var tokens = new int[length];
        for (int i = 0; i < length; i++) tokens[i] = rng.Next(model.VocabularySize);
        float[] whole;
        using (GradMode.NoGrad())
        {
            using var logits = model.Forward(tokens, 1, length);
            whole = logits.Dense.AsReadOnlySpan().ToArray();
        }
        using var state = model.CreateState();
        var step = new float[model.VocabularySize];
        for (int t = 0; t < length; t++)
        {
            model.Feed(tokens[t], state, step);
            for (int j = 0; j < step.Length; j++)
            {
                float expected = whole[t * step.Length + j];
                // Not bitwise: a one-row product takes other SGEMM and spike-product paths than a window's rows
                // (another summation order), so the logits differ in the last bits; no spike flips over 300 tokens.
                Assert.True(Math.Abs(step[j] - expected) <= 1e-5f * (1 + Math.Abs(expected)), $"token {t}, logit {j}: fed {step[j]:G9}, whole window {expected:G9}");
            }
        }
        Assert.Equal(length, state.Position);
    }

    [Fact]
    public void The_same_seed_builds_and_trains_the_same_bits_with_dropout_on_one_or_two_threads()
    {
        float[] Run(int threads)
        {
            int saved = Parallelism.MaxThreads;
            Parallelism.MaxThreads = threads;
            try
            {
                ModelSeed.Seed(9);
                using var model = new SpikeGpt(13, 2, 24);
                var rng = new Random(3);
                var tokens = new int[4 * 20];
                for (int i = 0; i < tokens.Length; i++) tokens[i] = rng.Next(13);
                var targets = new int[4 * 20];
                for (int i = 0; i < targets.Length; i++) targets[i] = rng.Next(13);
                var logits = model.Forward(tokens, 4, 20);
                var loss = Functional.CrossEntropy(Functional.Reshape(logits, 80, 13), targets);
                loss.Backward();
                var all = new List<float>(logits.Dense.AsReadOnlySpan().ToArray());
                foreach (var p in model.Parameters()) all.AddRange(p.Grad!.AsReadOnlySpan().ToArray());
                return all.ToArray();
            }
            finally
            {
                Parallelism.MaxThreads = saved;
            }
        }
        Assert.Equal(Run(1), Run(2));
    }

    [Fact]
    public void The_three_initialisations_give_the_peers_weights()
    {
        const int v = 11, c = 16;
        static double RowNorm(Tensor w, int row)
        {
            var x = w.AsReadOnlySpan();
            int n = w.Shape[1];
            double sum = 0;
            for (int i = 0; i < n; i++) sum += (double)x[row * n + i] * x[row * n + i];
            return Math.Sqrt(sum);
        }
        static double ColumnNorm(Tensor w, int column)
        {
            var x = w.AsReadOnlySpan();
            int n = w.Shape[1];
            double sum = 0;
            for (int r = 0; r < w.Shape[0]; r++) sum += (double)x[r * n + column] * x[r * n + column];
            return Math.Sqrt(sum);
        }
        static bool AllZero(Tensor w) => w.AsReadOnlySpan().IndexOfAnyExcept(0f) < 0;

        using var rwkv = new SpikeGpt(v, 2, c, SpikeGptInit.Rwkv, generator: new PhiloxGenerator(1));
        var block = rwkv.Blocks[1];
        Assert.Equal(1.0, RowNorm(block.TimeMix.Key.Weight.Value, 3), 5);
        Assert.Equal(1.0, ColumnNorm(block.ChannelMix.Key.Weight.Value, 3), 5);
        Assert.Equal(Math.Sqrt(c) * 1e-4, RowNorm(rwkv.Embedding.Weight.Value, 2), 9);
        Assert.Equal(0.5, RowNorm(rwkv.Head.Weight.Value, 4), 5);

        using var written = new SpikeGpt(v, 2, c, SpikeGptInit.RwkvZero, generator: new PhiloxGenerator(1));
        block = written.Blocks[0];
        Assert.True(AllZero(block.TimeMix.Key.Weight.Value) && AllZero(block.TimeMix.Receptance.Weight.Value) && AllZero(block.TimeMix.Output.Weight.Value));
        Assert.True(AllZero(block.ChannelMix.Value.Weight.Value) && AllZero(block.ChannelMix.Receptance.Weight.Value));
        Assert.Equal(1.0, RowNorm(block.TimeMix.Value.Weight.Value, 0), 5);
        Assert.Equal(2.0, ColumnNorm(block.ChannelMix.Key.Weight.Value, 0), 5);

        using var torch = new SpikeGpt(v, 2, c, SpikeGptInit.Torch, generator: new PhiloxGenerator(1));
        float bound = 1f / MathF.Sqrt(c);
        foreach (float w in torch.Blocks[0].TimeMix.Key.Weight.Value.AsReadOnlySpan()) Assert.InRange(w, -bound, bound);
        Assert.False(AllZero(torch.Blocks[0].TimeMix.Key.Weight.Value));
        // time_decay at the official ramp: -5 + 8·(h/(C−1))^(0.7 + 1.3·r01), r01 = 1 in the last of 2 blocks.
        Assert.Equal(-5f, torch.Blocks[1].TimeMix.TimeDecay.Value.AsReadOnlySpan()[0]);
        Assert.Equal(3f, torch.Blocks[1].TimeMix.TimeDecay.Value.AsReadOnlySpan()[c - 1], 5);
    }

    [Fact]
    public void Bad_windows_and_foreign_states_are_refused()
    {
        using var model = new SpikeGpt(5, 1, 8, generator: new PhiloxGenerator(4));
        var e = Assert.Throws<ArgumentException>(() => model.Forward([1, 2, 3], 2, 2));
        Assert.Contains("2 windows of 2 tokens need 4 ids", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => model.Forward([1, 5], 1, 2));
        Assert.Contains("tokens[1] is 5", e.Message, StringComparison.Ordinal);
        using var other = new SpikeGpt(5, 1, 8, generator: new PhiloxGenerator(4));
        using var state = other.CreateState();
        e = Assert.Throws<ArgumentException>(() => model.Feed(1, state, new float[5]));
        Assert.Contains("another model", e.Message, StringComparison.Ordinal);
        using var own = model.CreateState();
        e = Assert.Throws<ArgumentException>(() => model.Feed(1, own, new float[4]));
        Assert.Contains("'logits' has 4 elements", e.Message, StringComparison.Ordinal);
    }
}

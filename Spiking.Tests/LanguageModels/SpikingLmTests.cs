using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.LanguageModels;

public sealed class SpikingLmTests
{
    internal static SpikingLm Model(ulong seed = 7, int vocabulary = 11, int layers = 2, int width = 32, int heads = 4, double dropout = 0.03) =>
        new(vocabulary, layers, width, heads, dropout, new PhiloxGenerator(seed));

    internal static int[] Tokens(int count, int vocabulary, int seed)
    {
        var rng = new Random(seed);
        var tokens = new int[count];
        for (int i = 0; i < count; i++) tokens[i] = rng.Next(vocabulary);
        return tokens;
    }

    [Fact]
    public void Logits_are_time_first_and_the_model_describes_itself()
    {
        using var model = Model();
        model.Eval();
        using var logits = model.Forward(Tokens(2 * 9, 11, 1), batch: 2, length: 9);
        Assert.Equal(new Shape(9, 2, 11), logits.Shape);
        Assert.False(logits.IsSpikes);
        Assert.Equal("spiking-lm", model.Kind);
        Assert.Equal((11, 2, 32, 4), (model.VocabularySize, model.LayerCount, model.Width, model.Heads));
        foreach (float v in logits.Dense.AsReadOnlySpan()) Assert.True(float.IsFinite(v));
    }

    [Fact]
    public void State_dict_names_and_shapes()
    {
        using var model = Model(width: 8, heads: 2, vocabulary: 5, layers: 2);
        var names = new List<string>();
        foreach (var entry in model.StateDict()) names.Add($"{entry.Name} {entry.Value!.Shape}");
        var expected = new List<string> { "emb.weight [5, 8]" };
        for (int l = 0; l < 2; l++)
        {
            expected.AddRange([
                $"blocks.{l}.ln1.weight [8]", $"blocks.{l}.ln1.bias [8]",
                $"blocks.{l}.att.q.weight [8, 8]", $"blocks.{l}.att.k.weight [8, 8]", $"blocks.{l}.att.v.weight [8, 8]",
                $"blocks.{l}.att.output.weight [8, 8]",
                $"blocks.{l}.ln2.weight [8]", $"blocks.{l}.ln2.bias [8]",
                $"blocks.{l}.mlp.fc1.weight [32, 8]", $"blocks.{l}.mlp.fc2.weight [8, 32]",
            ]);
        }
        expected.AddRange(["ln_out.weight [8]", "ln_out.bias [8]", "head.weight [5, 8]"]);
        Assert.Equal(expected, names);
    }

    [Fact]
    public void Feed_gives_the_logits_of_the_window_forward_over_three_hundred_tokens()
    {
        const int length = 300, vocabulary = 11;
        using var model = Model(seed: 3, vocabulary: vocabulary);
        model.Eval();
        Amplify(model);
        var tokens = Tokens(length, vocabulary, 2);
        EnergyModel.StartCounting(model);
        using var window = model.Forward(tokens, 1, length);
        var report = EnergyModel.Report(model, 1);
        EnergyModel.StopCounting(model);
        // Every neuron layer must fire sometimes and rest sometimes, or the comparison proves little.
        Assert.Equal(1 + 2 * 7, report.FiringRates.Count);
        foreach (var rate in report.FiringRates) Assert.True(rate.Rate > 0 && rate.Rate < 1, $"{rate.Name} fires at {rate.Rate}");
        Assert.Contains(report.FiringRates, r => r.Name == "emb");

        var expected = window.Dense.AsReadOnlySpan();
        using var state = model.CreateState();
        var logits = new float[vocabulary];
        double worst = 0;
        for (int t = 0; t < length; t++)
        {
            model.Feed(tokens[t], state, logits);
            Assert.Equal(t + 1, state.Position);
            for (int v = 0; v < vocabulary; v++)
            {
                double e = expected[t * vocabulary + v];
                double error = Math.Abs(logits[v] - e);
                worst = Math.Max(worst, error);
                // The Linear layers round differently for one row than for a window; the spikes must all agree, so
                // the logits differ by float rounding only.
                Assert.True(error <= 1e-5 + 1e-6 * Math.Abs(e), $"token {t}, logit {v}: fed {logits[v]}, window {e}");
            }
        }
        // Measured: 2.4e-7 at firing rates of 11 to 18 % in every layer.
        Assert.True(worst < 1e-5, $"largest difference {worst}");

        // A reset state starts the sequence again.
        state.Reset();
        model.Feed(tokens[0], state, logits);
        for (int v = 0; v < vocabulary; v++) Assert.True(Math.Abs(logits[v] - expected[v]) <= 1e-5, $"after reset, logit {v}");
    }

    [Fact]
    public void Windows_of_a_batch_and_later_tokens_do_not_leak_into_earlier_logits()
    {
        const int length = 40, vocabulary = 11;
        using var model = Model(seed: 5, vocabulary: vocabulary);
        model.Eval();
        var tokens = Tokens(2 * length, vocabulary, 4);
        var changed = (int[])tokens.Clone();
        const int at = 25;
        changed[at] = (changed[at] + 1) % vocabulary;
        // Window 1 (the second) is the same in both batches; window 0 differs from token 'at' on.
        for (int t = at + 1; t < length; t++) changed[t] = (changed[t] + 3) % vocabulary;
        using var a = model.Forward(tokens, 2, length);
        using var b = model.Forward(changed, 2, length);
        var x = a.Dense.AsReadOnlySpan();
        var y = b.Dense.AsReadOnlySpan();
        bool later = false;
        for (int t = 0; t < length; t++)
        {
            for (int w = 0; w < 2; w++)
            {
                for (int v = 0; v < vocabulary; v++)
                {
                    int i = (t * 2 + w) * vocabulary + v;
                    if (w == 1 || t < at) Assert.True(Math.Abs(x[i] - y[i]) <= 1e-4, $"window {w}, token {t}, logit {v}: {x[i]} vs {y[i]}");
                    else later |= x[i] != y[i];
                }
            }
        }
        Assert.True(later, "changing a token must change the logits from there on");
    }

    [Fact]
    public void Every_parameter_gets_a_finite_nonzero_gradient()
    {
        const int vocabulary = 7, length = 24, batch = 2;
        using var model = Model(seed: 9, vocabulary: vocabulary, width: 16, heads: 2);
        // Without coinciding q and k spikes A = Q·Kᵀ is zero and so is dV: fire more than at initialisation.
        Amplify(model);
        var tokens = Tokens(batch * (length + 1), vocabulary, 6);
        using (DisposeScope.Begin())
        {
            var loss = Loss(model, tokens, batch, length);
            loss.Backward();
        }
        foreach (var (name, p) in model.NamedParameters())
        {
            Assert.NotNull(p.Variable.Grad);
            double sum = 0;
            foreach (float g in p.Variable.Grad!.AsReadOnlySpan())
            {
                Assert.True(float.IsFinite(g), $"{name} has a non-finite gradient");
                sum += Math.Abs(g);
            }
            Assert.True(sum > 0, $"{name} gets no gradient");
        }
    }

    [Fact]
    public void A_few_adam_steps_on_a_repeated_text_lower_the_loss()
    {
        const int vocabulary = 5, length = 16, batch = 4;
        using var model = Model(seed: 1, vocabulary: vocabulary, width: 32, heads: 4, layers: 1);
        // "abcde" over and over; windows start at different phases.
        var tokens = new int[batch * (length + 1)];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t <= length; t++) tokens[b * (length + 1) + t] = (b + t) % vocabulary;
        }
        using var adam = new Adam(model.Parameters(), learningRate: 3e-3);
        var losses = new List<float>();
        for (int step = 0; step < 30; step++)
        {
            using var scope = DisposeScope.Begin();
            adam.ZeroGrad();
            var loss = Loss(model, tokens, batch, length);
            losses.Add(loss.Dense.AsReadOnlySpan()[0]);
            loss.Backward();
            adam.Step();
        }
        Assert.True(losses[^1] < 0.6 * losses[0], $"loss went from {losses[0]} to {losses[^1]}: {string.Join(", ", losses)}");
    }

    [Fact]
    public void The_same_seed_gives_the_same_bits()
    {
        var first = Run(11);
        var second = Run(11);
        Assert.Equal(first.Length, second.Length);
        for (int i = 0; i < first.Length; i++) Reference.AssertBitwise(first[i], second[i], $"result {i}");
        var other = Run(12);
        Assert.NotEqual(first[0], other[0]);
    }

    /// <summary>The training-mode logits (dropout on) and every parameter's gradient, from a model built with <paramref name="seed"/>.</summary>
    internal static float[][] Run(ulong seed)
    {
        const int vocabulary = 9, length = 30, batch = 3;
        using var model = Model(seed: seed, vocabulary: vocabulary, width: 64, heads: 4, dropout: 0.2);
        var tokens = Tokens(batch * (length + 1), vocabulary, 8);
        var results = new List<float[]>();
        using (DisposeScope.Begin())
        {
            var windows = Inputs(tokens, batch, length, out var targets);
            var logits = model.Forward(windows, batch, length);
            results.Add(logits.Dense.ToArray());
            var loss = Functional.CrossEntropy(Functional.Reshape(logits, length * batch, vocabulary), targets);
            loss.Backward();
        }
        foreach (var p in model.Parameters()) results.Add(p.Variable.Grad!.ToArray());
        return results.ToArray();
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        using var model = Model(vocabulary: 5, width: 8, heads: 2);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(new int[7], 2, 4));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains("8", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => model.Forward([0, 1, 5, 2], 1, 4));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains("tokens[2] is 5", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([0, 1], 0, 2));

        using var state = model.CreateState();
        e = Assert.Throws<ArgumentException>(() => model.Feed(5, state, new float[5]));
        Assert.Equal("token", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => model.Feed(1, state, new float[4]));
        Assert.Equal("logits", e.ParamName);
        using var other = Model(vocabulary: 5, width: 8, heads: 2);
        using var foreign = other.CreateState();
        e = Assert.Throws<ArgumentException>(() => model.Feed(1, foreign, new float[5]));
        Assert.Equal("state", e.ParamName);

        var range = Assert.Throws<ArgumentOutOfRangeException>(() => new SpikingLm(5, 1, 10, heads: 4));
        Assert.Equal("heads", range.ParamName);
        Assert.Contains("10", range.Message, StringComparison.Ordinal);
        range = Assert.Throws<ArgumentOutOfRangeException>(() => new SpikingLm(5, 1, 8, heads: 2, dropout: 1.0));
        Assert.Equal("dropout", range.ParamName);
        range = Assert.Throws<ArgumentOutOfRangeException>(() => new SpikingLm(0, 1, 8));
        Assert.Equal("vocabularySize", range.ParamName);
    }

    /// <summary>
    /// Scales the block weights up so every neuron layer fires: at initialisation the projections of sparse spikes
    /// (<c>att.output</c>, <c>mlp.fc2</c>) give currents too small for <c>lif1</c> and <c>lif2</c>, whose blocks
    /// then start as the identity, and a comparison of the two modes would not reach their membranes.
    /// </summary>
    internal static void Amplify(SpikingLm model)
    {
        foreach (var (name, p) in model.NamedParameters())
        {
            if (name.EndsWith("att.output.weight", StringComparison.Ordinal) || name.EndsWith("mlp.fc2.weight", StringComparison.Ordinal)) p.Value.MultiplyInPlace(6f);
            else if (name.Contains(".att.", StringComparison.Ordinal) || name.EndsWith("mlp.fc1.weight", StringComparison.Ordinal)) p.Value.MultiplyInPlace(2f);
        }
    }

    /// <summary>The inputs (each window's first <paramref name="length"/> tokens) and time-first targets (the next tokens) of windows of <c>length + 1</c>.</summary>
    internal static int[] Inputs(int[] windows, int batch, int length, out int[] targets)
    {
        var inputs = new int[batch * length];
        targets = new int[batch * length];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < length; t++)
            {
                inputs[b * length + t] = windows[b * (length + 1) + t];
                targets[t * batch + b] = windows[b * (length + 1) + t + 1];
            }
        }
        return inputs;
    }

    private static Variable Loss(SpikingLm model, int[] windows, int batch, int length)
    {
        var inputs = Inputs(windows, batch, length, out var targets);
        var logits = model.Forward(inputs, batch, length);
        return Functional.CrossEntropy(Functional.Reshape(logits, length * batch, model.VocabularySize), targets);
    }
}

[Collection("Parallelism")]
public sealed class SpikingLmThreadTests
{
    [Fact]
    public void One_and_two_threads_give_the_same_bits()
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = SpikingLmTests.Run(4);
            Parallelism.MaxThreads = 2;
            var two = SpikingLmTests.Run(4);
            for (int i = 0; i < one.Length; i++) Reference.AssertBitwise(one[i], two[i], $"result {i}");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }
}

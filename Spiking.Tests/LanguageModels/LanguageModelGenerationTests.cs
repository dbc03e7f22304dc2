using System;
using System.Linq;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.LanguageModels;

/// <summary><see cref="TextGenerator"/> on a bigram model.</summary>
public sealed class LanguageModelGenerationTests
{
    private static readonly CharVocabulary Letters = CharVocabulary.FromText("\nabcde");

    private static BigramLanguageModel Model()
    {
        var table = new float[36];
        new PhiloxGenerator(5).FillNormal(table);
        return new BigramLanguageModel(6, table);
    }

    [Fact]
    public void The_same_seed_gives_the_same_text_and_another_seed_another()
    {
        using var model = Model();
        var generator = new TextGenerator(model, Letters);
        string a = string.Concat(generator.Generate("abc", 200, 1.0, 7));
        string b = string.Concat(generator.Generate("abc", 200, 1.0, 7));
        string c = string.Concat(generator.Generate("abc", 200, 1.0, 8));
        Assert.Equal(200, a.Length);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, ch => Assert.True(Letters.IdOf(new System.Text.Rune(ch)) >= 0));
        Assert.Empty(generator.Generate("a", 0, 1.0, 7));
    }

    [Fact]
    public void A_low_temperature_follows_the_most_likely_character()
    {
        using var model = Model();
        var table = model.Table.Value.AsReadOnlySpan().ToArray();
        var generator = new TextGenerator(model, Letters);
        string text = string.Concat(generator.Generate("d", 30, 1e-4, 1));
        int previous = Letters.IdOf(new System.Text.Rune('d'));
        foreach (char ch in text)
        {
            var row = table.AsSpan(previous * 6, 6);
            int best = 0;
            for (int i = 1; i < 6; i++) if (row[i] > row[best]) best = i;
            Assert.Equal(best, Letters.IdOf(new System.Text.Rune(ch)));
            previous = best;
        }
    }

    [Fact]
    public void Draws_invert_the_cumulative_distribution_of_the_tempered_softmax()
    {
        var weights = new double[3];
        float[] logits = [MathF.Log(3), 0, float.MinValue];
        // p = (0.75, 0.25, 0): the uniform's quarter boundaries decide.
        Assert.Equal(0, TextGenerator.Draw(logits, 1.0, 0.74, weights));
        Assert.Equal(1, TextGenerator.Draw(logits, 1.0, 0.76, weights));
        Assert.Equal(1, TextGenerator.Draw(logits, 1.0, 0.999999999, weights));
        // Temperature 2 gives weights √3 : 1, so p0 = √3 / (√3 + 1) ≈ 0.634.
        Assert.Equal(0, TextGenerator.Draw(logits, 2.0, 0.63, weights));
        Assert.Equal(1, TextGenerator.Draw(logits, 2.0, 0.64, weights));
        Assert.Throws<InvalidOperationException>(() => TextGenerator.Draw([float.NaN, 0, 0], 1.0, 0.5, weights));
    }

    [Fact]
    public void Prompt_characters_outside_the_vocabulary_are_all_listed_and_bad_settings_refused()
    {
        using var model = Model();
        var generator = new TextGenerator(model, Letters);
        var e = Assert.Throws<ArgumentException>(() => generator.Generate("abXzY b", 5, 1.0, 0));
        Assert.Equal("prompt", e.ParamName);
        Assert.Contains("4 characters outside the model's vocabulary of 6: U+0020, 'X' (U+0058), 'Y' (U+0059), 'z' (U+007A)", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => generator.Generate("a", 5, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => generator.Generate("a", 5, double.PositiveInfinity, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => generator.Generate("a", -1, 1, 0));
        Assert.Throws<ArgumentException>(() => new TextGenerator(model, CharVocabulary.FromText("ab")));
    }

    [Fact]
    public void Generation_runs_in_evaluation_mode_and_restores_the_mode()
    {
        using var model = Model();
        model.Train();
        var generator = new TextGenerator(model, Letters);
        using (var e = generator.Generate("a", 10, 1, 0).GetEnumerator())
        {
            Assert.True(e.MoveNext());
            Assert.False(model.Training);
        }
        Assert.True(model.Training);
    }
}

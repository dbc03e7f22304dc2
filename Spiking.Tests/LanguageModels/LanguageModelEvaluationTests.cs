using System;
using System.Linq;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.LanguageModels;

public sealed class LanguageModelEvaluationTests
{
    /// <summary>−log softmax(row)[target], written out in double with no shift: the independent reference.</summary>
    internal static double ReferenceCrossEntropy(ReadOnlySpan<float> row, int target)
    {
        double sum = 0;
        foreach (float x in row) sum += Math.Exp(x);
        return Math.Log(sum) - row[target];
    }

    private static (float[] Table, int[] Tokens) Random(int vocabulary, int length, ulong seed)
    {
        var rng = new PhiloxGenerator(seed);
        var table = new float[vocabulary * vocabulary];
        rng.FillNormal(table, 0, 2);
        var draws = new float[length];
        rng.FillUniform(draws);
        return (table, draws.Select(d => (int)(d * vocabulary)).ToArray());
    }

    [Theory]
    [InlineData(301, 16, 3)] // several batches, a short last batch and a remainder window of 12
    [InlineData(65, 16, 64)] // exactly four windows, one batch
    [InlineData(10, 16, 64)] // shorter than one window: the remainder alone
    [InlineData(2, 1, 1)]
    public void Bits_per_character_equal_the_double_sum_over_every_character_after_the_first(int length, int context, int batch)
    {
        const int vocabulary = 7;
        var (table, tokens) = Random(vocabulary, length, (ulong)length);
        using var model = new BigramLanguageModel(vocabulary, table);
        double total = 0;
        for (int i = 1; i < tokens.Length; i++) total += ReferenceCrossEntropy(table.AsSpan(tokens[i - 1] * vocabulary, vocabulary), tokens[i]);
        var score = LanguageModelEvaluation.Evaluate(model, tokens, context, batch);
        Assert.Equal(length - 1, score.Characters);
        Assert.Equal(total, score.TotalNats, 1e-9 * total);
        Assert.Equal(total / (length - 1) / Math.Log(2), score.BitsPerCharacter, 1e-12);
        Assert.Null(score.Energy);
    }

    [Fact]
    public void Evaluation_counts_firing_rates_per_character_and_restores_the_mode()
    {
        var (table, tokens) = Random(5, 100, 4);
        using var model = new BigramLanguageModel(5, table);
        model.Train();
        var score = LanguageModelEvaluation.Evaluate(model, tokens, 8, countEnergy: true);
        Assert.True(model.Training);
        var rate = Assert.Single(score.Energy!.FiringRates);
        Assert.Equal("lif", rate.Name);
        Assert.InRange(rate.Rate, 1e-6, 1);
        model.Eval();
        LanguageModelEvaluation.Evaluate(model, tokens, 8);
        Assert.False(model.Training);
    }

    [Fact]
    public void Bad_input_is_named()
    {
        using var model = new BigramLanguageModel(3);
        Assert.Contains("tokens[1] is 3", Assert.Throws<ArgumentException>(() => LanguageModelEvaluation.Evaluate(model, new[] { 0, 3 }, 4)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => LanguageModelEvaluation.Evaluate(model, new[] { 0 }, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => LanguageModelEvaluation.Evaluate(model, new[] { 0, 1 }, 0));
    }
}

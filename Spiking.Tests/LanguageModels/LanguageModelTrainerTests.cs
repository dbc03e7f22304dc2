using System;
using System.Linq;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.LanguageModels;

public sealed class LanguageModelTrainerTests
{
    private static int[] Periodic(int length, int period)
    {
        var tokens = new int[length];
        for (int i = 0; i < length; i++) tokens[i] = i % period;
        return tokens;
    }

    [Fact]
    public void Training_a_bigram_on_a_periodic_text_lowers_the_loss()
    {
        using var model = new BigramLanguageModel(5);
        var recipe = new LanguageModelRecipe(Steps: 40, Context: 8, Batch: 4, LearningRate: 0.05, FinalLearningRate: 1e-3);
        using var trainer = new LanguageModelTrainer(model, Periodic(400, 5), recipe, seed: 3);
        var losses = Enumerable.Range(0, recipe.Steps).Select(_ => trainer.TrainStep().Loss).ToArray();
        Assert.Equal(Math.Log(5), losses[0], 6);
        Assert.True(losses[^1] < 0.3 * losses[0], $"loss went {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
        Assert.Equal(recipe.Steps, trainer.Steps);
    }

    [Fact]
    public void Each_step_uses_the_reference_scripts_cosine_rate()
    {
        using var model = new BigramLanguageModel(4);
        var recipe = new LanguageModelRecipe(Steps: 7, Context: 4, Batch: 2);
        using var trainer = new LanguageModelTrainer(model, Periodic(50, 4), recipe, seed: 0);
        double f = recipe.FinalLearningRate / recipe.LearningRate;
        for (int i = 0; i < recipe.Steps; i++)
        {
            double expected = recipe.LearningRate * ((0.5 + f / 2) + (0.5 - f / 2) * Math.Cos(Math.PI * i / recipe.Steps));
            var step = trainer.TrainStep();
            Assert.Equal(i + 1, step.Step);
            // torch's closed form and the official decay are the same function; they may round differently in the last bit.
            Assert.True(Math.Abs(step.LearningRate - expected) <= 1e-15 * expected, $"step {i}: {step.LearningRate:R} vs {expected:R}");
            Assert.True(step.Seconds > 0);
        }
        Assert.Equal(6e-4, new LanguageModelRecipe(1).LearningRate);
    }

    [Fact]
    public void The_loss_is_the_mean_cross_entropy_of_each_windows_next_characters()
    {
        const int vocabulary = 6, context = 5, batch = 3;
        var rng = new PhiloxGenerator(11);
        var table = new float[vocabulary * vocabulary];
        rng.FillNormal(table);
        var tokens = new int[200];
        var draws = new float[tokens.Length];
        rng.FillUniform(draws);
        for (int i = 0; i < tokens.Length; i++) tokens[i] = (int)(draws[i] * vocabulary);
        using var model = new BigramLanguageModel(vocabulary, table);
        using var trainer = new LanguageModelTrainer(model, tokens, new LanguageModelRecipe(Steps: 2, Context: context, Batch: batch), seed: 9);

        // The same windows, drawn independently, scored in double straight from the table.
        var windows = new int[batch * (context + 1)];
        new TextWindows(tokens, context, 9).Next(windows, new int[batch]);
        double sum = 0;
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < context; t++)
            {
                int a = windows[b * (context + 1) + t], next = windows[b * (context + 1) + t + 1];
                sum += LanguageModelEvaluationTests.ReferenceCrossEntropy(table.AsSpan(a * vocabulary, vocabulary), next);
            }
        }
        Assert.Equal(sum / (batch * context), trainer.TrainStep().Loss, 5);
    }

    [Fact]
    public void A_non_finite_loss_stops_training_before_the_update()
    {
        using var model = new BigramLanguageModel(3, [0, float.NaN, 0, 0, 0, 0, 0, 0, 0]);
        using var trainer = new LanguageModelTrainer(model, Periodic(30, 3), new LanguageModelRecipe(Steps: 3, Context: 4, Batch: 2), seed: 0);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep());
        Assert.Equal("loss", e.Quantity);
        Assert.Equal(1, e.Step);
        Assert.Equal(0f, model.Table.Value.AsReadOnlySpan()[0]);
    }

    [Fact]
    public void Bad_arguments_name_what_is_wrong()
    {
        using var model = new BigramLanguageModel(3);
        var e = Assert.Throws<ArgumentException>(() => new LanguageModelTrainer(model, [0, 1, 5, 2, 1, 0, 1, 2], new LanguageModelRecipe(1, Context: 2, Batch: 1), 0));
        Assert.Contains("trainTokens[2] is 5", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new LanguageModelTrainer(model, [0, 1, 2], new LanguageModelRecipe(1, Context: 2, Batch: 1), 0));
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => new LanguageModelTrainer(model, Periodic(20, 3), new LanguageModelRecipe(1, LearningRate: double.NaN), 0));
        Assert.Equal("LearningRate", r.ParamName);
    }
}

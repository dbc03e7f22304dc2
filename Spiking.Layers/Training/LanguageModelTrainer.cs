using System;
using System.Collections.Generic;
using System.Diagnostics;
using Spiking.Autograd;
using Spiking.Layers.Data;

namespace Spiking.Layers;

/// <summary>
/// Trains a <see cref="LanguageModel"/> on random windows of a token sequence with a <see cref="LanguageModelRecipe"/>
/// (SpikeGPT's by default), step for step as the reference script <c>torch_spikegpt.py</c>: draw the windows, run the
/// whole-window forward, take the mean cross-entropy of the next character at every position with RWKV's L2Wrap on
/// the logits, back-propagate, clip the gradient norm, take an Adam step at the step's cosine rate. Everything a step
/// allocates returns to the pool when it ends. A non-finite loss (checked before backward) or parameter (after the
/// update) throws <see cref="TrainingDivergedException"/>, as <see cref="ClassifierTrainer"/> does.
/// </summary>
public sealed class LanguageModelTrainer : IDisposable
{
    private readonly LanguageModel _model;
    private readonly Adam _optimizer;
    private readonly CosineAnnealingLR _schedule;
    private readonly TextWindows _windows;
    private readonly Dictionary<Parameter, string> _names = new(ReferenceEqualityComparer.Instance);
    private readonly int[] _windowTokens;
    private readonly int[] _starts;
    private readonly int[] _inputs;
    private readonly int[] _targets;

    /// <summary>A trainer of <paramref name="model"/> on windows of <paramref name="trainTokens"/> drawn with <paramref name="seed"/>.</summary>
    /// <param name="model">The model; its parameters are updated in place.</param>
    /// <param name="trainTokens">The training ids (usually <see cref="TextSplits.Train"/>); kept, not copied.</param>
    /// <param name="recipe">Steps, sizes and optimizer settings.</param>
    /// <param name="seed">The seed of the window starts (<see cref="TextWindows"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">The recipe is invalid (see <see cref="LanguageModelRecipe.Validate"/>).</exception>
    /// <exception cref="ArgumentException">There are fewer than <c>Context + 2</c> tokens, or an id is outside the model's vocabulary.</exception>
    public LanguageModelTrainer(LanguageModel model, int[] trainTokens, LanguageModelRecipe recipe, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainTokens);
        ArgumentNullException.ThrowIfNull(recipe);
        recipe.Validate();
        for (int i = 0; i < trainTokens.Length; i++)
        {
            if ((uint)trainTokens[i] >= (uint)model.VocabularySize)
            {
                throw new ArgumentException($"trainTokens[{i}] is {trainTokens[i]}; the model's ids are in [0, {model.VocabularySize}).", nameof(trainTokens));
            }
        }
        _model = model;
        Recipe = recipe;
        _windows = new TextWindows(trainTokens, recipe.Context, seed);
        _optimizer = new Adam(model.Parameters(), recipe.LearningRate, recipe.Beta1, recipe.Beta2, recipe.Epsilon);
        // Stepped once per optimizer step, torch's closed form lr_min + (lr − lr_min)(1 + cos(π i / steps))/2 is the
        // official SpikeGPT decay lr((1 + f)/2 + (1 − f)/2 · cos(π i / steps)) with f = lr_min / lr.
        _schedule = new CosineAnnealingLR(_optimizer, recipe.Steps, recipe.FinalLearningRate);
        foreach (var (name, parameter) in model.NamedParameters()) _names.TryAdd(parameter, name);
        _windowTokens = new int[recipe.Batch * (recipe.Context + 1)];
        _starts = new int[recipe.Batch];
        _inputs = new int[recipe.Batch * recipe.Context];
        _targets = new int[recipe.Batch * recipe.Context];
    }

    /// <summary>The recipe.</summary>
    public LanguageModelRecipe Recipe { get; }

    /// <summary>The number of <see cref="TrainStep"/> calls so far.</summary>
    public int Steps { get; private set; }

    /// <summary>The learning rate the next step will use.</summary>
    public double LearningRate => _optimizer.LearningRate;

    /// <summary>Whether a non-finite loss or parameter throws <see cref="TrainingDivergedException"/> (default true).</summary>
    public bool StopOnNonFinite { get; init; } = true;

    /// <summary>One optimizer step on a fresh batch of windows.</summary>
    /// <returns>The step's mean cross-entropy (nats, before L2Wrap, which changes only gradients), its rate and its wall time.</returns>
    /// <exception cref="TrainingDivergedException">The loss, a gradient or an updated parameter is not finite (with <see cref="StopOnNonFinite"/>).</exception>
    public LanguageModelStep TrainStep()
    {
        var clock = Stopwatch.StartNew();
        int batch = Recipe.Batch, context = Recipe.Context, length = context + 1;
        _windows.Next(_windowTokens, _starts);
        // Inputs stay window after window ([B, T]); targets go time first, row t·B + b, as the logits [T, B, V].
        for (int b = 0; b < batch; b++)
        {
            var window = _windowTokens.AsSpan(b * length, length);
            window[..context].CopyTo(_inputs.AsSpan(b * context, context));
            for (int t = 0; t < context; t++) _targets[t * batch + b] = window[t + 1];
        }
        _model.Train();
        Steps++;
        double learningRate = _optimizer.LearningRate;
        double lossValue;
        using (DisposeScope.Begin())
        {
            var logits = _model.Forward(_inputs, batch, context);
            var rows = Functional.Reshape(logits, context * batch, _model.VocabularySize);
            var crossEntropy = Functional.CrossEntropy(rows, _targets);
            var loss = Functional.L2Wrap(crossEntropy, logits);
            lossValue = loss.Dense.ToScalar();
            if (StopOnNonFinite && !double.IsFinite(lossValue))
            {
                throw new TrainingDivergedException(Steps, "loss", null, lossValue, learningRate);
            }
            try
            {
                loss.Backward();
                GradientClipping.ClipByNorm(_optimizer.Parameters, Recipe.ClipNorm);
                _optimizer.Step();
                if (StopOnNonFinite) DivergenceCheck.ThrowIfNonFinite(_optimizer.Parameters, _names, Steps, learningRate);
            }
            finally
            {
                _optimizer.ZeroGrad();
            }
        }
        _schedule.Step();
        return new LanguageModelStep(Steps, lossValue, learningRate, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Releases the optimizer's state.</summary>
    public void Dispose() => _optimizer.Dispose();
}

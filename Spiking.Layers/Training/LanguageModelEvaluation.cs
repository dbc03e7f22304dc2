using System;
using System.Buffers;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Bits per character of a <see cref="LanguageModel"/> on a token sequence, as the reference script's
/// <c>evaluate</c>: every character after the first is predicted once, from non-overlapping windows of the context
/// length, each starting from the zero state (the last window shorter when the length does not divide), full windows
/// run in batches; the cross-entropies are summed in double and the sum divided by the number of characters and ln 2.
/// Runs without a graph and in evaluation mode (the model's mode is restored after). Optionally counts the spikes and
/// synaptic operations of the pass (<see cref="EnergyModel"/>), per character.
/// </summary>
public static class LanguageModelEvaluation
{
    /// <summary>
    /// Windows per forward pass. The reference script takes 64 (<c>--eval-batch</c>); windows are independent, so the
    /// batch changes only memory and speed: 16, a training step's batch, keeps a pass's activations to the size of a
    /// step's and reuses their pooled arrays (SpikeGPT's evaluation of KJV by <c>spiking eval</c>: peak RSS 243 MiB at
    /// 16 windows, 691 MiB at 64, in about the same time).
    /// </summary>
    public const int DefaultBatch = 16;

    /// <summary>Evaluates <paramref name="model"/> on <paramref name="tokens"/>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="tokens">The ids, e.g. <see cref="Data.TextSplits.Test"/>; at least two.</param>
    /// <param name="context">Characters per window.</param>
    /// <param name="batch">Full windows per forward pass.</param>
    /// <param name="countEnergy">Whether to count firing rates and operations during the pass (the report is then in the result).</param>
    /// <exception cref="ArgumentException">Fewer than two tokens, or an id outside the model's vocabulary.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="context"/> or <paramref name="batch"/> is below 1.</exception>
    public static LanguageModelScore Evaluate(LanguageModel model, ReadOnlySpan<int> tokens, int context, int batch = DefaultBatch, bool countEnergy = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (tokens.Length < 2) throw new ArgumentException($"Evaluation needs at least 2 tokens (one to predict from, one to predict); 'tokens' has {tokens.Length}.", nameof(tokens));
        int vocabulary = model.VocabularySize;
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)vocabulary)
            {
                throw new ArgumentException($"tokens[{i}] is {tokens[i]}; the model's ids are in [0, {vocabulary}).", nameof(tokens));
            }
        }
        int characters = tokens.Length - 1;
        int fullWindows = characters / context, remainder = characters % context;
        int largest = Math.Max(Math.Min(batch, fullWindows), 1) * context;
        int[] targets = ArrayPool<int>.Shared.Rent(largest);
        bool wasTraining = model.Training;
        model.Eval();
        if (countEnergy) EnergyModel.StartCounting(model);
        double total = 0;
        try
        {
            using var noGrad = GradMode.NoGrad();
            for (int first = 0; first < fullWindows; first += batch)
            {
                int windows = Math.Min(batch, fullWindows - first);
                total += WindowLoss(model, tokens, first * context, windows, context, targets);
            }
            if (remainder > 0) total += WindowLoss(model, tokens, fullWindows * context, 1, remainder, targets);
        }
        finally
        {
            if (countEnergy) EnergyModel.StopCounting(model);
            model.Train(wasTraining);
            ArrayPool<int>.Shared.Return(targets);
        }
        var report = countEnergy ? EnergyModel.Report(model, characters) : null;
        return new LanguageModelScore(total / characters / Math.Log(2), total, characters, report);
    }

    /// <summary>
    /// The summed cross-entropy (nats, in double) of <paramref name="windows"/> consecutive windows of
    /// <paramref name="length"/> inputs starting at <paramref name="start"/>, each predicting the tokens one further on.
    /// </summary>
    private static double WindowLoss(LanguageModel model, ReadOnlySpan<int> tokens, int start, int windows, int length, int[] targets)
    {
        for (int b = 0; b < windows; b++)
        {
            for (int t = 0; t < length; t++) targets[t * windows + b] = tokens[start + b * length + t + 1];
        }
        using var scope = DisposeScope.Begin();
        var logits = model.Forward(tokens.Slice(start, windows * length), windows, length).Dense;
        int v = model.VocabularySize, rows = windows * length;
        if (logits.Length != (long)rows * v)
        {
            throw new InvalidOperationException($"{model.GetType().Name}.Forward gave logits of shape {logits.Shape} for {windows} windows of {length}; [{length}, {windows}, {v}] was expected.");
        }
        var values = logits.AsReadOnlySpan();
        double sum = 0;
        for (int r = 0; r < rows; r++) sum += CrossEntropy(values.Slice(r * v, v), targets[r]);
        return sum;
    }

    /// <summary>−log softmax(<paramref name="logits"/>)[<paramref name="target"/>] in double, through the row maximum.</summary>
    internal static double CrossEntropy(ReadOnlySpan<float> logits, int target)
    {
        double max = double.NegativeInfinity;
        for (int i = 0; i < logits.Length; i++) max = Math.Max(max, logits[i]);
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += Math.Exp(logits[i] - max);
        return max + Math.Log(sum) - logits[target];
    }
}

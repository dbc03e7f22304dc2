using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Spiking.Autograd;
using Spiking.Layers.Data;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Samples text from a <see cref="LanguageModel"/> in recurrent mode, as the reference script's <c>generate</c>: the
/// prompt is fed one character at a time, then each next character is drawn from <c>softmax(logits / temperature)</c>
/// (in double) and fed back. The draws come from Philox4x32-10 with key = seed and counter = (draw, <see
/// cref="RandomStreams.TextSampling"/>), so a seed replays the same text. Characters are handed out as they are
/// drawn, and memory does not grow with their number: the model's state is fixed in size and nothing is kept.
/// </summary>
public sealed class TextGenerator
{
    private readonly LanguageModel _model;
    private readonly CharVocabulary _vocabulary;
    private readonly string[] _characters;

    /// <summary>A generator of <paramref name="model"/>'s text, its ids read through <paramref name="vocabulary"/>.</summary>
    /// <exception cref="ArgumentException">The vocabulary's size is not the model's.</exception>
    public TextGenerator(LanguageModel model, CharVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Count != model.VocabularySize)
        {
            throw new ArgumentException($"The vocabulary has {vocabulary.Count} characters but the model {model.VocabularySize} ids; they must match.", nameof(vocabulary));
        }
        _model = model;
        _vocabulary = vocabulary;
        // One string per id, made once, so handing out a character allocates nothing.
        _characters = new string[vocabulary.Count];
        for (int i = 0; i < _characters.Length; i++) _characters[i] = vocabulary[i].ToString();
    }

    /// <summary>
    /// Feeds <paramref name="prompt"/> (a line feed when empty, as the reference script) and yields
    /// <paramref name="count"/> sampled characters, each as soon as it is drawn. The model is in evaluation mode while
    /// the sequence is enumerated and back in its former mode once the enumeration ends or is disposed.
    /// </summary>
    /// <param name="prompt">The text to continue; every character must be in the vocabulary.</param>
    /// <param name="count">Characters to sample, ≥ 0.</param>
    /// <param name="temperature">Divides the logits before the softmax: below 1 sharpens, above 1 flattens; positive and finite.</param>
    /// <param name="seed">The Philox key of the draws.</param>
    /// <exception cref="ArgumentException">The prompt has characters outside the vocabulary (all listed) or an unpaired surrogate.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or <paramref name="temperature"/> not positive and finite.</exception>
    public IEnumerable<string> Generate(string prompt, int count, double temperature, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!(temperature > 0) || !double.IsFinite(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"'{nameof(temperature)}' is {temperature}; it must be positive and finite.");
        }
        // Checked here, not when enumeration starts, so a bad prompt fails at the call.
        int[] ids = EncodePrompt(prompt.Length == 0 ? "\n" : prompt);
        return Sample(ids, count, temperature, seed);
    }

    private IEnumerable<string> Sample(int[] prompt, int count, double temperature, ulong seed)
    {
        bool wasTraining = _model.Training;
        _model.Eval();
        var logits = new float[_model.VocabularySize];
        var weights = new double[_model.VocabularySize];
        using var state = _model.CreateState();
        try
        {
            using (GradMode.NoGrad())
            {
                foreach (int id in prompt) _model.Feed(id, state, logits);
            }
            uint key0 = (uint)seed, key1 = (uint)(seed >> 32);
            uint stream0 = (uint)RandomStreams.TextSampling, stream1 = (uint)(RandomStreams.TextSampling >> 32);
            Philox4x32Block block = default;
            for (int i = 0; i < count; i++)
            {
                // Draw i is the 64-bit word i % 2 of block i / 2: 53 bits make a double uniform in [0, 1).
                ulong blockIndex = (ulong)i / 2;
                if ((i & 1) == 0) block = Philox4x32.Generate((uint)blockIndex, (uint)(blockIndex >> 32), stream0, stream1, key0, key1);
                ulong r = (i & 1) == 0 ? block.X0 | ((ulong)block.X1 << 32) : block.X2 | ((ulong)block.X3 << 32);
                double u = (r >> 11) * (1.0 / (1UL << 53));
                int next = Draw(logits, temperature, u, weights);
                yield return _characters[next];
                using (GradMode.NoGrad())
                {
                    _model.Feed(next, state, logits);
                }
            }
        }
        finally
        {
            _model.Train(wasTraining);
        }
    }

    /// <summary>
    /// The id whose cumulative share of <c>exp((logits − max) / temperature)</c> first passes
    /// <paramref name="uniform"/> of the total (multinomial sampling by inversion), skipping ids of zero weight.
    /// </summary>
    /// <exception cref="InvalidOperationException">The logits are not all finite.</exception>
    internal static int Draw(ReadOnlySpan<float> logits, double temperature, double uniform, Span<double> weights)
    {
        double max = double.NegativeInfinity;
        for (int i = 0; i < logits.Length; i++)
        {
            if (!float.IsFinite(logits[i]))
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"The model's logit of id {i} is {logits[i]}; sampling needs finite logits."));
            }
            max = Math.Max(max, logits[i]);
        }
        double total = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            weights[i] = Math.Exp((logits[i] - max) / temperature);
            total += weights[i];
        }
        double target = uniform * total, running = 0;
        int last = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (weights[i] == 0) continue;
            running += weights[i];
            last = i;
            if (running > target) return i;
        }
        // Rounding can leave the running sum a hair under target·total; the last id with any weight takes it.
        return last;
    }

    private int[] EncodePrompt(string prompt)
    {
        var ids = new List<int>(prompt.Length);
        var unknown = new SortedSet<int>();
        for (int i = 0; i < prompt.Length;)
        {
            if (Rune.DecodeFromUtf16(prompt.AsSpan(i), out var rune, out int used) != System.Buffers.OperationStatus.Done)
            {
                throw new ArgumentException($"The prompt has an unpaired surrogate U+{(int)prompt[i]:X4} at UTF-16 index {i}.", nameof(prompt));
            }
            int id = _vocabulary.IdOf(rune);
            if (id < 0) unknown.Add(rune.Value);
            else ids.Add(id);
            i += used;
        }
        if (unknown.Count > 0)
        {
            var names = new List<string>(unknown.Count);
            foreach (int codePoint in unknown)
            {
                var rune = new Rune(codePoint);
                names.Add(Rune.IsControl(rune) || Rune.IsWhiteSpace(rune)
                    ? string.Create(CultureInfo.InvariantCulture, $"U+{codePoint:X4}")
                    : string.Create(CultureInfo.InvariantCulture, $"'{rune}' (U+{codePoint:X4})"));
            }
            throw new ArgumentException(
                $"The prompt has {unknown.Count} character{(unknown.Count == 1 ? "" : "s")} outside the model's vocabulary of {_vocabulary.Count}: {string.Join(", ", names)}.",
                nameof(prompt));
        }
        return [.. ids];
    }
}

using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// A character-level language model whose time axis is the token sequence: a window of token ids in, the logits of
/// the next token at every position out, laid out time first (<c>[T, B, V]</c>) like the neurons that run along the
/// tokens. Besides the whole-window forward used for training and evaluation, a language model runs in recurrent
/// mode, one token at a time from a carried <see cref="LanguageModelState"/>, with memory that does not grow with
/// the number of tokens; both modes give the same logits on the same prefix.
/// </summary>
public abstract class LanguageModel : Module
{
    /// <summary>The number of token ids (the vocabulary size V).</summary>
    public abstract int VocabularySize { get; }

    /// <summary>The number of blocks.</summary>
    public abstract int LayerCount { get; }

    /// <summary>The embedding width C.</summary>
    public abstract int Width { get; }

    /// <summary>The model's name as checkpoints record it in their <c>model</c> metadata (e.g. <c>spikegpt</c>).</summary>
    public abstract string Kind { get; }

    /// <summary>
    /// The whole-window forward: <paramref name="tokens"/> holds <paramref name="batch"/> windows of
    /// <paramref name="length"/> ids each, window after window (<c>[B, T]</c> row-major); every window starts from
    /// the zero state. Returns the logits <c>[T, B, V]</c> (row <c>t·B + b</c> predicts token t + 1 of window b).
    /// </summary>
    /// <exception cref="ArgumentException">The token count is not <c>batch·length</c>, or an id is outside <c>[0, V)</c>.</exception>
    public abstract Variable Forward(ReadOnlySpan<int> tokens, int batch, int length);

    /// <summary>A fresh recurrent state for one sequence: the state a window starts from.</summary>
    public abstract LanguageModelState CreateState();

    /// <summary>
    /// Recurrent mode: feeds one token to <paramref name="state"/> (which it advances) and writes the logits of the
    /// next token to <paramref name="logits"/> (length V). Runs without recording a graph.
    /// </summary>
    /// <exception cref="ArgumentException">The state belongs to another model, the logits span is not V long, or the token is outside <c>[0, V)</c>.</exception>
    public abstract void Feed(int token, LanguageModelState state, Span<float> logits);

    /// <summary>Reads token ids from a dense <c>[B, T]</c> tensor of whole numbers and runs <see cref="Forward(ReadOnlySpan{int}, int, int)"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not a dense <c>[B, T]</c> tensor of whole numbers.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Tensor is not { } ids || ids.Rank != 2)
        {
            throw new ArgumentException($"A language model takes token ids as a dense [B, T] tensor; 'input' is {input}.", nameof(input));
        }
        var values = ids.AsReadOnlySpan();
        var tokens = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (v != MathF.Floor(v) || v < 0 || v >= VocabularySize)
            {
                throw new ArgumentException($"input[{i}] is {v}; token ids must be whole numbers in [0, {VocabularySize}).", nameof(input));
            }
            tokens[i] = (int)v;
        }
        return Forward(tokens, ids.Shape[0], ids.Shape[1]);
    }

    /// <summary>Checks the arguments of <see cref="Forward(ReadOnlySpan{int}, int, int)"/> the same way for every model.</summary>
    protected void CheckWindows(ReadOnlySpan<int> tokens, int batch, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (tokens.Length != (long)batch * length)
        {
            throw new ArgumentException($"{batch} windows of {length} tokens need {(long)batch * length} ids; 'tokens' has {tokens.Length}.", nameof(tokens));
        }
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)VocabularySize)
            {
                throw new ArgumentException($"tokens[{i}] is {tokens[i]}; token ids must be in [0, {VocabularySize}).", nameof(tokens));
            }
        }
    }

    /// <summary>Checks the arguments of <see cref="Feed"/> the same way for every model.</summary>
    protected void CheckFeed(int token, Span<float> logits)
    {
        if ((uint)token >= (uint)VocabularySize)
        {
            throw new ArgumentException($"token is {token}; token ids must be in [0, {VocabularySize}).", nameof(token));
        }
        if (logits.Length != VocabularySize)
        {
            throw new ArgumentException($"'logits' has {logits.Length} elements; it must hold one per vocabulary entry ({VocabularySize}).", nameof(logits));
        }
    }
}

/// <summary>
/// The recurrent state of one sequence in a <see cref="LanguageModel"/>: whatever the model carries from token to
/// token (token-shift vectors, scan sums, membranes), of a size fixed by the model, not by the sequence.
/// </summary>
public abstract class LanguageModelState : IDisposable
{
    /// <summary>The number of tokens fed so far.</summary>
    public long Position { get; protected set; }

    /// <summary>Returns the state to the start of a sequence.</summary>
    public abstract void Reset();

    /// <summary>Releases pooled buffers.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases pooled buffers when <paramref name="disposing"/>.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

using System;
using Spiking.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// PyTorch's <c>F.embedding</c>: the rows of <paramref name="weight"/> <c>[V, C]</c> picked by
    /// <paramref name="tokens"/>, laid out as <paramref name="shape"/> (such as <c>[B, T]</c>), giving
    /// <c>[..shape, C]</c>.
    /// </summary>
    /// <remarks>
    /// Backward scatters each output row's gradient into the row of its token: a token that occurs several times
    /// gets the sum of its rows' gradients, added in the order of the positions, so the result is the same bits for
    /// any thread count. The tokens are copied, so the caller may reuse the buffer.
    /// </remarks>
    /// <exception cref="ArgumentException">The weight is not <c>[V, C]</c> or holds spikes, or the token count is not the element count of <paramref name="shape"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token is outside <c>[0, V)</c>.</exception>
    /// <exception cref="NotSupportedException">The weight is not on the CPU.</exception>
    public static Variable Embedding(Variable weight, ReadOnlySpan<int> tokens, Shape shape) => EmbeddingNode.Forward(weight, tokens, shape);
}

/// <summary>A row lookup. Saves the tokens; backward needs nothing else.</summary>
internal sealed class EmbeddingNode : Node
{
    private readonly int[] _tokens;
    private readonly int _vocabulary, _channels;

    private EmbeddingNode(Variable weight, int[] tokens, int vocabulary, int channels) : base(weight)
    {
        (_tokens, _vocabulary, _channels) = (tokens, vocabulary, channels);
    }

    public override string Name => "embedding";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.AddOther("token ids", _tokens.Length * (long)sizeof(int));
    }

    public static Variable Forward(Variable weight, ReadOnlySpan<int> tokens, Shape shape)
    {
        var w = OpChecks.Dense(weight, nameof(weight), "Embedding");
        if (w.Rank != 2)
        {
            throw new ArgumentException($"Embedding needs 'weight' of shape [V, C]; it has shape {w.Shape}.", nameof(weight));
        }
        if (!w.IsOnHost) throw OpChecks.NoDeviceKernel("Embedding", w.Device);
        if (shape.ElementCount != tokens.Length)
        {
            throw new ArgumentException(
                $"Embedding: 'tokens' holds {tokens.Length} ids but 'shape' {shape} needs {shape.ElementCount}.", nameof(tokens));
        }
        int vocabulary = w.Shape[0], channels = w.Shape[1];
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)vocabulary)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[i],
                    $"Embedding: tokens[{i}] is {tokens[i]}, outside [0, {vocabulary}) for 'weight' of shape {w.Shape}.");
            }
        }
        var dims = new int[shape.Rank + 1];
        shape.Dimensions.CopyTo(dims);
        dims[^1] = channels;
        var y = Tensor.Empty(new Shape(dims));
        var source = w.AsReadOnlySpan();
        var destination = y.AsSpan();
        for (int i = 0; i < tokens.Length; i++)
        {
            source.Slice(tokens[i] * channels, channels).CopyTo(destination.Slice(i * channels, channels));
        }
        var saved = tokens.ToArray();
        return Variable.FromOp(y, Record(() => new EmbeddingNode(weight, saved, vocabulary, channels), weight));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        // Positions grouped by token with a stable counting sort, so each weight row is one work item that adds its
        // positions' gradients in increasing position order: no two items write one row, and the order of the adds
        // does not depend on how the rows are spread over threads.
        var job = new ScatterJob(_tokens, _vocabulary, _channels, gradOutput);
        Parallelism.For(_vocabulary, job.WorkPerRow, job, static (row, j) => j.Run(row));
        return [job.Gradient];
    }

    private sealed class ScatterJob
    {
        private readonly int _channels;
        private readonly int[] _start, _positions;
        private readonly Tensor _gradOutput;

        public ScatterJob(int[] tokens, int vocabulary, int channels, Tensor gradOutput)
        {
            (_channels, _gradOutput) = (channels, gradOutput);
            _start = new int[vocabulary + 1];
            foreach (int token in tokens) _start[token + 1]++;
            for (int v = 0; v < vocabulary; v++) _start[v + 1] += _start[v];
            _positions = new int[tokens.Length];
            var next = (int[])_start.Clone();
            for (int i = 0; i < tokens.Length; i++) _positions[next[tokens[i]]++] = i;
            Gradient = Tensor.Empty(new Shape(vocabulary, channels));
            WorkPerRow = Math.Max(1L, (long)tokens.Length * channels / vocabulary);
        }

        public Tensor Gradient { get; }

        public long WorkPerRow { get; }

        public void Run(int row)
        {
            int c = _channels;
            var destination = Gradient.AsSpan().Slice(row * c, c);
            var g = _gradOutput.AsReadOnlySpan();
            int first = _start[row], end = _start[row + 1];
            if (first == end)
            {
                destination.Clear();
                return;
            }
            g.Slice(_positions[first] * c, c).CopyTo(destination);
            for (int k = first + 1; k < end; k++) TensorPrimitives.Add(destination, g.Slice(_positions[k] * c, c), destination);
        }
    }
}

using System;

namespace Spiking.Tensors;

/// <summary>
/// A reproducible, parallel random source built on <see cref="Philox4x32"/>. The key is the seed, counter words
/// 2–3 hold the stream, and counter words 0–1 count 128-bit blocks from <see cref="Offset"/>. Element i of a
/// call uses word <c>i % 4</c> of block <c>Offset + i / 4</c>, so every element is computed on its own: fills are
/// split into fixed chunks that run on any number of threads and give the same bits. After each call
/// <see cref="Offset"/> moves past the blocks it used (whole blocks, rounded up), like PyTorch's Philox
/// offset, so successive calls give fresh numbers and a seed always replays the same sequence of calls.
/// </summary>
/// <remarks>An instance is not safe to call from several threads at once; each call parallelises itself.</remarks>
public sealed class PhiloxGenerator
{
    /// <summary>Elements per parallel work item of a float fill; a multiple of 4 so chunks start on blocks.</summary>
    private const int ChunkElements = 4096;

    /// <summary>Words generated at a time into a stack buffer.</summary>
    private const int BatchWords = 1024;

    /// <summary>Packed words per parallel work item of a Bernoulli fill.</summary>
    private const int ChunkSpikeWords = 64;

    /// <summary>Packed words per stack-buffered batch: at most 1024 elements, plus up to 3 words of block alignment.</summary>
    private const int BatchSpikeWords = 16;

    /// <summary>A rough operation count per element, for deciding whether threads pay.</summary>
    private const int WorkPerElement = 16;

    private readonly uint _key0;
    private readonly uint _key1;

    /// <summary>Creates a generator whose key is <paramref name="seed"/> and whose counters carry <paramref name="stream"/>.</summary>
    /// <param name="seed">The Philox key: low word in key word 0, high word in key word 1.</param>
    /// <param name="stream">
    /// An independent sequence for the same seed: low word in counter word 2, high word in word 3. The default, 0, is
    /// <see cref="RandomStreams.Initialization"/>, the stream a model's initial weights come from; the streams the
    /// library's other consumers of a seed take are in <see cref="RandomStreams"/>.
    /// </param>
    public PhiloxGenerator(ulong seed, ulong stream = RandomStreams.Initialization)
    {
        Seed = seed;
        Stream = stream;
        _key0 = (uint)seed;
        _key1 = (uint)(seed >> 32);
    }

    /// <summary>The seed (the Philox key).</summary>
    public ulong Seed { get; }

    /// <summary>The stream (counter words 2–3).</summary>
    public ulong Stream { get; }

    /// <summary>
    /// The index of the next unused 128-bit block (counter words 0–1). Save and restore it to replay draws;
    /// it wraps modulo 2^64.
    /// </summary>
    public ulong Offset { get; set; }

    /// <summary>Fills <paramref name="destination"/> with uniforms in [0, 1) from the top 24 bits of each word; 1.0 never occurs.</summary>
    public void FillUniform(Span<float> destination) => FillFloats(destination, normal: false, 0f, 1f);

    /// <summary>Fills a tensor with uniforms in [0, 1).</summary>
    public void FillUniform(Tensor destination)
    {
        TensorChecks.Live(destination, nameof(destination));
        FillUniform(destination.AsSpan());
    }

    /// <summary>A new tensor of uniforms in [0, 1).</summary>
    public Tensor Uniform(Shape shape)
    {
        var t = Tensor.Empty(shape);
        FillUniform(t.AsSpan());
        return t;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with normals by Box–Muller: outputs 2k and 2k+1 come from words 2k and
    /// 2k+1 (u1 in (0, 1], so no log of zero; |z| is at most about 5.77 std).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="std"/> is negative or NaN.</exception>
    public void FillNormal(Span<float> destination, float mean = 0f, float std = 1f)
    {
        CheckStd(std);
        FillFloats(destination, normal: true, mean, std);
    }

    /// <summary>Fills a tensor with normals of the given mean and standard deviation.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="std"/> is negative or NaN.</exception>
    public void FillNormal(Tensor destination, float mean = 0f, float std = 1f)
    {
        TensorChecks.Live(destination, nameof(destination));
        FillNormal(destination.AsSpan(), mean, std);
    }

    /// <summary>A new tensor of normals with the given mean and standard deviation.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="std"/> is negative or NaN.</exception>
    public Tensor Normal(Shape shape, float mean = 0f, float std = 1f)
    {
        CheckStd(std);
        var t = Tensor.Empty(shape);
        FillFloats(t.AsSpan(), normal: true, mean, std);
        return t;
    }

    /// <summary>
    /// Samples spikes straight into packed words, as SpikingJelly's PoissonEncoder: element i spikes when
    /// <c>u_i &lt;= p_i</c>, u_i being the uniform <see cref="FillUniform(Span{float})"/> would give at i. Because
    /// u can be exactly 0, <c>p &lt;= 0</c> (and NaN) is special-cased to never spike; <c>p &gt;= 1</c> always spikes.
    /// Rows of <paramref name="rowLength"/> probabilities map to rows of <c>ceil(rowLength / 64)</c> words with
    /// zero padding, the layout of <see cref="SpikeTensor.Words"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rowLength"/> is negative.</exception>
    /// <exception cref="ArgumentException">The probabilities are not whole rows, or <paramref name="words"/> has the wrong length.</exception>
    public void FillBernoulli(ReadOnlySpan<float> probabilities, int rowLength, Span<ulong> words)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowLength);
        if (rowLength == 0 ? probabilities.Length != 0 : probabilities.Length % rowLength != 0)
        {
            throw new ArgumentException(
                $"{probabilities.Length} probabilities are not whole rows of {rowLength}.", nameof(probabilities));
        }
        int rows = rowLength == 0 ? 0 : probabilities.Length / rowLength;
        int wordsPerRow = SpikeTensor.WordsFor(rowLength);
        if (words.Length != rows * wordsPerRow)
        {
            throw new ArgumentException(
                $"Words holds {words.Length} words; {rows} rows of {rowLength} need {rows * wordsPerRow}.", nameof(words));
        }
        ulong first = Advance(probabilities.Length);
        if (words.IsEmpty) return;
        unsafe
        {
            fixed (float* p = probabilities)
            fixed (ulong* w = words)
            {
                var job = new BernoulliJob(_key0, _key1, Stream, first, p, rowLength, wordsPerRow, w, words.Length);
                int chunks = Parallelism.ChunkCount(words.Length, ChunkSpikeWords);
                Parallelism.For(chunks, (long)ChunkSpikeWords * 64 * WorkPerElement, job, static (chunk, j) => j.Run(chunk));
            }
        }
    }

    /// <summary>Samples a spike tensor with the shape of <paramref name="probabilities"/>; see <see cref="FillBernoulli"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="probabilities"/> is a scalar (a spike tensor needs an axis) or disposed.</exception>
    public SpikeTensor Bernoulli(Tensor probabilities)
    {
        TensorChecks.Live(probabilities, nameof(probabilities));
        if (probabilities.Rank == 0)
        {
            throw new ArgumentException(
                $"'{nameof(probabilities)}' has shape {probabilities.Shape}; spikes need at least one axis.", nameof(probabilities));
        }
        var result = SpikeTensor.Zeros(probabilities.Shape);
        FillBernoulli(probabilities.AsReadOnlySpan(), result.RowLength, result.Words);
        return result;
    }

    /// <summary>Samples spikes into <paramref name="destination"/>, which must have the shape of <paramref name="probabilities"/>.</summary>
    /// <exception cref="ArgumentException">The shapes differ, or a tensor is disposed.</exception>
    public void Bernoulli(Tensor probabilities, SpikeTensor destination)
    {
        TensorChecks.Live(probabilities, nameof(probabilities));
        TensorChecks.Live(destination, nameof(destination));
        if (probabilities.Shape != destination.Shape)
        {
            throw new ArgumentException(
                $"'{nameof(destination)}' has shape {destination.Shape}; '{nameof(probabilities)}' has shape {probabilities.Shape}.",
                nameof(destination));
        }
        FillBernoulli(probabilities.AsReadOnlySpan(), destination.RowLength, destination.Words);
    }

    /// <summary>
    /// Samples <paramref name="repeats"/> independent draws of <paramref name="probabilities"/> into
    /// <paramref name="destination"/> <c>[repeats, ...]</c> on the tensors' device, the same bits as calling
    /// <see cref="FillBernoulli"/> once per repeat on the CPU (Poisson encoding over T steps).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or devices do not match.</exception>
    public void Bernoulli(Tensor probabilities, int repeats, SpikeTensor destination)
    {
        TensorChecks.Live(probabilities, nameof(probabilities));
        TensorChecks.Live(destination, nameof(destination));
        ArgumentOutOfRangeException.ThrowIfNegative(repeats);
        if (probabilities.Rank == 0 || destination.Shape != Shape.Prepend(repeats, probabilities.Shape))
        {
            throw new ArgumentException(
                $"'{nameof(destination)}' has shape {destination.Shape}; {repeats} draws of '{nameof(probabilities)}' {probabilities.Shape} need {(probabilities.Rank == 0 ? "a probability tensor with an axis" : Shape.Prepend(repeats, probabilities.Shape).ToString())}.",
                nameof(destination));
        }
        if (probabilities.Device != destination.Device)
        {
            throw new ArgumentException($"'{nameof(destination)}' is on {destination.Device} but '{nameof(probabilities)}' is on {probabilities.Device}.", nameof(destination));
        }
        ulong first = Offset;
        for (int t = 0; t < repeats; t++) Advance(probabilities.Length);
        probabilities.Backend.Bernoulli(probabilities, repeats, _key0, _key1, Stream, first, destination);
    }

    /// <summary>Reserves the blocks for <paramref name="count"/> words and returns the first.</summary>
    private ulong Advance(int count)
    {
        ulong first = Offset;
        Offset = first + (ulong)(((long)count + 3) / 4);
        return first;
    }

    private static void CheckStd(float std)
    {
        if (!(std >= 0f)) throw new ArgumentOutOfRangeException(nameof(std), std, "The standard deviation must be >= 0 and not NaN.");
    }

    private void FillFloats(Span<float> destination, bool normal, float mean, float std)
    {
        ulong first = Advance(destination.Length);
        if (destination.IsEmpty) return;
        unsafe
        {
            fixed (float* d = destination)
            {
                var job = new FloatJob(_key0, _key1, Stream, first, d, destination.Length, normal, mean, std);
                int chunks = Parallelism.ChunkCount(destination.Length, ChunkElements);
                Parallelism.For(chunks, (long)ChunkElements * WorkPerElement, job, static (chunk, j) => j.Run(chunk));
            }
        }
    }

    private readonly unsafe struct FloatJob(
        uint key0, uint key1, ulong stream, ulong firstBlock, float* destination, int length, bool normal, float mean, float std)
    {
        public void Run(int chunk)
        {
            int start = chunk * ChunkElements;
            int end = Math.Min(length, start + ChunkElements);
            Span<uint> buffer = stackalloc uint[BatchWords];
            for (int s = start; s < end; s += BatchWords)
            {
                int count = Math.Min(BatchWords, end - s);
                var dst = new Span<float>(destination + s, count);
                // Batches start on multiples of 4 elements, so on whole blocks; a normal pair needs its second word too.
                var words = buffer[..(normal ? count + (count & 1) : count)];
                PhiloxKernel.Fill(key0, key1, stream, firstBlock + (ulong)(s / 4), words);
                if (normal) BoxMuller.Fill(words, dst, mean, std);
                else PhiloxTransforms.ToUniform(words, dst);
            }
        }
    }

    private readonly unsafe struct BernoulliJob(
        uint key0, uint key1, ulong stream, ulong firstBlock, float* probabilities, int rowLength, int wordsPerRow, ulong* words, int wordCount)
    {
        public void Run(int chunk)
        {
            int start = chunk * ChunkSpikeWords;
            int end = Math.Min(wordCount, start + ChunkSpikeWords);
            Span<uint> buffer = stackalloc uint[BatchSpikeWords * 64 + 3];
            for (int b = start; b < end; b += BatchSpikeWords)
            {
                int batchEnd = Math.Min(end, b + BatchSpikeWords);
                // Consecutive packed words cover consecutive elements, so a batch needs one contiguous run of words.
                int first = FirstElement(b);
                int last = FirstElement(batchEnd);
                int skip = first & 3;
                var uniforms = buffer[..(skip + last - first)];
                PhiloxKernel.Fill(key0, key1, stream, firstBlock + (ulong)(first >> 2), uniforms);
                // Walk the words without a division each: a word ends 64 elements on or at its row's end.
                int e = first;
                int rowEnd = (b / wordsPerRow + 1) * rowLength;
                for (int w = b; w < batchEnd; w++)
                {
                    int count = Math.Min(64, rowEnd - e);
                    var u = uniforms[(skip + e - first)..];
                    var p = new ReadOnlySpan<float>(probabilities + e, count);
                    words[w] = count == 64 ? PhiloxTransforms.PackSpikes64(u, p) : PhiloxTransforms.PackSpikes(u, p, count);
                    e += count;
                    if (e == rowEnd) rowEnd += rowLength;
                }
            }
        }

        /// <summary>The flat element index of the first bit of packed word <paramref name="word"/> (or the end, past the last).</summary>
        private int FirstElement(int word) => word / wordsPerRow * rowLength + word % wordsPerRow * 64;
    }
}

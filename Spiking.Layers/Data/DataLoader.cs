using System;
using Spiking.Tensors;

namespace Spiking.Layers.Data;

/// <summary>
/// Iterates an <see cref="ImageDataset"/> in batches of images <c>[B, 1, Rows, Columns]</c> scaled to [0, 1]
/// (<c>pixel / 255f</c>), shuffled anew each epoch, without allocating per batch: the image tensors, pixel bytes,
/// labels and order are preallocated and reused.
/// </summary>
/// <remarks>
/// <para>
/// Every batch holds <see cref="BatchSize"/> samples except the last, which holds the remainder and has its own
/// preallocated tensor <c>[Count % BatchSize, 1, Rows, Columns]</c> (no sample is dropped). A batch's buffers are
/// overwritten by the next batch: copy what must outlive it, and never dispose <see cref="Batch.Images"/> (the
/// loader owns it). Only one epoch may be iterated at a time; starting another invalidates the first.
/// </para>
/// <para>
/// The order of epoch e with seed s is a Fisher–Yates shuffle: for i = N−1 down to 1, j = ⌊r·(i+1) / 2^64⌋ swaps
/// positions i and j of the identity, r being the 64-bit word <c>lo | hi &lt;&lt; 32</c> from Philox4x32-10 with key
/// s, counter <c>(k / 2, 0, e, <see cref="RandomStreams.ShuffleTag"/>)</c> and words <c>(2(k % 2), 2(k % 2) + 1)</c>
/// for the k-th draw: the blocks a <see cref="PhiloxGenerator"/> of seed s and stream
/// <see cref="RandomStreams.Shuffle"/>(e) reads. It depends only on (s, e, N). The tag keeps the shuffle off the
/// other streams of the same seed (<see cref="RandomStreams"/>): without it, epoch 0 reused the very words that
/// initialised the model's weights.
/// </para>
/// </remarks>
public sealed class DataLoader : IDisposable
{
    private static readonly float[] Scale = BuildScale();

    private readonly ImageDataset _dataset;
    private readonly int[] _order;
    private readonly int[] _labels;
    private readonly byte[] _pixels;
    private readonly Tensor _full;
    private readonly Tensor? _partial;
    private int _generation;
    private bool _disposed;

    /// <summary>Creates a loader over <paramref name="dataset"/>.</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch (the last batch may hold fewer).</param>
    /// <param name="shuffle">True to shuffle every epoch (training); false to keep the dataset's order (evaluation).</param>
    /// <param name="seed">The shuffle's seed.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public DataLoader(ImageDataset dataset, int batchSize, bool shuffle, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        _dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        int fullBatch = Math.Min(batchSize, Math.Max(dataset.Count, 1));
        _order = new int[dataset.Count];
        _labels = new int[fullBatch];
        _pixels = new byte[fullBatch * dataset.PixelsPerImage];
        _full = Tensor.Zeros(fullBatch, 1, dataset.Rows, dataset.Columns);
        int remainder = dataset.Count % batchSize;
        if (remainder != 0 && dataset.Count > batchSize) _partial = Tensor.Zeros(remainder, 1, dataset.Rows, dataset.Columns);
    }

    /// <summary>The samples.</summary>
    public ImageDataset Dataset => _dataset;

    /// <summary>Samples per full batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>The shuffle's seed.</summary>
    public ulong Seed { get; }

    /// <summary>Batches per epoch, the partial last one included.</summary>
    public int BatchCount => _dataset.Count / BatchSize + (_dataset.Count % BatchSize == 0 ? 0 : 1);

    /// <summary>
    /// Starts epoch <paramref name="epoch"/>: fixes its order (shuffled by (<see cref="Seed"/>, epoch) or the
    /// dataset's own) and returns its batches for <c>foreach</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
    public EpochBatches Epoch(int epoch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (Shuffle) ShuffleOrder(_order, Seed, (uint)epoch);
        _generation++;
        return new EpochBatches(this, _generation);
    }

    /// <summary>The dataset indices of epoch <paramref name="epoch"/>'s samples in visiting order (a new array; for inspection, not the training loop).</summary>
    public int[] Order(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var order = new int[_dataset.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (Shuffle) ShuffleOrder(order, Seed, (uint)epoch);
        return order;
    }

    /// <summary>Returns the batch tensors to the pool.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _full.Dispose();
        _partial?.Dispose();
    }

    private static void ShuffleOrder(int[] order, ulong seed, uint epoch)
    {
        uint key0 = (uint)seed, key1 = (uint)(seed >> 32);
        ulong stream = RandomStreams.Shuffle(epoch);
        Philox4x32Block block = default;
        long draw = 0;
        for (int i = order.Length - 1; i > 0; i--, draw++)
        {
            if ((draw & 1) == 0) block = Philox4x32.Generate((uint)(draw >> 1), (uint)(draw >> 33), (uint)stream, (uint)(stream >> 32), key0, key1);
            ulong r = (draw & 1) == 0 ? block.X0 | ((ulong)block.X1 << 32) : block.X2 | ((ulong)block.X3 << 32);
            int j = (int)Math.BigMul(r, (ulong)(i + 1), out _);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    private bool Load(int generation, int batchIndex, out Batch batch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (generation != _generation)
        {
            throw new InvalidOperationException("This epoch's batches were invalidated: DataLoader.Epoch was called again, and the loader's buffers now serve the newer epoch.");
        }
        long first = (long)batchIndex * BatchSize;
        if (first >= _dataset.Count)
        {
            batch = default;
            return false;
        }
        int start = (int)first;
        int count = Math.Min(BatchSize, _dataset.Count - start);
        var images = count == _full.Shape[0] ? _full : _partial!;
        int size = _dataset.PixelsPerImage;
        var source = _dataset.Pixels;
        var labels = _dataset.Labels;
        for (int b = 0; b < count; b++)
        {
            int index = _order[start + b];
            source.Slice(index * size, size).CopyTo(_pixels.AsSpan(b * size, size));
            _labels[b] = labels[index];
        }
        var floats = images.AsSpan();
        var bytes = _pixels.AsSpan(0, count * size);
        for (int i = 0; i < bytes.Length; i++) floats[i] = Scale[bytes[i]];
        batch = new Batch(images, _pixels, _labels, _order, start, count);
        return true;
    }

    private static float[] BuildScale()
    {
        var scale = new float[256];
        for (int i = 0; i < scale.Length; i++) scale[i] = i / 255f;
        return scale;
    }

    /// <summary>The batches of one epoch, for <c>foreach</c>; a struct, so iterating allocates nothing.</summary>
    public readonly struct EpochBatches : IEquatable<EpochBatches>
    {
        private readonly DataLoader _loader;
        private readonly int _generation;

        internal EpochBatches(DataLoader loader, int generation)
        {
            _loader = loader;
            _generation = generation;
        }

        /// <summary>The enumerator <c>foreach</c> uses.</summary>
        public Enumerator GetEnumerator() => new(_loader, _generation);

        /// <inheritdoc/>
        public bool Equals(EpochBatches other) => ReferenceEquals(_loader, other._loader) && _generation == other._generation;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is EpochBatches other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(_loader, _generation);

        /// <summary>Whether both denote the same epoch of the same loader.</summary>
        public static bool operator ==(EpochBatches left, EpochBatches right) => left.Equals(right);

        /// <summary>Whether they denote different epochs or loaders.</summary>
        public static bool operator !=(EpochBatches left, EpochBatches right) => !left.Equals(right);
    }

    /// <summary>Fills the loader's buffers with one batch after another.</summary>
    public struct Enumerator
    {
        private readonly DataLoader _loader;
        private readonly int _generation;
        private int _next;
        private Batch _current;

        internal Enumerator(DataLoader loader, int generation)
        {
            _loader = loader;
            _generation = generation;
        }

        /// <summary>The batch just loaded.</summary>
        public readonly Batch Current => _current;

        /// <summary>Loads the next batch into the loader's buffers; false after the last.</summary>
        /// <exception cref="InvalidOperationException">The loader has started another epoch since.</exception>
        public bool MoveNext()
        {
            if (_loader is null) return false;
            bool more = _loader.Load(_generation, _next, out _current);
            if (more) _next++;
            return more;
        }
    }
}

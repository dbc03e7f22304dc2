using System;
using System.Collections.Generic;
using Spiking.Layers.Data;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class DataLoaderTests
{
    private const int Rows = 3, Cols = 2;

    private static ImageDataset Dataset(int count)
    {
        var pixels = new byte[count * Rows * Cols];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 37 + i / 6);
        var labels = new byte[count];
        for (int i = 0; i < count; i++) labels[i] = (byte)(i * 7 % 10);
        return new ImageDataset(pixels, labels, Rows, Cols);
    }

    private static List<int> Visit(DataLoader loader, int epoch)
    {
        var seen = new List<int>();
        foreach (var batch in loader.Epoch(epoch)) seen.AddRange(batch.Indices.ToArray());
        return seen;
    }

    /// <summary>The documented shuffle, written out from its description.</summary>
    private static int[] ReferenceOrder(int n, ulong seed, int epoch, uint streamTag = RandomStreams.ShuffleTag)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1, k = 0; i > 0; i--, k++)
        {
            var block = Philox4x32.Generate((uint)(k / 2), 0, (uint)epoch, streamTag, (uint)seed, (uint)(seed >> 32));
            ulong r = k % 2 == 0 ? block.X0 | ((ulong)block.X1 << 32) : block.X2 | ((ulong)block.X3 << 32);
            int j = (int)(((UInt128)r * (ulong)(i + 1)) >> 64);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    [Theory]
    [InlineData(103, 10)]
    [InlineData(100, 10)]
    [InlineData(7, 64)]
    [InlineData(1, 1)]
    public void Every_batch_holds_the_scaled_pixels_raw_bytes_and_labels_of_its_samples(int count, int batchSize)
    {
        var data = Dataset(count);
        using var loader = new DataLoader(data, batchSize, shuffle: true, seed: 5);
        int batches = 0, total = 0;
        foreach (var batch in loader.Epoch(2))
        {
            int expectedCount = Math.Min(batchSize, count - total);
            Assert.Equal(expectedCount, batch.Count);
            Assert.Equal(new Shape(expectedCount, 1, Rows, Cols), batch.Images.Shape);
            var images = batch.Images.AsReadOnlySpan();
            for (int b = 0; b < batch.Count; b++)
            {
                int index = batch.Indices[b];
                var image = data.Image(index);
                Assert.Equal(data.Labels[index], batch.Labels[b]);
                for (int p = 0; p < image.Length; p++)
                {
                    Assert.Equal(image[p], batch.Pixels[b * image.Length + p]);
                    Assert.Equal((float)(image[p] / 255.0), images[b * image.Length + p]);
                }
            }
            Assert.Equal(batch.Count * Rows * Cols, batch.Pixels.Length);
            total += batch.Count;
            batches++;
        }
        Assert.Equal(count, total);
        Assert.Equal(loader.BatchCount, batches);
        Assert.Equal((count + batchSize - 1) / batchSize, batches);
    }

    [Fact]
    public void Pixel_scaling_maps_0_to_0_and_255_to_1()
    {
        var data = new ImageDataset([0, 51, 128, 255], [0], 2, 2);
        using var loader = new DataLoader(data, 4, shuffle: false);
        foreach (var batch in loader.Epoch(0))
        {
            Assert.Equal(new[] { 0f, 0.2f, 128f / 255f, 1f }, batch.Images.ToArray());
        }
    }

    [Fact]
    public void Each_epoch_visits_every_sample_once_in_the_documented_order()
    {
        using var loader = new DataLoader(Dataset(101), 16, shuffle: true, seed: 0x1234_5678_9ABC_DEF0);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var seen = Visit(loader, epoch);
            var sorted = seen.ToArray();
            Array.Sort(sorted);
            for (int i = 0; i < sorted.Length; i++) Assert.Equal(i, sorted[i]);
            Assert.Equal(ReferenceOrder(101, loader.Seed, epoch), seen.ToArray());
            Assert.Equal(seen.ToArray(), loader.Order(epoch));
        }
    }

    [Fact]
    public void Same_seed_and_epoch_give_the_same_order_and_others_differ()
    {
        var data = Dataset(200);
        using var a = new DataLoader(data, 32, shuffle: true, seed: 9);
        using var b = new DataLoader(data, 50, shuffle: true, seed: 9);
        using var c = new DataLoader(data, 32, shuffle: true, seed: 10);
        Assert.Equal(Visit(a, 4), Visit(b, 4));
        Assert.Equal(Visit(a, 4), Visit(a, 4));
        Assert.NotEqual(Visit(a, 4), Visit(a, 5));
        Assert.NotEqual(Visit(a, 4), Visit(c, 4));
    }

    [Fact]
    public void Without_shuffle_the_dataset_order_is_kept()
    {
        using var loader = new DataLoader(Dataset(23), 5, shuffle: false, seed: 3);
        var expected = new int[23];
        for (int i = 0; i < expected.Length; i++) expected[i] = i;
        Assert.Equal(expected, Visit(loader, 0).ToArray());
        Assert.Equal(expected, Visit(loader, 7).ToArray());
    }

    [Fact]
    public void The_first_epochs_shuffle_does_not_reuse_the_words_that_initialise_the_model()
    {
        foreach (ulong seed in new ulong[] { 0, 1, 42 })
        {
            // The weights come from PhiloxGenerator(seed), stream 0: counter (block, 0, 0, 0) under key seed, the
            // words an untagged shuffle of epoch 0 would read too, tying the visiting order to the weights.
            var weights = new float[4];
            new PhiloxGenerator(seed).FillUniform(weights);
            var untagged = Philox4x32.Generate(0, 0, 0, 0, (uint)seed, (uint)(seed >> 32));
            var tagged = Philox4x32.Generate(0, 0, 0, RandomStreams.ShuffleTag, (uint)seed, (uint)(seed >> 32));
            Assert.Equal(weights[1], PhiloxTransforms.Uniform(untagged.X1));
            Assert.NotEqual(weights[1], PhiloxTransforms.Uniform(tagged.X1));

            using var loader = new DataLoader(Dataset(257), 16, shuffle: true, seed);
            Assert.Equal(ReferenceOrder(257, seed, 0), loader.Order(0));
            Assert.NotEqual(ReferenceOrder(257, seed, 0, streamTag: 0), loader.Order(0));
        }
    }

    [Fact]
    public void The_shuffle_moves_each_sample_to_each_position_about_equally_often()
    {
        const int n = 5, epochs = 20000;
        using var loader = new DataLoader(Dataset(n), n, shuffle: true, seed: 77);
        var counts = new int[n, n];
        for (int e = 0; e < epochs; e++)
        {
            var order = loader.Order(e);
            for (int p = 0; p < n; p++) counts[order[p], p]++;
        }
        // Each count is Binomial(20000, 1/5): mean 4000, std ~57; 6 std is far outside chance.
        foreach (int count in counts) Assert.InRange(count, 4000 - 340, 4000 + 340);
    }

    [Fact]
    public void Iterating_an_epoch_allocates_nothing()
    {
        using var loader = new DataLoader(Dataset(203), 20, shuffle: true, seed: 1);
        float sum = 0;
        foreach (var batch in loader.Epoch(0)) sum += batch.Images.AsReadOnlySpan()[0] + batch.Labels[0];
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var batch in loader.Epoch(1)) sum += batch.Images.AsReadOnlySpan()[0] + batch.Labels[0] + batch.Pixels[0];
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
        Assert.True(sum >= 0);
    }

    [Fact]
    public void Starting_another_epoch_invalidates_the_previous_one()
    {
        using var loader = new DataLoader(Dataset(30), 10, shuffle: true);
        var first = loader.Epoch(0).GetEnumerator();
        Assert.True(first.MoveNext());
        _ = loader.Epoch(1);
        var e = Assert.Throws<InvalidOperationException>(() => first.MoveNext());
        Assert.Contains("Epoch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        Assert.Throws<ArgumentOutOfRangeException>("batchSize", () => new DataLoader(Dataset(3), 0, shuffle: true));
        using var loader = new DataLoader(Dataset(3), 2, shuffle: true);
        Assert.Throws<ArgumentOutOfRangeException>("epoch", () => loader.Epoch(-1));
    }
}

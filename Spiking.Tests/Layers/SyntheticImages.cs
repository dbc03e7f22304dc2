using System;
using System.IO;
using System.IO.Compression;
using Spiking.Layers.Data;

namespace Spiking.Tests.Layers;

/// <summary>
/// A learnable stand-in for Fashion-MNIST: each of 10 classes has a random 28×28 template, and a sample is its
/// class's template with per-pixel noise, so a network that learns anything beats the 10% of chance quickly.
/// </summary>
internal static class SyntheticImages
{
    public const int Side = 28;

    public static ImageDataset Create(int count, int seed)
    {
        var templates = new byte[10, Side * Side];
        var rng = new Random(1234);
        for (int c = 0; c < 10; c++)
        {
            for (int i = 0; i < Side * Side; i++) templates[c, i] = rng.NextDouble() < 0.3 ? (byte)rng.Next(150, 256) : (byte)0;
        }
        var noise = new Random(seed);
        var pixels = new byte[count * Side * Side];
        var labels = new byte[count];
        for (int n = 0; n < count; n++)
        {
            int c = noise.Next(10);
            labels[n] = (byte)c;
            for (int i = 0; i < Side * Side; i++)
            {
                int v = templates[c, i] + noise.Next(-60, 61);
                pixels[n * Side * Side + i] = (byte)Math.Clamp(v, 0, 255);
            }
        }
        return new ImageDataset(pixels, labels, Side, Side);
    }

    /// <summary>Writes train and test sets as the four gzipped IDX files of Fashion-MNIST into <paramref name="folder"/>.</summary>
    public static void WriteIdx(string folder, int trainCount, int testCount)
    {
        Write(folder, "train", Create(trainCount, 1));
        Write(folder, "t10k", Create(testCount, 2));
    }

    private static void Write(string folder, string prefix, ImageDataset data)
    {
        using (var images = new GZipStream(File.Create(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz")), CompressionLevel.Fastest))
        {
            Header(images, IdxFile.ImagesMagic, data.Count, Side, Side);
            images.Write(data.Pixels);
        }
        using var labels = new GZipStream(File.Create(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz")), CompressionLevel.Fastest);
        Header(labels, IdxFile.LabelsMagic, data.Count);
        labels.Write(data.Labels);
    }

    private static void Header(Stream stream, int magic, params int[] dims)
    {
        Span<byte> word = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(word, magic);
        stream.Write(word);
        foreach (int d in dims)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(word, d);
            stream.Write(word);
        }
    }
}

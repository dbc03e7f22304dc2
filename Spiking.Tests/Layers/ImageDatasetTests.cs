using System;
using System.IO;
using Spiking.Layers.Data;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class ImageDatasetTests
{
    private static void WriteSet(TempFolder dir, string prefix, int count, bool gzip, int labelCount = -1, byte badLabel = 0)
    {
        labelCount = labelCount < 0 ? count : labelCount;
        var labels = new byte[labelCount];
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)(i % 10);
        if (labelCount > 0 && badLabel != 0) labels[^1] = badLabel;
        var images = IdxFileTests.Idx(3, [count, 2, 3], IdxFileTests.Pattern(count * 6, count));
        var lbl = IdxFileTests.Idx(1, [labelCount], labels);
        string suffix = gzip ? ".gz" : "";
        File.WriteAllBytes(dir.File($"{prefix}-images-idx3-ubyte{suffix}"), gzip ? IdxFileTests.Gzip(images) : images);
        File.WriteAllBytes(dir.File($"{prefix}-labels-idx1-ubyte{suffix}"), gzip ? IdxFileTests.Gzip(lbl) : lbl);
    }

    [Fact]
    public void Loads_the_train_and_test_halves_from_gzipped_or_raw_files()
    {
        using var dir = new TempFolder();
        WriteSet(dir, "train", 7, gzip: true);
        WriteSet(dir, "t10k", 4, gzip: false);
        var train = ImageDataset.LoadFashionMnist(dir.Path, train: true);
        var test = ImageDataset.LoadFashionMnist(dir.Path, train: false);
        Assert.Equal((7, 2, 3, 6), (train.Count, train.Rows, train.Columns, train.PixelsPerImage));
        Assert.Equal(4, test.Count);
        Assert.Equal(IdxFileTests.Pattern(42, 7), train.Pixels.ToArray());
        Assert.Equal(IdxFileTests.Pattern(42, 7).AsSpan(18, 6).ToArray(), train.Image(3).ToArray());
        Assert.Equal(new byte[] { 0, 1, 2, 3 }, test.Labels.ToArray());
    }

    [Fact]
    public void Image_and_label_counts_must_agree()
    {
        using var dir = new TempFolder();
        WriteSet(dir, "train", 5, gzip: false, labelCount: 6);
        var e = Assert.Throws<InvalidDataException>(() => ImageDataset.LoadFashionMnist(dir.Path, train: true));
        Assert.Contains("5 images", e.Message, StringComparison.Ordinal);
        Assert.Contains("6 labels", e.Message, StringComparison.Ordinal);
        Assert.Contains(dir.File("train-labels-idx1-ubyte"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_must_be_below_ten()
    {
        using var dir = new TempFolder();
        WriteSet(dir, "t10k", 3, gzip: false, badLabel: 10);
        var e = Assert.Throws<InvalidDataException>(() => ImageDataset.LoadFashionMnist(dir.Path, train: false));
        Assert.Contains("label 2 is 10", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_names_both_candidate_names_and_the_hint()
    {
        using var dir = new TempFolder();
        WriteSet(dir, "train", 3, gzip: false);
        File.Delete(dir.File("train-labels-idx1-ubyte"));
        var e = Assert.Throws<FileNotFoundException>(() => ImageDataset.LoadFashionMnist(dir.Path, train: true));
        Assert.Contains(dir.File("train-labels-idx1-ubyte.gz"), e.Message, StringComparison.Ordinal);
        Assert.Contains(dir.File("train-labels-idx1-ubyte"), e.Message, StringComparison.Ordinal);
        IdxFileTests.AssertHint(e.Message);
        var missingFolder = Assert.Throws<FileNotFoundException>(() => ImageDataset.LoadFashionMnist(dir.File("absent"), train: false));
        Assert.Contains("does not exist", missingFolder.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_constructor_checks_one_image_per_label()
    {
        var e = Assert.Throws<ArgumentException>(() => new ImageDataset(new byte[11], new byte[2], 2, 3));
        Assert.Contains("11 pixels", e.Message, StringComparison.Ordinal);
        Assert.Contains("12 pixels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_directory_comes_from_FASHION_MNIST_DIR_when_set()
    {
        string? saved = Environment.GetEnvironmentVariable(ImageDataset.DirectoryVariable);
        try
        {
            Environment.SetEnvironmentVariable(ImageDataset.DirectoryVariable, "/some/where");
            Assert.Equal("/some/where", ImageDataset.FashionMnistDirectory);
            Environment.SetEnvironmentVariable(ImageDataset.DirectoryVariable, null);
            Assert.Equal("/usr/share/datasets/fashion-mnist", ImageDataset.FashionMnistDirectory);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ImageDataset.DirectoryVariable, saved);
        }
    }

    [Fact]
    public void The_real_Fashion_MNIST_has_60000_and_10000_samples_labelled_0_to_9()
    {
        string dir = ImageDataset.FashionMnistDirectory;
        if (!Directory.Exists(dir)) Assert.Skip($"Fashion-MNIST is not installed at {dir} (apt-get install -y dataset-fashion-mnist).");
        var train = ImageDataset.LoadFashionMnist(dir, train: true);
        var test = ImageDataset.LoadFashionMnist(dir, train: false);
        Assert.Equal((60000, 28, 28), (train.Count, train.Rows, train.Columns));
        Assert.Equal((10000, 28, 28), (test.Count, test.Rows, test.Columns));
        var perClass = new int[10];
        foreach (byte label in train.Labels) perClass[label]++;
        Assert.All(perClass, n => Assert.Equal(6000, n));
    }
}

using System;
using System.IO;

namespace Spiking.Layers.Data;

/// <summary>
/// A labelled set of single-channel byte images held in memory: one array of <c>Count × Rows × Columns</c> pixels,
/// image after image, and one label byte per image.
/// </summary>
public sealed class ImageDataset
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package puts the IDX files.</summary>
    public const string DefaultFashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The environment variable that overrides <see cref="DefaultFashionMnistDirectory"/> (as the PyTorch peer reads it).</summary>
    public const string DirectoryVariable = "FASHION_MNIST_DIR";

    /// <summary>The number of Fashion-MNIST classes; its labels are 0 to 9.</summary>
    public const int FashionMnistClasses = 10;

    private readonly byte[] _pixels;
    private readonly byte[] _labels;

    /// <summary>Wraps <paramref name="pixels"/> and <paramref name="labels"/> without copying them.</summary>
    /// <param name="pixels">Every pixel, image after image.</param>
    /// <param name="labels">One label per image, each below <paramref name="classes"/>.</param>
    /// <param name="rows">The height of an image.</param>
    /// <param name="columns">The width of an image.</param>
    /// <param name="classes">The number of classes (default: Fashion-MNIST's 10), 1 to 256.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is not positive, or <paramref name="classes"/> is outside 1 to 256.</exception>
    /// <exception cref="ArgumentException">The pixel count is not one image of <c>rows × columns</c> per label, or a label is not below <paramref name="classes"/>.</exception>
    public ImageDataset(byte[] pixels, byte[] labels, int rows, int columns, int classes = FashionMnistClasses)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classes, 256);
        if ((long)labels.Length * rows * columns != pixels.Length)
        {
            throw new ArgumentException(
                $"{pixels.Length} pixels are not {labels.Length} images (one per label) of {rows}×{columns} = {(long)labels.Length * rows * columns} pixels.",
                nameof(pixels));
        }
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= classes)
            {
                throw new ArgumentException($"Label {i} is {labels[i]}; with {classes} classes labels are 0 to {classes - 1}.", nameof(labels));
            }
        }
        _pixels = pixels;
        _labels = labels;
        Rows = rows;
        Columns = columns;
        Classes = classes;
    }

    /// <summary>The folder to load Fashion-MNIST from: <see cref="DirectoryVariable"/> if set, else <see cref="DefaultFashionMnistDirectory"/>.</summary>
    public static string FashionMnistDirectory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } dir ? dir : DefaultFashionMnistDirectory;

    /// <summary>The number of images.</summary>
    public int Count => _labels.Length;

    /// <summary>The number of classes; every label is below it.</summary>
    public int Classes { get; }

    /// <summary>The height of an image.</summary>
    public int Rows { get; }

    /// <summary>The width of an image.</summary>
    public int Columns { get; }

    /// <summary>The pixels of one image, <c>Rows × Columns</c>.</summary>
    public int PixelsPerImage => Rows * Columns;

    /// <summary>Every pixel, image after image.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    /// <summary>Every label, one per image.</summary>
    public ReadOnlySpan<byte> Labels => _labels;

    /// <summary>The pixels of image <paramref name="index"/>, row-major.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        return _pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);
    }

    /// <summary>
    /// Loads the training (60 000) or test (10 000) half of Fashion-MNIST from <paramref name="directory"/>, which
    /// holds <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c> and
    /// <c>t10k-labels-idx1-ubyte</c>, each optionally with a <c>.gz</c> suffix (the gzipped one is preferred).
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing under both names.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, the image and label counts differ, or a label is not below 10.</exception>
    public static ImageDataset LoadFashionMnist(string directory, bool train)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string prefix = train ? "train" : "t10k";
        string imagesPath = Find(directory, prefix + "-images-idx3-ubyte");
        string labelsPath = Find(directory, prefix + "-labels-idx1-ubyte");
        var images = IdxFile.ReadImages(imagesPath);
        byte[] labels = IdxFile.ReadLabels(labelsPath);
        if (images.Rows == 0 || images.Columns == 0)
        {
            throw new InvalidDataException($"'{imagesPath}' declares images of {images.Rows}×{images.Columns} pixels; an image needs at least one. {IdxFile.DataHint}");
        }
        if (images.Count != labels.Length)
        {
            throw new InvalidDataException(
                $"'{imagesPath}' holds {images.Count} images but '{labelsPath}' holds {labels.Length} labels; they must agree. {IdxFile.DataHint}");
        }
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= FashionMnistClasses)
            {
                throw new InvalidDataException(
                    $"'{labelsPath}': label {i} is {labels[i]}; Fashion-MNIST labels are 0 to {FashionMnistClasses - 1}. {IdxFile.DataHint}");
            }
        }
        return new ImageDataset(images.Pixels, labels, images.Rows, images.Columns);
    }

    private static string Find(string directory, string name)
    {
        string gz = Path.Combine(directory, name + ".gz");
        if (File.Exists(gz)) return gz;
        string raw = Path.Combine(directory, name);
        if (File.Exists(raw)) return raw;
        throw new FileNotFoundException(
            $"Neither '{gz}' nor '{raw}' exists{(Directory.Exists(directory) ? "" : $" (folder '{directory}' does not exist)")}. {IdxFile.DataHint}", raw);
    }
}

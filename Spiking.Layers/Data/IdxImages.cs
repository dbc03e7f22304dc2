namespace Spiking.Layers.Data;

/// <summary>The contents of an IDX image file: <c>Count</c> images of <c>Rows × Columns</c> bytes, row-major.</summary>
/// <param name="Pixels">The pixels, image after image, each <c>Rows × Columns</c> bytes.</param>
/// <param name="Count">The number of images.</param>
/// <param name="Rows">The height of an image.</param>
/// <param name="Columns">The width of an image.</param>
public sealed record IdxImages(byte[] Pixels, int Count, int Rows, int Columns);

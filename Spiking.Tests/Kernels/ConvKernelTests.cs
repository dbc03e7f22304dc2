using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Kernels;

public sealed class ConvKernelTests
{
    public static TheoryData<int, int, int, int, int, int, int> Geometries() => new()
    {
        { 2, 7, 9, 3, 3, 1, 1 },
        { 3, 6, 5, 2, 3, 2, 2 },
        { 1, 5, 70, 3, 5, 1, 1 },
        { 2, 4, 130, 1, 3, 3, 0 },
        { 1, 3, 66, 3, 66, 1, 1 },
        { 2, 5, 5, 5, 5, 1, 2 },
        { 1, 4, 200, 2, 70, 2, 3 },
        { 8, 14, 14, 3, 3, 1, 1 },
        { 4, 9, 30, 3, 5, 2, 2 },
        { 2, 5, 62, 3, 3, 1, 1 },
        { 1, 6, 28, 3, 3, 1, 0 },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Im2col_and_col2im_equal_their_references(int c, int h, int w, int kh, int kw, int stride, int padding)
    {
        var g = new ConvGeometry(c, h, w, kh, kw, stride, padding);
        var image = new TensorCase([c, h, w], 1).Values();
        var fast = new float[g.Patch * g.Positions];
        var slow = new float[fast.Length];
        Array.Fill(fast, float.NaN);
        Conv.Im2Col(image, g, fast);
        Conv.Im2ColReference(image, g, slow);
        Reference.AssertBitwise(slow, fast, $"im2col {g}");

        var cols = new TensorCase([g.Patch, g.Positions], 2).Values();
        var back = new float[image.Length];
        var backRef = new float[image.Length];
        Conv.Col2ImAdd(cols, g, back);
        Conv.Col2ImAddReference(cols, g, backRef);
        Reference.AssertBitwise(backRef, back, $"col2im {g}");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Bit_im2col_equals_its_reference_and_the_packed_dense_columns(int c, int h, int w, int kh, int kw, int stride, int padding)
    {
        var g = new ConvGeometry(c, h, w, kh, kw, stride, padding);
        const int images = 2;
        foreach (double rate in new[] { 0.0, 0.3, 1.0 })
        {
            var bits = new SpikeCase(images * c * h, w, rate, 4).Dense();
            using var dense = Tensor.FromArray(bits, images, c, h, w);
            using var x = SpikeTensor.FromBinary(dense);
            using var fast = SpikeTensor.Zeros(images * g.Positions, g.Patch);
            using var slow = SpikeTensor.Zeros(images * g.Positions, g.Patch);
            fast.Words.Fill(ulong.MaxValue);
            Conv.Im2ColBits(x, images, g, fast);
            Conv.Im2ColBitsReference(x, images, g, slow);
            Assert.Equal(slow.Words.ToArray(), fast.Words.ToArray());

            // Row (n, p) of the bit columns is column p of the dense cols[K, P] of image n.
            var cols = new float[g.Patch * g.Positions];
            using var fromBits = fast.ToTensor();
            var rows = fromBits.AsReadOnlySpan();
            for (int n = 0; n < images; n++)
            {
                Conv.Im2ColReference(bits.AsSpan(n * g.ImageSize, g.ImageSize), g, cols);
                for (int k = 0; k < g.Patch; k++)
                for (int p = 0; p < g.Positions; p++)
                {
                    Assert.Equal(cols[k * g.Positions + p], rows[(n * g.Positions + p) * g.Patch + k]);
                }
            }
        }
    }

    [Theory]
    [InlineData(3, 6, 6, 2, 2)]
    [InlineData(2, 7, 70, 3, 2)]
    [InlineData(1, 5, 131, 3, 1)]
    [InlineData(2, 4, 140, 4, 3)]
    public void Bit_max_pool_equals_its_reference(int planes, int h, int w, int kernel, int stride)
    {
        var g = new ConvGeometry(planes, h, w, kernel, kernel, stride, 0);
        foreach (double rate in new[] { 0.0, 0.05, 0.5 })
        {
            using var dense = Tensor.FromArray(new SpikeCase(planes * h, w, rate, 6).Dense(), planes, h, w);
            using var x = SpikeTensor.FromBinary(dense);
            using var fast = SpikeTensor.Zeros(planes, g.OutHeight, g.OutWidth);
            using var slow = SpikeTensor.Zeros(planes, g.OutHeight, g.OutWidth);
            Pool.MaxForwardBits(x, planes, g, fast);
            Pool.MaxForwardBitsReference(x, planes, g, slow);
            Assert.Equal(slow.Words.ToArray(), fast.Words.ToArray());
        }
    }

    [Theory]
    [InlineData(196, 32)]
    [InlineData(32, 196)]
    [InlineData(13, 9)]
    [InlineData(5, 3)]
    [InlineData(16, 8)]
    public void Matrix_transpose_equals_its_reference(int rows, int columns)
    {
        var src = new TensorCase([rows, columns], 7).Values();
        var fast = new float[src.Length];
        var slow = new float[src.Length];
        Array.Fill(fast, float.NaN);
        Transpose.Matrix(src, rows, columns, fast);
        Transpose.MatrixReference(src, rows, columns, slow);
        Reference.AssertBitwise(slow, fast, $"transpose [{rows}, {columns}]");
    }
}

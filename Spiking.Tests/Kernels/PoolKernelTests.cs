using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Kernels;

public sealed class PoolKernelTests
{
    [Theory]
    [InlineData(3, 28, 28)]
    [InlineData(2, 7, 29)]
    [InlineData(2, 4, 64)]
    [InlineData(1, 5, 131)]
    [InlineData(2, 3, 200)]
    public void Pair_max_pool_forward_and_backward_equal_their_references(int planes, int h, int w)
    {
        var g = new ConvGeometry(planes, h, w, 2, 2, 2, 0);
        foreach (double rate in new[] { 0.0, 0.05, 0.5, 1.0 })
        {
            using var dense = Tensor.FromArray(new SpikeCase(planes * h, w, rate, 9).Dense(), planes, h, w);
            using var x = SpikeTensor.FromBinary(dense);
            using var fast = SpikeTensor.Zeros(planes, g.OutHeight, g.OutWidth);
            using var slow = SpikeTensor.Zeros(planes, g.OutHeight, g.OutWidth);
            Pool.MaxForwardBits(x, planes, g, fast);
            Pool.MaxForwardBitsReference(x, planes, g, slow);
            Assert.Equal(slow.Words.ToArray(), fast.Words.ToArray());

            using var grad = new TensorCase([planes, g.OutHeight, g.OutWidth], 10).Create();
            using var dxFast = Tensor.Full(new Shape(planes, h, w), float.NaN);
            using var dxSlow = Tensor.Empty(planes, h, w);
            Pool.MaxBackwardBits(grad, x, planes, g, dxFast);
            Pool.MaxBackwardBitsReference(grad, x, planes, g, dxSlow);
            Reference.AssertBitwise(dxSlow.AsReadOnlySpan(), dxFast.AsReadOnlySpan(), $"{planes}x{h}x{w} rate {rate} dx");
        }
    }

    [Theory]
    [InlineData(2, 28, 28, 3, 2, 1)]
    [InlineData(1, 7, 129, 3, 2, 1)]
    [InlineData(2, 6, 70, 2, 2, 1)]
    [InlineData(1, 5, 131, 5, 3, 2)]
    [InlineData(1, 1, 3, 3, 1, 1)]
    public void Padded_max_pool_forward_and_backward_equal_their_references(int planes, int h, int w, int k, int stride, int padding)
    {
        var g = new ConvGeometry(planes, h, w, k, k, stride, padding);
        foreach (double rate in new[] { 0.0, 0.05, 0.5, 1.0 })
        {
            using var dense = Tensor.FromArray(new SpikeCase(planes * h, w, rate, 13).Dense(), planes, h, w);
            using var x = SpikeTensor.FromBinary(dense);
            using var fast = SpikeTensor.Zeros(planes, g.OutHeight, g.OutWidth);
            using var slow = SpikeTensor.Zeros(planes, g.OutHeight, g.OutWidth);
            Pool.MaxForwardBits(x, planes, g, fast);
            Pool.MaxForwardBitsReference(x, planes, g, slow);
            Assert.Equal(slow.Words.ToArray(), fast.Words.ToArray());

            using var grad = new TensorCase([planes, g.OutHeight, g.OutWidth], 14).Create();
            using var dxFast = Tensor.Full(new Shape(planes, h, w), float.NaN);
            using var dxSlow = Tensor.Empty(planes, h, w);
            Pool.MaxBackwardBits(grad, x, planes, g, dxFast);
            Pool.MaxBackwardBitsReference(grad, x, planes, g, dxSlow);
            Reference.AssertBitwise(dxSlow.AsReadOnlySpan(), dxFast.AsReadOnlySpan(), $"{planes}x{h}x{w} k{k} s{stride} p{padding} rate {rate} dx");
        }
    }

    [Fact]
    public void Even_bit_compaction_matches_its_portable_form()
    {
        var rng = new Random(5);
        for (int i = 0; i < 1000; i++)
        {
            ulong word = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40);
            ulong expected = 0;
            for (int b = 0; b < 32; b++) expected |= ((word >> (2 * b)) & 1) << b;
            Assert.Equal(expected, Pool.CompactEvenPortable(word));
            Assert.Equal(expected, Pool.CompactEven(word));
        }
    }
}

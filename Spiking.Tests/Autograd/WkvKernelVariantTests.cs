using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using Spiking.Autograd;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>
/// The register-resident WKV kernel against the first one (<see cref="WkvKernelV1"/>, kept beside it), and its
/// vector widths against each other, on shapes whose channels fill whole vectors, leave a partial one, or are fewer
/// than one vector. The widths do the same operations in the same order lane by lane, so they give the same bits; the
/// first kernel agrees to rounding: it takes two exponentials where one weight is exactly 1 (the vector exponential
/// of 0 is not), and its library calls finish a row's last channels in scalar code.
/// </summary>
public sealed class WkvKernelVariantTests
{
    private sealed record Result(float[] Y, float[] Final, float[] GradK, float[] GradV, float[] GradW, float[] GradU);

    private static Result Scan(Action<WkvScan> kernel, int steps, int batch, int channels, int seed, bool carried)
    {
        var rng = new Random(seed);
        Tensor Random(params int[] dims)
        {
            var t = Tensor.Empty(dims);
            foreach (ref var x in t.AsSpan()) x = (float)(rng.NextDouble() * 3 - 1.5);
            return t;
        }
        using var w = Random(channels);
        foreach (ref var x in w.AsSpan()) x = -MathF.Exp(x);
        using var u = Random(channels);
        using var k = Random(steps, batch, channels);
        using var v = Random(steps, batch, channels);
        using var gy = Random(steps, batch, channels);
        using var initial = carried ? Random(3, batch, channels) : null;
        if (initial is not null)
        {
            // A state a scan can leave: the denominator q is a sum of positive weights.
            foreach (ref var x in initial.AsSpan().Slice(batch * channels, batch * channels)) x = 2 + x;
        }
        using var final = Tensor.Zeros(3, batch, channels);
        using var y = Tensor.Empty(steps, batch, channels);
        kernel(new WkvScan { Steps = steps, Batch = batch, Channels = channels, W = w, U = u, K = k, V = v, Y = y, Initial = initial, Final = final });
        using var gk = Tensor.Empty(steps, batch, channels);
        using var gv = Tensor.Empty(steps, batch, channels);
        var gw = new float[batch * channels];
        var gu = new float[batch * channels];
        kernel(new WkvScan
        {
            Steps = steps, Batch = batch, Channels = channels, W = w, U = u, K = k, V = v, Y = y, Initial = initial,
            GradOutput = gy, GradK = gk, GradV = gv, GradWRows = gw, GradURows = gu,
        });
        return new Result(y.AsReadOnlySpan().ToArray(), final.AsReadOnlySpan().ToArray(), gk.AsReadOnlySpan().ToArray(),
            gv.AsReadOnlySpan().ToArray(), gw, gu);
    }

    private static void AssertClose(float[] expected, float[] actual, string name)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])),
                $"{name}[{i}]: {actual[i]:G9}, the first kernel gives {expected[i]:G9}");
        }
    }

    private static void AssertSameBits(Result expected, Result actual)
    {
        Assert.Equal(expected.Y, actual.Y);
        Assert.Equal(expected.Final, actual.Final);
        Assert.Equal(expected.GradK, actual.GradK);
        Assert.Equal(expected.GradV, actual.GradV);
        Assert.Equal(expected.GradW, actual.GradW);
        Assert.Equal(expected.GradU, actual.GradU);
    }

    [Theory]
    [InlineData(1, 1, 1, false)]
    [InlineData(9, 3, 5, true)]
    [InlineData(40, 2, 19, false)]
    [InlineData(33, 2, 32, true)]
    [InlineData(17, 4, 67, true)]
    public void The_register_kernel_gives_the_first_kernels_values_and_gradients(int steps, int batch, int channels, bool carried)
    {
        var first = Scan(WkvKernelV1.Run, steps, batch, channels, seed: steps + channels, carried);
        var now = Scan(WkvKernel.Run, steps, batch, channels, seed: steps + channels, carried);
        AssertClose(first.Y, now.Y, "y");
        AssertClose(first.Final, now.Final, "final state");
        AssertClose(first.GradK, now.GradK, "dk");
        AssertClose(first.GradV, now.GradV, "dv");
        AssertClose(first.GradW, now.GradW, "dw");
        AssertClose(first.GradU, now.GradU, "du");
    }

    [Theory]
    [InlineData(9, 3, 5, true)]
    [InlineData(40, 2, 19, false)]
    [InlineData(17, 4, 67, true)]
    public void Every_vector_width_gives_the_same_bits(int steps, int batch, int channels, bool carried)
    {
        // Only the widths the hardware runs: an emulated width fuses its multiply-adds where a narrower one without
        // FMA does not (the tests also run with AVX2 disabled).
        var widths = new List<Result>();
        if (Vector128.IsHardwareAccelerated) widths.Add(Scan(WkvKernel.Run<Simd128, Vector128<float>>, steps, batch, channels, seed: channels, carried));
        if (Vector256.IsHardwareAccelerated) widths.Add(Scan(WkvKernel.Run<Simd256, Vector256<float>>, steps, batch, channels, seed: channels, carried));
        if (Vector512.IsHardwareAccelerated) widths.Add(Scan(WkvKernel.Run<Simd512, Vector512<float>>, steps, batch, channels, seed: channels, carried));
        if (widths.Count < 2) Assert.Skip($"only {widths.Count} vector width runs in hardware here");
        for (int i = 1; i < widths.Count; i++) AssertSameBits(widths[0], widths[i]);
    }
}

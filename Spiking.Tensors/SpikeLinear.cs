using System;
using Spiking.Tensors.Kernels;

namespace Spiking.Tensors;

/// <summary>
/// The fully connected layer on spike input, in tensor terms: <c>Y = S·Wᵀ + b</c> and <c>dW = Gᵀ·S</c> for a
/// PyTorch-layout weight <c>W[out, in]</c>, computed by <see cref="SpikeAccumulate"/> without multiplications.
/// Leading axes of the input (time, batch) are folded into rows.
/// </summary>
/// <remarks>
/// From a firing rate of <see cref="DenseRate"/> up, the spikes are unpacked and the product runs on the SGEMM
/// instead: at such rates one add per spike costs as much as the FMA micro-kernel's dense product (measured on
/// AVX2 and AVX-512 machines, <c>spiking bench kernels</c>), and the dense path also skips repacking the weight
/// after every update. Rates past one half are handled by the complement inside the spike kernel, but the dense
/// path is already cheaper there.
/// </remarks>
public static class SpikeLinear
{
    /// <summary>The firing rate from which the product runs on the unpacked spikes and the SGEMM.</summary>
    public const double DenseRate = 0.25;

    /// <summary>
    /// <c>Y[..., out] = S[..., in]·Wᵀ + b</c>. Pass a <paramref name="cache"/> kept beside the weight so the
    /// transpose is built once per weight update rather than once per call.
    /// </summary>
    /// <exception cref="ArgumentException">The weight is not <c>[out, in]</c> with <c>in</c> equal to the spikes' last axis, or the bias is not <c>[out]</c>.</exception>
    public static Tensor Forward(SpikeTensor input, Tensor weight, Tensor? bias = null, TransposedWeightCache? cache = null)
    {
        TensorChecks.Live(input, nameof(input));
        TensorChecks.Rank(weight, 2, nameof(weight));
        int n = weight.Shape[0], k = weight.Shape[1];
        if (input.RowLength != k)
        {
            throw new ArgumentException($"Input has shape {input.Shape}, whose last axis {input.RowLength} must equal the weight's in-features; weight has shape {weight.Shape}.", nameof(input));
        }
        if (bias is not null) TensorChecks.Shape(bias, new Shape(n), nameof(bias));
        var dims = input.Shape.Dimensions.ToArray();
        dims[^1] = n;
        var output = Tensor.Empty(new Shape(dims));
        if (IsDense(input))
        {
            using var unpacked = input.ToTensor();
            Gemm.Multiply(unpacked.AsReadOnlySpan(), false, weight.AsReadOnlySpan(), true, output.AsSpan(), input.RowCount, n, k);
            if (bias is not null) output.AddInPlace(bias);
            return output;
        }
        bool ownCache = cache is null;
        cache ??= new TransposedWeightCache();
        try
        {
            SpikeAccumulate.Forward(input.Words, input.RowCount, cache.Get(weight), bias is null ? default : bias.AsReadOnlySpan(), output.AsSpan());
        }
        finally
        {
            if (ownCache) cache.Dispose();
        }
        return output;
    }

    /// <summary><c>dW[out, in] = G[..., out]ᵀ·S[..., in]</c>, summed over every leading (time, batch) row.</summary>
    /// <exception cref="ArgumentException">The gradient's rows or last axis do not match the spikes.</exception>
    public static Tensor WeightGradient(Tensor gradOutput, SpikeTensor input)
    {
        TensorChecks.Live(gradOutput, nameof(gradOutput));
        TensorChecks.Live(input, nameof(input));
        if (gradOutput.Rank == 0 || gradOutput.Shape.RowCount != input.RowCount)
        {
            throw new ArgumentException($"Output gradient has shape {gradOutput.Shape}; its leading axes must match the input's {input.Shape} ({input.RowCount} rows).", nameof(gradOutput));
        }
        int n = gradOutput.Shape.LastDimension, k = input.RowLength;
        var result = Tensor.Empty(n, k);
        if (IsDense(input))
        {
            using var unpacked = input.ToTensor();
            Gemm.Multiply(gradOutput.AsReadOnlySpan(), true, unpacked.AsReadOnlySpan(), false, result.AsSpan(), n, k, input.RowCount);
            return result;
        }
        SpikeAccumulate.WeightGradient(gradOutput.AsReadOnlySpan(), input.Words, input.RowCount, k, n, result.AsSpan());
        return result;
    }

    /// <summary>Whether the spikes fire at <see cref="DenseRate"/> or more (a popcount of the packed words).</summary>
    public static bool IsDense(SpikeTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Length > 0 && input.PopCount() >= DenseRate * input.Length;
    }
}

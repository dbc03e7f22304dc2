using System;
using Spiking.Tensors.Kernels;

namespace Spiking.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// A copy with the axes reordered: axis <c>i</c> of the result is axis <c>axes[i]</c> of this tensor (negative
    /// entries count from the end), like PyTorch's <c>permute</c> followed by <c>contiguous</c>.
    /// </summary>
    /// <remarks>
    /// Axes of length 1 are dropped and runs of axes that stay adjacent are merged first, so a permutation that
    /// keeps the last axis copies whole runs and one that swaps two blocks of axes is a (batched) tiled transpose.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="axes"/> does not name every axis of this shape exactly once.</exception>
    public Tensor Permute(params int[] axes)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(axes);
        int rank = Rank;
        if (axes.Length != rank)
        {
            throw new ArgumentException(
                $"Permutation {Shape.Format(axes)} has {axes.Length} entries; shape {Shape} has rank {rank} and needs one entry per axis.", nameof(axes));
        }
        var perm = new int[rank];
        var seen = new bool[rank];
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int a = axes[i] < 0 ? axes[i] + rank : axes[i];
            if ((uint)a >= (uint)rank)
            {
                throw new ArgumentException(
                    $"Permutation {Shape.Format(axes)} names axis {axes[i]} at position {i}, outside [-{rank}, {rank}) for shape {Shape}.", nameof(axes));
            }
            if (seen[a])
            {
                throw new ArgumentException(
                    $"Permutation {Shape.Format(axes)} names axis {a} more than once; every axis of shape {Shape} must appear exactly once.", nameof(axes));
            }
            seen[a] = true;
            perm[i] = a;
            dims[i] = Shape[a];
        }
        var result = Empty(new Shape(dims));
        if (Length == 0) return result;

        // The source stride of each result axis, then the problem with unit axes dropped and adjacent runs merged.
        var inStride = new int[rank];
        for (int i = rank - 1, s = 1; i >= 0; i--)
        {
            inStride[i] = s;
            s *= Shape[i];
        }
        var sizes = new int[rank];
        var strides = new int[rank];
        int r = 0;
        for (int i = 0; i < rank; i++)
        {
            int d = dims[i], s = inStride[perm[i]];
            if (d == 1) continue;
            if (r > 0 && strides[r - 1] == s * d)
            {
                sizes[r - 1] *= d;
                strides[r - 1] = s;
            }
            else
            {
                sizes[r] = d;
                strides[r] = s;
                r++;
            }
        }
        PermuteCopy(AsReadOnlySpan(), result.AsSpan(), sizes.AsSpan(0, r), strides.AsSpan(0, r));
        return result;
    }

    /// <summary>
    /// Writes, in row-major order of <paramref name="sizes"/>, the source elements at <c>Σ index[i]·strides[i]</c>.
    /// </summary>
    private static void PermuteCopy(ReadOnlySpan<float> src, Span<float> dst, ReadOnlySpan<int> sizes, ReadOnlySpan<int> strides)
    {
        int r = sizes.Length;
        if (r == 0 || (r == 1 && strides[0] == 1))
        {
            src[..dst.Length].CopyTo(dst);
            return;
        }
        // [D0, D1] from a source stored [D1, D0].
        if (r == 2 && strides[0] == 1 && strides[1] == sizes[0])
        {
            Transpose.Matrix(src, sizes[1], sizes[0], dst);
            return;
        }
        // [B, D1, D2] from a source stored [B, D2, D1].
        if (r == 3 && strides[0] == sizes[1] * sizes[2] && strides[1] == 1 && strides[2] == sizes[1])
        {
            int n = sizes[1] * sizes[2];
            for (int b = 0; b < sizes[0]; b++) Transpose.Matrix(src.Slice(b * n, n), sizes[2], sizes[1], dst.Slice(b * n, n));
            return;
        }
        int inner = sizes[r - 1], innerStride = strides[r - 1];
        int outer = dst.Length / inner;
        Span<int> index = stackalloc int[r];
        int at = 0;
        for (int o = 0; o < outer; o++)
        {
            var run = dst.Slice(o * inner, inner);
            if (innerStride == 1)
            {
                src.Slice(at, inner).CopyTo(run);
            }
            else
            {
                for (int j = 0, p = at; j < inner; j++, p += innerStride) run[j] = src[p];
            }
            for (int a = r - 2; a >= 0; a--)
            {
                at += strides[a];
                if (++index[a] < sizes[a]) break;
                at -= strides[a] * sizes[a];
                index[a] = 0;
            }
        }
    }
}

using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Bench;

/// <summary>A spiking attention problem: q, k and v of <c>[N, H, L, D]</c>.</summary>
public sealed record AttentionShape(int N, int H, int L, int D)
{
    /// <summary>Formats as <c>N16xH4xL49xD16</c> for the results table.</summary>
    public override string ToString() => $"N{N}xH{H}xL{L}xD{D}";
}

/// <summary>How the attention sees its spikes.</summary>
public enum AttentionPath
{
    /// <summary>Bit-packed spikes: AND-popcount counts and integer sums.</summary>
    Spikes,

    /// <summary>Spikes unpacked to 0/1 floats first: the SGEMM path.</summary>
    Dense,
}

/// <summary>
/// Spikformer's spiking self-attention, <c>(Q·Kᵀ)·V·0.125</c>, forward and backward, at a small CIFAR-like shape
/// (T·B = 16, 4 heads, 7 × 7 tokens, 16 channels a head) and an ImageNet-like one (T·B = 64, 12 heads, 14 × 14
/// tokens, 32 channels a head). Both paths threshold the same potentials into spikes with an ATan surrogate; the
/// dense one then unpacks them, as a float-only engine would hold them.
/// </summary>
public class SpikingAttentionBench
{
    private readonly ATan _surrogate = new();
    private Variable _q = null!, _k = null!, _v = null!;
    private Tensor _g = null!;

    [Params(AttentionPath.Spikes, AttentionPath.Dense)]
    public AttentionPath Path { get; set; }

    [ParamsSource(nameof(Shapes))]
    public AttentionShape Shape { get; set; } = null!;

    [Params(0.1, 0.3)]
    public double Rate { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    public static IEnumerable<AttentionShape> Shapes() => [new(16, 4, 49, 16), new(64, 12, 196, 32)];

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        var shape = new Shape(Shape.N, Shape.H, Shape.L, Shape.D);
        var rng = new Random(0);
        _q = Potentials(rng, shape);
        _k = Potentials(rng, shape);
        _v = Potentials(rng, shape);
        var g = KernelShapes.Normal(rng, shape.ElementCount);
        _g = Tensor.FromSpan(g, shape);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _q.Dispose();
        _k.Dispose();
        _v.Dispose();
        _g.Dispose();
    }

    [Benchmark]
    public void ForwardBackward()
    {
        using var scope = DisposeScope.Begin();
        var y = Functional.SpikingAttention(Input(_q), Input(_k), Input(_v), 0.125f);
        y.Backward(_g);
        _q.ZeroGrad();
        _k.ZeroGrad();
        _v.ZeroGrad();
    }

    private Variable Input(Variable potentials)
    {
        var spikes = Functional.Spike(potentials, _surrogate);
        return Path == AttentionPath.Spikes ? spikes : Functional.SpikesToDense(spikes);
    }

    /// <summary>Potentials that spike (are &gt;= 0) with probability <see cref="Rate"/>.</summary>
    private Variable Potentials(Random rng, Shape shape)
    {
        var u = new float[shape.ElementCount];
        for (int i = 0; i < u.Length; i++) u[i] = (float)(rng.NextDouble() - (1 - Rate));
        return Variable.Input(Tensor.FromSpan(u, shape));
    }
}

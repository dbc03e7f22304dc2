using System;
using BenchmarkDotNet.Attributes;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Bench;

/// <summary>
/// Spike × weight forward (<c>S[M,K]·W[K,N]</c>) and the weight gradient from spikes (<c>Sᵀ·G</c>). The fast kernel
/// runs at every kernel shape and rate of DESIGN.md (<see cref="SpikeAccumulateBench"/>); the scalar reference is
/// too slow for the large shapes, so <see cref="SpikeAccumulateReferenceBench"/> times both on W1's first layer.
/// </summary>
[MemoryDiagnoser]
public abstract class SpikeAccumulateBenchBase
{
    private float[] _weight = [];
    private readonly SpikeWeightPanels _panels = new();
    private float[] _grad = [];
    private float[] _output = [];
    private float[] _weightGrad = [];
    private SpikeTensor? _spikes;
    private int _m, _k, _n;

    public abstract string Shape { get; set; }

    [Params(0.05, 0.1, 0.2, 0.3)]
    public double Rate { get; set; }

    public virtual Implementation Impl { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_m, _k, _n) = KernelShapes.Parse(Shape);
        var rng = new Random(0);
        _weight = KernelShapes.Normal(rng, _k * _n);
        _grad = KernelShapes.Normal(rng, _m * _n);
        _output = new float[_m * _n];
        _weightGrad = new float[_n * _k];
        _panels.PackTransposed(_weight, _k, _n);
        using var dense = Tensor.FromArray(KernelShapes.Bernoulli(rng, _m * _k, Rate), _m, _k);
        _spikes = SpikeTensor.FromBinary(dense);
    }

    [GlobalCleanup]
    public void Cleanup() => _spikes?.Dispose();

    [Benchmark]
    public void Forward()
    {
        if (Impl == Implementation.Fast) SpikeAccumulate.Forward(_spikes!.Words, _m, _panels, default, _output);
        else SpikeAccumulate.ForwardReference(_spikes!.Words, _m, _k, _weight, _n, default, _output);
    }

    [Benchmark]
    public void WeightGradient()
    {
        if (Impl == Implementation.Fast) SpikeAccumulate.WeightGradient(_grad, _spikes!.Words, _m, _k, _n, _weightGrad);
        else SpikeAccumulate.WeightGradientReference(_grad, _spikes!.Words, _m, _k, _n, _weightGrad);
    }
}

/// <summary>The fast spike kernels at every kernel shape and rate of DESIGN.md.</summary>
public class SpikeAccumulateBench : SpikeAccumulateBenchBase
{
    [ParamsSource(nameof(Shapes))]
    public override string Shape { get; set; } = KernelShapes.All[0];

    public static string[] Shapes => KernelShapes.All;
}

/// <summary>The fast spike kernels beside their scalar references, on W1's first layer (512×784×512).</summary>
public class SpikeAccumulateReferenceBench : SpikeAccumulateBenchBase
{
    [Params("512x784x512")]
    public override string Shape { get; set; } = "512x784x512";

    [Params(Implementation.Fast, Implementation.Reference)]
    public override Implementation Impl { get; set; }
}

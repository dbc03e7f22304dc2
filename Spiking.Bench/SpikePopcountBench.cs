using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Bench;

/// <summary>One AND-popcount problem: <c>[M, K]</c> spikes against <c>[N, K]</c> spikes.</summary>
public sealed record PopcountShape(int M, int K, int N)
{
    /// <summary>Formats as <c>MxKxN</c> for the results table.</summary>
    public override string ToString() => $"{M}x{K}x{N}";
}

/// <summary>
/// The binary <c>Q·Kᵀ</c> of spiking attention (M = N = 49 or 196 tokens, 64 or 384 channels) and the design's
/// spike-matrix shapes with K as the packed length. Reference is the plain triple loop on one thread.
/// </summary>
public class SpikePopcountBench
{
    private SpikeTensor _a = null!;
    private SpikeTensor _b = null!;
    private int[] _counts = null!;


    [Params(Implementation.Fast, Implementation.Reference)]
    public Implementation Impl { get; set; }

    [ParamsSource(nameof(Shapes))]
    public PopcountShape Shape { get; set; } = null!;

    [Params(0.05, 0.1, 0.2, 0.3)]
    public double Rate { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    public static IEnumerable<PopcountShape> Shapes() =>
    [
        new(49, 64, 49), new(49, 384, 49), new(196, 64, 196), new(196, 384, 196),
        new(512, 784, 512), new(512, 1024, 1024), new(2048, 1024, 1024), new(256, 4096, 4096),
    ];

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        var generator = new PhiloxGenerator(1);
        using (var p = Tensor.Full(new Shape(Shape.M, Shape.K), (float)Rate)) _a = generator.Bernoulli(p);
        using (var p = Tensor.Full(new Shape(Shape.N, Shape.K), (float)Rate)) _b = generator.Bernoulli(p);
        _counts = new int[Shape.M * Shape.N];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Benchmark]
    public void AndPopcount()
    {
        if (Impl == Implementation.Fast) SpikePopcount.AndPopcount(_a, _b, _counts);
        else SpikePopcount.AndPopcountReference(_a.Words, Shape.M, _b.Words, Shape.N, _a.WordsPerRow, _counts);
    }
}

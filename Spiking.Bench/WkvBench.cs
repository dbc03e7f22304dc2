using System;
using BenchmarkDotNet.Attributes;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Bench;

/// <summary>
/// The RWKV-4 WKV scan at SpikeGPT's peer defaults (context T=128, batch 16, width 128), time first: inference forward,
/// and forward with grad plus backward (all four gradients).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class WkvBench
{
    private const int Steps = 128, Batch = 16, Channels = 128;
    private Variable _decay = null!, _first = null!, _k = null!, _v = null!;
    private Tensor _g = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        var rng = new Random(0);
        float[] Uniform(int n, double scale)
        {
            var values = new float[n];
            for (int i = 0; i < n; i++) values[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
            return values;
        }
        int n = Steps * Batch * Channels;
        _decay = Variable.Input(Tensor.FromArray(Uniform(Channels, 2), Channels));
        _first = Variable.Input(Tensor.FromArray(Uniform(Channels, 1), Channels));
        _k = Variable.Input(Tensor.FromArray(Uniform(n, 3), Steps, Batch, Channels));
        _v = Variable.Input(Tensor.FromArray(Uniform(n, 1), Steps, Batch, Channels));
        _g = Tensor.FromArray(Uniform(n, 1), Steps, Batch, Channels);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _decay.Dispose();
        _first.Dispose();
        _k.Dispose();
        _v.Dispose();
        _g.Dispose();
    }

    [Benchmark]
    public void Forward()
    {
        using var noGrad = GradMode.NoGrad();
        using var y = Functional.Wkv(_decay, _first, _k, _v);
    }

    [Benchmark]
    public void ForwardBackward()
    {
        using (var y = Functional.Wkv(_decay, _first, _k, _v)) y.Backward(_g);
        _decay.ZeroGrad();
        _first.ZeroGrad();
        _k.ZeroGrad();
        _v.ZeroGrad();
    }
}

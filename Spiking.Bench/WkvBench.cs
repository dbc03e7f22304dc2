using System;
using BenchmarkDotNet.Attributes;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Bench;

/// <summary>Which WKV kernel a suite times.</summary>
public enum WkvKernelImpl
{
    /// <summary>The kernel the op runs (<c>WkvKernel</c>): a vector of channels carried through all steps in registers.</summary>
    Registers,

    /// <summary>The first kernel (<c>WkvKernelV1</c>): a row of channels per step through library calls.</summary>
    FirstRows,
}

/// <summary>
/// The RWKV-4 WKV scan at SpikeGPT's peer defaults (context T=128, batch 16, width 128), time first: the forward
/// scan, and the backward scan (all four gradients), on the kernel the op runs and on the first one it replaced.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class WkvBench
{
    private const int Steps = 128, Batch = 16, Channels = 128;
    private Tensor _w = null!, _u = null!, _k = null!, _v = null!, _y = null!, _g = null!, _gk = null!, _gv = null!;
    private readonly float[] _gw = new float[Batch * Channels], _gu = new float[Batch * Channels];
    private WkvScan _forward = null!, _backward = null!;

    [Params(WkvKernelImpl.Registers, WkvKernelImpl.FirstRows)]
    public WkvKernelImpl Impl { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        var rng = new Random(0);
        Tensor Uniform(double scale, params int[] dims)
        {
            var t = Tensor.Empty(dims);
            foreach (ref var x in t.AsSpan()) x = (float)((rng.NextDouble() * 2 - 1) * scale);
            return t;
        }
        _w = Uniform(2, Channels);
        foreach (ref var x in _w.AsSpan()) x = -MathF.Exp(x);
        _u = Uniform(1, Channels);
        _k = Uniform(3, Steps, Batch, Channels);
        _v = Uniform(1, Steps, Batch, Channels);
        _g = Uniform(1, Steps, Batch, Channels);
        _y = Tensor.Empty(Steps, Batch, Channels);
        _gk = Tensor.Empty(Steps, Batch, Channels);
        _gv = Tensor.Empty(Steps, Batch, Channels);
        _forward = new WkvScan { Steps = Steps, Batch = Batch, Channels = Channels, W = _w, U = _u, K = _k, V = _v, Y = _y };
        _backward = new WkvScan
        {
            Steps = Steps, Batch = Batch, Channels = Channels, W = _w, U = _u, K = _k, V = _v, Y = _y,
            GradOutput = _g, GradK = _gk, GradV = _gv, GradWRows = _gw, GradURows = _gu,
        };
        Run(_forward);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _w, _u, _k, _v, _y, _g, _gk, _gv }) t.Dispose();
    }

    private void Run(WkvScan scan)
    {
        if (Impl == WkvKernelImpl.Registers) WkvKernel.Run(scan);
        else WkvKernelV1.Run(scan);
    }

    [Benchmark]
    public void Forward() => Run(_forward);

    [Benchmark]
    public void Backward() => Run(_backward);
}

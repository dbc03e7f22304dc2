using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Bench;

/// <summary>A neuron layer's input: <c>[T, B, ...]</c>.</summary>
public sealed record NeuronShape(int[] Dims)
{
    /// <summary>Formats as <c>T8xB64x512</c> for the results table.</summary>
    public override string ToString() => $"T{Dims[0]}xB{Dims[1]}x{string.Join('x', Dims[2..])}";
}

/// <summary>Which fused LIF kernel a suite times.</summary>
public enum NeuronKernelImpl
{
    /// <summary>The kernel every neuron model shares (<c>NeuronKernel</c> over the model's dynamics), through the op.</summary>
    Shared,

    /// <summary>The first kernel, written for IF/LIF/PLIF alone (<c>LifKernelV1</c>), run as the op ran it.</summary>
    FirstLif,
}

/// <summary>
/// The fused multi-step LIF (tau 2, hard reset, ATan) over the W1 hidden layer <c>[T=8, B=64, 512]</c> and the W2 first
/// conv layer <c>[T=4, B=64, 32, 28, 28]</c>: forward with grad plus the backward through time, and inference forward,
/// on the shared dynamics kernel and on the first LIF kernel it replaced.
/// </summary>
[MemoryDiagnoser]
public class NeuronBench
{
    private Variable _x = null!;
    private Tensor _g = null!;
    private readonly ATan _surrogate = new();
    private readonly LifNeuron _model = new() { Surrogate = new ATan() };

    [Params(NeuronKernelImpl.Shared, NeuronKernelImpl.FirstLif)]
    public NeuronKernelImpl Impl { get; set; }

    [ParamsSource(nameof(Shapes))]
    public NeuronShape Shape { get; set; } = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    public static IEnumerable<NeuronShape> Shapes() => [new([8, 64, 512]), new([4, 64, 32, 28, 28])];

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        var shape = new Shape(Shape.Dims);
        var rng = new Random(0);
        var x = new float[shape.ElementCount];
        var g = new float[shape.ElementCount];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(0.6 + 0.8 * (rng.NextDouble() * 2 - 1));
            g[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        _x = Variable.Input(Tensor.FromSpan(x, shape));
        _g = Tensor.FromSpan(g, shape);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _x.Dispose();
        _g.Dispose();
    }

    [Benchmark]
    public void LifForwardBackward()
    {
        if (Impl == NeuronKernelImpl.FirstLif)
        {
            using var bits = LifKernelV1.ForwardOp(_x.Dense, _model, 0f, out var h);
            using (h)
            using (LifKernelV1.BackwardOp(h, _g, _x.Dense, _model, 0f, out _))
            {
                return;
            }
        }
        using var s = Functional.LifMultiStep(_x, surrogate: _surrogate);
        s.Backward(_g);
        _x.ZeroGrad();
    }

    [Benchmark]
    public void LifForwardInference()
    {
        if (Impl == NeuronKernelImpl.FirstLif)
        {
            // The first op kept no h without grad; its kernel wrote h to a per-chunk scratch then, so time that path.
            var p = NeuronParameters.Of(_model, 0.5f);
            using var bits = SpikeTensor.Zeros(_x.Shape);
            LifKernelV1.Forward(_x.Dense, _x.Shape[0], p, bits, null, null);
            return;
        }
        using var scope = GradMode.NoGrad();
        using var s = Functional.LifMultiStep(_x, surrogate: _surrogate);
    }
}

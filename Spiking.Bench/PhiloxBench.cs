using System;
using BenchmarkDotNet.Attributes;
using Spiking.Tensors;

namespace Spiking.Bench;

/// <summary>
/// Philox draws for a Poisson-encoded batch (64 × 8 × 784 elements): uniform floats and packed Bernoulli spikes.
/// Reference runs the one-block-at-a-time Philox and scalar transforms on one thread.
/// </summary>
[MemoryDiagnoser]
public class PhiloxBench
{
    private const int Rows = 64 * 8;
    private const int Cols = 784;

    private PhiloxGenerator _generator = null!;
    private float[] _uniforms = null!;
    private float[] _probabilities = null!;
    private uint[] _words = null!;
    private ulong[] _spikes = null!;


    [Params(Implementation.Fast, Implementation.Reference)]
    public Implementation Impl { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        _generator = new PhiloxGenerator(42);
        _uniforms = new float[Rows * Cols];
        _probabilities = new float[Rows * Cols];
        new PhiloxGenerator(7).FillUniform(_probabilities);
        _words = new uint[Rows * Cols];
        _spikes = new ulong[Rows * SpikeTensor.WordsFor(Cols)];
    }

    [Benchmark(OperationsPerInvoke = Rows * Cols)]
    public void Uniform()
    {
        if (Impl == Implementation.Fast)
        {
            _generator.FillUniform(_uniforms);
            return;
        }
        PhiloxKernel.FillReference(1, 2, 0, 0, _words);
        for (int i = 0; i < _words.Length; i++) _uniforms[i] = PhiloxTransforms.Uniform(_words[i]);
    }

    [Benchmark(OperationsPerInvoke = Rows * Cols)]
    public void Bernoulli()
    {
        if (Impl == Implementation.Fast)
        {
            _generator.FillBernoulli(_probabilities, Cols, _spikes);
            return;
        }
        PhiloxKernel.FillReference(1, 2, 0, 0, _words);
        int wordsPerRow = SpikeTensor.WordsFor(Cols);
        for (int r = 0; r < Rows; r++)
        {
            for (int w = 0; w < wordsPerRow; w++)
            {
                int start = r * Cols + w * 64;
                int count = Math.Min(64, Cols - w * 64);
                _spikes[r * wordsPerRow + w] = PhiloxTransforms.PackSpikes(_words.AsSpan(start), _probabilities.AsSpan(start), count);
            }
        }
    }
}

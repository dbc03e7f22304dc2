using System;
using BenchmarkDotNet.Attributes;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;

namespace Spiking.Bench;

/// <summary>
/// SpikeGPT at the PyTorch peer's defaults (4 blocks of width 128, 63 tokens, batch 16 windows of 128): one training
/// step (forward, cross-entropy with L2Wrap, backward, clipping, Adam) and one token of recurrent generation.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class SpikeGptBench
{
    private const int Vocabulary = 63, Layers = 4, Width = 128, Batch = 16, Context = 128;
    private SpikeGpt _model = null!;
    private Adam _adam = null!;
    private int[] _tokens = null!, _targets = null!;
    private LanguageModelState _state = null!;
    private readonly float[] _logits = new float[Vocabulary];
    private int _next;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        ModelSeed.Seed(0);
        _model = new SpikeGpt(Vocabulary, Layers, Width);
        _adam = new Adam(_model.Parameters(), 6e-4, 0.9, 0.99, 4e-9);
        var rng = new Random(0);
        _tokens = new int[Batch * Context];
        _targets = new int[Batch * Context];
        for (int i = 0; i < _tokens.Length; i++) (_tokens[i], _targets[i]) = (rng.Next(Vocabulary), rng.Next(Vocabulary));
        _state = _model.CreateState();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _state.Dispose();
        _model.Dispose();
    }

    [Benchmark]
    public void TrainingStep()
    {
        using var scope = DisposeScope.Begin();
        var logits = _model.Forward(_tokens, Batch, Context);
        var loss = Functional.L2Wrap(Functional.CrossEntropy(Functional.Reshape(logits, Batch * Context, Vocabulary), _targets), logits);
        _model.ZeroGrad();
        loss.Backward();
        GradientClipping.ClipByNorm(_model.Parameters(), 1.0);
        _adam.Step();
    }

    [Benchmark]
    public void GenerateOneToken()
    {
        _model.Feed(_next, _state, _logits);
        _next = (_next + 7) % Vocabulary;
    }
}

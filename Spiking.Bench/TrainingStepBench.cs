using System;
using BenchmarkDotNet.Attributes;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;

namespace Spiking.Bench;

/// <summary>
/// One whole training step of DESIGN.md's reference networks at batch 64, as <c>spiking train</c> takes it: encode,
/// forward over T steps, MSE on the firing rate, backward through time, Adam. W1 Poisson-samples its input to bits
/// (T = 8); W2 runs its first convolution and batch norm once per image and repeats them over T = 4. The images are
/// synthetic, so the suite needs no data, and the memory diagnoser shows what a step leaves to the GC (the
/// pooled activations should leave nothing that grows with the batch).
/// </summary>
[MemoryDiagnoser]
public class TrainingStepBench
{
    private const int Batch = 64;
    private Module _model = null!;
    private Adam _optimizer = null!;
    private ClassifierTrainer _trainer = null!;
    private Tensor _images = null!;
    private readonly int[] _labels = new int[Batch];

    [Params("W1", "W2")]
    public string Workload { get; set; } = "W1";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        ModelSeed.Seed(0);
        var generator = new PhiloxGenerator(7);
        _images = generator.Uniform(new Shape(Batch, 1, 28, 28));
        for (int b = 0; b < Batch; b++) _labels[b] = b % 10;
        Func<Tensor, Variable> encode;
        if (Workload == "W1")
        {
            _model = ReferenceModels.SpikingMlp();
            var poisson = new PoissonEncoder(seed: 1);
            encode = images =>
            {
                using var flat = images.Reshape(Batch, 28 * 28);
                return Variable.Constant(poisson.Encode(flat, 8));
            };
        }
        else
        {
            var cnn = ReferenceModels.SpikingCnn();
            cnn.UseStaticPrefix(2, 4);
            _model = cnn;
            encode = images => Variable.Constant(images.Reshape(1, Batch, 1, 28, 28));
        }
        _optimizer = new Adam(_model.Parameters(), 1e-3);
        _trainer = new ClassifierTrainer(_model, _optimizer, encode, static (output, labels, _) => Losses.FiringRateMse(output, labels));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _optimizer.Dispose();
        _model.Dispose();
        _images.Dispose();
    }

    [Benchmark]
    public double TrainStep() => _trainer.TrainStep(_images, _labels).Loss;
}

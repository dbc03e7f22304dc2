using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Trains and evaluates a spiking classifier whose output layer emits spikes <c>[T, B, classes]</c>: each step
/// encodes a batch, runs the model over all T steps, takes the loss on the output, back-propagates through time
/// and updates the parameters. The prediction is the class with the highest firing rate (the first on ties, as
/// <c>argmax</c>). Every activation of a step returns to the pool when the step ends. A step whose loss, gradients or
/// updated parameters are not finite throws <see cref="TrainingDivergedException"/> (see <see cref="StopOnNonFinite"/>).
/// </summary>
public sealed class ClassifierTrainer
{
    private readonly Module _model;
    private readonly Optimizer _optimizer;
    private readonly Func<Tensor, Variable> _encode;
    private readonly Func<Variable, int[], int, Variable> _loss;
    private readonly Dictionary<Parameter, string> _names = new(ReferenceEqualityComparer.Instance);
    private int[] _labels = [];
    private TimeSegments? _segments;

    /// <summary>
    /// A trainer for <paramref name="model"/>: <paramref name="encode"/> turns a batch of images <c>[B, …]</c> into
    /// the model's input (it may return spikes); <paramref name="loss"/> takes the output, the labels and the batch
    /// size and returns a scalar.
    /// </summary>
    public ClassifierTrainer(Module model, Optimizer optimizer, Func<Tensor, Variable> encode, Func<Variable, int[], int, Variable> loss)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _encode = encode ?? throw new ArgumentNullException(nameof(encode));
        _loss = loss ?? throw new ArgumentNullException(nameof(loss));
        foreach (var (name, parameter) in model.NamedParameters()) _names.TryAdd(parameter, name);
    }

    /// <summary>
    /// Whether <see cref="TrainStep"/> checks that the loss (before backward) and every updated parameter are finite,
    /// and throws <see cref="TrainingDivergedException"/> at the first that is not (default true), naming the gradient
    /// when it was the parameter's gradient that was not finite. A non-finite loss stops the step before the
    /// parameters change; after a non-finite gradient or parameter, the model's weights are not to be kept. Parameters
    /// held on a device are not scanned (that would copy them to the host every step); their loss still is.
    /// </summary>
    public bool StopOnNonFinite { get; init; } = true;

    /// <summary>
    /// How a step runs the time steps and takes their gradients (default <see cref="TrainingMethod.Bptt"/>). The
    /// others run the model in pieces of the time axis with its neurons carrying their state (every neuron layer
    /// must be a <see cref="SpikingNeuron"/>): SLTT, SLTT-K and truncation train on the per-step TET loss
    /// (<see cref="Losses.Tet"/> with <see cref="PerStepLossLambda"/>) instead of the trainer's loss, checkpointing
    /// on the trainer's loss with BPTT's gradients.
    /// </summary>
    /// <exception cref="NotSupportedException">(On the first step.) The model has a neuron layer that cannot carry its state.</exception>
    public TrainingMethod Method { get; init; } = TrainingMethod.Bptt;

    /// <summary>The weight λ of the MSE term of the per-step loss, <c>(1 − λ)·CE + λ·MSE</c> (SLTT's code: 0.05).</summary>
    public double PerStepLossLambda { get; init; } = 0.05;

    /// <summary>The seed of the time steps SLTT-K draws per batch.</summary>
    public ulong Seed { get; init; }

    /// <summary>The number of <see cref="TrainStep"/> calls so far, the step a <see cref="TrainingDivergedException"/> names.</summary>
    public int Steps { get; private set; }

    /// <summary>One optimisation step on <paramref name="images"/> <c>[B, …]</c> with their labels.</summary>
    /// <returns>The loss and the number of correct predictions in the batch.</returns>
    /// <exception cref="ArgumentException">The label count differs from the batch size.</exception>
    /// <exception cref="TrainingDivergedException">The loss, a gradient or an updated parameter is not finite (with <see cref="StopOnNonFinite"/>).</exception>
    public (double Loss, int Correct) TrainStep(Tensor images, ReadOnlySpan<int> labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        int batch = CheckBatch(images, labels);
        _model.Train();
        Steps++;
        using var scope = DisposeScope.Begin();
        using var input = _encode(images);
        try
        {
            Variable output;
            double lossValue;
            if (Method.Kind == TrainingMethodKind.Bptt)
            {
                output = _model.Forward(input);
                var loss = _loss(output, _labels, batch);
                lossValue = loss.Dense.ToScalar();
                ThrowIfNonFinite(lossValue);
                loss.Backward();
            }
            else
            {
                _segments ??= new TimeSegments(_model, Method, PerStepLossLambda, Seed);
                (lossValue, output) = _segments.Run(input, _labels, batch, _loss);
                ThrowIfNonFinite(lossValue);
            }
            _optimizer.Step();
            if (StopOnNonFinite) DivergenceCheck.ThrowIfNonFinite(_optimizer.Parameters, _names, Steps, _optimizer.LearningRate);
            return (lossValue, CountCorrect(output, labels));
        }
        finally
        {
            _optimizer.ZeroGrad();
        }
    }

    /// <summary>A non-finite loss stops the step before the parameters change (with <see cref="StopOnNonFinite"/>).</summary>
    private void ThrowIfNonFinite(double lossValue)
    {
        if (StopOnNonFinite && !double.IsFinite(lossValue))
        {
            throw new TrainingDivergedException(Steps, "loss", null, lossValue, _optimizer.LearningRate);
        }
    }

    /// <summary>Predicts <paramref name="images"/> without building a graph; the model is put in evaluation mode.</summary>
    /// <returns>The number of correct predictions.</returns>
    public int EvaluateBatch(Tensor images, ReadOnlySpan<int> labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        CheckBatch(images, labels);
        _model.Eval();
        using var noGrad = GradMode.NoGrad();
        using var scope = DisposeScope.Begin();
        using var input = _encode(images);
        var output = _model.Forward(input);
        return CountCorrect(output, labels);
    }

    private int CheckBatch(Tensor images, ReadOnlySpan<int> labels)
    {
        int batch = images.Shape[0];
        if (labels.Length != batch)
        {
            throw new ArgumentException($"The batch has {batch} images (shape {images.Shape}) but {labels.Length} labels.", nameof(labels));
        }
        if (_labels.Length != batch) _labels = new int[batch];
        labels.CopyTo(_labels);
        return batch;
    }

    /// <summary>Counts the samples whose most frequently firing output equals the label (first index on ties).</summary>
    /// <exception cref="ArgumentException">The output is not <c>[T, B, classes]</c> with B labels.</exception>
    public static int CountCorrect(Variable output, ReadOnlySpan<int> labels)
    {
        ArgumentNullException.ThrowIfNull(output);
        var shape = output.Shape;
        if (shape.Rank != 3 || shape[1] != labels.Length)
        {
            throw new ArgumentException($"Predictions need an output of [T, {labels.Length}, classes]; it has shape {shape}.", nameof(output));
        }
        if (output.Device.Kind != DeviceKind.Cpu)
        {
            // The output is small ([T, B, classes]); its copy is the one device-to-host transfer of a step besides the loss.
            using var host = output.Spikes is { } deviceSpikes ? Variable.Constant(deviceSpikes.To(Device.Cpu)) : Variable.Constant(output.Tensor!.To(Device.Cpu));
            return CountCorrect(host, labels);
        }
        int steps = shape[0], batch = shape[1], classes = shape[2];
        Span<float> totals = classes <= 256 ? stackalloc float[classes] : new float[classes];
        int correct = 0;
        for (int b = 0; b < batch; b++)
        {
            totals.Clear();
            for (int t = 0; t < steps; t++)
            {
                int row = t * batch + b;
                if (output.Spikes is { } spikes)
                {
                    var words = spikes.Row(row);
                    for (int c = 0; c < classes; c++) totals[c] += (words[c >> 6] >> (c & 63)) & 1;
                }
                else
                {
                    var values = output.Tensor!.AsReadOnlySpan().Slice(row * classes, classes);
                    for (int c = 0; c < classes; c++) totals[c] += values[c];
                }
            }
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                if (totals[c] > totals[best]) best = c;
            }
            if (best == labels[b]) correct++;
        }
        return correct;
    }
}

using System;
using Spiking.Tensors;
using Spiking.Tensors.Backends;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Batch normalisation as PyTorch's <c>batch_norm</c>: <paramref name="x"/> <c>[N, C, *]</c> (any trailing
    /// axes; spikes are read as 0/1 values) is normalised per channel over every axis but 1,
    /// <c>y = (x − mean) / √(var + eps)·γ + β</c>. In training the batch mean and biased variance are used and
    /// the running statistics are updated in place, <c>running = (1 − momentum)·running + momentum·batch</c>,
    /// with the unbiased variance for <paramref name="runningVar"/>; otherwise the running statistics normalise.
    /// Statistics are accumulated in double. For SpikingJelly's multi-step BatchNorm, fold <c>[T, B, C, ...]</c>
    /// into <c>[T·B, C, ...]</c> first. <paramref name="replicas"/> says that <paramref name="x"/> stands for that
    /// many identical copies (a time-invariant input normalised once instead of at each of T steps): the mean,
    /// biased variance and, given the gradient summed over the copies, every gradient are the same as for the
    /// replicated batch, and the unbiased running variance counts <c>replicas</c> times the values.
    /// </summary>
    /// <remarks>
    /// Backward: in training the full batch-norm gradient (through the batch statistics) for x, γ and β; in
    /// evaluation the affine gradient <c>dx = G·γ / √(running_var + eps)</c>.
    /// </remarks>
    /// <exception cref="ArgumentException">x has rank below 2; γ, β or a running statistic is not <c>[C]</c>; γ or β holds spikes; training with one value per channel; momentum outside [0, 1] or eps not positive.</exception>
    public static Variable BatchNorm(Variable x, Variable gamma, Variable beta, Tensor runningMean, Tensor runningVar, bool training,
        double momentum = 0.1, double eps = 1e-5, int replicas = 1) =>
        BatchNormNode.Forward(x, gamma, beta, runningMean, runningVar, training, momentum, eps, replicas);
}

/// <summary>
/// Batch normalisation over axis 1. Saves the input (a dense view, or the bits), γ, and the per-channel mean and
/// inverse standard deviation it normalised with (doubles on the host; the backend's <c>[2, C]</c> float tensor on a
/// device); backward recomputes the normalised input from them.
/// </summary>
internal sealed class BatchNormNode : Node
{
    private readonly int _outer, _channels, _inner;
    private readonly bool _training;
    private readonly double[]? _mean, _invStd;
    private Tensor? _statistics;
    private SavedTensor? _x;
    private SpikeTensor? _spikes;
    private SavedTensor? _gamma;

    private BatchNormNode(Variable x, Variable gamma, Variable beta, Tensor g, bool training, double[]? mean, double[]? invStd, Tensor? statistics,
        int outer, int channels, int inner)
        : base(x, gamma, beta)
    {
        (_training, _mean, _invStd, _statistics, _outer, _channels, _inner) = (training, mean, invStd, statistics, outer, channels, inner);
        if (x.Spikes is { } spikes) _spikes = SavedTensor.Keep(spikes);
        else _x = new SavedTensor(x.Tensor!, "batch_norm's input");
        _gamma = new SavedTensor(g, "batch_norm's gamma");
    }

    public override string Name => "batch_norm";

    public static Variable Forward(Variable x, Variable gamma, Variable beta, Tensor runningMean, Tensor runningVar, bool training, double momentum, double eps, int replicas)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(replicas);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(runningMean);
        ArgumentNullException.ThrowIfNull(runningVar);
        var g = OpChecks.Dense(gamma, nameof(gamma), "BatchNorm");
        var b = OpChecks.Dense(beta, nameof(beta), "BatchNorm");
        var shape = x.Shape;
        if (shape.Rank < 2) throw new ArgumentException($"BatchNorm needs 'x' of shape [N, C, *]; it has shape {shape}.", nameof(x));
        int outer = shape[0], channels = shape[1], inner = shape.ProductOfTrailing(2);
        var perChannel = new Shape(channels);
        if (g.Shape != perChannel) throw new ArgumentException($"BatchNorm: 'gamma' has shape {g.Shape}; 'x' of shape {shape} needs [{channels}].", nameof(gamma));
        if (b.Shape != perChannel) throw new ArgumentException($"BatchNorm: 'beta' has shape {b.Shape}; 'x' of shape {shape} needs [{channels}].", nameof(beta));
        if (runningMean.Shape != perChannel) throw new ArgumentException($"BatchNorm: 'runningMean' has shape {runningMean.Shape}; 'x' of shape {shape} needs [{channels}].", nameof(runningMean));
        if (runningVar.Shape != perChannel) throw new ArgumentException($"BatchNorm: 'runningVar' has shape {runningVar.Shape}; 'x' of shape {shape} needs [{channels}].", nameof(runningVar));
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"BatchNorm needs momentum in [0, 1]; it is {momentum}.");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"BatchNorm needs eps > 0; it is {eps}.");
        long count = (long)outer * inner;
        if (training && count * replicas < 2)
        {
            throw new ArgumentException($"BatchNorm in training needs more than one value per channel; 'x' of shape {shape} has {count}.", nameof(x));
        }

        if (!g.IsOnHost || x.Device != g.Device)
        {
            return DeviceForward(x, gamma, beta, g, b, runningMean, runningVar, training, momentum, eps, replicas, outer, channels, inner);
        }
        using var values = x.Spikes?.ToTensor();
        var xs = values ?? x.Tensor!;
        var mean = new double[channels];
        var invStd = new double[channels];
        if (training)
        {
            var variance = new double[channels];
            BatchNormChannels.Statistics(xs, outer, channels, inner, mean, variance);
            for (int c = 0; c < channels; c++) invStd[c] = 1.0 / Math.Sqrt(variance[c] + eps);
            BatchNormChannels.UpdateRunning(runningMean, runningVar, mean, variance, momentum, (double)count * replicas);
        }
        else
        {
            ReadOnlySpan<float> rm = runningMean.AsReadOnlySpan(), rv = runningVar.AsReadOnlySpan();
            for (int c = 0; c < channels; c++)
            {
                mean[c] = rm[c];
                invStd[c] = 1.0 / Math.Sqrt(rv[c] + eps);
            }
        }

        var y = Tensor.Empty(shape);
        BatchNormChannels.Normalize(xs, g, b, y, outer, channels, inner, mean, invStd);
        var node = Record(() => new BatchNormNode(x, gamma, beta, g, training, mean, invStd, null, outer, channels, inner), x, gamma, beta);
        return Variable.FromOp(y, node);
    }

    /// <summary>
    /// The forward on a device: the backend's kernel computes the statistics (and updates the running ones in place)
    /// and normalises; spikes are unpacked to 0/1 floats first. The statistics it used stay on the device for the backward.
    /// </summary>
    private static Variable DeviceForward(Variable x, Variable gamma, Variable beta, Tensor g, Tensor b, Tensor runningMean, Tensor runningVar,
        bool training, double momentum, double eps, int replicas, int outer, int channels, int inner)
    {
        OpChecks.SameDevice("BatchNorm", g.Device, "gamma", x.Device, "x");
        OpChecks.SameDevice("BatchNorm", g.Device, "gamma", b.Device, "beta");
        OpChecks.SameDevice("BatchNorm", g.Device, "gamma", runningMean.Device, "runningMean");
        OpChecks.SameDevice("BatchNorm", g.Device, "gamma", runningVar.Device, "runningVar");
        var backend = g.Backend;
        using var values = Dense(x);
        var statistics = Tensor.Empty(new Shape(2, channels), g.Device);
        var y = Tensor.Empty(x.Shape, g.Device);
        backend.BatchNormForward(values ?? x.Tensor!, g, b, runningMean, runningVar, new BatchNormSpec(training, momentum, eps, replicas), y, statistics);
        var node = Record(() => new BatchNormNode(x, gamma, beta, g, training, null, null, statistics, outer, channels, inner), x, gamma, beta);
        if (node is null) statistics.Dispose();
        return Variable.FromOp(y, node);
    }

    /// <summary>Spikes as 0/1 floats on their device, or null for dense input.</summary>
    private static Tensor? Dense(Variable x)
    {
        if (x.Spikes is not { } spikes) return null;
        var values = Tensor.Empty(spikes.Shape, spikes.Device);
        spikes.Backend.Unpack(spikes, values);
        return values;
    }

    private Tensor?[] DeviceBackward(Tensor gradOutput)
    {
        var device = gradOutput.Device;
        using var values = _spikes is null ? null : Tensor.Empty(_spikes.Shape, device);
        if (values is not null) _spikes!.Backend.Unpack(_spikes, values);
        var xs = values ?? _x!.Value;
        var dx = NeedsGrad(0) ? Tensor.Empty(Inputs[0].Shape, device) : null;
        var dGamma = Tensor.Empty(new Shape(_channels), device);
        var dBeta = Tensor.Empty(new Shape(_channels), device);
        gradOutput.Backend.BatchNormBackward(xs, gradOutput, _gamma!.Value, _statistics!, _training, dx, dGamma, dBeta);
        var grads = new Tensor?[3];
        grads[0] = dx;
        if (NeedsGrad(1)) grads[1] = dGamma;
        else dGamma.Dispose();
        if (NeedsGrad(2)) grads[2] = dBeta;
        else dBeta.Dispose();
        return grads;
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        if (!gradOutput.IsOnHost) return DeviceBackward(gradOutput);
        using var values = _spikes?.ToTensor();
        var xs = values ?? _x!.Value;
        var dx = NeedsGrad(0) ? Tensor.Empty(Inputs[0].Shape) : null;
        var dGamma = new double[_channels];
        var dBeta = new double[_channels];
        BatchNormChannels.Backward(xs, gradOutput, _gamma!.Value, dx, _outer, _channels, _inner, _mean!, _invStd!, _training, dGamma, dBeta);
        var grads = new Tensor?[3];
        grads[0] = dx;
        if (NeedsGrad(1)) grads[1] = DoubleSums.ToTensor(dGamma, new Shape(dGamma.Length));
        if (NeedsGrad(2)) grads[2] = DoubleSums.ToTensor(dBeta, new Shape(dBeta.Length));
        return grads;
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("input", _x);
        saved.Add("input", _spikes);
        saved.Add("gamma", _gamma);
        saved.Add("batch statistics", _statistics);
        saved.AddOther("mean and inverse std (double)", ((_mean?.Length ?? 0) + (_invStd?.Length ?? 0)) * (long)sizeof(double));
    }

    protected internal override void ReleaseSaved()
    {
        _x?.Release();
        _spikes?.Dispose();
        _gamma?.Release();
        _statistics?.Dispose();
        _x = null;
        _spikes = null;
        _gamma = null;
        _statistics = null;
    }
}

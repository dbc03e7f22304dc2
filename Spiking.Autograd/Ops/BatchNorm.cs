using System;
using Spiking.Tensors;

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
/// inverse standard deviation it normalised with; backward recomputes the normalised input from them.
/// </summary>
internal sealed class BatchNormNode : Node
{
    private readonly int _outer, _channels, _inner;
    private readonly bool _training;
    private readonly double[] _mean, _invStd;
    private SavedTensor? _x;
    private SpikeTensor? _spikes;
    private SavedTensor? _gamma;

    private BatchNormNode(Variable x, Variable gamma, Variable beta, Tensor g, bool training, double[] mean, double[] invStd, int outer, int channels, int inner)
        : base(x, gamma, beta)
    {
        (_training, _mean, _invStd, _outer, _channels, _inner) = (training, mean, invStd, outer, channels, inner);
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

        using var values = x.Spikes?.ToTensor();
        var xs = values ?? x.Tensor!;
        var mean = new double[channels];
        var invStd = new double[channels];
        if (training)
        {
            var variance = new double[channels];
            if (inner == 1) BatchNormRows.Statistics(xs, outer, channels, mean, variance);
            else Parallelism.For(channels, count, (xs, outer, channels, inner, mean, variance), static (c, s) =>
            {
                ReadOnlySpan<float> v = s.xs.AsReadOnlySpan();
                // Sums of x − K and (x − K)² with K the channel's first value: one pass, and no cancellation
                // when the mean is large next to the spread.
                double shift = v[c * s.inner], sum = 0, squares = 0;
                for (int n = 0; n < s.outer; n++)
                {
                    var (rowSum, rowSquares) = BatchNormKernel.ShiftedSums(v.Slice((n * s.channels + c) * s.inner, s.inner), shift);
                    sum += rowSum;
                    squares += rowSquares;
                }
                double count = (double)s.outer * s.inner, d = sum / count;
                s.mean[c] = shift + d;
                s.variance[c] = Math.Max(0, squares / count - d * d);
            });
            var rm = runningMean.AsSpan();
            var rv = runningVar.AsSpan();
            for (int c = 0; c < channels; c++)
            {
                invStd[c] = 1.0 / Math.Sqrt(variance[c] + eps);
                rm[c] = (float)((1 - momentum) * rm[c] + momentum * mean[c]);
                double counted = (double)count * replicas;
                rv[c] = (float)((1 - momentum) * rv[c] + momentum * variance[c] * counted / (counted - 1));
            }
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
        if (inner == 1)
        {
            ReadOnlySpan<float> gv = g.AsReadOnlySpan(), bv = b.AsReadOnlySpan();
            var scale = new double[channels];
            var offset = new double[channels];
            for (int c = 0; c < channels; c++) (scale[c], offset[c]) = (gv[c] * invStd[c], bv[c]);
            BatchNormRows.Normalize(xs, y, outer, channels, mean, scale, offset);
        }
        else Parallelism.For(channels, count, (xs, g, b, y, outer, channels, inner, mean, invStd), static (c, s) =>
        {
            ReadOnlySpan<float> v = s.xs.AsReadOnlySpan();
            var dst = s.y.StorageArray.AsSpan(s.y.StorageOffset, s.y.Length);
            double scale = s.g.AsReadOnlySpan()[c] * s.invStd[c], shift = s.b.AsReadOnlySpan()[c], m = s.mean[c];
            for (int n = 0; n < s.outer; n++)
            {
                int at = (n * s.channels + c) * s.inner;
                BatchNormKernel.Normalize(v.Slice(at, s.inner), m, scale, shift, dst.Slice(at, s.inner));
            }
        });
        var node = Record(() => new BatchNormNode(x, gamma, beta, g, training, mean, invStd, outer, channels, inner), x, gamma, beta);
        return Variable.FromOp(y, node);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        using var values = _spikes?.ToTensor();
        var xs = values ?? _x!.Value;
        var dx = NeedsGrad(0) ? Tensor.Empty(Inputs[0].Shape) : null;
        var dGamma = new double[_channels];
        var dBeta = new double[_channels];
        if (_inner == 1)
        {
            BackwardRows(xs, gradOutput, dx, dGamma, dBeta);
            return Gradients(dx, dGamma, dBeta);
        }
        var state = (xs, gradOutput, gamma: _gamma!.Value, dx, _outer, _channels, _inner, _mean, _invStd, _training, dGamma, dBeta);
        Parallelism.For(_channels, (long)_outer * _inner, state, static (c, s) =>
        {
            ReadOnlySpan<float> v = s.xs.AsReadOnlySpan(), g = s.gradOutput.AsReadOnlySpan();
            double m = s._mean[c], inv = s._invStd[c];
            double sumG = 0, sumGCentred = 0;
            for (int n = 0; n < s._outer; n++)
            {
                int at = (n * s._channels + c) * s._inner;
                var (rowG, rowGCentred) = BatchNormKernel.GradientSums(g.Slice(at, s._inner), v.Slice(at, s._inner), m);
                sumG += rowG;
                sumGCentred += rowGCentred;
            }
            double sumGXhat = sumGCentred * inv;
            s.dGamma[c] = sumGXhat;
            s.dBeta[c] = sumG;
            if (s.dx is null) return;
            var dst = s.dx.StorageArray.AsSpan(s.dx.StorageOffset, s.dx.Length);
            double scale = s.gamma.AsReadOnlySpan()[c] * inv;
            double count = (double)s._outer * s._inner;
            // In training the batch mean and variance depend on x, which removes the gradient's mean and its
            // projection on the normalised input; in evaluation they are constants.
            double meanG = s._training ? sumG / count : 0, meanGXhat = s._training ? sumGXhat / count : 0;
            for (int n = 0; n < s._outer; n++)
            {
                int at = (n * s._channels + c) * s._inner;
                BatchNormKernel.InputGradient(g.Slice(at, s._inner), v.Slice(at, s._inner), m, inv, scale, meanG, meanGXhat, dst.Slice(at, s._inner));
            }
        });
        return Gradients(dx, dGamma, dBeta);
    }

    private Tensor?[] Gradients(Tensor? dx, double[] dGamma, double[] dBeta)
    {
        var grads = new Tensor?[3];
        grads[0] = dx;
        if (NeedsGrad(1)) grads[1] = FromDoubles(dGamma);
        if (NeedsGrad(2)) grads[2] = FromDoubles(dBeta);
        return grads;
    }

    // The channels-last form ([rows, C], inner 1) of the loop above, with the same formulas.
    private void BackwardRows(Tensor xs, Tensor gradOutput, Tensor? dx, double[] dGamma, double[] dBeta)
    {
        var sumG = new double[_channels];
        var sumGCentred = new double[_channels];
        BatchNormRows.GradientSums(xs, gradOutput, _outer, _channels, _mean, sumG, sumGCentred);
        var gamma = _gamma!.Value.AsReadOnlySpan();
        var scale = new double[_channels];
        var meanG = new double[_channels];
        var meanGXhat = new double[_channels];
        double count = _outer;
        for (int c = 0; c < _channels; c++)
        {
            double sumGXhat = sumGCentred[c] * _invStd[c];
            dGamma[c] = sumGXhat;
            dBeta[c] = sumG[c];
            scale[c] = gamma[c] * _invStd[c];
            meanG[c] = _training ? sumG[c] / count : 0;
            meanGXhat[c] = _training ? sumGXhat / count : 0;
        }
        if (dx is not null) BatchNormRows.InputGradient(xs, gradOutput, dx, _outer, _channels, _mean, _invStd, scale, meanG, meanGXhat);
    }

    private static Tensor FromDoubles(double[] values)
    {
        var t = Tensor.Empty(values.Length);
        var span = t.AsSpan();
        for (int i = 0; i < values.Length; i++) span[i] = (float)values[i];
        return t;
    }

    protected internal override void ReleaseSaved()
    {
        _x?.Release();
        _spikes?.Dispose();
        _gamma?.Release();
        _x = null;
        _spikes = null;
        _gamma = null;
    }
}

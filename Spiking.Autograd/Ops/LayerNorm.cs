using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// PyTorch's <c>F.layer_norm</c> over the last axis: each row of <paramref name="x"/> <c>[..., C]</c> becomes
    /// <c>(x − mean) / √(var + eps)·weight + bias</c> with the biased variance, for <paramref name="weight"/> and
    /// <paramref name="bias"/> <c>[C]</c>. Row statistics are taken in double (mean first, then the squared
    /// deviations), so a row with a large offset keeps its small variance.
    /// </summary>
    /// <remarks>
    /// Backward, with <c>x̂</c> the normalised row and <c>ĝ = G·weight</c>:
    /// <c>dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) / √(var + eps)</c>, <c>dweight = Σ G·x̂</c>, <c>dbias = Σ G</c> over the
    /// rows, every sum in double and in row order, so the result is the same bits for any thread count.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar, the weight or bias is not <c>[C]</c>, an operand holds spikes, or eps is not positive.</exception>
    /// <exception cref="NotSupportedException">An operand is not on the CPU.</exception>
    public static Variable LayerNorm(Variable x, Variable weight, Variable bias, double eps = 1e-5) => LayerNormNode.Forward(x, weight, bias, eps);
}

/// <summary>Layer normalisation over the last axis. Saves the input, the weight and each row's mean and 1/std (doubles).</summary>
internal sealed class LayerNormNode : Node
{
    /// <summary>Channels per work item of the weight and bias gradients: a row of that many doubles of each sum fits L1.</summary>
    private const int ChannelBlock = 256;

    private readonly int _rows, _channels;
    private readonly double[] _mean, _invStd;
    private SavedTensor? _x, _weight;

    private LayerNormNode(Variable x, Variable weight, Variable bias, Tensor xs, Tensor w, double[] mean, double[] invStd, int rows, int channels)
        : base(x, weight, bias)
    {
        (_mean, _invStd, _rows, _channels) = (mean, invStd, rows, channels);
        _x = new SavedTensor(xs, "layer_norm's input");
        _weight = new SavedTensor(w, "layer_norm's weight");
    }

    public override string Name => "layer_norm";

    public static Variable Forward(Variable x, Variable weight, Variable bias, double eps)
    {
        var xs = OpChecks.Dense(x, nameof(x), "LayerNorm");
        var w = OpChecks.Dense(weight, nameof(weight), "LayerNorm");
        var b = OpChecks.Dense(bias, nameof(bias), "LayerNorm");
        var shape = xs.Shape;
        if (shape.Rank == 0) throw new ArgumentException("LayerNorm needs 'x' of shape [..., C]; it is a scalar.", nameof(x));
        int channels = shape[-1], rows = shape.RowCount;
        var perChannel = new Shape(channels);
        if (w.Shape != perChannel) throw new ArgumentException($"LayerNorm: 'weight' has shape {w.Shape}; 'x' of shape {shape} needs [{channels}].", nameof(weight));
        if (b.Shape != perChannel) throw new ArgumentException($"LayerNorm: 'bias' has shape {b.Shape}; 'x' of shape {shape} needs [{channels}].", nameof(bias));
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"LayerNorm needs eps > 0; it is {eps}.");
        if (!xs.IsOnHost) throw OpChecks.NoDeviceKernel("LayerNorm", xs.Device);
        if (!w.IsOnHost) throw OpChecks.NoDeviceKernel("LayerNorm", w.Device, "its weight");
        if (!b.IsOnHost) throw OpChecks.NoDeviceKernel("LayerNorm", b.Device, "its bias");

        var job = new ForwardJob(xs, w, b, Tensor.Empty(shape), rows, channels, eps);
        Parallelism.For(rows, (long)channels * 6, job, static (r, j) => j.Run(r));
        var node = Record(() => new LayerNormNode(x, weight, bias, xs, w, job.Mean, job.InvStd, rows, channels), x, weight, bias);
        return Variable.FromOp(job.Y, node);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var grads = new Tensor?[3];
        var xs = _x!.Value;
        if (NeedsGrad(0))
        {
            var dx = Tensor.Empty(xs.Shape);
            var job = new InputGradientJob(xs, _weight!.Value, gradOutput, dx, _mean, _invStd, _channels);
            Parallelism.For(_rows, (long)_channels * 10, job, static (r, j) => j.Run(r));
            grads[0] = dx;
        }
        if (NeedsGrad(1) || NeedsGrad(2))
        {
            var job = new AffineGradientJob(xs, gradOutput, _mean, _invStd, _rows, _channels);
            Parallelism.For(job.Blocks, (long)_rows * ChannelBlock * 4, job, static (block, j) => j.Run(block));
            if (NeedsGrad(1)) grads[1] = DoubleSums.ToTensor(job.Weight, new Shape(job.Weight.Length));
            if (NeedsGrad(2)) grads[2] = DoubleSums.ToTensor(job.Bias, new Shape(job.Bias.Length));
        }
        return grads;
    }

    protected internal override void ReleaseSaved()
    {
        _x?.Release();
        _weight?.Release();
        _x = null;
        _weight = null;
    }

    /// <summary>One row per work item: its statistics, then the normalised, scaled and shifted row.</summary>
    private sealed class ForwardJob(Tensor x, Tensor weight, Tensor bias, Tensor y, int rows, int channels, double eps)
    {
        public Tensor Y { get; } = y;

        public double[] Mean { get; } = new double[rows];

        public double[] InvStd { get; } = new double[rows];

        public void Run(int r)
        {
            int c = channels;
            var xr = x.AsReadOnlySpan().Slice(r * c, c);
            var w = weight.AsReadOnlySpan();
            var b = bias.AsReadOnlySpan();
            var yr = Y.AsSpan().Slice(r * c, c);
            double sum = 0;
            for (int i = 0; i < c; i++) sum += xr[i];
            double mean = sum / c, squares = 0;
            for (int i = 0; i < c; i++)
            {
                double d = xr[i] - mean;
                squares += d * d;
            }
            double invStd = 1.0 / Math.Sqrt(squares / c + eps);
            for (int i = 0; i < c; i++) yr[i] = (float)((xr[i] - mean) * invStd * w[i] + b[i]);
            Mean[r] = mean;
            InvStd[r] = invStd;
        }
    }

    /// <summary>One row of <c>dx</c> per work item.</summary>
    private sealed class InputGradientJob(Tensor x, Tensor weight, Tensor gradOutput, Tensor dx, double[] mean, double[] invStd, int channels)
    {
        public void Run(int r)
        {
            int c = channels;
            var xr = x.AsReadOnlySpan().Slice(r * c, c);
            var gr = gradOutput.AsReadOnlySpan().Slice(r * c, c);
            var w = weight.AsReadOnlySpan();
            var dr = dx.AsSpan().Slice(r * c, c);
            double m = mean[r], s = invStd[r], sumG = 0, sumGX = 0;
            for (int i = 0; i < c; i++)
            {
                double g = (double)gr[i] * w[i];
                sumG += g;
                sumGX += g * ((xr[i] - m) * s);
            }
            double meanG = sumG / c, meanGX = sumGX / c;
            for (int i = 0; i < c; i++)
            {
                double g = (double)gr[i] * w[i];
                dr[i] = (float)((g - meanG - (xr[i] - m) * s * meanGX) * s);
            }
        }
    }

    /// <summary>
    /// <c>Σ G·x̂</c> and <c>Σ G</c> over the rows for one block of channels per work item, the rows added in order:
    /// blocks never share a sum, so the bits do not depend on the thread count.
    /// </summary>
    private sealed class AffineGradientJob(Tensor x, Tensor gradOutput, double[] mean, double[] invStd, int rows, int channels)
    {
        public int Blocks { get; } = (channels + ChannelBlock - 1) / ChannelBlock;

        public double[] Weight { get; } = new double[channels];

        public double[] Bias { get; } = new double[channels];

        public void Run(int block)
        {
            int start = block * ChannelBlock, length = Math.Min(ChannelBlock, channels - start);
            var dw = Weight.AsSpan(start, length);
            var db = Bias.AsSpan(start, length);
            var xs = x.AsReadOnlySpan();
            var g = gradOutput.AsReadOnlySpan();
            for (int r = 0; r < rows; r++)
            {
                var xr = xs.Slice(r * channels + start, length);
                var gr = g.Slice(r * channels + start, length);
                double m = mean[r], s = invStd[r];
                for (int i = 0; i < length; i++)
                {
                    dw[i] += gr[i] * ((xr[i] - m) * s);
                    db[i] += gr[i];
                }
            }
        }
    }
}

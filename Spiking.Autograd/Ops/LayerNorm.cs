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
        Parallelism.For(job.Blocks, (long)RowBlock * channels * 6, job, static (block, j) => j.Run(block));
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
            var job = new InputGradientJob(xs, _weight!.Value, gradOutput, dx, _mean, _invStd, _rows, _channels);
            Parallelism.For(job.Blocks, (long)RowBlock * _channels * 10, job, static (block, j) => j.Run(block));
            grads[0] = dx;
        }
        if (NeedsGrad(1) || NeedsGrad(2))
        {
            var job = new AffineGradientJob(xs, gradOutput, _mean, _invStd, _rows, _channels);
            Parallelism.For(job.Blocks, 256L * _channels * 4, job, static (block, j) => j.Run(block));
            job.Reduce();
            if (NeedsGrad(1)) grads[1] = DoubleSums.ToTensor(job.Weight, new Shape(job.Weight.Length));
            if (NeedsGrad(2)) grads[2] = DoubleSums.ToTensor(job.Bias, new Shape(job.Bias.Length));
        }
        return grads;
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("input", _x);
        saved.Add("weight", _weight);
        saved.AddOther("mean and inverse std (double)", (_mean.Length + _invStd.Length) * (long)sizeof(double));
    }

    protected internal override void ReleaseSaved()
    {
        _x?.Release();
        _weight?.Release();
        _x = null;
        _weight = null;
    }

    /// <summary>One row per work item: its statistics, then the normalised, scaled and shifted row.</summary>
    /// <summary>Rows per work item of the row-wise kernels: enough work to pay for a task, few enough to spread.</summary>
    private const int RowBlock = 32;

    private sealed class ForwardJob(Tensor x, Tensor weight, Tensor bias, Tensor y, int rows, int channels, double eps)
    {
        public Tensor Y { get; } = y;

        public double[] Mean { get; } = new double[rows];

        public double[] InvStd { get; } = new double[rows];

        public int Blocks => (rows + RowBlock - 1) / RowBlock;

        public void Run(int block)
        {
            int c = channels, end = Math.Min(rows, (block + 1) * RowBlock);
            var w = weight.AsReadOnlySpan();
            var b = bias.AsReadOnlySpan();
            var xs = x.AsReadOnlySpan();
            // Once per block: taking a writable span bumps the tensor's version, a counter the threads share.
            var ys = Y.AsSpan();
            for (int r = block * RowBlock; r < end; r++)
            {
                var xr = xs.Slice(r * c, c);
                double mean = WideRows.Sum(xr) / c;
                double invStd = 1.0 / Math.Sqrt(WideRows.SquaredDeviations(xr, mean) / c + eps);
                WideRows.Normalize(xr, mean, invStd, w, b, ys.Slice(r * c, c));
                Mean[r] = mean;
                InvStd[r] = invStd;
            }
        }
    }

    private sealed class InputGradientJob(Tensor x, Tensor weight, Tensor gradOutput, Tensor dx, double[] mean, double[] invStd, int rows, int channels)
    {
        public int Blocks => (rows + RowBlock - 1) / RowBlock;

        public void Run(int block)
        {
            int c = channels, end = Math.Min(rows, (block + 1) * RowBlock);
            var w = weight.AsReadOnlySpan();
            var xs = x.AsReadOnlySpan();
            var gs = gradOutput.AsReadOnlySpan();
            var dxs = dx.AsSpan();
            for (int r = block * RowBlock; r < end; r++)
            {
                var xr = xs.Slice(r * c, c);
                var gr = gs.Slice(r * c, c);
                double m = mean[r], s = invStd[r];
                var (sumG, sumGX) = WideRows.GradientSums(xr, gr, w, m, s);
                WideRows.InputGradient(xr, gr, w, m, s, sumG / c, sumGX / c, dxs.Slice(r * c, c));
            }
        }
    }

    /// <summary>
    /// The affine gradients, <c>dw = Σ_rows g·x̂</c> and <c>db = Σ_rows g</c>: each block of rows sums into its own
    /// pair of double rows, and the blocks are added in order, so the bits do not depend on the thread count.
    /// </summary>
    private sealed class AffineGradientJob(Tensor x, Tensor gradOutput, double[] mean, double[] invStd, int rows, int channels)
    {
        /// <summary>Rows per partial sum: a few per thread, each a long enough run to vectorise well.</summary>
        private const int Rows = 256;

        private readonly double[] _partials = new double[(rows + Rows - 1) / Rows * 2 * channels];

        public int Blocks => (rows + Rows - 1) / Rows;

        public double[] Weight { get; } = new double[channels];

        public double[] Bias { get; } = new double[channels];

        public void Run(int block)
        {
            int c = channels, end = Math.Min(rows, (block + 1) * Rows);
            var dw = _partials.AsSpan(block * 2 * c, c);
            var db = _partials.AsSpan(block * 2 * c + c, c);
            var xs = x.AsReadOnlySpan();
            var g = gradOutput.AsReadOnlySpan();
            for (int r = block * Rows; r < end; r++)
            {
                WideRows.AccumulateAffine(xs.Slice(r * c, c), g.Slice(r * c, c), mean[r], invStd[r], dw, db);
            }
        }

        public void Reduce()
        {
            for (int block = 0; block < Blocks; block++)
            {
                var dw = _partials.AsSpan(block * 2 * channels, channels);
                var db = _partials.AsSpan(block * 2 * channels + channels, channels);
                for (int i = 0; i < channels; i++)
                {
                    Weight[i] += dw[i];
                    Bias[i] += db[i];
                }
            }
        }
    }
}

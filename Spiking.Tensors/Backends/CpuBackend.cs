using System;
using System.Buffers;
using Spiking.Tensors.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Tensors.Backends;

/// <summary>
/// The host backend: the managed SIMD kernels behind <see cref="ComputeBackend"/>'s surface. It is the reference
/// a device backend is checked against (<c>spiking gpu-selftest</c>); ops on host tensors call the same kernels
/// directly.
/// </summary>
internal sealed class CpuBackend : ComputeBackend
{
    public override Device Device => Device.Cpu;

    public override string Description => $"cpu ({Parallelism.MaxThreads} threads, {SimdWidth.Bits}-bit SIMD)";

    public override void Fill(Tensor y, float value) => y.AsSpan().Fill(value);

    public override void Add(Tensor a, Tensor b, Tensor y) => TensorPrimitives.Add(a.AsReadOnlySpan(), b.AsReadOnlySpan(), y.AsSpan());

    public override void AddScaled(Tensor y, Tensor x, float alpha)
    {
        var d = y.AsSpan();
        var s = x.AsReadOnlySpan();
        for (int i = 0; i < d.Length; i++) d[i] += alpha * s[i];
    }

    public override void Multiply(Tensor a, Tensor b, Tensor y) => TensorPrimitives.Multiply(a.AsReadOnlySpan(), b.AsReadOnlySpan(), y.AsSpan());

    public override void Scale(Tensor x, float alpha, Tensor y) => TensorPrimitives.Multiply(x.AsReadOnlySpan(), alpha, y.AsSpan());

    public override void AddRowVector(Tensor y, Tensor v)
    {
        var d = y.AsSpan();
        var row = v.AsReadOnlySpan();
        for (int o = 0; o < d.Length; o += row.Length) TensorPrimitives.Add(d.Slice(o, row.Length), row, d.Slice(o, row.Length));
    }

    public override void SumRows(Tensor x, Tensor y)
    {
        var d = y.AsSpan();
        var s = x.AsReadOnlySpan();
        d.Clear();
        for (int o = 0; o < s.Length; o += d.Length) TensorPrimitives.Add(d, s.Slice(o, d.Length), d);
    }

    public override void Sum(Tensor x, Tensor y) => y.AsSpan()[0] = Reduce.Sum(x.AsReadOnlySpan());

    public override void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k) =>
        Kernels.Gemm.Multiply(a.AsReadOnlySpan(), transposeA, b.AsReadOnlySpan(), transposeB, c.AsSpan(), m, n, k);

    public override void PackGreaterOrEqual(Tensor x, float threshold, SpikeTensor spikes) =>
        BitPack.PackGreaterOrEqual(x.AsReadOnlySpan(), spikes.RowLength, threshold, spikes.Words);

    public override void Unpack(SpikeTensor spikes, Tensor y) => BitPack.Unpack(spikes.Words, spikes.RowLength, y.AsSpan());

    public override void SpikeLinear(SpikeTensor spikes, Tensor weight, Tensor? bias, Tensor y)
    {
        using var result = Tensors.SpikeLinear.Forward(spikes, weight, bias);
        result.AsReadOnlySpan().CopyTo(y.AsSpan());
    }

    public override void SpikeWeightGradient(Tensor gradOutput, SpikeTensor spikes, Tensor gradWeight)
    {
        using var result = Tensors.SpikeLinear.WeightGradient(gradOutput, spikes);
        result.AsReadOnlySpan().CopyTo(gradWeight.AsSpan());
    }

    public override void AndPopCount(SpikeTensor a, SpikeTensor b, Tensor c)
    {
        var counts = SpikePopcount.AndPopcount(a, b);
        var d = c.AsSpan();
        for (int i = 0; i < counts.Length; i++) d[i] = counts[i];
    }

    public override void Bernoulli(Tensor probabilities, int repeats, uint key0, uint key1, ulong stream, ulong firstBlock, SpikeTensor spikes)
    {
        var p = probabilities.AsReadOnlySpan();
        var words = spikes.Words;
        int perRepeat = words.Length / Math.Max(1, repeats);
        ulong blocksPerRepeat = ((ulong)p.Length + 3) / 4;
        var generator = new PhiloxGenerator(((ulong)key1 << 32) | key0, stream);
        for (int t = 0; t < repeats; t++)
        {
            generator.Offset = firstBlock + (ulong)t * blocksPerRepeat;
            generator.FillBernoulli(p, spikes.RowLength, words.Slice(t * perRepeat, perRepeat));
        }
    }

    public override void TransposeBatched(Tensor x, int batch, int rows, int cols, Tensor y)
    {
        ReadOnlySpan<float> s = x.AsReadOnlySpan();
        var d = y.AsSpan();
        int size = rows * cols;
        for (int b = 0; b < batch; b++) Transpose.Matrix(s.Slice(b * size, size), rows, cols, d.Slice(b * size, size));
    }

    public override void Im2Col(Tensor x, in SlidingWindow window, Tensor cols)
    {
        var g = window.Convolution;
        int k = g.Patch, p = g.Positions, all = window.Images * p;
        var rented = ArrayPool<float>.Shared.Rent(Math.Max(1, k * p));
        var image = rented.AsSpan(0, k * p);
        ReadOnlySpan<float> xs = x.AsReadOnlySpan();
        var d = cols.AsSpan();
        // The managed kernel unrolls one image into [K, P]; its rows are the image's columns of [K, N·P].
        for (int n = 0; n < window.Images; n++)
        {
            Conv.Im2Col(xs.Slice(n * g.ImageSize, g.ImageSize), g, image);
            for (int r = 0; r < k; r++) image.Slice(r * p, p).CopyTo(d.Slice(r * all + n * p, p));
        }
        ArrayPool<float>.Shared.Return(rented);
    }

    public override void Col2Im(Tensor cols, in SlidingWindow window, Tensor x)
    {
        var g = window.Convolution;
        int k = g.Patch, p = g.Positions, all = window.Images * p;
        var rented = ArrayPool<float>.Shared.Rent(Math.Max(1, k * p));
        var image = rented.AsSpan(0, k * p);
        ReadOnlySpan<float> c = cols.AsReadOnlySpan();
        var xs = x.AsSpan();
        xs.Clear();
        for (int n = 0; n < window.Images; n++)
        {
            for (int r = 0; r < k; r++) c.Slice(r * all + n * p, p).CopyTo(image.Slice(r * p, p));
            Conv.Col2ImAdd(image, g, xs.Slice(n * g.ImageSize, g.ImageSize));
        }
        ArrayPool<float>.Shared.Return(rented);
    }

    public override void MaxPool(Tensor x, in SlidingWindow window, Tensor y) => Pool.MaxForward(x, window.Images * window.Channels, window.Planes, y);

    public override void MaxPool(SpikeTensor x, in SlidingWindow window, SpikeTensor y) => Pool.MaxForwardBits(x, window.Images * window.Channels, window.Planes, y);

    public override void MaxPoolBackward(Tensor gradOutput, Tensor x, in SlidingWindow window, Tensor gradX) =>
        Pool.MaxBackward(gradOutput, x, window.Images * window.Channels, window.Planes, gradX);

    public override void MaxPoolBackward(Tensor gradOutput, SpikeTensor x, in SlidingWindow window, Tensor gradX) =>
        Pool.MaxBackwardBits(gradOutput, x, window.Images * window.Channels, window.Planes, gradX);

    public override void BatchNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, in BatchNormSpec spec, Tensor y, Tensor statistics)
    {
        var (outer, channels, inner) = ChannelAxes(x);
        var mean = new double[channels];
        var invStd = new double[channels];
        if (spec.Training)
        {
            var variance = new double[channels];
            BatchNormChannels.Statistics(x, outer, channels, inner, mean, variance);
            for (int c = 0; c < channels; c++) invStd[c] = 1.0 / Math.Sqrt(variance[c] + spec.Eps);
            BatchNormChannels.UpdateRunning(runningMean, runningVar, mean, variance, spec.Momentum, (double)outer * inner * spec.Replicas);
        }
        else
        {
            ReadOnlySpan<float> rm = runningMean.AsReadOnlySpan(), rv = runningVar.AsReadOnlySpan();
            for (int c = 0; c < channels; c++) (mean[c], invStd[c]) = (rm[c], 1.0 / Math.Sqrt(rv[c] + spec.Eps));
        }
        // The statistics are kept as floats, and the normalisation uses exactly what is kept.
        var kept = statistics.AsSpan();
        for (int c = 0; c < channels; c++)
        {
            kept[c] = (float)mean[c];
            kept[channels + c] = (float)invStd[c];
            (mean[c], invStd[c]) = (kept[c], kept[channels + c]);
        }
        BatchNormChannels.Normalize(x, gamma, beta, y, outer, channels, inner, mean, invStd);
    }

    public override void BatchNormBackward(Tensor x, Tensor gradOutput, Tensor gamma, Tensor statistics, bool training, Tensor? gradX, Tensor gradGamma, Tensor gradBeta)
    {
        var (outer, channels, inner) = ChannelAxes(x);
        var kept = statistics.AsReadOnlySpan();
        var mean = new double[channels];
        var invStd = new double[channels];
        for (int c = 0; c < channels; c++) (mean[c], invStd[c]) = (kept[c], kept[channels + c]);
        var dGamma = new double[channels];
        var dBeta = new double[channels];
        BatchNormChannels.Backward(x, gradOutput, gamma, gradX, outer, channels, inner, mean, invStd, training, dGamma, dBeta);
        var dg = gradGamma.AsSpan();
        var db = gradBeta.AsSpan();
        for (int c = 0; c < channels; c++) (dg[c], db[c]) = ((float)dGamma[c], (float)dBeta[c]);
    }

    /// <summary><c>[N, C, *]</c> as (N, C, the product of the trailing axes).</summary>
    private static (int Outer, int Channels, int Inner) ChannelAxes(Tensor x) => (x.Shape[0], x.Shape[1], x.Shape.ProductOfTrailing(2));

    public override void NeuronForward(Tensor x, int steps, in NeuronKernelSpec spec, SpikeTensor spikes, Tensor? hSeq, Tensor? vSeq) =>
        NeuronReference.Forward(x.AsReadOnlySpan(), steps, spec, spikes, hSeq is null ? default : hSeq.AsSpan(), vSeq is null ? default : vSeq.AsSpan());

    public override void NeuronBackward(Tensor hSeq, Tensor gradSpikes, int steps, in NeuronKernelSpec spec, Tensor gradX) =>
        NeuronReference.Backward(hSeq.AsReadOnlySpan(), gradSpikes.AsReadOnlySpan(), steps, spec, gradX.AsSpan());

    public override void AdamStep(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, in AdamStepSpec spec)
    {
        var value = parameter.AsSpan();
        var grad = gradient.AsReadOnlySpan();
        var m = firstMoment.AsSpan();
        var v = secondMoment.AsSpan();
        for (int i = 0; i < value.Length; i++)
        {
            float p = value[i] * spec.ShrinkFactor;
            float g = grad[i] + spec.L2WeightDecay * p;
            float mean = m[i];
            mean = spec.LerpFromStart ? mean + spec.OneMinusBeta1 * (g - mean) : g - (g - mean) * (1f - spec.OneMinusBeta1);
            m[i] = mean;
            float square = v[i] * spec.Beta2 + spec.OneMinusBeta2 * g * g;
            v[i] = square;
            float denom = MathF.Sqrt(square) / spec.BiasCorrection2Sqrt + spec.Epsilon;
            value[i] = p + spec.NegativeStepSize * mean / denom;
        }
    }
}

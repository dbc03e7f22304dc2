using System;
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

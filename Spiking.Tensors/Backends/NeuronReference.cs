using System;

namespace Spiking.Tensors.Backends;

/// <summary>
/// The plain one-neuron-at-a-time definition of the fused multi-step neuron, in the float operation order of the
/// SIMD kernel in Spiking.Autograd, so a device kernel can be checked against it element by element.
/// </summary>
internal static class NeuronReference
{
    public static void Forward(ReadOnlySpan<float> x, int steps, in NeuronKernelSpec spec, SpikeTensor spikes, Span<float> hSeq, Span<float> vSeq)
    {
        int perStep = x.Length / Math.Max(1, steps);
        int rowLength = spikes.RowLength, wordsPerRow = spikes.WordsPerRow;
        var words = spikes.Words;
        words.Clear();
        for (int i = 0; i < perStep; i++)
        {
            float v = spec.VReset;
            int row = i / rowLength, column = i % rowLength;
            for (int t = 0; t < steps; t++)
            {
                int at = t * perStep + i;
                float h = Charge(spec, v, x[at]);
                bool fired = h >= spec.Threshold;
                if (!hSeq.IsEmpty) hSeq[at] = h;
                if (fired) words[(t * (perStep / rowLength) + row) * wordsPerRow + (column >> 6)] |= 1UL << (column & 63);
                float s = fired ? 1f : 0f;
                v = spec.HardReset ? s * spec.VReset + (1f - s) * h : h - s * spec.Threshold;
                if (!vSeq.IsEmpty) vSeq[at] = v;
            }
        }
    }

    public static void Backward(ReadOnlySpan<float> hSeq, ReadOnlySpan<float> gradSpikes, int steps, in NeuronKernelSpec spec, Span<float> gradX)
    {
        int perStep = hSeq.Length / Math.Max(1, steps);
        float dhdx = spec.DhDx, dhdv = spec.DhDv;
        for (int i = 0; i < perStep; i++)
        {
            float gradV = 0f;
            for (int t = steps - 1; t >= 0; t--)
            {
                int at = t * perStep + i;
                float h = hSeq[at];
                float s = h >= spec.Threshold ? 1f : 0f;
                float sg = Surrogate(spec, h - spec.Threshold);
                float dvdh = (spec.HardReset, spec.DetachReset) switch
                {
                    (true, false) => (1f - s) + (spec.VReset - h) * sg,
                    (true, true) => 1f - s,
                    (false, false) => 1f - spec.Threshold * sg,
                    _ => 1f,
                };
                float gh = gradSpikes[at] * sg + gradV * dvdh;
                gradX[at] = gh * dhdx;
                gradV = gh * dhdv;
            }
        }
    }

    /// <summary>The surrogate derivative at <paramref name="x"/> = h − threshold, as Spiking.Autograd's surrogates compute it.</summary>
    public static float Surrogate(in NeuronKernelSpec spec, float x)
    {
        if (spec.Surrogate == SurrogateKind.ATan)
        {
            float halfAlpha = (float)(spec.Alpha / 2.0), scale = (float)(Math.PI / 2 * spec.Alpha);
            float t = scale * x;
            return halfAlpha / (1f + t * t);
        }
        float e = MathF.Exp(-MathF.Abs(spec.Alpha * x));
        float d = 1f + e;
        return spec.Alpha * e / (d * d);
    }

    private static float Charge(in NeuronKernelSpec spec, float v, float x) => spec.Charge switch
    {
        ChargeRule.Integrate => v + x,
        ChargeRule.DecayInputLeak => v + (x - (v - spec.VReset)) * spec.K,
        _ => v - (v - spec.VReset) * spec.K + x,
    };
}

using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;
using Spiking.Tensors;
using Spiking.Tensors.Backends;

namespace Spiking.Layers;

/// <summary>
/// Adam (Kingma and Ba, 2015) with <c>torch.optim.Adam</c>'s update, weight decay as an L2 term added to the
/// gradient (<c>g ← g + wd·p</c>). Per parameter, at its step k (counted only on steps where it has a gradient):
/// <c>m ← lerp(m, g, 1 − β1)</c>, <c>v ← β2·v + (1 − β2)·g²</c>,
/// <c>p ← p − (lr / (1 − β1^k)) · m / (√v / √(1 − β2^k) + ε)</c>. Computed in float32 in PyTorch's operation order;
/// the scalar factors are formed in double as PyTorch forms them in Python.
/// </summary>
public class Adam : Optimizer
{
    private readonly float[][] _firstMoments;
    private readonly float[][] _secondMoments;
    private readonly long[] _steps;
    private (Tensor, Tensor)?[]? _deviceMoments;

    /// <summary>Creates the optimizer; the moment buffers are allocated here, once.</summary>
    /// <exception cref="ArgumentException">The parameter list is empty or repeats a parameter.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate, ε or weight decay is negative, a β is outside [0, 1), or a value is NaN or infinite.</exception>
    public Adam(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : this(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: false)
    {
    }

    /// <summary>The shared constructor of Adam and <see cref="AdamW"/>.</summary>
    private protected Adam(IEnumerable<Parameter> parameters, double learningRate, double beta1, double beta2, double epsilon, double weightDecay, bool decoupled)
        : base(parameters, learningRate)
    {
        CheckHyperparameter(beta1, nameof(beta1), 0, 1);
        CheckHyperparameter(beta2, nameof(beta2), 0, 1);
        CheckHyperparameter(epsilon, nameof(epsilon), 0);
        CheckHyperparameter(weightDecay, nameof(weightDecay), 0);
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        Decoupled = decoupled;
        _firstMoments = NewState();
        _secondMoments = NewState();
        _steps = new long[Parameters.Count];
    }

    /// <summary>The decay β1 of the first-moment (mean) estimate.</summary>
    public double Beta1 { get; }

    /// <summary>The decay β2 of the second-moment (uncentred variance) estimate.</summary>
    public double Beta2 { get; }

    /// <summary>The term ε added to the denominator.</summary>
    public double Epsilon { get; }

    /// <summary>The weight decay: an L2 term added to the gradient (Adam) or a decoupled shrink of the weights (<see cref="AdamW"/>).</summary>
    public double WeightDecay { get; }

    /// <summary>True for <see cref="AdamW"/>'s decoupled weight decay <c>p ← p·(1 − lr·wd)</c> before the update.</summary>
    private protected bool Decoupled { get; }

    /// <summary>The number of updates parameter <paramref name="index"/> has received (PyTorch's <c>state['step']</c>).</summary>
    public long StepCount(int index) => _steps[index];

    /// <summary>The step on a device: the same constants, the update run by the device backend's Adam kernel.</summary>
    protected override void UpdateOnDevice(int index, Tensor value, Tensor grad)
    {
        _deviceMoments ??= new (Tensor, Tensor)?[_steps.Length];
        if (_deviceMoments[index] is not { } moments)
        {
            // The moments so far (zero unless steps ran on the CPU first) move with the parameter.
            moments = (Tensor.FromSpan(_firstMoments[index], value.Shape).To(value.Device), Tensor.FromSpan(_secondMoments[index], value.Shape).To(value.Device));
            _deviceMoments[index] = moments;
        }
        var spec = StepSpec(++_steps[index]);
        value.Backend.AdamStep(value, grad, moments.Item1, moments.Item2, spec);
    }

    /// <summary>Frees the moments kept on devices.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _deviceMoments is { } moments)
        {
            for (int i = 0; i < moments.Length; i++)
            {
                if (moments[i] is not { } pair) continue;
                pair.Item1.Dispose();
                pair.Item2.Dispose();
                moments[i] = null;
            }
        }
        base.Dispose(disposing);
    }

    private AdamStepSpec StepSpec(long k)
    {
        double lr = LearningRate;
        double biasCorrection1 = 1 - Math.Pow(Beta1, k);
        double biasCorrection2 = 1 - Math.Pow(Beta2, k);
        bool l2 = !Decoupled && WeightDecay != 0;
        bool shrink = Decoupled && WeightDecay != 0;
        return new AdamStepSpec(
            NegativeStepSize: (float)-(lr / biasCorrection1),
            BiasCorrection2Sqrt: (float)Math.Sqrt(biasCorrection2),
            Epsilon: (float)Epsilon,
            OneMinusBeta1: (float)(1 - Beta1),
            Beta2: (float)Beta2,
            OneMinusBeta2: (float)(1 - Beta2),
            L2WeightDecay: l2 ? (float)WeightDecay : 0f,
            ShrinkFactor: shrink ? (float)(1 - lr * WeightDecay) : 1f,
            LerpFromStart: Math.Abs(1 - Beta1) < 0.5);
    }

    /// <inheritdoc />
    protected override void Update(int index, Span<float> value, ReadOnlySpan<float> grad)
    {
        long k = ++_steps[index];
        double lr = LearningRate;
        double biasCorrection1 = 1 - Math.Pow(Beta1, k);
        double biasCorrection2 = 1 - Math.Pow(Beta2, k);
        float negStepSize = (float)-(lr / biasCorrection1);
        float bc2Sqrt = (float)Math.Sqrt(biasCorrection2);
        float eps = (float)Epsilon;
        float weight = (float)(1 - Beta1), beta2 = (float)Beta2, oneMinusBeta2 = (float)(1 - Beta2);
        bool l2 = !Decoupled && WeightDecay != 0;
        float wd = (float)WeightDecay;
        bool shrink = Decoupled && WeightDecay != 0;
        float shrinkFactor = (float)(1 - lr * WeightDecay);
        // torch's CPU lerp switches formula at weight 0.5 to stay exact at both ends.
        bool lerpFromStart = Math.Abs(1 - Beta1) < 0.5;
        Span<float> m = _firstMoments[index];
        Span<float> v = _secondMoments[index];

        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var pv = MemoryMarshal.Cast<float, Vector<float>>(value);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(grad);
            var mv = MemoryMarshal.Cast<float, Vector<float>>(m);
            var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
            for (int j = 0; j < pv.Length; j++)
            {
                var p = pv[j];
                var g = gv[j];
                if (shrink) p *= shrinkFactor;
                if (l2) g += wd * p;
                var mean = mv[j];
                mean = lerpFromStart ? mean + weight * (g - mean) : g - (g - mean) * (1f - weight);
                mv[j] = mean;
                var square = vv[j] * beta2 + oneMinusBeta2 * g * g;
                vv[j] = square;
                var denom = Vector.SquareRoot(square) / bc2Sqrt + new Vector<float>(eps);
                pv[j] = p + negStepSize * mean / denom;
            }
            i = pv.Length * Vector<float>.Count;
        }
        for (; i < value.Length; i++)
        {
            float p = value[i];
            float g = grad[i];
            if (shrink) p *= shrinkFactor;
            if (l2) g += wd * p;
            float mean = m[i];
            mean = lerpFromStart ? mean + weight * (g - mean) : g - (g - mean) * (1f - weight);
            m[i] = mean;
            float square = v[i] * beta2 + oneMinusBeta2 * g * g;
            v[i] = square;
            float denom = MathF.Sqrt(square) / bc2Sqrt + eps;
            value[i] = p + negStepSize * mean / denom;
        }
    }
}

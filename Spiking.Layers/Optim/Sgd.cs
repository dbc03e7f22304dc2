using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Spiking.Layers;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay, with
/// <c>torch.optim.SGD</c>'s update: <c>g ← g + wd·p</c>; with momentum, <c>b ← g</c> on a parameter's first
/// step and <c>b ← μ·b + (1 − τ)·g</c> after, then <c>g ← g + μ·b</c> (Nesterov) or <c>g ← b</c>; finally
/// <c>p ← p − lr·g</c>. Computed in float32 in PyTorch's operation order.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly float[][]? _momentumBuffers;
    private readonly bool[] _started;

    /// <summary>Creates the optimizer; the momentum buffers are allocated here, once.</summary>
    /// <exception cref="ArgumentException">The parameter list is empty or repeats a parameter, or Nesterov is asked with zero momentum or non-zero dampening.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is negative, NaN or infinite.</exception>
    public Sgd(IEnumerable<Parameter> parameters, double learningRate, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : base(parameters, learningRate)
    {
        CheckHyperparameter(momentum, nameof(momentum), 0);
        CheckHyperparameter(dampening, nameof(dampening), double.NegativeInfinity);
        CheckHyperparameter(weightDecay, nameof(weightDecay), 0);
        if (nesterov && (momentum <= 0 || dampening != 0))
        {
            throw new ArgumentException(
                $"Nesterov momentum needs momentum > 0 and dampening = 0; got momentum {momentum} and dampening {dampening}.", nameof(nesterov));
        }
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        _started = new bool[Parameters.Count];
        if (momentum != 0) _momentumBuffers = NewState();
    }

    /// <summary>The momentum factor μ.</summary>
    public double Momentum { get; }

    /// <summary>The dampening τ applied to the gradient's share of the momentum buffer.</summary>
    public double Dampening { get; }

    /// <summary>The L2 penalty wd added to the gradient as <c>wd·p</c>.</summary>
    public double WeightDecay { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    protected override void Update(int index, Span<float> value, ReadOnlySpan<float> grad)
    {
        bool first = !_started[index];
        _started[index] = true;
        float wd = (float)WeightDecay, mu = (float)Momentum, keep = (float)(1 - Dampening), step = (float)-LearningRate;
        bool decay = WeightDecay != 0;
        Span<float> buffer = _momentumBuffers is null ? default : _momentumBuffers[index];
        bool momentum = _momentumBuffers is not null;

        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var pv = MemoryMarshal.Cast<float, Vector<float>>(value);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(grad);
            var bv = MemoryMarshal.Cast<float, Vector<float>>(buffer);
            for (int v = 0; v < pv.Length; v++)
            {
                var p = pv[v];
                var g = gv[v];
                if (decay) g += wd * p;
                if (momentum)
                {
                    var b = first ? g : bv[v] * mu + keep * g;
                    bv[v] = b;
                    g = Nesterov ? g + mu * b : b;
                }
                pv[v] = p + step * g;
            }
            i = pv.Length * Vector<float>.Count;
        }
        for (; i < value.Length; i++)
        {
            float p = value[i];
            float g = grad[i];
            if (decay) g += wd * p;
            if (momentum)
            {
                float b = first ? g : buffer[i] * mu + keep * g;
                buffer[i] = b;
                g = Nesterov ? g + mu * b : b;
            }
            value[i] = p + step * g;
        }
    }
}

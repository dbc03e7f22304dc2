using System;
using System.Globalization;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// SpikingJelly's <c>SlidingPSN</c> over <c>[T, …]</c> for any T: k learnable weights slid over time,
/// <c>h_t = Σ_{i &lt; min(k, t+1)} w[k−1−i]·x_{t−i} + b</c> and <c>spike_t = heaviside(h_t)</c>
/// (<see cref="Functional.SlidingParallelSpikingNeuron(Variable, Variable, Variable, Surrogate)"/>). <c>weight</c>
/// <c>[k]</c> starts at <c>[2^−(k−1), …, 1/4, 1/2, 1]</c> with <c>exp_init</c> (the newest input weighs 1), otherwise
/// uniform in <c>±1/√k</c> (SpikingJelly's <c>kaiming_uniform_(a=√5)</c> of a <c>[1, k]</c> matrix); the scalar
/// <c>bias</c> starts at −1.
/// </summary>
public sealed class SlidingParallelSpikingNeuron : NeuronLayer
{

    /// <summary>A sliding PSN of order <paramref name="order"/>.</summary>
    /// <param name="order">k, the number of weights (SpikingJelly's <c>k</c>, at least 1).</param>
    /// <param name="exponentialInit">SpikingJelly's <c>exp_init</c> (default true): halving weights towards the past; false draws them.</param>
    /// <param name="surrogate">The surrogate gradient; SpikingJelly's <see cref="ATan"/> when null.</param>
    /// <param name="generator">Where the weights are drawn from without <paramref name="exponentialInit"/>; <see cref="ModelSeed.Shared"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="order"/> is less than 1.</exception>
    public SlidingParallelSpikingNeuron(int order, bool exponentialInit = true, Surrogate? surrogate = null, PhiloxGenerator? generator = null)
    {
        if (order < 1) throw new ArgumentOutOfRangeException(nameof(order), order, $"SlidingPSN: the order k must be at least 1; got {order}.");
        Order = order;
        Surrogate = surrogate ?? new ATan();
        Weight = RegisterParameter("weight", Tensor.Empty(order));
        if (exponentialInit)
        {
            var w = Weight.Value.AsSpan();
            for (int i = 0; i < order; i++) w[i] = MathF.ScaleB(1f, i - (order - 1));
        }
        else
        {
            Initialization.FanInUniform(Weight.Value, order, generator ?? ModelSeed.Shared);
        }
        Bias = RegisterParameter("bias", Tensor.Scalar(-1f));
    }

    /// <summary>k, the number of weights.</summary>
    public int Order { get; }

    /// <summary>The surrogate gradient of the spike function.</summary>
    public Surrogate Surrogate { get; }

    /// <summary>The learnable <c>w</c>, <c>[k]</c>; the last weighs the newest input.</summary>
    public Parameter Weight { get; }

    /// <summary>The learnable scalar <c>b</c>.</summary>
    public Parameter Bias { get; }

    /// <inheritdoc/>
    public override string OutputName => "spike";

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a dense <c>[T, …]</c> with an axis after time.</exception>
    public override Variable Forward(Variable input)
    {
        var output = Functional.SlidingParallelSpikingNeuron(input, Weight, Bias, Surrogate);
        Count(output.Spikes!);
        return output;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a dense <c>[T, …]</c> with an axis after time.</exception>
    public override Variable Forward(Variable input, out NeuronTraces traces) => Functional.SlidingParallelSpikingNeuron(input, Weight, Bias, Surrogate, out traces);

    /// <summary>
    /// The layer of SpikingJelly's <c>SlidingPSN(k, exp_init=True, surrogate_function=ATan(), step_mode='s', backend='gemm')</c>
    /// built with <paramref name="settings"/>. <c>backend</c> must be <c>gemm</c> or <c>conv</c>; both compute the same
    /// function, which this layer computes one way.
    /// </summary>
    /// <exception cref="ArgumentException"><c>k</c> is missing or not a whole number, <c>backend</c> is neither <c>gemm</c> nor <c>conv</c>, a setting has the wrong type, or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>k</c> is less than 1.</exception>
    public static SlidingParallelSpikingNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int order = ParallelNeuronSettings.Required(settings, "k", "SlidingPSN(k, ...) has no default for its order");
        string backend = settings.Text("backend", "gemm");
        if (backend is not ("gemm" or "conv"))
        {
            throw new ArgumentException($"SlidingPSN: 'backend' must be \"gemm\" or \"conv\" (SpikingJelly's supported_backends); got \"{backend}\".", nameof(settings));
        }
        return new SlidingParallelSpikingNeuron(order, settings.Flag("exp_init", true), settings.Surrogate("ATan"));
    }

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"SlidingPSN(order={Order}, surrogate={Surrogate})");

}

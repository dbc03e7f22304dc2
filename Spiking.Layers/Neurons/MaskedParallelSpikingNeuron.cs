using System;
using System.Globalization;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// SpikingJelly's <c>MaskedPSN</c> over <c>[T, …]</c>: the <see cref="ParallelSpikingNeuron"/> with its weight masked to a
/// band of width k on and below the diagonal, progressively: <c>Wm = W ⊙ M0</c> once λ ≥ 1, else
/// <c>W ⊙ (λ·M0 + (1 − λ))</c> (<see cref="Functional.MaskedParallelSpikingNeuron(Variable, Variable, Variable, int, float, Surrogate)"/>).
/// λ is the buffer <c>_lambda_</c> (not learned; raise it during training with <see cref="Lambda"/>); <c>weight</c>
/// <c>[T, T]</c> and <c>bias</c> <c>[T, 1]</c> start as the PSN's.
/// </summary>
public sealed class MaskedParallelSpikingNeuron : NeuronLayer
{

    /// <summary>A masked PSN of order <paramref name="order"/> for inputs of <paramref name="steps"/> time steps.</summary>
    /// <param name="order">k, the width of the band (SpikingJelly's <c>k</c>, at least 1).</param>
    /// <param name="steps">T, the number of time steps.</param>
    /// <param name="lambdaInit">The initial λ (SpikingJelly's <c>lambda_init</c>, default 0: no masking yet).</param>
    /// <param name="surrogate">The surrogate gradient; SpikingJelly's <see cref="ATan"/> when null.</param>
    /// <param name="generator">Where the initial weight is drawn from; <see cref="ModelSeed.Shared"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="order"/> or <paramref name="steps"/> is less than 1, or <paramref name="lambdaInit"/> is not finite.</exception>
    public MaskedParallelSpikingNeuron(int order, int steps, float lambdaInit = 0f, Surrogate? surrogate = null, PhiloxGenerator? generator = null)
    {
        if (order < 1) throw new ArgumentOutOfRangeException(nameof(order), order, $"MaskedPSN: the order k must be at least 1; got {order}.");
        Order = order;
        Steps = ParallelNeuronSettings.Steps(steps, "MaskedPSN");
        Surrogate = surrogate ?? new ATan();
        Weight = RegisterParameter("weight", Tensor.Empty(steps, steps));
        Initialization.FanInUniform(Weight.Value, steps, generator ?? ModelSeed.Shared);
        Bias = RegisterParameter("bias", Tensor.Full(new Shape(steps, 1), -1f));
        RegisterBuffer("_lambda_", Tensor.Scalar(FiniteLambda(lambdaInit, nameof(lambdaInit))));
    }

    /// <summary>k, the width of the band.</summary>
    public int Order { get; }

    /// <summary>T, the number of time steps the layer takes.</summary>
    public int Steps { get; }

    /// <summary>The surrogate gradient of the spike function.</summary>
    public Surrogate Surrogate { get; }

    /// <summary>The learnable <c>W</c>, <c>[T, T]</c> (unmasked).</summary>
    public Parameter Weight { get; }

    /// <summary>The learnable <c>b</c>, <c>[T, 1]</c>.</summary>
    public Parameter Bias { get; }

    /// <summary>λ, the masking progress, held in the buffer <c>_lambda_</c> (SpikingJelly's <c>lambda_</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is not finite.</exception>
    public float Lambda
    {
        get => Buffer("_lambda_").ToScalar();
        set => Buffer("_lambda_").Fill(FiniteLambda(value, nameof(value)));
    }

    /// <inheritdoc/>
    public override string OutputName => "spike";

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a dense <c>[T, …]</c> with the layer's T.</exception>
    public override Variable Forward(Variable input)
    {
        ParallelNeuronSettings.CheckSteps(input, Steps, "MaskedPSN");
        var output = Functional.MaskedParallelSpikingNeuron(input, Weight, Bias, Order, Lambda, Surrogate);
        Count(output.Spikes!);
        return output;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a dense <c>[T, …]</c> with the layer's T.</exception>
    public override Variable Forward(Variable input, out NeuronTraces traces)
    {
        ParallelNeuronSettings.CheckSteps(input, Steps, "MaskedPSN");
        return Functional.MaskedParallelSpikingNeuron(input, Weight, Bias, Order, Lambda, Surrogate, out traces);
    }

    /// <summary>
    /// The layer of SpikingJelly's <c>MaskedPSN(k, T, lambda_init=0.0, surrogate_function=ATan())</c> built with
    /// <paramref name="settings"/>; the surrogate is read as <c>surrogate</c> or <c>surrogate_function</c>.
    /// </summary>
    /// <exception cref="ArgumentException"><c>k</c> or <c>T</c> is missing or not a whole number, a setting has the wrong type, or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>k</c> or <c>T</c> is less than 1, or <c>lambda_init</c> is not finite.</exception>
    public static MaskedParallelSpikingNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int order = ParallelNeuronSettings.Required(settings, "k", "MaskedPSN(k, T, ...) has no default for its order");
        int steps = ParallelNeuronSettings.Required(settings, "T", "MaskedPSN(k, T, ...) has no default for the number of time steps");
        return new MaskedParallelSpikingNeuron(order, steps, (float)settings.Number("lambda_init", 0.0), settings.Surrogate("ATan"));
    }

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"MaskedPSN(k={Order}, T={Steps}, lambda_={Lambda}, surrogate={Surrogate})");


    private static float FiniteLambda(float value, string name) =>
        float.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"MaskedPSN: lambda must be a finite number; got {value.ToString(CultureInfo.InvariantCulture)}.");
}

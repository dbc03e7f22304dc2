using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Backends;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// A neuron model: its settings, the names of its state variables and saved values, its learnable scalar
/// parameters, its surrogate, and the <see cref="INeuronDynamics"/> struct its fused kernel runs. Every neuron (the
/// built-in ones and a user's) is one of these; the multi-step op, the single-step path, the layers, the spike
/// counters and the conformance runner take any model.
/// </summary>
/// <remarks>
/// A new model is a sealed record deriving from this one (or from <see cref="ThresholdNeuron"/>, for SpikingJelly's
/// threshold-and-reset family) plus a dynamics struct: override <see cref="Name"/>, <see cref="StateNames"/>,
/// <see cref="SavedNames"/>, <see cref="Parameters"/> if it learns any, and <see cref="Dispatch"/>, which hands the
/// dynamics for the current parameter values to the kernel.
/// </remarks>
public abstract record NeuronModel
{
    private readonly Surrogate? _surrogate = new Sigmoid();

    /// <summary>The model's name for messages and reports (SpikingJelly's class name where there is one).</summary>
    public abstract string Name { get; }

    /// <summary>The names of the state variables, as the dynamics orders them (the membrane potential <c>v</c> first).</summary>
    public abstract IReadOnlyList<string> StateNames { get; }

    /// <summary>The names of the values the forward saves per step (e.g. <c>h</c>, the potential before firing); traces under these names.</summary>
    public abstract IReadOnlyList<string> SavedNames { get; }

    /// <summary>The learnable scalar parameters, in the order the ops take them; none by default.</summary>
    public virtual IReadOnlyList<NeuronParameter> Parameters => [];

    /// <summary>
    /// The name of the output in SpikingJelly's traces: <c>spike</c> for spikes and spike counts, <c>y</c> for an
    /// analog output.
    /// </summary>
    public virtual string OutputName => "spike";

    /// <summary>
    /// True when a model with a float output also fires binary spikes inside (they drive its reset), reported as the
    /// <c>spike</c> trace.
    /// </summary>
    public virtual bool HasInternalSpikes => false;

    /// <summary>
    /// The surrogate gradient of the spike function (default <see cref="Sigmoid"/> with alpha 4, SpikingJelly's); null for a model whose dynamics
    /// define the derivative of their fire function themselves.
    /// </summary>
    public Surrogate? Surrogate
    {
        get => _surrogate;
        init => _surrogate = value;
    }

    /// <summary>
    /// Hands the dynamics for the parameter values <paramref name="parameters"/> (aligned with
    /// <see cref="Parameters"/>) to <paramref name="runner"/>: <c>runner.Run(new MyDynamics(…))</c>.
    /// </summary>
    protected internal abstract void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters);

    /// <summary>
    /// Turns the sums the dynamics accumulated in <see cref="NeuronBackwardLanes{TVec}.GradParameters"/> into the
    /// gradients of <see cref="Parameters"/>; the default passes them through (the dynamics summed
    /// <c>dL/dparameter</c> itself).
    /// </summary>
    protected internal virtual void ParameterGradients(ReadOnlySpan<double> sums, ReadOnlySpan<float> parameters, Span<float> gradients)
    {
        for (int i = 0; i < gradients.Length; i++) gradients[i] = (float)sums[i];
    }

    /// <summary>
    /// The constants of a device backend's neuron kernel for this model, or null when no device has a kernel for it
    /// (the op then refuses device tensors, naming the model and the device).
    /// </summary>
    protected internal virtual NeuronKernelSpec? DeviceKernel(ReadOnlySpan<float> parameters) => null;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the setting unless <paramref name="value"/> is finite.</summary>
    protected static float Finite(float value, string name)
    {
        if (!float.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number; got {value.ToString(CultureInfo.InvariantCulture)}.");
        }
        return value;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the setting unless <paramref name="value"/> is finite.</summary>
    protected static double Finite(double value, string name)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number; got {value.ToString("R", CultureInfo.InvariantCulture)}.");
        }
        return value;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the setting unless <paramref name="value"/> is a finite number greater than <paramref name="bound"/>.</summary>
    protected static double GreaterThan(double value, double bound, string name)
    {
        if (!(value > bound) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(name, value,
                $"{name} must be a finite number > {bound.ToString(CultureInfo.InvariantCulture)}; got {value.ToString("R", CultureInfo.InvariantCulture)}.");
        }
        return value;
    }

    /// <summary>Formats a number for <see cref="object.ToString"/> of a model, invariantly.</summary>
    protected static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A learnable scalar of a neuron model: its state-dict name and its value when the model is created.</summary>
/// <param name="Name">The name (SpikingJelly's: <c>w</c> for the parametric LIF, <c>k</c> for KLIF).</param>
/// <param name="InitialValue">The value a layer starts it at.</param>
public readonly record struct NeuronParameter(string Name, float InitialValue);

/// <summary>Receives a model's dynamics struct, so the fused kernel is compiled for it.</summary>
public interface INeuronDynamicsRunner
{
    /// <summary>Runs the kernel with <paramref name="dynamics"/>.</summary>
    void Run<TDynamics>(in TDynamics dynamics) where TDynamics : struct, INeuronDynamics;
}

using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Modules applied in order; children are named by their index (<c>0</c>, <c>1</c>, …), so a Linear at index 1
/// owns <c>1.weight</c> and <c>1.bias</c>, as in PyTorch's <c>nn.Sequential</c>.
/// </summary>
public sealed class Sequential : Module
{
    private readonly Module[] _layers;

    /// <summary>Chains <paramref name="layers"/> (the sequential takes ownership of them).</summary>
    public Sequential(params Module[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = (Module[])layers.Clone();
        for (int i = 0; i < _layers.Length; i++)
        {
            if (_layers[i] is null) throw new ArgumentException($"Sequential: layer {i} is null.", nameof(layers));
            RegisterModule(i.ToString(CultureInfo.InvariantCulture), _layers[i]);
        }
    }

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<Module> Layers => _layers;

    /// <summary>The number of layers.</summary>
    public int Count => _layers.Length;

    /// <summary>The layer at <paramref name="index"/>.</summary>
    public Module this[int index] => _layers[index];

    /// <summary>The number of leading layers that run once on a time-invariant input (0: none).</summary>
    public int StaticLayers { get; private set; }

    /// <summary>The time steps the static prefix's output is repeated to.</summary>
    public int StaticTimeSteps { get; private set; } = 1;

    /// <summary>
    /// Declares that the input is the same at every time step (direct encoding of a static image), so the first
    /// <paramref name="layers"/> stateless layers run once on <c>[1, B, …]</c> and their output is repeated to
    /// <paramref name="timeSteps"/> steps before the first neuron, as SpikingJelly's examples do for static data.
    /// Values and gradients equal those of running the layers on T copies (batch norm statistics over identical
    /// copies are the same, the gradient sums over the copies); batch norms count the copies in their unbiased
    /// running variance, and counting layers charge T passes to the energy estimate. Forward then takes
    /// <c>[1, B, …]</c>. Pass 0 layers to go back to plain multi-step input.
    /// </summary>
    /// <exception cref="ArgumentException">A layer of the prefix keeps state over time (a spiking neuron) or the counts are out of range.</exception>
    public void UseStaticPrefix(int layers, int timeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layers, _layers.Length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeSteps);
        for (int i = 0; i < layers; i++)
        {
            if (_layers[i] is INeuronLayer)
            {
                throw new ArgumentException($"Sequential: layer {i} ({_layers[i].GetType().Name}) is a spiking neuron; a static prefix may hold only stateless layers.", nameof(layers));
            }
        }
        for (int i = 0; i < _layers.Length; i++)
        {
            int replicas = i < layers ? timeSteps : 1;
            foreach (var (_, module) in _layers[i].NamedModules())
            {
                if (module is BatchNorm norm) norm.Replicas = replicas;
                if (module is IOperationCounter counter) counter.Operations.Replicas = replicas;
            }
        }
        (StaticLayers, StaticTimeSteps) = (layers, layers == 0 ? 1 : timeSteps);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">With a static prefix, the input's leading (time) axis is not 1.</exception>
    public override Variable Forward(Variable input) => ForwardAfterPrefix(ForwardPrefix(input), StaticTimeSteps);

    /// <summary>
    /// The static prefix alone: its layers on the one time step <c>[1, B, …]</c> (the input itself when there is no
    /// prefix). With <see cref="ForwardAfterPrefix"/>, a trainer runs the prefix once per batch and the rest of the
    /// network in pieces of the sequence.
    /// </summary>
    /// <exception cref="ArgumentException">With a static prefix, the input's leading (time) axis is not 1.</exception>
    public Variable ForwardPrefix(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (StaticLayers == 0) return input;
        if (input.Shape.Rank == 0 || input.Shape[0] != 1)
        {
            throw new ArgumentException(
                $"Sequential with a static prefix of {StaticLayers} layers takes one time step [1, B, …]; the input has shape {input.Shape}.", nameof(input));
        }
        var x = input;
        for (int i = 0; i < StaticLayers; i++) x = _layers[i].Forward(x);
        return x;
    }

    /// <summary>
    /// The layers after the static prefix, on <paramref name="prefixOutput"/> repeated to <paramref name="timeSteps"/>
    /// steps (<see cref="StaticTimeSteps"/> for the whole sequence, fewer for a piece of it); without a prefix, every
    /// layer on <paramref name="prefixOutput"/> as it is.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeSteps"/> is less than 1.</exception>
    public Variable ForwardAfterPrefix(Variable prefixOutput, int timeSteps)
    {
        ArgumentNullException.ThrowIfNull(prefixOutput);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeSteps);
        if (StaticLayers == 0)
        {
            var y = prefixOutput;
            for (int i = 0; i < _layers.Length; i++) y = _layers[i].Forward(y);
            return y;
        }
        var x = Functional.RepeatTime(prefixOutput, timeSteps);
        for (int i = StaticLayers; i < _layers.Length; i++) x = _layers[i].Forward(x);
        return x;
    }
}

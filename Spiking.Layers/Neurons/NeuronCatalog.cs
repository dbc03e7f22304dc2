using System;
using System.Collections.Generic;
using Spiking.Autograd.Neurons;

namespace Spiking.Layers;

/// <summary>
/// Neuron layers by SpikingJelly class name (<c>LIFNode</c>, <c>QIFNode</c>, <c>PSN</c>, …), built from the keyword
/// arguments SpikingJelly took (<see cref="NeuronSettings"/>): how a model described elsewhere (a golden case, a
/// configuration file) becomes a layer here. A user's neuron joins with <see cref="Register"/>.
/// </summary>
public static class NeuronCatalog
{
    private static readonly object s_lock = new();

    private static readonly Dictionary<string, Func<NeuronSettings, Module>> s_factories = new(StringComparer.Ordinal)
    {
        ["IFNode"] = s => new SpikingNeuron(IFNeuron.FromSpikingJelly(s)),
        ["LIFNode"] = s => new SpikingNeuron(LifNeuron.FromSpikingJelly(s)),
        ["ParametricLIFNode"] = s => new SpikingNeuron(ParametricLifNeuron.FromSpikingJelly(s)),
        ["KLIFNode"] = s => new SpikingNeuron(KlifNeuron.FromSpikingJelly(s)),
        ["LIAFNode"] = s => new SpikingNeuron(LiafNeuron.FromSpikingJelly(s)),
        ["ILIFNode"] = s => new SpikingNeuron(IlifNeuron.FromSpikingJelly(s)),
        ["PSN"] = ParallelSpikingNeuron.FromSpikingJelly,
        ["MaskedPSN"] = MaskedParallelSpikingNeuron.FromSpikingJelly,
        ["SlidingPSN"] = SlidingParallelSpikingNeuron.FromSpikingJelly,
        ["FewSpikeNode"] = FewSpikeNeuron.FromSpikingJelly,
        ["QIFNode"] = s => new SpikingNeuron(QifNeuron.FromSpikingJelly(s)),
        ["EIFNode"] = s => new SpikingNeuron(EifNeuron.FromSpikingJelly(s)),
        ["IzhikevichNode"] = s => new SpikingNeuron(IzhikevichNeuron.FromSpikingJelly(s)),
        ["ALIFNode"] = s => new SpikingNeuron(AdaptiveLifNeuron.FromSpikingJelly(s)),
        ["CubaLIFNode"] = s => new SpikingNeuron(CubaLifNeuron.FromSpikingJelly(s)),
        ["IIRLIFNode"] = s => new SpikingNeuron(IirLifNeuron.FromSettings(s)),
    };

    /// <summary>The class names known, built-in and registered.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (s_lock) return [.. s_factories.Keys];
        }
    }

    /// <summary>
    /// The layer of class <see cref="NeuronSettings.Node"/> built with <paramref name="settings"/>; every setting must
    /// be one the class reads.
    /// </summary>
    /// <exception cref="ArgumentException">The class is unknown (the message lists the known ones), or a setting is unknown or of the wrong type.</exception>
    public static Module Create(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Func<NeuronSettings, Module>? create;
        lock (s_lock) s_factories.TryGetValue(settings.Node, out create);
        if (create is null)
        {
            throw new ArgumentException($"Unknown neuron class '{settings.Node}'; known: {string.Join(", ", Names)}.", nameof(settings));
        }
        var layer = create(settings);
        try
        {
            settings.RejectUnknown();
        }
        catch
        {
            layer.Dispose();
            throw;
        }
        return layer;
    }

    /// <summary>Makes class <paramref name="node"/> known to <see cref="Create"/>; registering a name again replaces it.</summary>
    /// <exception cref="ArgumentException"><paramref name="node"/> is empty or whitespace.</exception>
    public static void Register(string node, Func<NeuronSettings, Module> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(node);
        ArgumentNullException.ThrowIfNull(create);
        lock (s_lock) s_factories[node] = create;
    }
}

using System.Collections.Generic;

namespace Spiking.Layers;

/// <summary>
/// The energy estimate of the Spike-driven Transformer and STEP papers at 45 nm: a synaptic operation on a spike
/// costs one accumulate (<see cref="AccumulatePicojoules"/> = 0.9 pJ) and a multiply–accumulate on a dense input
/// costs <see cref="MultiplyAccumulatePicojoules"/> = 4.6 pJ.
/// </summary>
/// <remarks>
/// What counts: Linear and Conv2d layers. A layer whose input is spikes does synaptic operations (one per input
/// spike per target it reaches, exactly, borders included for convolutions); a layer whose input is dense (the
/// first layer of a directly encoded network) does MACs. Batch norms are taken as folded into the preceding
/// convolution at inference, and neuron updates, pooling and the readout are not counted, as in those papers.
/// </remarks>
public static class EnergyModel
{
    /// <summary>Energy of one accumulate, in picojoules.</summary>
    public const double AccumulatePicojoules = 0.9;

    /// <summary>Energy of one multiply–accumulate, in picojoules.</summary>
    public const double MultiplyAccumulatePicojoules = 4.6;

    /// <summary>Turns counting on (and clears the counters) for every counting layer of <paramref name="model"/>.</summary>
    public static void StartCounting(Module model)
    {
        System.ArgumentNullException.ThrowIfNull(model);
        foreach (var (_, module) in model.NamedModules())
        {
            if (module is IOperationCounter counter)
            {
                counter.Operations.Clear();
                counter.Operations.Enabled = true;
            }
            if (module is INeuronLayer neuron)
            {
                neuron.ClearCounts();
                neuron.CountSpikes = true;
            }
        }
    }

    /// <summary>Turns counting off for every counting layer of <paramref name="model"/> (the counts stay readable).</summary>
    public static void StopCounting(Module model)
    {
        System.ArgumentNullException.ThrowIfNull(model);
        foreach (var (_, module) in model.NamedModules())
        {
            if (module is IOperationCounter counter) counter.Operations.Enabled = false;
            if (module is INeuronLayer neuron) neuron.CountSpikes = false;
        }
    }

    /// <summary>Per-layer operations and energy per sample, counted over <paramref name="samples"/> samples.</summary>
    public static EnergyReport Report(Module model, long samples)
    {
        System.ArgumentNullException.ThrowIfNull(model);
        System.ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        var layers = new List<LayerEnergy>();
        var rates = new List<LayerFiringRate>();
        string? lastNeuron = null;
        foreach (var (name, module) in model.NamedModules())
        {
            if (module is IOperationCounter counter)
            {
                double sops = (double)counter.Operations.SynapticOperations / samples;
                double macs = (double)counter.Operations.MultiplyAccumulates / samples;
                layers.Add(new LayerEnergy(name, module.GetType().Name, sops, macs,
                    (sops * AccumulatePicojoules + macs * MultiplyAccumulatePicojoules) * 1e-6, lastNeuron));
                lastNeuron = null;
            }
            if (module is INeuronLayer neuron)
            {
                rates.Add(new LayerFiringRate(name, module.GetType().Name, neuron.FiringRate));
                lastNeuron = name;
            }
        }
        return new EnergyReport(layers, rates);
    }
}

/// <summary>One synaptic layer's work per sample.</summary>
/// <param name="Name">The layer's dotted name.</param>
/// <param name="Kind">The layer's type.</param>
/// <param name="SynapticOperations">Accumulates on spike input per sample.</param>
/// <param name="MultiplyAccumulates">MACs on dense input per sample.</param>
/// <param name="Microjoules">Estimated energy per sample, in µJ.</param>
/// <param name="FedBy">The spiking layer just before it in module order (whose spikes it receives in a sequential
/// model), or null when none comes between it and the previous synaptic layer or the input.</param>
public sealed record LayerEnergy(string Name, string Kind, double SynapticOperations, double MultiplyAccumulates, double Microjoules, string? FedBy);

/// <summary>One spiking layer's firing rate: spikes per neuron per time step.</summary>
/// <param name="Name">The layer's dotted name.</param>
/// <param name="Kind">The neuron type.</param>
/// <param name="Rate">The firing rate.</param>
public sealed record LayerFiringRate(string Name, string Kind, double Rate);

/// <summary>The energy model's result: per-layer operations and energy, and per-layer firing rates.</summary>
/// <param name="Layers">Synaptic layers in model order.</param>
/// <param name="FiringRates">Spiking layers in model order.</param>
public sealed record EnergyReport(IReadOnlyList<LayerEnergy> Layers, IReadOnlyList<LayerFiringRate> FiringRates)
{
    /// <summary>Total synaptic operations per sample.</summary>
    public double SynapticOperations => Sum(static l => l.SynapticOperations);

    /// <summary>Total MACs per sample.</summary>
    public double MultiplyAccumulates => Sum(static l => l.MultiplyAccumulates);

    /// <summary>Total estimated energy per sample, in µJ.</summary>
    public double Microjoules => Sum(static l => l.Microjoules);

    private double Sum(System.Func<LayerEnergy, double> pick)
    {
        double total = 0;
        foreach (var layer in Layers) total += pick(layer);
        return total;
    }
}

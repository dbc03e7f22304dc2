using System.Collections.Generic;

namespace Spiking.Layers;

/// <summary>
/// The energy estimate of the Spike-driven Transformer and STEP papers at 45 nm. Arithmetic: a synaptic operation on
/// a spike costs one accumulate (<see cref="AccumulatePicojoules"/> = 0.9 pJ) and a multiply–accumulate on a dense
/// input <see cref="MultiplyAccumulatePicojoules"/> = 4.6 pJ, both for 32-bit operands and scaled by the operands'
/// bit width (STEP): an accumulate by the weight's bits over 32, a MAC by the wider of weight and input over 32.
/// Memory (STEP): every bit moved costs <see cref="MemoryPicojoulesPerBit"/> = 3.12 pJ; a layer reads its weights
/// (at their bit width; biases and scales as 32-bit) once per time step, and its input once.
/// </summary>
/// <remarks>
/// What counts: the layers that implement <see cref="IOperationCounter"/> (Linear, Conv2d and the quantized layers).
/// A layer whose input is spikes does synaptic operations (one per input spike per target it reaches, exactly,
/// borders included for convolutions), and so does one whose input is multi-level spike counts (one per unit of
/// count: <see cref="OperationCounts.CountInput"/>); a layer whose input is dense (the first layer of a directly
/// encoded network) does MACs. Batch norms are taken as folded into the preceding convolution at inference, and
/// neuron updates, pooling and the readout are not counted, as in those papers. <see cref="EnergyReport.Microjoules"/>
/// is the arithmetic alone, the figure those papers quote; <see cref="EnergyReport.MemoryMicrojoules"/> adds STEP's
/// data movement.
/// </remarks>
public static class EnergyModel
{
    /// <summary>Energy of one accumulate, in picojoules.</summary>
    public const double AccumulatePicojoules = 0.9;

    /// <summary>Energy of one multiply–accumulate, in picojoules.</summary>
    public const double MultiplyAccumulatePicojoules = 4.6;

    /// <summary>Energy of moving one bit between memory and the arithmetic, in picojoules (STEP's figure).</summary>
    public const double MemoryPicojoulesPerBit = 3.12;

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

    /// <summary>
    /// Per-layer operations and energy per sample, counted over <paramref name="samples"/> samples of
    /// <paramref name="timeSteps"/> time steps each (the number of times a layer's weights are read per sample).
    /// </summary>
    public static EnergyReport Report(Module model, long samples, int timeSteps = 1)
    {
        System.ArgumentNullException.ThrowIfNull(model);
        System.ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        System.ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeSteps);
        var layers = new List<LayerEnergy>();
        var rates = new List<LayerFiringRate>();
        string? lastNeuron = null;
        foreach (var (name, module) in model.NamedModules())
        {
            if (module is IOperationCounter counter)
            {
                var ops = counter.Operations;
                double sops = (double)ops.SynapticOperations / samples;
                double macs = (double)ops.MultiplyAccumulates / samples;
                double bitScale = ops.WeightBits / 32.0;
                double compute = (sops * AccumulatePicojoules * bitScale + macs * MultiplyAccumulatePicojoules * System.Math.Max(bitScale, 1.0)) * 1e-6;
                double weightBits = WeightBitsPerPass(module, ops.WeightBits) * timeSteps;
                double inputBits = (double)ops.InputBits / samples;
                layers.Add(new LayerEnergy(name, module.GetType().Name, sops, macs, compute, lastNeuron)
                {
                    WeightBits = ops.WeightBits,
                    WeightBitsRead = weightBits,
                    InputBitsRead = inputBits,
                    MemoryMicrojoules = (weightBits + inputBits) * MemoryPicojoulesPerBit * 1e-6,
                });
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

    /// <summary>
    /// The bits of one read of a layer's own parameters (not its children's, which count for themselves): its
    /// <c>weight</c> at <paramref name="weightBits"/>, the rest at 32.
    /// </summary>
    private static long WeightBitsPerPass(Module layer, int weightBits)
    {
        long bits = 0;
        foreach (var (name, parameter) in layer.NamedParameters())
        {
            if (name.Contains('.', System.StringComparison.Ordinal)) continue;
            long count = parameter.Variable.Shape.ElementCount;
            bits += count * (name == "weight" ? weightBits : 32);
        }
        return bits;
    }
}

/// <summary>One synaptic layer's work per sample.</summary>
/// <param name="Name">The layer's dotted name.</param>
/// <param name="Kind">The layer's type.</param>
/// <param name="SynapticOperations">Accumulates on spike input per sample.</param>
/// <param name="MultiplyAccumulates">MACs on dense input per sample.</param>
/// <param name="FedBy">The spiking layer just before it in module order (whose spikes it receives in a sequential
/// model), or null when none comes between it and the previous synaptic layer or the input.</param>
/// <param name="Microjoules">Estimated energy of the arithmetic per sample, in µJ.</param>
public sealed record LayerEnergy(string Name, string Kind, double SynapticOperations, double MultiplyAccumulates, double Microjoules, string? FedBy)
{
    /// <summary>The bits each of the layer's weights is stored in.</summary>
    public int WeightBits { get; init; } = 32;

    /// <summary>Bits of parameters read per sample (once per time step).</summary>
    public double WeightBitsRead { get; init; }

    /// <summary>Bits of input read per sample.</summary>
    public double InputBitsRead { get; init; }

    /// <summary>Energy of the layer's memory traffic per sample, in µJ.</summary>
    public double MemoryMicrojoules { get; init; }
}

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

    /// <summary>Total estimated energy of the arithmetic per sample, in µJ (the figure of the Spike-driven Transformer papers).</summary>
    public double Microjoules => Sum(static l => l.Microjoules);

    /// <summary>Total energy of the memory traffic per sample, in µJ (STEP's data movement).</summary>
    public double MemoryMicrojoules => Sum(static l => l.MemoryMicrojoules);

    /// <summary>Arithmetic and memory per sample, in µJ: STEP's total.</summary>
    public double TotalMicrojoules => Microjoules + MemoryMicrojoules;

    private double Sum(System.Func<LayerEnergy, double> pick)
    {
        double total = 0;
        foreach (var layer in Layers) total += pick(layer);
        return total;
    }
}

using System;
using System.Numerics;
using System.Threading;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// What a synaptic layer did while counting was on: synaptic operations (one accumulate per spike per fan-out
/// target, the work of spike input) and multiply–accumulates (the work of dense input). They feed the energy
/// model of the Spike-driven Transformer and STEP papers.
/// </summary>
public sealed class OperationCounts
{
    private long _synaptic, _macs, _samples, _inputBits;
    private int _weightBits = 32;

    /// <summary>Whether forward passes are counted; off by default, since counting pops the input's bits.</summary>
    public bool Enabled { get; set; }

    /// <summary>Synaptic (accumulate-only) operations so far.</summary>
    public long SynapticOperations => Interlocked.Read(ref _synaptic);

    /// <summary>Multiply–accumulate operations so far.</summary>
    public long MultiplyAccumulates => Interlocked.Read(ref _macs);

    /// <summary>Bits of input the layer read so far: one per binary spike, the count's width per multi-level spike, 32 per float.</summary>
    public long InputBits => Interlocked.Read(ref _inputBits);

    /// <summary>
    /// The bits each weight is stored in (32 for float; a quantized layer's 8 or 4). The energy model scales the
    /// arithmetic and the weight traffic by it; other parameters (biases, scales) are taken as 32-bit.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not from 1 to 32.</exception>
    public int WeightBits
    {
        get => _weightBits;
        set => _weightBits = value is >= 1 and <= 32 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"WeightBits must be from 1 to 32; got {value}.");
    }

    /// <summary>
    /// Set when the layer's float input holds multi-level spike counts (0 … D, each count worth
    /// <see cref="SpikeCountInput.Unit"/>): its operations are then counted as accumulates, one per unit of count per
    /// target, and its input as counts of <see cref="SpikeCountInput.Bits"/> bits. When null (the default), a float
    /// input whose every value is a whole number of halves or quarters from 0 to 15 units, not all whole (what a
    /// multi-level neuron such as QSD's Multispike emits), is counted so too (<see cref="SpikeCountInput.Detect"/>),
    /// and any other as dense.
    /// </summary>
    public SpikeCountInput? CountInput { get; set; }

    /// <summary>The count reading of <paramref name="input"/>: <see cref="CountInput"/> if set, else what its values show, else null.</summary>
    internal SpikeCountInput? CountsOf(Variable input)
    {
        if (CountInput is { } declared) return declared;
        using var host = input.Dense.IsOnHost ? null : input.Dense.To(Device.Cpu);
        // Whole numbers stay dense, as the papers charge them (a residual stream of spike counts, a 0/1 map kept as
        // floats); a multi-level neuron's fractions of a count are what marks its output.
        return SpikeCountInput.Detect((host ?? input.Dense).AsReadOnlySpan()) is { Unit: < 1f } counts ? counts : null;
    }

    /// <summary>Samples counted (the caller adds them per batch, so per-sample figures can be derived).</summary>
    public long Samples => Interlocked.Read(ref _samples);

    /// <summary>
    /// How many identical time steps each counted pass stands for: a layer that runs once on a time-invariant input
    /// in place of T times (see <see cref="Sequential.UseStaticPrefix"/>) is charged for the T passes the network
    /// describes, so the energy estimate stays that of the model, not of the shortcut.
    /// </summary>
    public int Replicas { get; set; } = 1;

    /// <summary>Adds synaptic operations (times <see cref="Replicas"/>).</summary>
    public void AddSynaptic(long count) => Interlocked.Add(ref _synaptic, count * Replicas);

    /// <summary>Adds multiply–accumulates (times <see cref="Replicas"/>).</summary>
    public void AddMultiplyAccumulate(long count) => Interlocked.Add(ref _macs, count * Replicas);

    /// <summary>Adds bits of input read (times <see cref="Replicas"/>).</summary>
    public void AddInputBits(long bits) => Interlocked.Add(ref _inputBits, bits * Replicas);

    /// <summary>
    /// Counts one pass of a layer that sends each input element to <paramref name="targets"/> outputs (a Linear's
    /// out features): accumulates for spikes or spike counts, multiply–accumulates for a dense input, and the input's bits.
    /// </summary>
    internal void CountFullyConnected(Variable input, long targets)
    {
        long elements = input.Shape.ElementCount;
        if (input.Spikes is { } spikes)
        {
            AddSynaptic(spikes.PopCount() * targets);
            AddInputBits(elements);
        }
        else if (CountsOf(input) is { } counts)
        {
            AddSynaptic(counts.Total(input) * targets);
            AddInputBits(elements * counts.Bits);
        }
        else
        {
            AddMultiplyAccumulate(elements * targets);
            AddInputBits(elements * 32);
        }
    }

    /// <summary>Adds samples.</summary>
    public void AddSamples(long count) => Interlocked.Add(ref _samples, count);

    /// <summary>Starts counting from zero.</summary>
    public void Clear()
    {
        Interlocked.Exchange(ref _synaptic, 0);
        Interlocked.Exchange(ref _macs, 0);
        Interlocked.Exchange(ref _samples, 0);
        Interlocked.Exchange(ref _inputBits, 0);
    }
}

/// <summary>A layer that counts its synaptic operations and multiply–accumulates.</summary>
public interface IOperationCounter
{
    /// <summary>The layer's counters.</summary>
    OperationCounts Operations { get; }
}

/// <summary>
/// A float input that carries multi-level spike counts: values <c>c · Unit</c> with integer c from 0 to
/// <see cref="MaxCount"/> (QSD's multi-level neuron emits count/4, so Unit 0.25 and MaxCount 4).
/// </summary>
/// <param name="MaxCount">The largest count D.</param>
/// <param name="Unit">The value one count stands for.</param>
public readonly record struct SpikeCountInput(int MaxCount, float Unit)
{
    /// <summary>The bits one count takes: ⌈log2(D + 1)⌉.</summary>
    public int Bits => 32 - BitOperations.LeadingZeroCount((uint)MaxCount);

    /// <summary>The most units a detected count may hold: 15, so it fits 4 bits.</summary>
    private const int MaxDetectedCount = 15;

    /// <summary>
    /// The coarsest of the units 1, ½ and ¼ in which every value of <paramref name="values"/> is a whole count from 0
    /// to 15, with the largest count seen as <see cref="MaxCount"/>; null when there is none (a dense input) or the
    /// input is empty or all zero.
    /// </summary>
    public static SpikeCountInput? Detect(ReadOnlySpan<float> values)
    {
        for (int shift = 0; shift <= 2; shift++)
        {
            float perUnit = 1 << shift;
            float largest = 0;
            bool whole = true;
            foreach (float v in values)
            {
                float c = v * perUnit;
                // Also false for NaN, so a non-finite input is never read as counts.
                if (!(c >= 0 && c <= MaxDetectedCount && c == MathF.Floor(c)))
                {
                    whole = false;
                    break;
                }
                largest = MathF.Max(largest, c);
            }
            if (whole) return largest == 0 ? null : new SpikeCountInput((int)largest, 1f / perUnit);
        }
        return null;
    }

    /// <summary>The sum of the counts in <paramref name="input"/> (its values over <see cref="Unit"/>, rounded).</summary>
    internal long Total(Variable input)
    {
        using var host = input.Dense.IsOnHost ? null : input.Dense.To(Device.Cpu);
        var values = (host ?? input.Dense).AsReadOnlySpan();
        double units = 0;
        foreach (float v in values) units += v;
        return (long)Math.Round(units / Unit);
    }
}

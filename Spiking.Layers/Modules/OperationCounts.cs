using System.Threading;

namespace Spiking.Layers;

/// <summary>
/// What a synaptic layer did while counting was on: synaptic operations (one accumulate per spike per fan-out
/// target, the work of spike input) and multiply–accumulates (the work of dense input). They feed the energy
/// model of the Spike-driven Transformer and STEP papers.
/// </summary>
public sealed class OperationCounts
{
    private long _synaptic, _macs, _samples;

    /// <summary>Whether forward passes are counted; off by default, since counting pops the input's bits.</summary>
    public bool Enabled { get; set; }

    /// <summary>Synaptic (accumulate-only) operations so far.</summary>
    public long SynapticOperations => Interlocked.Read(ref _synaptic);

    /// <summary>Multiply–accumulate operations so far.</summary>
    public long MultiplyAccumulates => Interlocked.Read(ref _macs);

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

    /// <summary>Adds samples.</summary>
    public void AddSamples(long count) => Interlocked.Add(ref _samples, count);

    /// <summary>Starts counting from zero.</summary>
    public void Clear()
    {
        Interlocked.Exchange(ref _synaptic, 0);
        Interlocked.Exchange(ref _macs, 0);
        Interlocked.Exchange(ref _samples, 0);
    }
}

/// <summary>A layer that counts its synaptic operations and multiply–accumulates.</summary>
public interface IOperationCounter
{
    /// <summary>The layer's counters.</summary>
    OperationCounts Operations { get; }
}

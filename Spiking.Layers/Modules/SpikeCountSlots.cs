using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Integer training, spike inference (SpikingJelly's <c>SpikeCountToBinary</c>): after a multi-level neuron such as
/// <c>ILIFNode</c>, expands its counts <c>[T, B, …]</c> into D binary sub-steps per step, <c>[T·D, B, …]</c>
/// (<see cref="Functional.ExpandCounts"/>), so the bias-free layer after it runs on spikes; a
/// <see cref="TemporalBinSum"/> after that layer returns to T steps. In training mode it passes the counts through
/// unchanged (the layer then multiplies counts), unless <see cref="AlwaysConvert"/>; in evaluation mode it expands.
/// Both give the same outputs: <c>W·c = Σ_d W·s_d</c>.
/// </summary>
/// <remarks>The usual flow: ILIF → SpikeCountToBinary → Linear or Conv without bias → TemporalBinSum → bias, norm, nonlinearity.</remarks>
public sealed class SpikeCountToBinary : Module
{
    /// <summary>Expands counts 0..<paramref name="slots"/> into <paramref name="slots"/> sub-steps; <paramref name="alwaysConvert"/> also in training mode.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="slots"/> is less than 1.</exception>
    public SpikeCountToBinary(int slots, bool alwaysConvert = false)
    {
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots), slots, $"SpikeCountToBinary needs at least 1 slot per step; got {slots}.");
        Slots = slots;
        AlwaysConvert = alwaysConvert;
    }

    /// <summary>D: the largest count and the number of sub-steps per step (SpikingJelly's <c>num_slots</c>).</summary>
    public int Slots { get; }

    /// <summary>Whether training mode expands too (SpikingJelly's <c>always_convert</c>).</summary>
    public bool AlwaysConvert { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Expanding, and the input is not whole counts in [0, Slots] of shape [T, …] with an axis after time.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        // A new variable either way, so the caller may dispose the output without disposing the input.
        return Training && !AlwaysConvert ? Functional.Reshape(input, input.Shape) : Functional.ExpandCounts(input, Slots);
    }
}

/// <summary>
/// Sums each run of D consecutive steps, <c>[T·D, B, …]</c> to <c>[T, B, …]</c> (SpikingJelly's <c>TemporalBinSum</c>,
/// <see cref="Functional.SumSubSteps"/>): the partner of <see cref="SpikeCountToBinary"/> with the same slots and the
/// same <see cref="AlwaysConvert"/>, passing its input through in training mode unless that is set.
/// </summary>
public sealed class TemporalBinSum : Module
{
    /// <summary>Sums runs of <paramref name="slots"/> steps; <paramref name="alwaysConvert"/> also in training mode.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="slots"/> is less than 1.</exception>
    public TemporalBinSum(int slots, bool alwaysConvert = false)
    {
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots), slots, $"TemporalBinSum needs at least 1 slot per step; got {slots}.");
        Slots = slots;
        AlwaysConvert = alwaysConvert;
    }

    /// <summary>D: the sub-steps summed into one step.</summary>
    public int Slots { get; }

    /// <summary>Whether training mode sums too.</summary>
    public bool AlwaysConvert { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Summing, and the leading axis is not a multiple of Slots.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Training && !AlwaysConvert ? Functional.Reshape(input, input.Shape) : Functional.SumSubSteps(input, Slots);
    }
}

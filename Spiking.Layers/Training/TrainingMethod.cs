using System;
using System.Globalization;

namespace Spiking.Layers;

/// <summary>How a training step runs the time steps and takes their gradients (the memory levers of long time).</summary>
public enum TrainingMethodKind
{
    /// <summary>Backpropagation through time: all T steps in one forward, one graph, one backward.</summary>
    Bptt,

    /// <summary>
    /// Spatial learning through time (Meng et al., ICCV 2023): one step at a time, the membrane carried but cut from
    /// the graph, a per-step loss back-propagated and freed before the next step; gradients summed over the steps.
    /// </summary>
    Sltt,

    /// <summary>SLTT on K of the T steps drawn at random per batch; the others advance the state without a graph.</summary>
    SlttK,

    /// <summary>Truncated BPTT: segments of k steps, the gradient through time cut between segments, a per-step loss.</summary>
    Tbptt,

    /// <summary>
    /// BPTT's gradients with memory for k steps: a forward without a graph keeps the neuron states at every k-th
    /// step; the backward recomputes each segment from its saved state, last segment first.
    /// </summary>
    Checkpoint,
}

/// <summary>
/// A training method with its count: <c>bptt</c>, <c>sltt</c>, <c>sltt-k=K</c>, <c>tbptt=k</c> or <c>checkpoint=k</c>
/// (the CLI's <c>--training</c>).
/// </summary>
/// <param name="Kind">The method.</param>
/// <param name="Steps">SLTT-K's trained steps K, or the segment length k of truncation and checkpointing; 1 otherwise.</param>
public sealed record TrainingMethod(TrainingMethodKind Kind, int Steps = 1)
{
    /// <summary>Plain backpropagation through time.</summary>
    public static TrainingMethod Bptt { get; } = new(TrainingMethodKind.Bptt);

    /// <summary>SLTT: every step trained, the gradient cut through time at every step.</summary>
    public static TrainingMethod Sltt { get; } = new(TrainingMethodKind.Sltt);

    /// <summary>
    /// Whether the method trains on the per-step loss (SLTT, SLTT-K, truncation) rather than the model's own loss on
    /// the whole output (BPTT and checkpointing, which give the same gradients).
    /// </summary>
    public bool PerStepLoss => Kind is TrainingMethodKind.Sltt or TrainingMethodKind.SlttK or TrainingMethodKind.Tbptt;

    /// <summary>Reads <c>bptt</c>, <c>sltt</c>, <c>sltt-k=K</c>, <c>tbptt=k</c> or <c>checkpoint=k</c> (K, k ≥ 1).</summary>
    /// <exception cref="FormatException">Another text, or a count that is not a whole number ≥ 1.</exception>
    public static TrainingMethod Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        string name = equals < 0 ? text : text[..equals];
        var kind = name switch
        {
            "bptt" => TrainingMethodKind.Bptt,
            "sltt" => TrainingMethodKind.Sltt,
            "sltt-k" => TrainingMethodKind.SlttK,
            "tbptt" => TrainingMethodKind.Tbptt,
            "checkpoint" => TrainingMethodKind.Checkpoint,
            _ => throw new FormatException($"unknown training method '{text}'; expected bptt, sltt, sltt-k=K, tbptt=k or checkpoint=k"),
        };
        bool counted = kind is TrainingMethodKind.SlttK or TrainingMethodKind.Tbptt or TrainingMethodKind.Checkpoint;
        if (!counted)
        {
            if (equals >= 0) throw new FormatException($"training method '{name}' takes no count; got '{text}'");
            return new TrainingMethod(kind);
        }
        if (equals < 0) throw new FormatException($"training method '{name}' needs a count: {name}=N with N ≥ 1; got '{text}'");
        string count = text[(equals + 1)..];
        if (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out int steps) || steps < 1)
        {
            throw new FormatException($"training method '{name}' needs a whole number of steps ≥ 1 after '='; got '{count}'");
        }
        return new TrainingMethod(kind, steps);
    }

    /// <summary>The method as <see cref="Parse"/> reads it.</summary>
    public override string ToString() => Kind switch
    {
        TrainingMethodKind.Bptt => "bptt",
        TrainingMethodKind.Sltt => "sltt",
        TrainingMethodKind.SlttK => $"sltt-k={Steps}",
        TrainingMethodKind.Tbptt => $"tbptt={Steps}",
        _ => $"checkpoint={Steps}",
    };
}

using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>
/// The operands of one WKV scan, forward or backward (<see cref="Functional.Wkv(Variable, Variable, Variable, Variable)"/>),
/// as every kernel variant takes them: <c>[T, B, C]</c> keys and values, the decay <c>w = −exp(time_decay)</c> and
/// bonus <c>u</c> <c>[C]</c>, and the output the forward writes or the backward reads.
/// </summary>
internal sealed class WkvScan
{
    /// <summary>The kernel's "minus infinity" for a running exponent: <c>exp(MinExponent + anything finite) = 0</c> without NaN.</summary>
    public const float MinExponent = -1e38f;

    public required int Steps { get; init; }

    public required int Batch { get; init; }

    public required int Channels { get; init; }

    /// <summary>The decay <c>w = −exp(time_decay)</c>, <c>[C]</c>.</summary>
    public required Tensor W { get; init; }

    /// <summary>The bonus <c>u = time_first</c>, <c>[C]</c>.</summary>
    public required Tensor U { get; init; }

    public required Tensor K { get; init; }

    public required Tensor V { get; init; }

    /// <summary>The output: written by the forward, read by the backward.</summary>
    public required Tensor Y { get; init; }

    /// <summary>The state the scan starts from, <c>[3, B, C]</c> (p, q, o); null: empty sums.</summary>
    public Tensor? Initial { get; init; }

    /// <summary>Where the forward leaves the state after the last token, <c>[3, B, C]</c>; null: nowhere.</summary>
    public Tensor? Final { get; init; }

    /// <summary>The output's gradient; null for the forward.</summary>
    public Tensor? GradOutput { get; init; }

    /// <summary>The backward's key gradient, <c>[T, B, C]</c>.</summary>
    public Tensor? GradK { get; init; }

    /// <summary>The backward's value gradient, <c>[T, B, C]</c>.</summary>
    public Tensor? GradV { get; init; }

    /// <summary>The backward's gradients by <c>w</c> per batch row, <c>[B, C]</c>, summed over time.</summary>
    public float[]? GradWRows { get; init; }

    /// <summary>The backward's bonus gradients per batch row, <c>[B, C]</c>, summed over time.</summary>
    public float[]? GradURows { get; init; }
}

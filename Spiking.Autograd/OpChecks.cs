using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>Argument checks shared by the ops, with messages that name the argument, what came and what was expected.</summary>
internal static class OpChecks
{
    /// <summary>The dense value of <paramref name="v"/>; spikes are rejected, since a dense-only op must not unpack them silently.</summary>
    /// <exception cref="ArgumentException"><paramref name="v"/> holds spikes.</exception>
    public static Tensor Dense(Variable v, string paramName, string op)
    {
        ArgumentNullException.ThrowIfNull(v, paramName);
        return v.Tensor ?? throw new ArgumentException(
            $"{op} needs a dense '{paramName}'; it holds spikes of shape {v.Shape}. Convert them explicitly with Functional.SpikesToDense.",
            paramName);
    }

    /// <summary>Throws unless <paramref name="v"/> has rank <paramref name="rank"/>.</summary>
    public static void Rank(Variable v, int rank, string paramName, string op)
    {
        if (v.Shape.Rank != rank)
        {
            throw new ArgumentException($"{op} needs '{paramName}' of rank {rank}; it has shape {v.Shape}.", paramName);
        }
    }

    /// <summary>Every element of <paramref name="list"/> must be non-null and the list non-empty.</summary>
    public static void NonEmpty(IReadOnlyList<Variable> list, string paramName, string op)
    {
        ArgumentNullException.ThrowIfNull(list, paramName);
        if (list.Count == 0) throw new ArgumentException($"{op} needs at least one variable in '{paramName}'.", paramName);
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is null) throw new ArgumentNullException(paramName, $"{op}: '{paramName}'[{i}] is null.");
        }
    }

    /// <summary>
    /// Whether the variables of <paramref name="list"/> hold spikes: all must, or none. Mixing is refused rather than
    /// unpacking the spikes silently.
    /// </summary>
    /// <exception cref="ArgumentException">Some elements hold spikes and others are dense.</exception>
    public static bool SameKind(IReadOnlyList<Variable> list, string paramName, string op)
    {
        bool spikes = list[0].IsSpikes;
        for (int i = 1; i < list.Count; i++)
        {
            if (list[i].IsSpikes != spikes)
            {
                throw new ArgumentException(
                    $"{op} needs every variable in '{paramName}' dense or every one spikes; {paramName}[0] {Kind(list[0])} but {paramName}[{i}] {Kind(list[i])}. " +
                    "Convert the spikes explicitly with Functional.SpikesToDense (or Variable.ToDense() outside the graph).",
                    $"{paramName}[{i}]");
            }
        }
        return spikes;
    }

    /// <summary>The spike value of <paramref name="v"/>, for an operand that must be bits (a condition, a mask).</summary>
    /// <exception cref="ArgumentException"><paramref name="v"/> is dense.</exception>
    public static SpikeTensor Spikes(Variable v, string paramName, string op)
    {
        ArgumentNullException.ThrowIfNull(v, paramName);
        return v.Spikes ?? throw new ArgumentException(
            $"{op} takes '{paramName}' as spikes (one bit per element); it is dense of shape {v.Shape}. " +
            "Make bits with SpikeTensor.FromThreshold or SpikeTensor.FromBinary (Variable.Constant holds them), or pass a neuron's output.",
            paramName);
    }

    /// <summary>
    /// The shape <paramref name="first"/> and <paramref name="second"/> broadcast to under NumPy rules; the error names
    /// both operands and the aligned axis where they disagree.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Shape Broadcast(string op, Shape first, string firstName, Shape second, string secondName)
    {
        int rank = Math.Max(first.Rank, second.Rank);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int f = i < rank - first.Rank ? 1 : first[i - (rank - first.Rank)];
            int s = i < rank - second.Rank ? 1 : second[i - (rank - second.Rank)];
            if (f != s && f != 1 && s != 1)
            {
                throw new ArgumentException(
                    $"{op}: '{secondName}' has shape {second}, which does not broadcast with {firstName} of shape {first}: " +
                    $"aligned dimension {i} is {s} against {f}; each pair must match or one must be 1.", secondName);
            }
            dims[i] = f == 1 ? s : f;
        }
        return new Shape(dims);
    }

    private static string Kind(Variable v) => v.IsSpikes ? $"holds spikes of shape {v.Shape}" : $"is dense of shape {v.Shape}";

    /// <summary>The shape used for a bit mask of a tensor of shape <paramref name="shape"/>: spike tensors need an axis, so a scalar becomes <c>[1]</c>.</summary>
    public static Shape MaskShape(Shape shape) => shape.Rank == 0 ? new Shape(1) : shape;

    /// <summary>Operands of one op must share a device; the message names both.</summary>
    /// <exception cref="ArgumentException">The devices differ.</exception>
    public static void SameDevice(string op, Device expected, string expectedName, Device actual, string actualName)
    {
        if (expected != actual)
        {
            throw new ArgumentException(
                $"{op}: '{actualName}' is on {actual} but '{expectedName}' is on {expected}; move them to one device (Tensor.To, Module.To).", actualName);
        }
    }

    /// <summary>The error for an op that has no kernel on a device yet.</summary>
    public static NotSupportedException NoDeviceKernel(string op, Device device, string detail = "") =>
        new($"{op} has no kernel on {device} yet{(detail.Length == 0 ? "" : $" ({detail})")}; run it on the CPU.");
}

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

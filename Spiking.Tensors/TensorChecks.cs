using System;

namespace Spiking.Tensors;

/// <summary>Argument checks shared by the public entry points, with messages that name what came and what was expected.</summary>
internal static class TensorChecks
{
    public static void Live(Tensor tensor, string paramName)
    {
        ArgumentNullException.ThrowIfNull(tensor, paramName);
        if (tensor.IsDisposed)
        {
            throw new ArgumentException($"Tensor '{paramName}' (shape {tensor.Shape}) has been disposed.", paramName);
        }
    }

    public static void Live(SpikeTensor tensor, string paramName)
    {
        ArgumentNullException.ThrowIfNull(tensor, paramName);
        if (tensor.IsDisposed)
        {
            throw new ArgumentException($"Spike tensor '{paramName}' (shape {tensor.Shape}) has been disposed.", paramName);
        }
    }

    public static void SameShape(Tensor expected, Tensor actual, string paramName)
    {
        Live(expected, "this");
        Live(actual, paramName);
        if (expected.Shape != actual.Shape)
        {
            throw new ArgumentException($"'{paramName}' has shape {actual.Shape}; expected {expected.Shape}.", paramName);
        }
    }

    public static void SameDevice(Tensor expected, Tensor actual, string paramName)
    {
        if (expected.Device != actual.Device)
        {
            throw new ArgumentException($"'{paramName}' is on {actual.Device}; expected {expected.Device}.", paramName);
        }
    }

    public static void Rank(Tensor tensor, int rank, string paramName)
    {
        Live(tensor, paramName);
        if (tensor.Rank != rank)
        {
            throw new ArgumentException($"'{paramName}' has shape {tensor.Shape} of rank {tensor.Rank}; expected rank {rank}.", paramName);
        }
    }

    public static void Shape(Tensor tensor, Shape expected, string paramName)
    {
        Live(tensor, paramName);
        if (tensor.Shape != expected)
        {
            throw new ArgumentException($"'{paramName}' has shape {tensor.Shape}; expected {expected}.", paramName);
        }
    }
}

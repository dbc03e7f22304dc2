using System;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>Argument checks shared by the encoders, with messages that name what came and what was expected.</summary>
internal static class EncoderChecks
{
    public static void TimeSteps(int timeSteps, string paramName)
    {
        if (timeSteps < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, timeSteps, $"'{paramName}' is {timeSteps}; an encoding needs at least one time step.");
        }
    }

    /// <summary>An input <c>[B, …]</c>: live and with at least one axis, so its rows stay rows of the encoded <c>[T, B, …]</c>.</summary>
    public static void Input(Tensor x, string paramName)
    {
        ArgumentNullException.ThrowIfNull(x, paramName);
        if (x.IsDisposed) throw new ArgumentException($"Tensor '{paramName}' (shape {x.Shape}) has been disposed.", paramName);
        if (x.Rank == 0)
        {
            throw new ArgumentException($"'{paramName}' has shape {x.Shape}; an encoder needs an input [B, ...] with at least one axis.", paramName);
        }
    }

    public static void Live(SpikeTensor destination, string paramName)
    {
        ArgumentNullException.ThrowIfNull(destination, paramName);
        if (destination.IsDisposed)
        {
            throw new ArgumentException($"Spike tensor '{paramName}' (shape {destination.Shape}) has been disposed.", paramName);
        }
    }

    public static void Live(Tensor destination, string paramName)
    {
        ArgumentNullException.ThrowIfNull(destination, paramName);
        if (destination.IsDisposed)
        {
            throw new ArgumentException($"Tensor '{paramName}' (shape {destination.Shape}) has been disposed.", paramName);
        }
    }

    /// <summary>Checks that <paramref name="destination"/> is <c>[T, …input]</c> with T ≥ 1 and returns T.</summary>
    public static int TimeMajorOf(Shape destination, Shape input, string paramName, string inputName)
    {
        if (destination.Rank != input.Rank + 1 || destination[0] < 1 || !destination.Dimensions[1..].SequenceEqual(input.Dimensions))
        {
            throw new ArgumentException(
                $"'{paramName}' has shape {destination}; '{inputName}' has shape {input}, so it must be [T, {Inner(input)}] with T >= 1.",
                paramName);
        }
        return destination[0];
    }

    /// <summary><c>[T, …input]</c>.</summary>
    public static Shape TimeMajor(int timeSteps, Shape input)
    {
        var dims = new int[input.Rank + 1];
        dims[0] = timeSteps;
        input.Dimensions.CopyTo(dims.AsSpan(1));
        return new Shape(dims);
    }

    private static string Inner(Shape input) => input.ToString()[1..^1];
}

using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Direct (analog) coding: the same input at every time step, so <c>[B, …]</c> becomes <c>[T, B, …]</c> and the
/// first layer (usually a convolution or linear layer followed by neurons) does the encoding. This is what
/// SpikingJelly's examples do with <c>x.unsqueeze(0).repeat(T, 1, …)</c>.
/// </summary>
public static class DirectEncoder
{
    /// <summary>A new <c>[T, B, …]</c> tensor holding <paramref name="timeSteps"/> copies of <paramref name="x"/>.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> is a scalar or disposed.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="timeSteps"/> is less than 1.</exception>
    public static Tensor Encode(Tensor x, int timeSteps)
    {
        EncoderChecks.Input(x, nameof(x));
        EncoderChecks.TimeSteps(timeSteps, nameof(timeSteps));
        var result = Tensor.Empty(EncoderChecks.TimeMajor(timeSteps, x.Shape));
        Repeat(x, result, timeSteps);
        return result;
    }

    /// <summary>Writes a copy of <paramref name="x"/> <c>[B, …]</c> into every step of <paramref name="destination"/> <c>[T, B, …]</c>.</summary>
    /// <exception cref="System.ArgumentException">A tensor is disposed, <paramref name="x"/> is a scalar, or <paramref name="destination"/> is not <c>[T, …x]</c>.</exception>
    public static void Encode(Tensor x, Tensor destination)
    {
        EncoderChecks.Input(x, nameof(x));
        EncoderChecks.Live(destination, nameof(destination));
        int steps = EncoderChecks.TimeMajorOf(destination.Shape, x.Shape, nameof(destination), nameof(x));
        Repeat(x, destination, steps);
    }

    private static void Repeat(Tensor x, Tensor destination, int steps)
    {
        var source = x.AsReadOnlySpan();
        var target = destination.AsSpan();
        for (int t = 0; t < steps; t++) source.CopyTo(target.Slice(t * source.Length, source.Length));
    }
}

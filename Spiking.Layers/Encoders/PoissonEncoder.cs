using System;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Rate coding as SpikingJelly's <c>PoissonEncoder</c>: at every time step each input fires when a fresh uniform
/// <c>u ∈ [0, 1)</c> satisfies <c>u ≤ x</c>, so an intensity x fires at rate x. Spikes are sampled straight into
/// packed bits by <see cref="PhiloxGenerator.FillBernoulli"/>; no float 0/1 tensor is ever made. Intensities
/// ≤ 0 (and NaN) never fire, intensities ≥ 1 always fire.
/// </summary>
/// <remarks>
/// The draws come from one <see cref="PhiloxGenerator"/> whose offset advances with every call, so every batch
/// gets fresh noise and a seed replays the same sequence of calls bit for bit on any number of threads. Step t of
/// a call uses the t-th block range after the previous call's. An instance is not safe to call from several
/// threads at once (it keeps a scratch buffer for byte inputs); each call parallelises itself.
/// </remarks>
public sealed class PoissonEncoder
{
    /// <summary>byte → byte / 255f, the same float the caller gets by dividing, so byte and float inputs agree bit for bit.</summary>
    private static readonly float[] s_byteIntensity = ByteIntensities();

    private float[] _scratch = [];

    /// <summary>Creates an encoder drawing from a Philox generator with this seed and stream.</summary>
    /// <param name="seed">The generator's seed.</param>
    /// <param name="stream">
    /// The generator's stream; the default, <see cref="RandomStreams.Poisson"/>, keeps the spikes apart from the
    /// words that initialise a model (<see cref="ModelSeed"/>) and from the other consumers of the same seed.
    /// </param>
    public PoissonEncoder(ulong seed, ulong stream = RandomStreams.Poisson)
    {
        Generator = new PhiloxGenerator(seed, stream);
    }

    /// <summary>The random source; save and restore its <see cref="PhiloxGenerator.Offset"/> to replay an encoding.</summary>
    public PhiloxGenerator Generator { get; }

    /// <summary>Encodes intensities <paramref name="x"/> <c>[B, …]</c> in [0, 1] as spikes <c>[T, B, …]</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar or disposed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeSteps"/> is less than 1.</exception>
    public SpikeTensor Encode(Tensor x, int timeSteps)
    {
        EncoderChecks.Input(x, nameof(x));
        EncoderChecks.TimeSteps(timeSteps, nameof(timeSteps));
        var result = SpikeTensor.Zeros(EncoderChecks.TimeMajor(timeSteps, x.Shape), x.Device);
        if (x.IsOnHost) Sample(x.AsReadOnlySpan(), result);
        else Generator.Bernoulli(x, timeSteps, result);
        return result;
    }

    /// <summary>Encodes <paramref name="x"/> <c>[B, …]</c> into <paramref name="destination"/> <c>[T, B, …]</c>, allocating nothing.</summary>
    /// <exception cref="ArgumentException">A tensor is disposed, <paramref name="x"/> is a scalar, or <paramref name="destination"/> is not <c>[T, …x]</c>.</exception>
    public void Encode(Tensor x, SpikeTensor destination)
    {
        EncoderChecks.Input(x, nameof(x));
        EncoderChecks.Live(destination, nameof(destination));
        EncoderChecks.TimeMajorOf(destination.Shape, x.Shape, nameof(destination), nameof(x));
        Sample(x.AsReadOnlySpan(), destination);
    }

    /// <summary>
    /// Encodes 8-bit pixels (intensity <c>byte / 255</c>) of shape <paramref name="shape"/> <c>[B, …]</c> as spikes
    /// <c>[T, B, …]</c>; the bits equal those of the float overload on <c>byte / 255f</c>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="shape"/> is a scalar or does not hold <c>pixels.Length</c> elements.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeSteps"/> is less than 1.</exception>
    public SpikeTensor Encode(ReadOnlySpan<byte> pixels, Shape shape, int timeSteps)
    {
        if (shape.Rank == 0 || shape.ElementCount != pixels.Length)
        {
            throw new ArgumentException(
                $"'{nameof(shape)}' is {shape}; it must have at least one axis and hold the {pixels.Length} pixels given.", nameof(shape));
        }
        EncoderChecks.TimeSteps(timeSteps, nameof(timeSteps));
        var result = SpikeTensor.Zeros(EncoderChecks.TimeMajor(timeSteps, shape));
        Sample(Intensities(pixels), result);
        return result;
    }

    /// <summary>
    /// Encodes 8-bit pixels into <paramref name="destination"/> <c>[T, B, …]</c>, which must hold
    /// <c>T · pixels.Length</c> elements; after the first call of a size it allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is disposed, has rank below 2, or does not hold T copies of the pixels.</exception>
    public void Encode(ReadOnlySpan<byte> pixels, SpikeTensor destination)
    {
        EncoderChecks.Live(destination, nameof(destination));
        var shape = destination.Shape;
        if (shape.Rank < 2 || shape[0] < 1 || (long)shape[0] * pixels.Length != shape.ElementCount)
        {
            throw new ArgumentException(
                $"'{nameof(destination)}' has shape {shape}; it must be [T, B, ...] with T >= 1 and T * {pixels.Length} (the pixel count) elements.",
                nameof(destination));
        }
        Sample(Intensities(pixels), destination);
    }

    /// <summary>One Bernoulli fill per step: step t's words are a contiguous block of the destination.</summary>
    private void Sample(ReadOnlySpan<float> intensities, SpikeTensor destination)
    {
        int steps = destination.Shape[0];
        var words = destination.Words;
        int wordsPerStep = words.Length / steps;
        for (int t = 0; t < steps; t++)
        {
            Generator.FillBernoulli(intensities, destination.RowLength, words.Slice(t * wordsPerStep, wordsPerStep));
        }
    }

    private ReadOnlySpan<float> Intensities(ReadOnlySpan<byte> pixels)
    {
        if (_scratch.Length < pixels.Length) _scratch = new float[pixels.Length];
        var x = _scratch.AsSpan(0, pixels.Length);
        for (int i = 0; i < x.Length; i++) x[i] = s_byteIntensity[pixels[i]];
        return x;
    }

    private static float[] ByteIntensities()
    {
        var table = new float[256];
        for (int b = 0; b < table.Length; b++) table[b] = b / 255f;
        return table;
    }
}

using System;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>How <see cref="LatencyEncoder"/> maps an intensity to a firing time.</summary>
public enum LatencyFunction
{
    /// <summary><c>t_f = round((T − 1)(1 − x))</c>.</summary>
    Linear,

    /// <summary><c>t_f = round(T − 1 − ln(α x + 1))</c> with <c>α = e^(T−1) − 1</c>, so x = 1 fires at step 0.</summary>
    Log,
}

/// <summary>
/// Latency (time-to-first-spike) coding as SpikingJelly's <c>LatencyEncoder(T, enc_function)</c>: each input
/// <c>x ∈ [0, 1]</c> fires exactly once, stronger inputs earlier; x = 1 fires at step 0 and x = 0 at step T − 1.
/// The firing time is computed in float32 and rounded half to even, as the PyTorch expression
/// <c>((T - 1.) * (1. - x)).round()</c> (linear) or <c>(T - 1. - torch.log(alpha * x + 1.)).round()</c> (log) does.
/// </summary>
public sealed class LatencyEncoder
{
    private readonly float _alpha;

    /// <summary>Creates an encoder over <paramref name="timeSteps"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeSteps"/> is less than 1, or above 89 for <see cref="LatencyFunction.Log"/> (α = e^(T−1) − 1 overflows float).</exception>
    /// <exception cref="ArgumentException"><paramref name="function"/> is not a defined value.</exception>
    public LatencyEncoder(int timeSteps, LatencyFunction function = LatencyFunction.Linear)
    {
        EncoderChecks.TimeSteps(timeSteps, nameof(timeSteps));
        if (function is not (LatencyFunction.Linear or LatencyFunction.Log))
        {
            throw new ArgumentException($"'{nameof(function)}' is {(int)function}; expected Linear or Log.", nameof(function));
        }
        if (function == LatencyFunction.Log)
        {
            _alpha = (float)(Math.Exp(timeSteps - 1.0) - 1.0);
            if (float.IsInfinity(_alpha))
            {
                throw new ArgumentOutOfRangeException(nameof(timeSteps), timeSteps,
                    $"Log latency coding over {timeSteps} steps needs alpha = e^{timeSteps - 1} - 1, which overflows float; use at most 89 steps.");
            }
        }
        TimeSteps = timeSteps;
        Function = function;
    }

    /// <summary>The number of time steps T.</summary>
    public int TimeSteps { get; }

    /// <summary>The intensity-to-time mapping.</summary>
    public LatencyFunction Function { get; }

    /// <summary>The step at which an input of intensity <paramref name="x"/> ∈ [0, 1] fires.</summary>
    public int FiringStep(float x)
    {
        float steps = TimeSteps - 1f;
        float time = Function == LatencyFunction.Linear
            ? steps * (1f - x)
            : steps - MathF.Log(_alpha * x + 1f);
        // Float rounding can put x = 1 a hair below step 0 on the log curve.
        return Math.Clamp((int)MathF.Round(time, MidpointRounding.ToEven), 0, TimeSteps - 1);
    }

    /// <summary>Encodes intensities <paramref name="x"/> <c>[B, …]</c> as spikes <c>[T, B, …]</c>, one spike per input.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar or disposed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value of <paramref name="x"/> is outside [0, 1] or NaN.</exception>
    public SpikeTensor Encode(Tensor x)
    {
        EncoderChecks.Input(x, nameof(x));
        var result = SpikeTensor.Zeros(EncoderChecks.TimeMajor(TimeSteps, x.Shape));
        try
        {
            Write(x, result);
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Encodes <paramref name="x"/> <c>[B, …]</c> into <paramref name="destination"/> <c>[T, B, …]</c> (T = <see cref="TimeSteps"/>).</summary>
    /// <exception cref="ArgumentException">A tensor is disposed, <paramref name="x"/> is a scalar, or <paramref name="destination"/> is not <c>[T, …x]</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value of <paramref name="x"/> is outside [0, 1] or NaN.</exception>
    public void Encode(Tensor x, SpikeTensor destination)
    {
        EncoderChecks.Input(x, nameof(x));
        EncoderChecks.Live(destination, nameof(destination));
        int steps = EncoderChecks.TimeMajorOf(destination.Shape, x.Shape, nameof(destination), nameof(x));
        if (steps != TimeSteps)
        {
            throw new ArgumentException(
                $"'{nameof(destination)}' has shape {destination.Shape} ({steps} steps); this encoder has {TimeSteps} steps.", nameof(destination));
        }
        Write(x, destination);
    }

    private void Write(Tensor x, SpikeTensor destination)
    {
        var values = x.AsReadOnlySpan();
        for (int i = 0; i < values.Length; i++)
        {
            if (!(values[i] >= 0f && values[i] <= 1f))
            {
                throw new ArgumentOutOfRangeException(nameof(x), values[i],
                    $"Element {i} of 'x' (shape {x.Shape}) is {values[i]}; latency coding needs intensities in [0, 1].");
            }
        }
        var words = destination.Words;
        words.Clear();
        int length = destination.RowLength, perRow = destination.WordsPerRow;
        int rowsPerStep = x.Shape.RowCount;
        for (int r = 0; r < rowsPerStep; r++)
        {
            var row = values.Slice(r * length, length);
            for (int c = 0; c < row.Length; c++)
            {
                int step = FiringStep(row[c]);
                words[(step * rowsPerStep + r) * perRow + (c >> 6)] |= 1UL << (c & 63);
            }
        }
    }
}

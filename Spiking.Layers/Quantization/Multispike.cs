using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// The QSD-Transformer's multi-level spike neuron (<c>Multispike</c>; <see cref="Attention"/> gives
/// <c>Multispike_att</c>): <c>y = floor(clamp(4x, 0, 4) + 0.5)/divisor</c> elementwise on any shape
/// (<see cref="Functional.Multispike"/>), the gradient passed where <c>0 &lt; 4x &lt; 4</c>. It is stateless: every
/// time step fires from its own input, with no membrane carried, as the official module does at any T.
/// </summary>
/// <remarks>
/// Counted spikes are the counts 0..4 (<c>y·divisor</c>), so <see cref="INeuronLayer.FiringRate"/> is the mean count
/// per neuron and step, which may exceed 1, as for the ILIF layer. The output is dense (count/divisor); an integer
/// engine reads the counts with <see cref="Counts"/> (or from the input with <see cref="MultiLevelSpike.Counts"/>).
/// </remarks>
public sealed class Multispike : NeuronLayer
{
    /// <summary>A multi-level spike layer whose output is the count over <paramref name="divisor"/> (4: <c>Multispike</c>; 2: <c>Multispike_att</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="divisor"/> is less than 1.</exception>
    public Multispike(int divisor = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(divisor, 1);
        Divisor = divisor;
    }

    /// <summary>The attention neuron <c>Multispike_att</c>: the same counts over 2 (a gradient of 2 in the window).</summary>
    public static Multispike Attention() => new(2);

    /// <summary>What the count is divided by: 4, or 2 for the attention neuron.</summary>
    public int Divisor { get; }

    /// <inheritdoc/>
    public override string OutputName => "spike";

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input holds spikes.</exception>
    public override Variable Forward(Variable input)
    {
        var output = Functional.Multispike(input, Divisor);
        if (CountSpikes) Count(CountSum(output.Dense), output.Shape.ElementCount);
        return output;
    }

    /// <inheritdoc/>
    /// <remarks>The neuron keeps no state and saves only its gradient window, so <paramref name="traces"/> holds nothing.</remarks>
    /// <exception cref="ArgumentException">The input holds spikes.</exception>
    public override Variable Forward(Variable input, out NeuronTraces traces)
    {
        traces = new NeuronTraces();
        return Functional.Multispike(input, Divisor);
    }

    /// <summary>The counts 0..4 of an <paramref name="output"/> of this layer (<c>y·divisor</c>), as bytes for an integer engine.</summary>
    /// <exception cref="ArgumentException">A value is not a count over <see cref="Divisor"/> in 0..4 (the tensor did not come from this layer).</exception>
    public byte[] Counts(Tensor output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var values = output.ToArray();
        var counts = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float c = MathF.Round(values[i] * Divisor);
            if (!(c >= 0f && c <= MultiLevelSpike.MaxCount && c / Divisor == values[i]))
            {
                throw new ArgumentException(
                    $"Multispike (divisor {Divisor}): output[{i}] = {values[i]} is not a count 0..{MultiLevelSpike.MaxCount} over {Divisor}.", nameof(output));
            }
            counts[i] = (byte)c;
        }
        return counts;
    }

    private long CountSum(Tensor output)
    {
        double sum = 0;
        foreach (float y in output.AsReadOnlySpan()) sum += y;
        return (long)Math.Round(sum * Divisor);
    }

    /// <summary>Formats the layer as the official module it stands for.</summary>
    public override string ToString() => Divisor == 2 ? "Multispike_att()" : Divisor == 4 ? "Multispike()" : $"Multispike(divisor={Divisor})";
}

using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// SpikingJelly's <c>FewSpikeNode</c> (few-spikes coding, Stöckl and Maass 2021) in multi-step mode over <c>[K, …]</c>:
/// <c>gate = Σ_t x_t</c>, <c>u_0 = gate</c>, then for each of the K table entries <c>z_k = heaviside(u_k − θ_k)</c>,
/// output <c>y_k = d_k·z_k</c>, <c>u_{k+1} = u_k − h_k·z_k</c> (<see cref="Functional.FewSpike(Variable, Tensor, Tensor, Tensor, Surrogate)"/>).
/// The table is three buffers <c>theta</c>, <c>h</c>, <c>d</c> of K values each (not learned); the input's time length
/// must be K. The output is the analog <c>y</c>; the spikes <c>z</c> are what <see cref="NeuronLayer.CountSpikes"/> counts.
/// </summary>
public sealed class FewSpikeNeuron : NeuronLayer
{

    /// <summary>A few-spikes neuron with the coding table <paramref name="theta"/>, <paramref name="h"/>, <paramref name="d"/>.</summary>
    /// <param name="theta">The thresholds <c>θ_k</c>.</param>
    /// <param name="h">The amounts subtracted from <c>u</c> after a spike.</param>
    /// <param name="d">The output weights.</param>
    /// <param name="surrogate">The surrogate gradient; SpikingJelly's <see cref="Sigmoid"/> when null.</param>
    /// <exception cref="ArgumentException">The three lists are empty, differ in length, or hold a value that is not finite; the message names which.</exception>
    public FewSpikeNeuron(IReadOnlyList<float> theta, IReadOnlyList<float> h, IReadOnlyList<float> d, Surrogate? surrogate = null)
    {
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(d);
        if (theta.Count == 0 || h.Count != theta.Count || d.Count != theta.Count)
        {
            throw new ArgumentException(
                $"FewSpikeNode: theta, h and d must be non-empty and of one length K; got {theta.Count}, {h.Count} and {d.Count}.",
                theta.Count == 0 ? nameof(theta) : h.Count != theta.Count ? nameof(h) : nameof(d));
        }
        CheckFinite(theta, nameof(theta));
        CheckFinite(h, nameof(h));
        CheckFinite(d, nameof(d));
        K = theta.Count;
        Surrogate = surrogate ?? new Sigmoid();
        RegisterBuffer("theta", Table(theta));
        RegisterBuffer("h", Table(h));
        RegisterBuffer("d", Table(d));
    }

    /// <summary>K, the length of the coding table and of the input's time axis.</summary>
    public int K { get; }

    /// <summary>The surrogate gradient of the spike function.</summary>
    public Surrogate Surrogate { get; }

    /// <summary>The thresholds <c>θ</c> (the buffer <c>theta</c>, <c>[K]</c>).</summary>
    public Tensor Theta => Buffer("theta");

    /// <summary>The subtractions (the buffer <c>h</c>, <c>[K]</c>).</summary>
    public Tensor H => Buffer("h");

    /// <summary>The output weights (the buffer <c>d</c>, <c>[K]</c>).</summary>
    public Tensor D => Buffer("d");

    /// <inheritdoc/>
    public override string OutputName => "y";

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a dense <c>[K, …]</c>; the message names its time length and K.</exception>
    public override Variable Forward(Variable input)
    {
        CheckSteps(input);
        if (!CountSpikes) return Functional.FewSpike(input, Theta, H, D, Surrogate);
        var output = Functional.FewSpike(input, Theta, H, D, Surrogate, out var traces);
        using (traces)
        {
            long spikes = 0;
            foreach (float z in traces["spike"].AsReadOnlySpan()) spikes += z != 0f ? 1 : 0;
            Count(spikes, output.Shape.ElementCount);
        }
        return output;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a dense <c>[K, …]</c>.</exception>
    public override Variable Forward(Variable input, out NeuronTraces traces)
    {
        CheckSteps(input);
        return Functional.FewSpike(input, Theta, H, D, Surrogate, out traces);
    }

    /// <summary>
    /// The layer of SpikingJelly's <c>FewSpikeNode(FewSpikeTable(theta, h, d), surrogate_function=Sigmoid())</c> built
    /// with <paramref name="settings"/>: the table as the lists <c>theta</c>, <c>h</c> and <c>d</c>, the surrogate as
    /// <c>surrogate</c> or <c>surrogate_function</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A list is missing, is not a list of numbers, or the three do not form a table; or the surrogate is unknown.</exception>
    public static FewSpikeNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new FewSpikeNeuron(List(settings, "theta"), List(settings, "h"), List(settings, "d"), settings.Surrogate("Sigmoid"));
    }

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"FewSpikeNode(K={K}, surrogate={Surrogate})");


    private void CheckSteps(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank >= 1 && input.Shape[0] != K)
        {
            throw new ArgumentException(
                $"FewSpikeNode has a table of K = {K} entries, but the input has time length {input.Shape[0]} (shape {input.Shape}); it must be [K, ...].", nameof(input));
        }
    }

    private static void CheckFinite(IReadOnlyList<float> values, string name)
    {
        for (int i = 0; i < values.Count; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentException($"FewSpikeNode: '{name}' must hold finite numbers; {name}[{i}] is {values[i].ToString(CultureInfo.InvariantCulture)}.", name);
            }
        }
    }

    private static Tensor Table(IReadOnlyList<float> values)
    {
        var table = Tensor.Empty(values.Count);
        var span = table.AsSpan();
        for (int i = 0; i < span.Length; i++) span[i] = values[i];
        return table;
    }

    private static float[] List(NeuronSettings settings, string key)
    {
        var values = settings.Numbers(key) ?? throw new ArgumentException($"FewSpikeNode needs '{key}', a list of K numbers of its coding table.", key);
        var result = new float[values.Count];
        for (int i = 0; i < result.Length; i++) result[i] = (float)values[i];
        return result;
    }
}

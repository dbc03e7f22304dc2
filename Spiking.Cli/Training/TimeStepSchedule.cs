using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Autograd.Surrogates;
using Spiking.Layers;

namespace Spiking.Cli.Training;

/// <summary>The spiking layers W1 and W2 are built with (<c>--neuron</c>).</summary>
internal enum NeuronKind
{
    /// <summary>The reference workloads' LIF: τ = 2 with decay_input, threshold 1, hard reset to 0, ATan(2).</summary>
    Lif,

    /// <summary>IIR-SNN's LIF (<see cref="IirLeakyIntegrateAndFire"/>) with a learnable leak and threshold per layer.</summary>
    IirLif,
}

/// <summary>How W1 and W2 turn their last layer into a prediction (<c>--readout</c>).</summary>
internal enum Readout
{
    /// <summary>The reference workloads' spiking output layer: the class that fires most, trained on the MSE of the firing rate.</summary>
    Spikes,

    /// <summary>
    /// IIR-SNN's non-spiking output layer: the output neuron is left out, the last Linear's output averaged over T (the
    /// potential of a non-leaky integrator, divided by T) is the logits, trained with cross-entropy.
    /// </summary>
    Membrane,
}

/// <summary>The names of <see cref="Readout"/>.</summary>
internal static class Readouts
{
    /// <summary>The name of a readout on the command line and in a checkpoint's metadata.</summary>
    public static string Name(this Readout readout) => readout == Readout.Membrane ? "membrane" : "spikes";

    /// <summary>The readout named <paramref name="text"/>, or null.</summary>
    public static Readout? TryParse(string text) => text switch
    {
        "spikes" => Readout.Spikes,
        "membrane" => Readout.Membrane,
        _ => null,
    };
}

/// <summary>The names and layers of <see cref="NeuronKind"/>.</summary>
internal static class NeuronKinds
{
    /// <summary>The name of a neuron kind on the command line and in a checkpoint's metadata.</summary>
    public static string Name(this NeuronKind kind) => kind == NeuronKind.IirLif ? "iir-lif" : "lif";

    /// <summary>The neuron named <paramref name="text"/>, or null.</summary>
    public static NeuronKind? TryParse(string text) => text switch
    {
        "lif" => NeuronKind.Lif,
        "iir-lif" => NeuronKind.IirLif,
        _ => null,
    };

    /// <summary>
    /// A layer of <paramref name="kind"/> for W1 and W2; IIR-SNN's LIF starts at leak 0.5 (the reference LIF's τ = 2)
    /// and threshold 1 with the soft reset, its spike detached from the reset, and W2's ATan(2) surrogate on <c>h/θ − 1</c>.
    /// </summary>
    public static Module Layer(this NeuronKind kind) => kind == NeuronKind.IirLif
        ? new IirLeakyIntegrateAndFire(initLeak: 0.5, initThreshold: 1.0, vReset: null, detachReset: true, new ATan(2.0))
        : new LeakyIntegrateAndFire(tau: 2.0, decayInput: true, vThreshold: 1f, vReset: 0f, detachReset: false, new ATan(2.0));

    /// <summary>The learned threshold and leak of every IIR-SNN LIF layer of <paramref name="net"/>, by module name, in model order.</summary>
    public static List<(string Layer, double Threshold, double Leak)> Learned(Module net)
    {
        var learned = new List<(string, double, double)>();
        foreach (var (name, module) in net.NamedModules())
        {
            if (module is IirLeakyIntegrateAndFire neuron) learned.Add((name, neuron.Threshold, neuron.Leak));
        }
        return learned;
    }
}

/// <summary>
/// <c>--timesteps-schedule T1,T2,…</c>: the time steps of the stages of IIR-SNN's training, strictly decreasing
/// positive integers of at most <see cref="TrainCommand.MaxTimeSteps"/>; the first stage trains at T1, each later one
/// fine-tunes the previous stage's model at its own T.
/// </summary>
internal static class TimeStepSchedule
{
    /// <summary>The stages of <paramref name="text"/>.</summary>
    /// <exception cref="UsageException">The text is not a comma-separated list of strictly decreasing integers from 1 to the maximum.</exception>
    public static int[] Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const string Expected = "strictly decreasing time steps separated by commas, e.g. 4,2,1";
        var parts = text.Split(',');
        var steps = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i].Trim();
            if (part.Length == 0)
            {
                throw new UsageException($"--timesteps-schedule expects {Expected}; got '{text}', with an empty entry");
            }
            if (!Options.ParseInt(part, 1, TrainCommand.MaxTimeSteps, out steps[i]))
            {
                throw new UsageException(
                    $"--timesteps-schedule expects {Expected}, each {Options.IntRange(1, TrainCommand.MaxTimeSteps)}; got '{part}' in '{text}'");
            }
            if (i > 0 && steps[i] >= steps[i - 1])
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                    $"--timesteps-schedule expects {Expected}; got '{text}', where T={steps[i]} follows T={steps[i - 1]}"));
            }
        }
        return steps;
    }

    /// <summary>The schedule as written on the command line and in a checkpoint's metadata: <c>4,2,1</c>.</summary>
    public static string Format(IReadOnlyList<int> steps) => string.Join(',', steps);
}

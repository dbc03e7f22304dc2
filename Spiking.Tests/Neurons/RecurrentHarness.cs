using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Cli.Neurons;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>The models with more than the LIF family's dynamics that these tests sweep.</summary>
public enum RecurrentKind
{
    Qif,
    Eif,
    Izhikevich,
    AdaptiveLif,
    CubaLif,
}

/// <summary>Each kind's models: four settings per kind (0 = the defaults), with the threshold, reset and surrogate given.</summary>
public static class RecurrentModels
{
    public static readonly RecurrentKind[] Kinds = [RecurrentKind.Qif, RecurrentKind.Eif, RecurrentKind.Izhikevich, RecurrentKind.AdaptiveLif, RecurrentKind.CubaLif];

    public const int Variants = 4;

    public static ThresholdNeuron Of(RecurrentKind kind, int variant, float threshold, float? vReset, bool detach, Surrogate surrogate)
    {
        ThresholdNeuron model = (kind, variant) switch
        {
            (RecurrentKind.Qif, 0) => new QifNeuron(),
            (RecurrentKind.Qif, 1) => new QifNeuron { Tau = 3, VC = 0.5, A0 = 0.5 },
            (RecurrentKind.Qif, 2) => new QifNeuron { Tau = 2.5, VC = 0.6, A0 = 2, VRest = -0.05 },
            (RecurrentKind.Qif, _) => new QifNeuron { Tau = 1.5, VC = 0.3, VRest = 0.1 },
            (RecurrentKind.Eif, 0) => new EifNeuron(),
            (RecurrentKind.Eif, 1) => new EifNeuron { Tau = 3, DeltaT = 0.5, ThetaRh = 0.6 },
            (RecurrentKind.Eif, 2) => new EifNeuron { Tau = 2.5, DeltaT = 0.8, ThetaRh = 0.7, VRest = -0.1 },
            (RecurrentKind.Eif, _) => new EifNeuron { DeltaT = 2, ThetaRh = 1 },
            (RecurrentKind.Izhikevich, 0) => new IzhikevichNeuron(),
            (RecurrentKind.Izhikevich, 1) => new IzhikevichNeuron { A = 0.3, B = 0.2 },
            (RecurrentKind.Izhikevich, 2) => new IzhikevichNeuron { A = 0.5, B = 0.1, WRest = 0.05, TauW = 4 },
            (RecurrentKind.Izhikevich, _) => new IzhikevichNeuron { A = -0.2, B = 0.3, TauW = 3, VRest = 0.05 },
            (RecurrentKind.AdaptiveLif, 0) => new AdaptiveLifNeuron(),
            (RecurrentKind.AdaptiveLif, 1) => new AdaptiveLifNeuron { DecayInput = false, Tau = 3, TauAdapt = 5, Beta = 0.5 },
            (RecurrentKind.AdaptiveLif, 2) => new AdaptiveLifNeuron { Tau = 1.5, Rho = 0.5, Beta = -0.3 },
            (RecurrentKind.AdaptiveLif, _) => new AdaptiveLifNeuron { DecayInput = false, TauAdapt = 100, Beta = 3 },
            (RecurrentKind.CubaLif, 0) => new CubaLifNeuron(),
            (RecurrentKind.CubaLif, 1) => new CubaLifNeuron { TauSyn = 4, TauMem = 5, R = 2.5, VLeak = 0.2 },
            (RecurrentKind.CubaLif, 2) => new CubaLifNeuron { TauSyn = 1.5, TauMem = 3, R = 1.2, VLeak = -0.1 },
            _ => new CubaLifNeuron { TauSyn = 3, TauMem = 1.5, R = 1.5 },
        };
        return model with { VThreshold = threshold, VReset = vReset, DetachReset = detach, Surrogate = surrogate };
    }

    /// <summary>The mean and spread of the input current, in units of the threshold, that make about a third of the neurons fire.</summary>
    public static (double Mean, double Spread) Drive(RecurrentKind kind) => kind switch
    {
        RecurrentKind.AdaptiveLif => (0.9, 0.9),
        RecurrentKind.CubaLif => (1.0, 1.0),
        _ => (0.45, 0.6),
    };

    /// <summary>The fused op's result and the same dynamics composed from autograd ops (the benchmark's baseline).</summary>
    public static Variable Composed(NeuronModel model, Variable x) => model switch
    {
        QifNeuron q => ComposedNeurons.Qif(x, q),
        EifNeuron e => ComposedNeurons.Eif(x, e),
        IzhikevichNeuron z => ComposedNeurons.Izhikevich(x, z),
        AdaptiveLifNeuron a => ComposedNeurons.AdaptiveLif(x, a),
        CubaLifNeuron c => ComposedNeurons.CubaLif(x, c),
        _ => throw new ArgumentException($"no composition for {model}", nameof(model)),
    };
}

/// <summary>What the engine produced for one run of a model: spikes, every trace by name, <c>dL/dx</c>.</summary>
public sealed class RecurrentRun
{
    public required float[] Spikes { get; init; }
    public required ulong[] Words { get; init; }
    public required Dictionary<string, float[]> Traces { get; init; }
    public required float[] GradX { get; init; }
}

/// <summary>Runs any model on plain arrays (multi-step, single steps, or a sequence split in two) and checks it against <see cref="RecurrentReference"/>.</summary>
public static class RecurrentHarness
{
    /// <summary>The fused multi-step op with every trace and <c>loss = Σ spike·G</c> back-propagated.</summary>
    public static RecurrentRun Multi(NeuronModel model, float[] x, float[] g, Shape shape)
    {
        using var input = Variable.Input(Tensor.FromSpan(x, shape));
        using var spikes = Functional.Neuron(input, model, [], out var traces);
        using (traces)
        using (var gradient = Tensor.FromSpan(g, shape))
        using (var dense = spikes.ToDense())
        {
            var recorded = new Dictionary<string, float[]>(StringComparer.Ordinal);
            foreach (var name in traces.Names) recorded[name] = traces[name].ToArray();
            var words = spikes.Spikes!.Words.ToArray();
            spikes.Backward(gradient);
            return new RecurrentRun { Spikes = dense.ToArray(), Words = words, Traces = recorded, GradX = input.Grad!.ToArray() };
        }
    }

    /// <summary>T calls of <see cref="SingleStepNeuron.Step(Variable, out NeuronTraces)"/>, each step's <c>Σ s_t·G_t</c> back-propagated through the one graph.</summary>
    public static RecurrentRun SingleSteps(NeuronModel model, float[] x, float[] g, Shape shape)
    {
        int steps = shape[0];
        var inner = shape.DropLeading();
        int m = inner.ElementCount;
        using var neuron = new SingleStepNeuron(model);
        var inputs = new Variable[steps];
        var outputs = new Variable[steps];
        var spikes = new float[x.Length];
        var words = new List<ulong>();
        var recorded = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int t = 0; t < steps; t++)
        {
            inputs[t] = Variable.Input(Tensor.FromSpan(x.AsSpan(t * m, m), inner));
            outputs[t] = neuron.Step(inputs[t], out var traces);
            using (traces)
            {
                outputs[t].Spikes!.UnpackTo(spikes.AsSpan(t * m, m));
                words.AddRange(outputs[t].Spikes!.Words.ToArray());
                foreach (var name in traces.Names)
                {
                    if (!recorded.TryGetValue(name, out var all)) recorded[name] = all = new float[x.Length];
                    traces[name].AsReadOnlySpan().CopyTo(all.AsSpan(t * m, m));
                }
                foreach (var name in model.StateNames) Assert.Equal(neuron.State![name].Dense.ToArray(), traces[name].ToArray());
            }
        }
        for (int t = 0; t < steps; t++)
        {
            using var gradient = Tensor.FromSpan(g.AsSpan(t * m, m), inner);
            outputs[t].Backward(gradient, retainGraph: true);
        }
        var gradX = new float[x.Length];
        for (int t = 0; t < steps; t++)
        {
            inputs[t].Grad?.AsReadOnlySpan().CopyTo(gradX.AsSpan(t * m, m));
            inputs[t].Dispose();
            outputs[t].Dispose();
        }
        return new RecurrentRun { Spikes = spikes, Words = [.. words], Traces = recorded, GradX = gradX };
    }

    /// <summary>
    /// The sequence in two calls, the state carried from the first (<paramref name="split"/> steps) into the second;
    /// the loss also weighs the final state by <paramref name="gradFinal"/> (one array per state variable, one step
    /// each), so its gradient runs back through both calls. With <paramref name="split"/> = 0 it is one call.
    /// Returns the spikes, the final state and <c>dL/dx</c>.
    /// </summary>
    public static (float[] Spikes, float[][] Final, float[] GradX) Split(NeuronModel model, float[] x, float[] g, float[][] gradFinal, Shape shape, int split)
    {
        int steps = shape[0];
        var inner = shape.DropLeading();
        int m = inner.ElementCount;
        using var input = Variable.Input(Tensor.FromSpan(x, shape));
        using var weights = Variable.Constant(Tensor.FromSpan(g, shape));
        NeuronState? state = null;
        var losses = new List<Variable>();
        var spikes = new float[x.Length];
        var disposables = new List<IDisposable>();
        try
        {
            foreach (var (start, length) in split == 0 ? new[] { (0, steps) } : new[] { (0, split), (split, steps - split) })
            {
                var piece = Functional.Narrow(input, 0, start, length);
                var output = Functional.Neuron(piece, model, [], state, out var final);
                disposables.Add(piece);
                disposables.Add(output);
                disposables.Add(final);
                using (var dense = output.ToDense()) dense.AsReadOnlySpan().CopyTo(spikes.AsSpan(start * m, length * m));
                var weight = Functional.Narrow(weights, 0, start, length);
                disposables.Add(weight);
                losses.Add(Functional.Sum(output * weight));
                state = final;
            }
            var finals = new float[model.StateNames.Count][];
            for (int j = 0; j < finals.Length; j++)
            {
                var variable = state!.Variables[j];
                finals[j] = variable.Dense.ToArray();
                var weight = Variable.Constant(Tensor.FromSpan(gradFinal[j], inner));
                disposables.Add(weight);
                losses.Add(Functional.Sum(variable * weight));
            }
            var loss = losses[0];
            for (int i = 1; i < losses.Count; i++) loss += losses[i];
            loss.Backward();
            return (spikes, finals, input.Grad!.ToArray());
        }
        finally
        {
            foreach (var d in disposables) d.Dispose();
            foreach (var l in losses) l.Dispose();
        }
    }

    /// <summary>
    /// Asserts the engine agrees with the double reference: spikes exactly, every trace the reference records to
    /// 1e-5 + 1e-5·|ref|, <c>dL/dx</c> to 1e-5 + 1e-4·|ref|, each widened by <see cref="SpreadFactor"/> times the
    /// reference's own spread in float32 arithmetic (<see cref="RecurrentReferenceRun.TraceSpread"/>), so that a
    /// trajectory that amplifies rounding (a quadratic charge well above v_c) is judged by what float32 can do there.
    /// </summary>
    public static void AssertMatches(RecurrentReferenceRun expected, RecurrentRun actual, string what)
    {
        for (int i = 0; i < expected.S.Length; i++)
        {
            if ((expected.S[i] ? 1f : 0f) != actual.Spikes[i])
            {
                throw new Xunit.Sdk.XunitException($"{what}: spike {i} is {actual.Spikes[i]}, expected {expected.S[i]}.");
            }
        }
        foreach (var (name, values) in expected.Traces)
        {
            if (!actual.Traces.TryGetValue(name, out var traced)) throw new Xunit.Sdk.XunitException($"{what}: the engine recorded no trace '{name}'.");
            AssertClose(values, expected.TraceSpread[name], traced, $"{what} {name}", rel: 1e-5, abs: 1e-5);
        }
        AssertClose(expected.GradX, expected.GradXSpread, actual.GradX, $"{what} dL/dx", rel: 1e-4, abs: 1e-5);
    }

    /// <summary>
    /// The float32 reference and the kernel round at different operations in a different order, so their errors are of
    /// the same size, not the same value: the kernel may stray a few times further than the float32 reference did.
    /// </summary>
    private const double SpreadFactor = 8;

    private static void AssertClose(double[] expected, double[] spread, float[] actual, string what, double rel, double abs)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            double tolerance = abs + rel * Math.Abs(expected[i]) + SpreadFactor * spread[i];
            if (!(err <= tolerance))
            {
                throw new Xunit.Sdk.XunitException($"{what}: element {i} is {actual[i]:G9}, expected {expected[i]:G17} (|diff| {err:G3}, tolerance {tolerance:G3}).");
            }
        }
    }
}

using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>What the engine produced for one multi-step or single-step neuron run.</summary>
public sealed class EngineRun
{
    public required float[] Spikes { get; init; }
    public required ulong[] Words { get; init; }
    public required float[] H { get; init; }
    public required float[] V { get; init; }
    public required float[] GradX { get; init; }
    public float GradW { get; init; }
}

/// <summary>Runs the engine's neurons on plain arrays and checks them against <see cref="NeuronReference"/>.</summary>
public static class NeuronHarness
{
    /// <summary>The fused multi-step op with <c>loss = Σ spike·G</c> back-propagated.</summary>
    public static EngineRun Multi(ThresholdNeuron options, double w, float[] x, float[] g, Shape shape)
    {
        bool parametric = options is ParametricLifNeuron;
        using var input = Variable.Input(Tensor.FromSpan(x, shape));
        using var wVar = parametric ? Variable.Parameter(Tensor.Scalar((float)w)) : null;
        using var spikes = Functional.Neuron(input, options, wVar is null ? [] : [wVar], out var traces);
        var vSeq = traces["v"];
        var hSeq = traces["h"];
        using (traces)
        using (var gradient = Tensor.FromSpan(g, shape))
        using (var dense = spikes.ToDense())
        {
            var words = spikes.Spikes!.Words.ToArray();
            spikes.Backward(gradient);
            return new EngineRun
            {
                Spikes = dense.ToArray(),
                Words = words,
                H = hSeq.ToArray(),
                V = vSeq.ToArray(),
                GradX = input.Grad!.ToArray(),
                GradW = parametric ? wVar!.Grad!.ToScalar() : 0f,
            };
        }
    }

    /// <summary>T calls of <see cref="SingleStepNeuron.Step"/>, each step's <c>Σ s_t·G_t</c> back-propagated through the one graph.</summary>
    public static EngineRun SingleSteps(ThresholdNeuron options, double w, float[] x, float[] g, Shape shape)
    {
        bool parametric = options is ParametricLifNeuron;
        int steps = shape[0];
        var inner = shape.DropLeading();
        int m = inner.ElementCount;
        using var wVar = parametric ? Variable.Parameter(Tensor.Scalar((float)w)) : null;
        using var neuron = new SingleStepNeuron(options, wVar is null ? [] : [wVar]);
        var inputs = new Variable[steps];
        var outputs = new Variable[steps];
        var spikes = new float[x.Length];
        var words = new ulong[steps * inner.RowCount * SpikeTensor.WordsFor(inner.LastDimension)];
        var h = new float[x.Length];
        var v = new float[x.Length];
        int wordOffset = 0;
        for (int t = 0; t < steps; t++)
        {
            inputs[t] = Variable.Input(Tensor.FromSpan(x.AsSpan(t * m, m), inner));
            outputs[t] = neuron.Step(inputs[t], out var traces);
            outputs[t].Spikes!.UnpackTo(spikes.AsSpan(t * m, m));
            var stepWords = outputs[t].Spikes!.Words;
            stepWords.CopyTo(words.AsSpan(wordOffset));
            wordOffset += stepWords.Length;
            neuron.V!.Dense.AsReadOnlySpan().CopyTo(v.AsSpan(t * m, m));
            Assert.Equal(neuron.V.Dense.ToArray(), traces["v"].ToArray());
            traces["h"].AsReadOnlySpan().CopyTo(h.AsSpan(t * m, m));
            traces.Dispose();
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
        return new EngineRun
        {
            Spikes = spikes,
            Words = words,
            H = h,
            V = v,
            GradX = gradX,
            GradW = parametric ? wVar!.Grad!.ToScalar() : 0f,
        };
    }

    /// <summary>
    /// Asserts the engine agrees with the double reference: spikes exactly, potentials to 1e-5, <c>dL/dx</c> to
    /// 1e-5 + 1e-4·|ref|, <c>dL/dw</c> to 1e-4 of the sum of its |terms|.
    /// </summary>
    public static void AssertMatches(NeuronReferenceRun expected, EngineRun actual, string what)
    {
        for (int i = 0; i < expected.S.Length; i++)
        {
            if ((expected.S[i] ? 1f : 0f) != actual.Spikes[i])
            {
                throw new Xunit.Sdk.XunitException($"{what}: spike {i} is {actual.Spikes[i]}, expected {expected.S[i]} (h {expected.H[i]:G9}).");
            }
        }
        Golden.AssertClose(expected.H, actual.H, $"{what} h", rel: 1e-5, abs: 1e-5);
        Golden.AssertClose(expected.V, actual.V, $"{what} v", rel: 1e-5, abs: 1e-5);
        Golden.AssertClose(expected.GradX, actual.GradX, $"{what} dL/dx", rel: 1e-4, abs: 1e-5);
        double tolerance = 1e-4 * expected.GradWScale + 1e-6;
        if (!(Math.Abs(actual.GradW - expected.GradW) <= tolerance))
        {
            throw new Xunit.Sdk.XunitException($"{what}: dL/dw is {actual.GradW:G9}, expected {expected.GradW:G17} (tolerance {tolerance:G3}).");
        }
    }
}

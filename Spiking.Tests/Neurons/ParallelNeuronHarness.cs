using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Cli.Neurons;
using Spiking.Tensors;

namespace Spiking.Tests.Neurons;

/// <summary>What the engine produced for one parallel spiking neuron or few-spikes run, with <c>loss = Σ out·G</c> back-propagated.</summary>
public sealed class ParallelEngineRun
{
    public required float[] Output { get; init; }
    public ulong[]? Words { get; init; }
    public float[]? H { get; init; }
    public float[]? Matrix { get; init; }
    public float[]? Spikes { get; init; }
    public float[]? Gate { get; init; }
    public required float[] GradX { get; init; }
    public float[]? GradWeight { get; init; }
    public float[]? GradBias { get; init; }
}

/// <summary>Runs the fused ops and their compositions from ops (<see cref="ComposedNeurons"/>) on plain arrays, and checks them against <see cref="ParallelNeuronReference"/>.</summary>
public static class ParallelNeuronHarness
{
    /// <summary>The fused op of <paramref name="c"/>'s class, with its traces.</summary>
    public static ParallelEngineRun Fused(ParallelNeuronCase c, float[] weight, float[] bias, float[] x, float[] g) =>
        Run(c, weight, bias, x, g, composed: false);

    /// <summary>The same function composed from MatMul, Add, Multiply, Reshape and Spike.</summary>
    public static ParallelEngineRun Composed(ParallelNeuronCase c, float[] weight, float[] bias, float[] x, float[] g) =>
        Run(c, weight, bias, x, g, composed: true);

    /// <summary>The fused few-spikes op with its traces, or its composition from Sum, Spike, Multiply, Subtract and Stack.</summary>
    public static ParallelEngineRun FewSpike(float[] theta, float[] h, float[] d, Surrogate surrogate, float[] x, float[] g, Shape shape, bool composed = false)
    {
        using var input = Variable.Input(Tensor.FromSpan(x, shape));
        using var thetaTensor = Tensor.FromSpan(theta, new Shape(theta.Length));
        using var hTensor = Tensor.FromSpan(h, new Shape(h.Length));
        using var dTensor = Tensor.FromSpan(d, new Shape(d.Length));
        using var gradient = Tensor.FromSpan(g, shape);
        NeuronTraces? traces = null;
        using var output = composed
            ? ComposedNeurons.FewSpike(input, theta, h, d, surrogate)
            : Functional.FewSpike(input, thetaTensor, hTensor, dTensor, surrogate, out traces);
        using (traces)
        {
            var values = output.Dense.ToArray();
            output.Backward(gradient);
            return new ParallelEngineRun
            {
                Output = values,
                H = traces?["h"].ToArray(),
                Spikes = traces?["spike"].ToArray(),
                Gate = traces?["gate"].ToArray(),
                GradX = input.Grad!.ToArray(),
            };
        }
    }

    private static ParallelEngineRun Run(ParallelNeuronCase c, float[] weight, float[] bias, float[] x, float[] g, bool composed)
    {
        var surrogate = c.CreateSurrogate();
        using var input = Variable.Input(Tensor.FromSpan(x, c.Shape));
        using var w = Variable.Parameter(Tensor.FromSpan(weight, c.WeightShape));
        using var b = Variable.Parameter(Tensor.FromSpan(bias, c.BiasShape));
        using var gradient = Tensor.FromSpan(g, c.Shape);
        NeuronTraces? traces = null;
        using var spikes = composed ? Composition(c, input, w, b, surrogate) : Fused(c, input, w, b, surrogate, out traces);
        using (traces)
        using (var dense = spikes.ToDense())
        {
            var words = spikes.Spikes!.Words.ToArray();
            spikes.Backward(gradient);
            string? matrixTrace = c.Kind switch { ParallelKind.Masked => "masked_weight", ParallelKind.Sliding => "gemm_weight", _ => null };
            return new ParallelEngineRun
            {
                Output = dense.ToArray(),
                Words = words,
                H = traces?["h"].ToArray(),
                Matrix = traces is not null && matrixTrace is not null ? traces[matrixTrace].ToArray() : null,
                GradX = input.Grad!.ToArray(),
                GradWeight = w.Grad!.ToArray(),
                GradBias = b.Grad!.ToArray(),
            };
        }
    }

    private static Variable Fused(ParallelNeuronCase c, Variable x, Variable w, Variable b, Surrogate surrogate, out NeuronTraces traces) => c.Kind switch
    {
        ParallelKind.Psn => Functional.ParallelSpikingNeuron(x, w, b, surrogate, out traces),
        ParallelKind.Masked => Functional.MaskedParallelSpikingNeuron(x, w, b, c.Order, (float)c.Lambda, surrogate, out traces),
        _ => Functional.SlidingParallelSpikingNeuron(x, w, b, surrogate, out traces),
    };

    private static Variable Composition(ParallelNeuronCase c, Variable x, Variable w, Variable b, Surrogate surrogate) => c.Kind switch
    {
        ParallelKind.Psn => ComposedNeurons.Parallel(x, w, b, surrogate),
        ParallelKind.Masked => ComposedNeurons.Parallel(x, ComposedNeurons.MaskedMatrix(w, c.Order, (float)c.Lambda), b, surrogate),
        _ => ComposedNeurons.Parallel(x, ComposedNeurons.SlidingMatrix(w, c.Steps), b, surrogate),
    };

    /// <summary>
    /// Asserts the engine agrees with the double reference: spikes exactly, <c>H</c> and the matrix to 1e-5,
    /// <c>dL/dx</c> to 1e-5 + 1e-4·|ref|, the parameter gradients to 1e-4 of the sum of their |terms|.
    /// </summary>
    public static void AssertMatches(ParallelReferenceRun expected, ParallelEngineRun actual, string what)
    {
        for (int i = 0; i < expected.S.Length; i++)
        {
            if ((expected.S[i] ? 1f : 0f) != actual.Output[i])
            {
                throw new Xunit.Sdk.XunitException($"{what}: spike {i} is {actual.Output[i]}, expected {expected.S[i]} (h {expected.H[i]:G9}).");
            }
        }
        if (actual.H is not null) Golden.AssertClose(expected.H, actual.H, $"{what} h", rel: 1e-5, abs: 1e-5);
        if (actual.Matrix is not null) Golden.AssertClose(expected.Matrix, actual.Matrix, $"{what} matrix", rel: 1e-6, abs: 1e-7);
        Golden.AssertClose(expected.GradX, actual.GradX, $"{what} dL/dx", rel: 1e-4, abs: 1e-5);
        AssertScaled(expected.GradWeight, expected.GradWeightScale, actual.GradWeight!, $"{what} dL/dweight");
        AssertScaled(expected.GradBias, expected.GradBiasScale, actual.GradBias!, $"{what} dL/dbias");
    }

    /// <summary>Asserts <c>|a − e| ≤ 1e-4·scale + 1e-6</c> elementwise.</summary>
    public static void AssertScaled(double[] expected, double[] scale, float[] actual, string what)
    {
        if (expected.Length != actual.Length) throw new Xunit.Sdk.XunitException($"{what}: {actual.Length} values, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = 1e-4 * scale[i] + 1e-6;
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance))
            {
                throw new Xunit.Sdk.XunitException($"{what}: element {i} is {actual[i]:G9}, expected {expected[i]:G17} (tolerance {tolerance:G3}).");
            }
        }
    }
}

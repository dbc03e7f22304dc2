using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Cli.Conformance;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>What the engine produced for one run of any neuron model with <c>loss = Σ output·G</c> back-propagated.</summary>
public sealed class ModelRun
{
    /// <summary>The output as floats (spikes 0/1, counts, analog values).</summary>
    public required float[] Output { get; init; }

    /// <summary>The traces by name (<c>v</c>, <c>h</c>, …), when recorded.</summary>
    public required Dictionary<string, float[]> Traces { get; init; }

    public required float[] GradX { get; init; }

    /// <summary>The gradients of the model's learnable scalars, in the model's order.</summary>
    public required float[] GradParameters { get; init; }
}

/// <summary>What a naive double-precision reference computed for one problem, and how close it came to a decision boundary.</summary>
public sealed class ReferenceRun
{
    public required double[] Output { get; init; }

    /// <summary>Traces to compare by name; only those the reference computes.</summary>
    public required Dictionary<string, double[]> Traces { get; init; }

    public required double[] GradX { get; init; }

    /// <summary>
    /// Per element, the same backward run on the absolute values of every term: the size of what float32 adds up for
    /// <see cref="GradX"/>, which cancellation can make much larger than the result.
    /// </summary>
    public required double[] GradXScale { get; init; }

    public double[] GradParameters { get; init; } = [];

    /// <summary>For each parameter gradient, the sum of the absolute values of its terms: the scale of its float error.</summary>
    public double[] GradParameterScales { get; init; } = [];

    /// <summary>Per element, the distance to the nearest decision boundary (a threshold, a rounding point, a kink, a surrogate jump).</summary>
    public required double[] Distance { get; init; }

    /// <summary>The smallest <see cref="Distance"/>.</summary>
    public double Margin
    {
        get
        {
            double m = double.PositiveInfinity;
            foreach (double d in Distance) m = Math.Min(m, d);
            return m;
        }
    }
}

/// <summary>
/// Runs any <see cref="NeuronModel"/> on plain arrays (multi-step, single steps, a sequence split in two calls with
/// carried state) and compares with a reference; the checks of the KLIF, LIAF and ILIF tests share it.
/// </summary>
public static class ModelHarness
{
    /// <summary>The fused multi-step op with its traces; <c>loss = Σ output·G</c> back-propagated.</summary>
    public static ModelRun Multi(NeuronModel model, float[] parameters, float[] x, float[] g, Shape shape)
    {
        using var input = Variable.Input(Tensor.FromSpan(x, shape));
        var p = Parameters(parameters);
        try
        {
            using var output = Functional.Neuron(input, model, p, out var traces);
            var recorded = new Dictionary<string, float[]>(StringComparer.Ordinal);
            using (traces)
            {
                foreach (var name in traces.Names) recorded[name] = traces[name].ToArray();
            }
            using var gradient = Tensor.FromSpan(g, shape);
            using var dense = output.ToDense();
            output.Backward(gradient);
            return new ModelRun { Output = dense.ToArray(), Traces = recorded, GradX = input.Grad!.ToArray(), GradParameters = GradientsOf(p) };
        }
        finally
        {
            foreach (var v in p) v.Dispose();
        }
    }

    /// <summary>T calls of <see cref="SingleStepNeuron.Step(Variable)"/>, each step's <c>Σ y_t·G_t</c> back-propagated through the one graph.</summary>
    public static ModelRun SingleSteps(NeuronModel model, float[] parameters, float[] x, float[] g, Shape shape)
    {
        int steps = shape[0];
        var inner = shape.DropLeading();
        int m = inner.ElementCount;
        var p = Parameters(parameters);
        var inputs = new Variable[steps];
        var outputs = new Variable[steps];
        var y = new float[x.Length];
        var recorded = new Dictionary<string, float[]>(StringComparer.Ordinal);
        try
        {
            using var neuron = new SingleStepNeuron(model, p);
            for (int t = 0; t < steps; t++)
            {
                inputs[t] = Variable.Input(Tensor.FromSpan(x.AsSpan(t * m, m), inner));
                outputs[t] = neuron.Step(inputs[t], out var traces);
                using (var dense = outputs[t].ToDense()) dense.AsReadOnlySpan().CopyTo(y.AsSpan(t * m, m));
                using (traces)
                {
                    foreach (var name in traces.Names)
                    {
                        if (!recorded.TryGetValue(name, out var trace)) recorded[name] = trace = new float[x.Length];
                        traces[name].AsReadOnlySpan().CopyTo(trace.AsSpan(t * m, m));
                    }
                }
            }
            for (int t = 0; t < steps; t++)
            {
                using var gradient = Tensor.FromSpan(g.AsSpan(t * m, m), inner);
                outputs[t].Backward(gradient, retainGraph: true);
            }
            var gradX = new float[x.Length];
            for (int t = 0; t < steps; t++) inputs[t].Grad?.AsReadOnlySpan().CopyTo(gradX.AsSpan(t * m, m));
            return new ModelRun { Output = y, Traces = recorded, GradX = gradX, GradParameters = GradientsOf(p) };
        }
        finally
        {
            for (int t = 0; t < steps; t++)
            {
                inputs[t]?.Dispose();
                outputs[t]?.Dispose();
            }
            foreach (var v in p) v.Dispose();
        }
    }

    /// <summary>
    /// Two calls of the multi-step op, the first <paramref name="first"/> steps then the rest from the first call's
    /// final state, with one loss over both outputs, so the gradient of the second call also flows back through the
    /// carried state into the first.
    /// </summary>
    public static ModelRun Split(NeuronModel model, float[] parameters, float[] x, float[] g, Shape shape, int first)
    {
        var inner = shape.DropLeading();
        int m = inner.ElementCount, steps = shape[0];
        var p = Parameters(parameters);
        try
        {
            using var x1 = Variable.Input(Tensor.FromSpan(x.AsSpan(0, first * m), shape.WithDimension(0, first)));
            using var x2 = Variable.Input(Tensor.FromSpan(x.AsSpan(first * m), shape.WithDimension(0, steps - first)));
            using var y1 = Functional.Neuron(x1, model, p, null, out var middle);
            using var y2 = Functional.Neuron(x2, model, p, middle, out var final);
            using var g1 = Variable.Constant(Tensor.FromSpan(g.AsSpan(0, first * m), x1.Shape));
            using var g2 = Variable.Constant(Tensor.FromSpan(g.AsSpan(first * m), x2.Shape));
            using var loss = Functional.Sum(y1 * g1) + Functional.Sum(y2 * g2);
            loss.Backward();
            var y = new float[x.Length];
            using (var d1 = y1.ToDense()) d1.AsReadOnlySpan().CopyTo(y);
            using (var d2 = y2.ToDense()) d2.AsReadOnlySpan().CopyTo(y.AsSpan(first * m));
            var gradX = new float[x.Length];
            x1.Grad!.AsReadOnlySpan().CopyTo(gradX);
            x2.Grad!.AsReadOnlySpan().CopyTo(gradX.AsSpan(first * m));
            var traces = new Dictionary<string, float[]>(StringComparer.Ordinal) { ["v_final"] = final.Variables[0].Dense.ToArray() };
            middle.Dispose();
            final.Dispose();
            return new ModelRun { Output = y, Traces = traces, GradX = gradX, GradParameters = GradientsOf(p) };
        }
        finally
        {
            foreach (var v in p) v.Dispose();
        }
    }

    /// <summary>An op composition of the same dynamics, with <c>loss = Σ output·G</c> back-propagated.</summary>
    public static ModelRun Composed(Func<Variable, IReadOnlyList<Variable>, Variable> compose, float[] parameters, float[] x, float[] g, Shape shape)
    {
        using var input = Variable.Input(Tensor.FromSpan(x, shape));
        var p = Parameters(parameters);
        try
        {
            using var scope = DisposeScope.Begin();
            var output = compose(input, p);
            using var gradient = Tensor.FromSpan(g, shape);
            using var dense = output.ToDense();
            output.Backward(gradient);
            return new ModelRun { Output = dense.ToArray(), Traces = [], GradX = input.Grad!.ToArray(), GradParameters = GradientsOf(p) };
        }
        finally
        {
            foreach (var v in p) v.Dispose();
        }
    }

    /// <summary>
    /// Asserts the engine agrees with the reference: the output exactly when <paramref name="exactOutput"/> (spikes,
    /// counts), else to 1e-5; every reference trace to 1e-5; <c>dL/dx</c> to 1e-5 + 1e-4·|ref| + 1e-5·(the sum of its
    /// |terms|); each parameter gradient to 1e-4 of the sum of its |terms|. Where the dynamics amplify rounding from step
    /// to step (a gain above 1), float32 itself drifts from double beyond that: <paramref name="singlePrecision"/>, the same
    /// problem run by an independent float32 implementation, then widens each gradient tolerance by four times its own
    /// distance from the reference, and <paramref name="traceGain"/> (the dynamics' gain per step, over
    /// <paramref name="steps"/> steps) widens the trace tolerance at step t by four float32 roundings grown by gain^(t+1).
    /// </summary>
    public static void AssertMatches(ReferenceRun expected, ModelRun actual, bool exactOutput, string what, ModelRun? singlePrecision = null, double traceGain = 1, int steps = 1)
    {
        if (exactOutput)
        {
            for (int i = 0; i < expected.Output.Length; i++)
            {
                if (expected.Output[i] != actual.Output[i])
                {
                    throw new Xunit.Sdk.XunitException($"{what}: output {i} is {actual.Output[i]}, expected {expected.Output[i]} (distance to a boundary {expected.Distance[i]:G3}).");
                }
            }
        }
        else
        {
            Golden.AssertClose(expected.Output, actual.Output, $"{what} output", rel: 1e-5, abs: 1e-5);
        }
        foreach (var (name, trace) in expected.Traces)
        {
            Assert.True(actual.Traces.ContainsKey(name), $"{what}: no trace '{name}' (recorded: {string.Join(", ", actual.Traces.Keys)})");
            var values = actual.Traces[name];
            int perStep = trace.Length / Math.Max(1, steps);
            for (int i = 0; i < trace.Length; i++)
            {
                // A float32 rounding (about 6e-8 relative) made at step s has grown by gain^(t−s) by step t.
                double tolerance = 1e-5 + 1e-5 * Math.Abs(trace[i]) + 4 * 6e-8 * Math.Pow(traceGain, i / perStep + 1) * (1 + Math.Abs(trace[i]));
                if (!(Math.Abs(values[i] - trace[i]) <= tolerance))
                {
                    throw new Xunit.Sdk.XunitException($"{what} {name}: element {i} is {values[i]:G9}, expected {trace[i]:G17} (tolerance {tolerance:G3}).");
                }
            }
        }
        for (int i = 0; i < expected.GradX.Length; i++)
        {
            double tolerance = 1e-5 + 1e-4 * Math.Abs(expected.GradX[i]) + 1e-5 * expected.GradXScale[i]
                + (singlePrecision is null ? 0 : 4 * Math.Abs(singlePrecision.GradX[i] - expected.GradX[i]));
            if (!(Math.Abs(actual.GradX[i] - expected.GradX[i]) <= tolerance))
            {
                throw new Xunit.Sdk.XunitException(
                    $"{what}: dL/dx element {i} is {actual.GradX[i]:G9}, expected {expected.GradX[i]:G17} (tolerance {tolerance:G3}, sum of |terms| {expected.GradXScale[i]:G3}).");
            }
        }
        for (int p = 0; p < expected.GradParameters.Length; p++)
        {
            double tolerance = 1e-4 * expected.GradParameterScales[p] + 1e-6
                + (singlePrecision is null ? 0 : 4 * Math.Abs(singlePrecision.GradParameters[p] - expected.GradParameters[p]));
            if (!(Math.Abs(actual.GradParameters[p] - expected.GradParameters[p]) <= tolerance))
            {
                throw new Xunit.Sdk.XunitException($"{what}: parameter gradient {p} is {actual.GradParameters[p]:G9}, expected {expected.GradParameters[p]:G17} (tolerance {tolerance:G3}).");
            }
        }
    }

    /// <summary>Asserts two engine runs agree: outputs and traces bit for bit, gradients to <paramref name="rel"/>.</summary>
    public static void AssertSame(ModelRun expected, ModelRun actual, string what, double rel = 1e-5)
    {
        Reference.AssertBitwise(expected.Output, actual.Output, $"{what} output");
        foreach (var (name, trace) in expected.Traces)
        {
            if (actual.Traces.TryGetValue(name, out var other)) Reference.AssertBitwise(trace, other, $"{what} {name}");
        }
        Golden.AssertClose(Array.ConvertAll(expected.GradX, v => (double)v), actual.GradX, $"{what} dL/dx", rel: rel, abs: 1e-6);
        Golden.AssertClose(Array.ConvertAll(expected.GradParameters, v => (double)v), actual.GradParameters, $"{what} parameter gradients", rel: rel, abs: 1e-5);
    }

    /// <summary>
    /// Nudges <paramref name="x"/> (by 0.01 at the first offending step of each neuron) until every element is at
    /// least <paramref name="margin"/> from a decision boundary by <paramref name="distances"/>, as the golden
    /// generator did, so float32 rounding cannot take a different branch than double.
    /// </summary>
    public static void EnsureMargin(Func<float[], double[]> distances, float[] x, int steps, double margin = 1e-3)
    {
        int m = x.Length / Math.Max(1, steps);
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            var d = distances(x);
            bool clear = true;
            for (int i = 0; i < m; i++)
            {
                for (int t = 0; t < steps; t++)
                {
                    int e = t * m + i;
                    if (d[e] < margin)
                    {
                        x[e] += 0.01f;
                        clear = false;
                        break;
                    }
                }
            }
            if (clear) return;
        }
    }

    /// <summary>The distance of <paramref name="z"/> (the surrogate's argument) from the surrogate's jumps (<c>w</c> of PiecewiseLeakyReLU, <c>0.5/alpha</c> of Rect), or ∞ for a smooth surrogate.</summary>
    public static double SurrogateJumpDistance(Surrogate? surrogate, double z) => surrogate switch
    {
        PiecewiseLeakyReLU p => Math.Abs(Math.Abs(z) - p.W),
        Rect r => Math.Abs(Math.Abs(z) - 0.5 / r.Alpha),
        _ => double.PositiveInfinity,
    };

    /// <summary>The cases of <c>../shared/golden-more/neurons_more.json</c> of class <paramref name="node"/>, or a placeholder when the file is absent (whose test then fails).</summary>
    public static TheoryData<string> GoldenMoreCases(string node)
    {
        var data = new TheoryData<string>();
        var path = GoldenMorePath;
        if (path is null || !File.Exists(path))
        {
            data.Add(Golden.MissingId);
            return data;
        }
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("node").GetString() == node) data.Add(c.GetProperty("id").GetString()!);
        }
        return data;
    }

    /// <summary>Runs the conformance runner's neuron check on case <paramref name="id"/> of the golden-more file and asserts it passed.</summary>
    public static void AssertGoldenMoreCasePasses(string id)
    {
        var path = GoldenMorePath ?? throw new Xunit.Sdk.XunitException($"The golden-more files are missing: expected them beside {Golden.Expected}.");
        if (!File.Exists(path)) throw new Xunit.Sdk.XunitException($"The golden file {path} is missing.");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("id").GetString() != id) continue;
            var check = new CaseCheck();
            NeuronCases.Check(c, $"case {id} of neurons_more.json", check);
            Assert.True(check.Passed, $"{id}: {string.Join("; ", check.Failures)}");
            return;
        }
        throw new Xunit.Sdk.XunitException($"No case '{id}' in {path}.");
    }

    private static string? GoldenMorePath =>
        Golden.Available ? Path.GetFullPath(Path.Combine(Golden.Directory, "..", "golden-more", "neurons_more.json")) : null;

    private static Variable[] Parameters(float[] values)
    {
        var p = new Variable[values.Length];
        for (int i = 0; i < p.Length; i++) p[i] = Variable.Parameter(Tensor.Scalar(values[i]));
        return p;
    }

    private static float[] GradientsOf(Variable[] parameters)
    {
        var grads = new float[parameters.Length];
        for (int i = 0; i < grads.Length; i++) grads[i] = parameters[i].Grad?.ToScalar() ?? 0f;
        return grads;
    }
}

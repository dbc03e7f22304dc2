using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>The outcome of a <see cref="GradCheck"/> run: the worst disagreement and where it was.</summary>
/// <param name="Passed">True when every element is within tolerance.</param>
/// <param name="MaxAbsError">The largest |analytic − numeric| over all inputs.</param>
/// <param name="MaxRelError">The largest |analytic − numeric| / max(|numeric|, tiny).</param>
/// <param name="Detail">The first failing element (input, index, both values), or a summary when all pass.</param>
public sealed record GradCheckResult(bool Passed, double MaxAbsError, double MaxRelError, string Detail);

/// <summary>
/// Compares the analytic gradients of a function of <see cref="Variable"/>s with central finite differences.
/// The output is reduced to a scalar by a fixed random projection <c>L = Σ R ⊙ f(x)</c>, accumulated in double, and
/// each input element is perturbed by ±<c>step</c>; the difference quotient is formed in double. The engine computes
/// in float32, so the default step (1e-2) and tolerances suit float32 evaluation; an element passes when
/// <c>|analytic − numeric| ≤ absTolerance + relTolerance·|numeric|</c>.
/// </summary>
/// <remarks>
/// A function with a hard threshold (a spiking neuron) has no finite-difference derivative; check its surrogate
/// path with <c>Surrogate.Derivative</c> instead, or use inputs whose perturbation never crosses the threshold.
/// </remarks>
public static class GradCheck
{
    /// <summary>Checks <paramref name="function"/> at <paramref name="inputs"/> (which are copied, never changed).</summary>
    /// <exception cref="ArgumentException">No inputs, or a non-positive step or tolerance.</exception>
    public static GradCheckResult Check(Func<IReadOnlyList<Variable>, Variable> function, IReadOnlyList<Tensor> inputs,
        double step = 1e-2, double relTolerance = 1e-2, double absTolerance = 1e-3, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("GradCheck needs at least one input.", nameof(inputs));
        if (!(step > 0)) throw new ArgumentOutOfRangeException(nameof(step), step, "The finite-difference step must be > 0.");
        if (!(relTolerance >= 0) || !(absTolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(relTolerance), "Tolerances must be >= 0.");

        var work = new Tensor[inputs.Count];
        for (int i = 0; i < work.Length; i++) work[i] = inputs[i].Clone();
        try
        {
            double[] projection;
            Tensor?[] analytic = new Tensor?[work.Length];
            var vars = new Variable[work.Length];
            for (int i = 0; i < vars.Length; i++) vars[i] = Variable.Input(work[i].Clone(), $"input{i}");
            try
            {
                using var output = function(vars);
                projection = Projection(output.Shape.ElementCount, seed);
                if (!output.RequiresGrad) throw new ArgumentException("The function's output does not depend on any input through recorded ops.", nameof(function));
                using var seedGrad = Tensor.FromSpan(ToFloats(projection), output.Shape);
                output.Backward(seedGrad);
                for (int i = 0; i < vars.Length; i++) analytic[i] = vars[i].Grad?.Clone();
            }
            finally
            {
                foreach (var v in vars) v.Dispose();
            }

            double maxAbs = 0, maxRel = 0;
            string? failure = null;
            for (int i = 0; i < work.Length; i++)
            {
                var values = work[i].AsSpan();
                for (int e = 0; e < values.Length; e++)
                {
                    float original = values[e];
                    values[e] = (float)(original + step);
                    double plus = Evaluate(function, work, projection);
                    values = work[i].AsSpan();
                    values[e] = (float)(original - step);
                    double minus = Evaluate(function, work, projection);
                    values = work[i].AsSpan();
                    values[e] = original;
                    double numeric = (plus - minus) / (2 * step);
                    double a = analytic[i] is null ? 0 : analytic[i]!.AsReadOnlySpan()[e];
                    double err = Math.Abs(a - numeric);
                    maxAbs = Math.Max(maxAbs, err);
                    maxRel = Math.Max(maxRel, err / Math.Max(Math.Abs(numeric), 1e-12));
                    if (failure is null && err > absTolerance + relTolerance * Math.Abs(numeric))
                    {
                        failure = $"input {i} element {e}: analytic {a:G9}, numeric {numeric:G9} (|diff| {err:G3} > {absTolerance} + {relTolerance}·|numeric|)";
                    }
                }
            }
            foreach (var g in analytic) g?.Dispose();
            return new GradCheckResult(failure is null, maxAbs, maxRel, failure ?? $"all {Count(work)} elements within tolerance");
        }
        finally
        {
            foreach (var t in work) t.Dispose();
        }
    }

    private static double Evaluate(Func<IReadOnlyList<Variable>, Variable> function, Tensor[] inputs, double[] projection)
    {
        using var scope = GradMode.NoGrad();
        var vars = new Variable[inputs.Length];
        for (int i = 0; i < vars.Length; i++) vars[i] = Variable.Constant(inputs[i].Clone());
        try
        {
            using var output = function(vars);
            var values = output.IsSpikes ? output.ToDense() : null;
            try
            {
                var span = values is null ? output.Dense.AsReadOnlySpan() : values.AsReadOnlySpan();
                double sum = 0;
                for (int k = 0; k < span.Length; k++) sum += projection[k] * span[k];
                return sum;
            }
            finally
            {
                values?.Dispose();
            }
        }
        finally
        {
            foreach (var v in vars) v.Dispose();
        }
    }

    private static double[] Projection(int count, int seed)
    {
        var rng = new Random(seed);
        var p = new double[count];
        for (int i = 0; i < count; i++) p[i] = (float)(rng.NextDouble() * 2 - 1);
        return p;
    }

    private static float[] ToFloats(double[] values)
    {
        var f = new float[values.Length];
        for (int i = 0; i < f.Length; i++) f[i] = (float)values[i];
        return f;
    }

    private static int Count(Tensor[] tensors)
    {
        int n = 0;
        foreach (var t in tensors) n += t.Length;
        return n;
    }
}

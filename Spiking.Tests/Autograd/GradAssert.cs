using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Tests.Autograd;

/// <summary>Shared assertions and input shaping for the autograd tests.</summary>
internal static class GradAssert
{
    /// <summary>Runs <see cref="GradCheck.Check"/> on <paramref name="inputs"/> (disposed afterwards) and fails with its detail.</summary>
    public static void Passes(Func<IReadOnlyList<Variable>, Variable> function, string what, params Tensor[] inputs) =>
        Passes(function, what, 1e-2, 1e-3, inputs);

    /// <summary>As <see cref="Passes(Func{IReadOnlyList{Variable}, Variable}, string, Tensor[])"/> with explicit tolerances.</summary>
    public static void Passes(Func<IReadOnlyList<Variable>, Variable> function, string what, double relTolerance, double absTolerance, params Tensor[] inputs)
    {
        try
        {
            var result = GradCheck.Check(function, inputs, relTolerance: relTolerance, absTolerance: absTolerance);
            if (!result.Passed)
            {
                throw new Xunit.Sdk.XunitException(
                    $"{what}: gradient check failed at {result.Detail} (max abs error {result.MaxAbsError:G3}, max rel error {result.MaxRelError:G3}).");
            }
        }
        finally
        {
            foreach (var t in inputs) t.Dispose();
        }
    }

    /// <summary>Moves every value at least <paramref name="margin"/> away from zero, keeping its sign (0 goes up).</summary>
    public static float[] AwayFromZero(float[] values, float margin)
    {
        var v = (float[])values.Clone();
        for (int i = 0; i < v.Length; i++) v[i] = v[i] < 0 ? v[i] - margin : v[i] + margin;
        return v;
    }

    /// <summary>A tensor of <paramref name="c"/>'s shape whose values are at least <paramref name="margin"/> away from zero.</summary>
    public static Tensor AwayFromZero(TensorCase c, float margin) => Tensor.FromSpan(AwayFromZero(c.Values(), margin), c.Shape);

    /// <summary>A tensor of <paramref name="c"/>'s shape holding |x| + <paramref name="margin"/>.</summary>
    public static Tensor Positive(TensorCase c, float margin)
    {
        var v = c.Values();
        for (int i = 0; i < v.Length; i++) v[i] = Math.Abs(v[i]) + margin;
        return Tensor.FromSpan(v, c.Shape);
    }

    /// <summary>The values as doubles.</summary>
    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var d = new double[values.Length];
        for (int i = 0; i < d.Length; i++) d[i] = values[i];
        return d;
    }

    /// <summary>Asserts two float spans hold the same values within <paramref name="tolerance"/> (absolute).</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what) =>
        Reference.AssertClose(ToDouble(expected), actual, default, 0, tolerance, what);
}

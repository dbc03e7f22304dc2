using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using Spiking.Tensors.Kernels;

namespace Spiking.Bench;

/// <summary>
/// Dense SGEMM at the shapes of a small MLP layer and two larger products, for the NN, NT and TN layouts the
/// forward and backward passes use; the plain triple loop runs only on the smallest shape, where it still
/// finishes in a reasonable time. Throughput is 2·M·N·K floating-point operations per measured time.
/// </summary>
[Config(typeof(WideCaseColumn))]
public class GemmBench
{
    private static readonly (int M, int K, int N)[] s_shapes = [(512, 784, 512), (512, 1024, 1024), (2048, 1024, 1024), (256, 4096, 4096)];

    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];

    /// <summary>Every shape and layout with the fast kernel, and the smallest shape with the reference.</summary>
    public static IEnumerable<GemmCase> Cases()
    {
        foreach (var (m, k, n) in s_shapes)
        {
            foreach (string layout in new[] { "NN", "NT", "TN" })
            {
                yield return new GemmCase(m, k, n, layout, Implementation.Fast);
                if ((m, k, n) == s_shapes[0]) yield return new GemmCase(m, k, n, layout, Implementation.Reference);
            }
        }
    }

    [ParamsSource(nameof(Cases))]
    public GemmCase Case { get; set; } = new(512, 784, 512, "NN", Implementation.Fast);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _a = Random(rng, Case.M * Case.K);
        _b = Random(rng, Case.K * Case.N);
        _c = new float[Case.M * Case.N];
    }

    [Benchmark]
    public void Multiply()
    {
        bool ta = Case.Layout[0] == 'T', tb = Case.Layout[1] == 'T';
        if (Case.Implementation == Implementation.Fast) Gemm.Multiply(_a, ta, _b, tb, _c, Case.M, Case.N, Case.K);
        else Gemm.MultiplyReference(_a, ta, _b, tb, _c, Case.M, Case.N, Case.K);
    }

    /// <summary>Shows case names such as "2048x1024x1024 NN Fast" whole instead of clipping them at 20 characters.</summary>
    private sealed class WideCaseColumn : ManualConfig
    {
        public WideCaseColumn() => SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(40);
    }

    private static float[] Random(Random rng, int count)
    {
        var values = new float[count];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return values;
    }
}


/// <summary>One benchmark case: op(A) [M,K] · op(B) [K,N] in a layout ("NN", "NT", "TN") by an implementation.</summary>
public sealed record GemmCase(int M, int K, int N, string Layout, Implementation Implementation)
{
    /// <summary>How BenchmarkDotNet names the case in its tables.</summary>
    public override string ToString() => $"{M}x{K}x{N} {Layout} {Implementation}";
}

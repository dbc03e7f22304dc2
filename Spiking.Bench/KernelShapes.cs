using System;

namespace Spiking.Bench;

/// <summary>The kernel shapes of DESIGN.md, (M, K, N), as BenchmarkDotNet parameter strings.</summary>
public static class KernelShapes
{
    public static readonly string[] All = ["512x784x512", "512x1024x1024", "2048x1024x1024", "256x4096x4096"];

    public static (int M, int K, int N) Parse(string shape)
    {
        var p = shape.Split('x');
        return (int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Standard normal values from the engine's own generator, seeded from <paramref name="rng"/>.</summary>
    public static float[] Normal(Random rng, int count)
    {
        var v = new float[count];
        new Spiking.Tensors.PhiloxGenerator((ulong)rng.Next()).FillNormal(v);
        return v;
    }

    public static float[] Bernoulli(Random rng, int count, double rate)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = rng.NextDouble() < rate ? 1f : 0f;
        return v;
    }
}

/// <summary>Which implementation a suite times: the fast kernel or the plain reference kept beside it.</summary>
public enum Implementation
{
    Fast,
    Reference,
}

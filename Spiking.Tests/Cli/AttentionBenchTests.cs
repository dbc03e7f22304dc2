using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using Spiking.Cli;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Cli;

/// <summary><c>spiking bench attention</c> on tiny shapes, and its float softmax baseline against a double-precision reference.</summary>
public sealed class AttentionBenchTests : IDisposable
{
    private static readonly string[] s_keys =
        ["workload", "variant", "T", "B", "N", "D", "heads", "threads", "median_ms", "min_ms", "ratio_vs_float", "saved_bytes", "float_saved_bytes"];

    private static readonly string[] s_variants = ["float_softmax", "sdsa1_spikes", "sdsa3_spikes", "sdsa4_spikes", "spike_inputs", "ssa_spikes"];

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("spiking-bench-attention-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Tiny_shapes_write_one_line_per_variant_with_fewer_bytes_than_float()
    {
        var path = Path.Combine(_dir.FullName, "attention.jsonl");
        int threads = Parallelism.MaxThreads;
        int rc;
        try
        {
            rc = CommandLine.Run(
                ["bench", "attention", "--shapes", "2,3,9,8,2;1,2,20,16,4", "--threads", "1", "--reps", "1", "--min-time", "0", "--warmup", "0", "--json", path]);
        }
        finally
        {
            // The bench sets the process-wide thread cap; other tests keep theirs.
            Parallelism.MaxThreads = threads;
        }
        Assert.Equal(0, rc);
        var lines = File.ReadAllLines(path);
        Assert.Equal(12, lines.Length);
        var variants = new HashSet<string>();
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            foreach (var key in s_keys) Assert.True(r.TryGetProperty(key, out _), $"key '{key}' missing in {line}");
            Assert.Equal("attention", r.GetProperty("workload").GetString());
            variants.Add(r.GetProperty("variant").GetString()!);
            long saved = r.GetProperty("saved_bytes").GetInt64(), floatSaved = r.GetProperty("float_saved_bytes").GetInt64();
            if (r.GetProperty("variant").GetString() == "float_softmax") Assert.Equal(floatSaved, saved);
            else Assert.True(saved < floatSaved, line);
            Assert.True(r.GetProperty("median_ms").GetDouble() >= r.GetProperty("min_ms").GetDouble(), line);
        }
        Assert.Equal(s_variants, new SortedSet<string>(variants, StringComparer.Ordinal));
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal((2, 3, 9, 8, 2), (first.GetProperty("T").GetInt32(), first.GetProperty("B").GetInt32(), first.GetProperty("N").GetInt32(),
            first.GetProperty("D").GetInt32(), first.GetProperty("heads").GetInt32()));
    }

    [Fact]
    public void Saved_bytes_follow_each_ops_saving_rule()
    {
        // [T·B=6, H=2, N=9, d=4]: 12 heads, 108 rows of one 8-byte word each; floats are 4 bytes.
        var bytes = AttentionBench.SavedBytes(new Shape(6, 2, 9, 4));
        Assert.Equal(3 * 108 * 8, bytes[0]);
        Assert.Equal((3 * 108 * 8) + (12 * 4 * 4) + (12 * 8), bytes[1]);
        Assert.Equal((3 * 108 * 8) + (12 * 4 * 4 * 4), bytes[2]);
        Assert.Equal((3 * 108 * 8) + (12 * 4 * 4 * 4) + (12 * 4 * 8), bytes[3]);
        Assert.Equal((3 * 108 * 4 * 4) + (12 * 9 * 9 * 4), bytes[4]);
        Assert.Equal(3 * 108 * 4 * 4, bytes[5]);
    }

    [Theory]
    [InlineData(1, 1, 4, 3)]
    [InlineData(2, 3, 5, 2)]
    public void Float_baseline_matches_double_softmax_attention_and_its_finite_differences(int n, int h, int l, int d)
    {
        var shape = new Shape(n, h, l, d);
        var philox = new PhiloxGenerator(7);
        using var q = philox.Normal(shape);
        using var k = philox.Normal(shape);
        using var v = philox.Normal(shape);
        using var g = philox.Normal(shape);
        float scale = 1f / MathF.Sqrt(d);
        var (y, saved) = FloatSoftmaxAttention.Forward(q, k, v, scale);
        var (dq, dk, dv) = saved.Backward(g);
        saved.Dispose();
        double[] qd = Doubles(q), kd = Doubles(k), vd = Doubles(v), gd = Doubles(g);
        int heads = n * h;
        var expected = NaiveAttention(qd, kd, vd, heads, l, d, scale);
        Reference.AssertClose(expected, y.AsReadOnlySpan(), Ones(expected.Length), 1e-5, 1e-5, "float attention output");
        double Loss(double[] qq, double[] kk, double[] vv)
        {
            var yy = NaiveAttention(qq, kk, vv, heads, l, d, scale);
            double s = 0;
            for (int i = 0; i < yy.Length; i++) s += yy[i] * gd[i];
            return s;
        }
        foreach (var (x, grad, name) in new[] { (qd, dq, "dQ"), (kd, dk, "dK"), (vd, dv, "dV") })
        {
            var numeric = new double[x.Length];
            const double eps = 1e-6;
            for (int i = 0; i < x.Length; i++)
            {
                double keep = x[i];
                x[i] = keep + eps;
                double plus = Loss(qd, kd, vd);
                x[i] = keep - eps;
                double minus = Loss(qd, kd, vd);
                x[i] = keep;
                numeric[i] = (plus - minus) / (2 * eps);
            }
            Reference.AssertClose(numeric, grad.AsReadOnlySpan(), Ones(x.Length), 1e-4, 1e-4, $"float attention {name}");
        }
        y.Dispose();
        dq.Dispose();
        dk.Dispose();
        dv.Dispose();
    }

    private static double[] NaiveAttention(double[] q, double[] k, double[] v, int heads, int l, int d, double scale)
    {
        var y = new double[heads * l * d];
        var row = new double[l];
        for (int hd = 0; hd < heads; hd++)
        {
            int o = hd * l * d;
            for (int i = 0; i < l; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int j = 0; j < l; j++)
                {
                    double s = 0;
                    for (int c = 0; c < d; c++) s += q[o + i * d + c] * k[o + j * d + c];
                    row[j] = s * scale;
                    max = Math.Max(max, row[j]);
                }
                for (int j = 0; j < l; j++) sum += row[j] = Math.Exp(row[j] - max);
                for (int c = 0; c < d; c++)
                {
                    double acc = 0;
                    for (int j = 0; j < l; j++) acc += row[j] / sum * v[o + j * d + c];
                    y[o + i * d + c] = acc;
                }
            }
        }
        return y;
    }

    private static double[] Doubles(Tensor t) => Array.ConvertAll(t.ToArray(), x => (double)x);

    private static double[] Ones(int n)
    {
        var a = new double[n];
        Array.Fill(a, 1.0);
        return a;
    }
}

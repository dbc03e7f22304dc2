using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Spiking.Autograd;
using Spiking.Cli;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Cli;

/// <summary>
/// <c>spiking bench onb</c>: the Open Neuromorphic workload (Linear + multi-step LIF, loss the sum of the spikes) with
/// torch_onb.py's keys, checked against a naive double-precision Linear and SpikingJelly LIF with the ATan surrogate.
/// </summary>
[Collection("Parallelism")]
public sealed class OnbBenchTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("spiking-bench-onb-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void The_command_writes_one_record_per_width_with_the_peers_keys()
    {
        var path = Path.Combine(_dir.FullName, "onb.jsonl");
        int threads = Parallelism.MaxThreads;
        var output = new StringWriter();
        var saved = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, CommandLine.Run(["bench", "onb", "--neurons", "8,16", "--T", "5", "--batch", "2", "--reps", "1", "--threads", "1", "--json", path]));
        }
        finally
        {
            Console.SetOut(saved);
            Parallelism.MaxThreads = threads;
        }
        var rows = File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
        Assert.Equal([8, 16], rows.Select(r => r.GetProperty("neurons").GetInt32()).ToArray());
        foreach (var r in rows)
        {
            Assert.Equal("onb", r.GetProperty("workload").GetString());
            Assert.Equal("spiking", r.GetProperty("engine").GetString());
            Assert.Equal("cpu", r.GetProperty("device").GetString());
            Assert.Equal(2, r.GetProperty("batch").GetInt32());
            Assert.Equal(5, r.GetProperty("T").GetInt32());
            Assert.Equal(1, r.GetProperty("threads").GetInt32());
            double forward = r.GetProperty("forward_ms").GetDouble(), backward = r.GetProperty("backward_ms").GetDouble();
            Assert.True(forward > 0 && backward > 0, r.ToString());
            Assert.Equal(forward + backward, r.GetProperty("total_ms").GetDouble(), 9);
            Assert.True(r.GetProperty("peak_rss_mib").GetDouble() > 1, r.ToString());
            Assert.False(string.IsNullOrEmpty(r.GetProperty("cpu").GetString()));
            Assert.Contains(r.GetProperty("simd").GetString(), new[] { "avx512", "avx2", "vector128" });
        }
        var text = output.ToString();
        Assert.Contains("neurons  batch      T  forward_ms  backward_ms  total_ms", text, StringComparison.Ordinal);
        Assert.Contains("# peak_rss_mib=", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8, 4, 12, 0)]
    [InlineData(70, 2, 9, 3)] // rows of two spike words, vector tails
    public void Spikes_and_gradients_equal_a_naive_double_linear_and_lif(int n, int batch, int steps, int seed)
    {
        using var workload = new OnbWorkload(n, batch, steps, seed);
        var x = workload.Input.Dense.ToArray();
        var w = workload.Linear.Weight.Value.ToArray();
        var b = workload.Linear.Bias!.Value.ToArray();
        var (spikes, gradW, gradB) = NaiveDouble(x, w, b, n, batch, steps);

        float[] actualSpikes;
        using (DisposeScope.Begin())
        {
            var s = workload.Forward();
            Assert.True(s.IsSpikes);
            actualSpikes = s.ToDense().ToArray();
            OnbWorkload.Backward(s);
        }
        Assert.Equal(spikes, actualSpikes.Select(v => (double)v).ToArray());
        Assert.True(spikes.Sum() > 0 && spikes.Sum() < spikes.Length, "the case should have some spikes and some silence");
        AssertClose(gradW, workload.Linear.Weight.Variable.Grad!.ToArray(), "dL/dW");
        AssertClose(gradB, workload.Linear.Bias.Variable.Grad!.ToArray(), "dL/db");
        Assert.Null(workload.Input.Grad);

        // A second step after ZeroGrad gives the same gradients: nothing of the first step leaks into it.
        workload.ZeroGrad();
        using (DisposeScope.Begin()) OnbWorkload.Backward(workload.Forward());
        AssertClose(gradW, workload.Linear.Weight.Variable.Grad!.ToArray(), "dL/dW, second step");
    }

    /// <summary>
    /// <c>y = x·Wᵀ + b</c>, then SpikingJelly's LIFNode (tau 2, decay_input, threshold 1, hard reset to 0, reset in the
    /// graph) step by step from v = 0, and the backward through time of <c>L = Σ s</c> with the ATan(2) surrogate
    /// <c>g'(u) = 1 / (1 + (π u)²)</c>, all in double.
    /// </summary>
    private static (double[] Spikes, double[] GradW, double[] GradB) NaiveDouble(float[] x, float[] w, float[] b, int n, int batch, int steps)
    {
        int rows = steps * batch;
        var y = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < n; o++)
            {
                double sum = b[o];
                for (int i = 0; i < n; i++) sum += (double)x[r * n + i] * w[o * n + i];
                y[r * n + o] = sum;
            }
        }
        const double tau = 2, threshold = 1;
        var h = new double[rows * n];
        var s = new double[rows * n];
        int perStep = batch * n;
        var v = new double[perStep];
        for (int t = 0; t < steps; t++)
        {
            for (int j = 0; j < perStep; j++)
            {
                int k = t * perStep + j;
                h[k] = v[j] + (y[k] - v[j]) / tau;
                // Keep the case away from the threshold, where float and double could disagree about a spike.
                Assert.True(Math.Abs(h[k] - threshold) > 1e-4, $"h = {h[k]} is too close to the threshold for a comparison with float");
                s[k] = h[k] >= threshold ? 1 : 0;
                v[j] = h[k] * (1 - s[k]);
            }
        }
        static double Surrogate(double u) => 1 / (1 + Math.PI * u * Math.PI * u);
        var gradY = new double[rows * n];
        var gradV = new double[perStep]; // dL/dv_t, from step t + 1
        for (int t = steps - 1; t >= 0; t--)
        {
            for (int j = 0; j < perStep; j++)
            {
                int k = t * perStep + j;
                double sg = Surrogate(h[k] - threshold);
                // v_t = h_t·(1 − s_t): dv/dh = (1 − s_t) − h_t·g'; and dL/ds_t = 1 from the loss.
                double gradH = 1 * sg + gradV[j] * ((1 - s[k]) - h[k] * sg);
                gradY[k] = gradH / tau;
                gradV[j] = gradH * (1 - 1 / tau);
            }
        }
        var gradW = new double[n * n];
        var gradB = new double[n];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < n; o++)
            {
                double go = gradY[r * n + o];
                gradB[o] += go;
                for (int i = 0; i < n; i++) gradW[o * n + i] += go * x[r * n + i];
            }
        }
        return (s, gradW, gradB);
    }

    private static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            Assert.True(error <= 1e-5 * scale + 1e-6 * Math.Abs(expected[i]), $"{what}[{i}]: {actual[i]} vs {expected[i]} (largest |value| {scale})");
        }
    }

    [Theory]
    [InlineData("bench onb --neurons 0", "bad width '0' in --neurons")]
    [InlineData("bench onb --neurons 512,x", "bad width 'x' in --neurons")]
    [InlineData("bench onb --neurons 1.5", "bad width '1.5' in --neurons")]
    [InlineData("bench onb --neurons 99999", "bad width '99999' in --neurons")]
    [InlineData("bench onb --neurons ,", "--neurons is empty")]
    [InlineData("bench onb --T 0", "--T expects an integer from 1 to")]
    [InlineData("bench onb --batch -1", "--batch expects an integer from 1 to")]
    [InlineData("bench onb --reps 0", "--reps expects an integer from 1 to")]
    [InlineData("bench onb --seed -1", "--seed expects an integer >= 0")]
    [InlineData("bench onb --threads 0", "--threads expects an integer from 1 to 1024")]
    [InlineData("bench onb --T 100000 --batch 1000 --neurons 4096", "keep it at most 268435456")]
    [InlineData("bench onb --device cuda", "unknown option --device")]
    [InlineData("bench onb extra", "unexpected word 'extra' after onb")]
    public void A_bad_option_is_one_usage_line_and_exit_2(string commandLine, string mentions)
    {
        var (code, error) = CommandLineErrorTests.Run(commandLine.Split(' '));
        Assert.Equal(2, code);
        CommandLineErrorTests.AssertOneLineError(error, mentions);
    }
}

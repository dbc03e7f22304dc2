using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Spiking.Cli;
using Spiking.Cli.Neurons;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Cli;

/// <summary><c>spiking bench neurons</c>: a row per neuron, variant and pass, with the fused rows' ratio to the composition.</summary>
[Collection("Parallelism")]
public sealed class NeuronBenchTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("spiking-bench-neurons-");

    public void Dispose() => _dir.Delete(recursive: true);

    private JsonElement[] Run(params string[] extra)
    {
        var path = Path.Combine(_dir.FullName, $"{Guid.NewGuid():N}.jsonl");
        int threads = Parallelism.MaxThreads;
        try
        {
            Assert.Equal(0, CommandLine.Run(["bench", "neurons", "--threads", "1", "--reps", "1", "--min-time", "0", "--warmup", "0", "--json", path, .. extra]));
        }
        finally
        {
            Parallelism.MaxThreads = threads;
        }
        return File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
    }

    [Fact]
    public void A_neuron_gets_fused_and_composed_rows_and_the_fused_ones_a_ratio()
    {
        var rows = Run("--neuron", "PSN");
        Assert.Equal(["fused fwd", "fused fwd+bwd", "composed fwd", "composed fwd+bwd"],
            rows.Select(r => $"{r.GetProperty("variant").GetString()} {r.GetProperty("pass").GetString()}").ToArray());
        Assert.All(rows, r => Assert.Equal("PSN", r.GetProperty("neuron").GetString()));
        Assert.All(rows, r => Assert.Equal("[8, 64, 1024]", r.GetProperty("shape").GetString()));
        Assert.All(rows.Take(2), r => Assert.True(r.GetProperty("speedup").GetDouble() > 0));
        Assert.All(rows.Skip(2), r => Assert.Equal(JsonValueKind.Null, r.GetProperty("speedup").ValueKind));
    }

    [Fact]
    public void LIF_also_compares_the_shared_kernel_with_the_first_one_at_the_W1_and_W2_layers()
    {
        var rows = Run("--neuron", "lif");
        Assert.Equal(12, rows.Length);
        var kernels = rows.Skip(4).Select(r => $"{r.GetProperty("variant").GetString()} {r.GetProperty("pass").GetString()} {r.GetProperty("shape").GetString()}").ToArray();
        Assert.Contains("shared fwd+bwd [8, 64, 512]", kernels);
        Assert.Contains("first-lif fwd+bwd [4, 64, 32, 28, 28]", kernels);
    }

    [Fact]
    public void Every_neuron_has_a_workload_and_an_unknown_one_is_a_usage_error()
    {
        Assert.Equal(16, NeuronWorkloads.All.Count);
        var e = Assert.Throws<UsageException>(() => NeuronBench.Run(Options.Parse(["--neuron", "Hodgkin", "--threads", "1", "--reps", "1", "--min-time", "0", "--warmup", "0"])));
        Assert.Contains("unknown neuron 'Hodgkin'", e.Message, StringComparison.Ordinal);
        Assert.Contains("CubaLIF", e.Message, StringComparison.Ordinal);
    }
}

using System;
using System.IO;
using System.Text.Json;
using Spiking.Cli.Conformance;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>
/// Every case of <c>../shared/golden-more/neurons_more.json</c> for PSN, MaskedPSN, SlidingPSN and FewSpikeNode through
/// the conformance runner's check (the layer from NeuronCatalog, parameters set from the case, every output, trace and
/// gradient compared).
/// </summary>
public sealed class ParallelNeuronGoldenTests
{
    private static readonly string[] s_nodes = ["PSN", "MaskedPSN", "SlidingPSN", "FewSpikeNode"];

    /// <summary>The golden-more file beside the golden directory.</summary>
    private static string FilePath => Path.GetFullPath(Path.Combine(Golden.Directory, "..", "golden-more", "neurons_more.json"));

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        if (!Golden.Available || !File.Exists(FilePath))
        {
            data.Add(Golden.MissingId);
            return data;
        }
        using var doc = JsonDocument.Parse(File.ReadAllBytes(FilePath));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (Array.IndexOf(s_nodes, c.GetProperty("node").GetString()) >= 0) data.Add(c.GetProperty("id").GetString()!);
        }
        return data;
    }

    [Fact]
    public void The_file_holds_sixteen_cases_of_these_classes() => Assert.Equal(16, Cases().Count);

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_case_passes_the_conformance_check(string id)
    {
        if (!File.Exists(FilePath)) throw new Xunit.Sdk.XunitException($"The golden file {FilePath} is missing.");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(FilePath));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("id").GetString() != id) continue;
            var check = new CaseCheck();
            NeuronCases.Check(c, $"case {id}", check);
            Assert.True(check.Passed, string.Join("; ", check.Failures));
            return;
        }
        throw new Xunit.Sdk.XunitException($"No case '{id}' in {FilePath}.");
    }

    [Fact]
    public void The_runner_reports_every_case_of_these_classes_as_passed()
    {
        var output = new StringWriter();
        ConformanceRunner.Run(Path.GetDirectoryName(FilePath)!, output, file: "neurons_more.json");
        int passed = 0;
        foreach (var line in output.ToString().Split('\n'))
        {
            foreach (var prefix in new[] { "PSN_", "MaskedPSN_", "SlidingPSN_", "FewSpike_" })
            {
                if (!line.StartsWith(prefix, StringComparison.Ordinal)) continue;
                Assert.Contains(" PASS", line, StringComparison.Ordinal);
                passed++;
            }
        }
        Assert.Equal(16, passed);
    }
}

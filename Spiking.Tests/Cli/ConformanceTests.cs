using System;
using System.IO;
using System.Linq;
using Spiking.Cli.Conformance;
using Xunit;

namespace Spiking.Tests.Cli;

/// <summary>The <c>spiking conformance</c> runner, in process.</summary>
public sealed class ConformanceTests
{
    [Theory]
    [InlineData("surrogate.json", 14)]
    [InlineData("neurons.json", 14)]
    [InlineData("tiny_network.json", 4)]
    public void Every_golden_case_passes(string file, int atLeast)
    {
        var output = new StringWriter();
        var summary = ConformanceRunner.Run(Golden.Directory, output, file: file);
        Assert.True(summary.Failed == 0, output.ToString());
        Assert.True(summary.Passed >= atLeast, output.ToString());
        Assert.EndsWith($"{summary.Passed} passed, 0 failed, {summary.Values} values compared{Environment.NewLine}", output.ToString(), StringComparison.Ordinal);
        Assert.True(summary.Values >= 10 * summary.Passed, output.ToString());
    }

    [Fact]
    public void The_family_filter_picks_files_by_meta_family()
    {
        var output = new StringWriter();
        var summary = ConformanceRunner.Run(Golden.Directory, output, family: "surrogate");
        Assert.Equal(0, summary.Failed);
        Assert.DoesNotContain("neurons.json", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_tiny_network_family_passes_every_case_and_names_each()
    {
        var output = new StringWriter();
        var summary = ConformanceRunner.Run(Golden.Directory, output, family: "tiny_network");
        Assert.True(summary.Failed == 0, output.ToString());
        Assert.Equal(4, summary.Passed);
        foreach (var id in new[] { "tiny_analog_hard_atan", "tiny_binary_hard_atan", "tiny_analog_soft_sigmoid_detach", "tiny_binary_soft_atan_decayF" })
        {
            Assert.Contains(id, output.ToString(), StringComparison.Ordinal);
        }
        Assert.DoesNotContain("neurons.json", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"meta": {"family": "quantum"}, "cases": [{"id": "q1"}, {"id": "q2"}]}""", "unknown family 'quantum'", 2)]
    [InlineData("""{"meta": {"family": "neurons"}, "cases": [{"id": "n1", "node": "MadeUpNode", "params": {}}]}""", "Unknown neuron class 'MadeUpNode'", 1)]
    [InlineData("""{"meta": {"family": "surrogate"}, "cases": [{"id": "s1", "surrogate": "Gaussian", "params": {}, "x": [0], "spike": [1], "grad": [1]}]}""", "Unknown surrogate 'Gaussian'", 1)]
    [InlineData("""{"meta": {"family": "surrogate"}, "cases": [{"id": "s2", "surrogate": "ATan", "params": {}, "x": [0, 1], "spike": [1, 0], "grad": [1, 0.0920]}]}""", "spike: 1 of 2 spikes differ", 1)]
    [InlineData("""{"meta": {"family": "surrogate"}, "cases": [{"id": "s3", "surrogate": "ATan", "params": {}, "x": [0, 1], "spike": [1, 1], "grad": [1, 0.1]}]}""", "grad: 1 of 2 values out of tolerance", 1)]
    [InlineData("""{"meta": {"family": "tiny_network"}, "cases": [{"id": "t1", "lif_params": {"v_reset": 0.0, "surrogate": {"name": "ATan", "params": {}}}, "binary_input": true, "x_seq": [[[0.5]]]}]}""", "x_seq element 0 is 0.5, not 0 or 1", 1)]
    [InlineData("""{"meta": {"family": "tiny_network"}, "cases": [{"id": "t2", "lif_params": {"v_reset": 0.0, "surrogate": {"name": "ATan", "params": {}}}, "binary_input": false, "x_seq": [[[0.5]]], "W1": [[1, 2]]}]}""", "field 'W1' of case t2 of case.json must be [hidden, 1]", 1)]
    [InlineData("""{"meta": {}, "cases": [{"id": "m1"}]}""", "has no meta.family", 1)]
    [InlineData("""not json""", "cannot read", 1)]
    public void Unknown_or_wrong_cases_fail_with_a_message_naming_them(string json, string message, int failures)
    {
        var dir = Directory.CreateTempSubdirectory("spiking-conformance-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "case.json"), json);
            var output = new StringWriter();
            var summary = ConformanceRunner.Run(dir.FullName, output);
            Assert.Equal(failures, summary.Failed);
            Assert.Equal(0, summary.Passed);
            Assert.Contains(message, output.ToString(), StringComparison.Ordinal);
            Assert.Contains("FAIL", output.ToString(), StringComparison.Ordinal);
            Assert.StartsWith($"0 passed, {failures} failed, ", output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)[^1], StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("""{"meta": {"family": "surrogate"}, "cases": []}""", "has an empty \"cases\" list")]
    [InlineData("""{"meta": {"family": "surrogate"}, "cases": [{"id": "e1", "surrogate": "ATan", "params": {}, "x": [], "spike": [], "grad": []}]}""", "case e1 of case.json compares no values")]
    [InlineData("""{"meta": {"family": "tiny_network"}, "cases": [{"id": "t0", "lif_params": {"v_reset": 0.0, "surrogate": {"name": "ATan", "params": {}}}, "binary_input": false, "x_seq": [], "W1": [], "W2": []}]}""", "t0")]
    public void A_file_or_case_that_checks_nothing_is_an_error_and_the_command_exits_3(string json, string message)
    {
        var dir = Directory.CreateTempSubdirectory("spiking-conformance-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "case.json"), json);
            var output = new StringWriter();
            var summary = ConformanceRunner.Run(dir.FullName, output);
            Assert.Equal((0, 1, 1, 0L), (summary.Passed, summary.Failed, summary.Errors, summary.Values));
            Assert.Contains(message, output.ToString(), StringComparison.Ordinal);
            Assert.Contains("ERROR", output.ToString(), StringComparison.Ordinal);
            var error = new StringWriter();
            Assert.Equal(3, Spiking.Cli.CommandLine.Run(["conformance", dir.FullName], error));
            CommandLineErrorTests.AssertOneLineError(error.ToString(), "1 case or file in");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("batchnorm.json", "module", "BogusModule", "is not the BatchNorm1d that a shape of rank 3 takes")]
    [InlineData("batchnorm.json", "running_var_after", null, "has no field 'running_var_after'")]
    [InlineData("tiny_network.json", "architecture", "x -> Conv2d -> LIFNode", "is not the Linear → LIFNode → Linear → LIFNode network")]
    public void A_golden_case_that_describes_another_module_or_lacks_a_recorded_field_is_an_error(string file, string field, string? value, string message)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Golden.Directory, file)))!;
        var cases = root["cases"]!.AsArray();
        var first = cases[0]!.AsObject();
        if (value is null) first.Remove(field);
        else first[field] = value;
        while (cases.Count > 1) cases.RemoveAt(1);
        var dir = Directory.CreateTempSubdirectory("spiking-conformance-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, file), root.ToJsonString());
            var output = new StringWriter();
            var summary = ConformanceRunner.Run(dir.FullName, output);
            Assert.Equal((0, 1, 1), (summary.Passed, summary.Failed, summary.Errors));
            Assert.Contains(message, output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_family_filter_is_checked_and_one_that_matches_no_file_is_an_error()
    {
        Assert.Throws<ArgumentException>(() => ConformanceRunner.Run(Golden.Directory, new StringWriter(), family: "neuron"));
        var dir = Directory.CreateTempSubdirectory("spiking-conformance-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "s.json"), File.ReadAllText(Path.Combine(Golden.Directory, "surrogate.json")));
            var output = new StringWriter();
            var summary = ConformanceRunner.Run(dir.FullName, output, family: "batchnorm");
            Assert.Equal((0, 1, 1), (summary.Passed, summary.Failed, summary.Errors));
            Assert.Contains("no file of family 'batchnorm'", output.ToString(), StringComparison.Ordinal);
            Assert.Equal(3, Spiking.Cli.CommandLine.Run(["conformance", dir.FullName, "--family", "batchnorm"], new StringWriter()));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_mismatch_exits_1_and_a_full_pass_exits_0_counting_every_compared_value()
    {
        var dir = Directory.CreateTempSubdirectory("spiking-conformance-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "case.json"),
                """{"meta": {"family": "surrogate"}, "cases": [{"id": "s3", "surrogate": "ATan", "params": {}, "x": [0, 1], "spike": [1, 1], "grad": [1, 0.1]}]}""");
            var output = new StringWriter();
            var summary = ConformanceRunner.Run(dir.FullName, output);
            // Two spikes, two gradients through the op and two through the surrogate's scalar derivative.
            Assert.Equal((0, 1, 0, 6L), (summary.Passed, summary.Failed, summary.Errors, summary.Values));
            Assert.Equal(1, Spiking.Cli.CommandLine.Run(["conformance", dir.FullName], new StringWriter()));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
        Assert.Equal(0, Spiking.Cli.CommandLine.Run(["conformance", Golden.Directory, "--family", "surrogate"], new StringWriter()));
    }

    [Fact]
    public void A_missing_directory_throws_and_an_empty_one_fails()
    {
        Assert.Throws<DirectoryNotFoundException>(() => ConformanceRunner.Run("/no/such/golden/dir", new StringWriter()));
        var dir = Directory.CreateTempSubdirectory("spiking-conformance-");
        try
        {
            var output = new StringWriter();
            Assert.Equal(1, ConformanceRunner.Run(dir.FullName, output).Failed);
            Assert.Contains("no *.json files", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

/// <summary>The neuron families' check on cases of shapes the shared files do not have.</summary>
public sealed class NeuronConformanceShapeTests
{
    /// <summary>
    /// One neuron's sequence, shape <c>[T]</c>: column 0 of a golden-more QIF case (the neurons of a layer are
    /// independent, so its values are the case's own), with the loss and firing rate of that column.
    /// </summary>
    [Fact]
    public void A_single_neuron_sequence_of_shape_T_is_checked_like_any_other()
    {
        var more = Path.Combine(Golden.Directory, "..", "golden-more", "neurons_more.json");
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(more));
        var source = document.RootElement.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("id").GetString() == "QIF_soft_atan_nodetach");
        double[] Column(string field) => source.GetProperty(field).EnumerateArray().Select(row => row[0].GetDouble()).ToArray();
        var spikes = Column("spike_seq");
        var g = Column("G");
        var node = new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = "QIF_single_neuron_T8",
            ["node"] = "QIFNode",
            ["params"] = System.Text.Json.Nodes.JsonNode.Parse(source.GetProperty("params").GetRawText()),
            ["shape"] = new System.Text.Json.Nodes.JsonArray(spikes.Length),
            ["loss"] = spikes.Zip(g, (s, gi) => s * gi).Sum(),
            ["firing_rate"] = spikes.Average(),
        };
        foreach (var field in new[] { "x_seq", "G", "spike_seq", "v_seq", "h_seq", "grad_x_seq" })
        {
            node[field] = new System.Text.Json.Nodes.JsonArray(Column(field).Select(v => (System.Text.Json.Nodes.JsonNode?)v).ToArray());
        }
        var file = new System.Text.Json.Nodes.JsonObject
        {
            ["meta"] = new System.Text.Json.Nodes.JsonObject { ["family"] = "neurons_more" },
            ["cases"] = new System.Text.Json.Nodes.JsonArray(node),
        };
        var dir = Directory.CreateTempSubdirectory("spiking-conformance-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "single.json"), file.ToJsonString());
            var output = new StringWriter();
            var summary = ConformanceRunner.Run(dir.FullName, output);
            Assert.True(summary.Passed == 1 && summary.Failed == 0, output.ToString());
            Assert.Contains(1.0, spikes);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

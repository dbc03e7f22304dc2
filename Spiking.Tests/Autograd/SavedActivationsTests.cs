using System;
using System.Linq;
using System.Reflection;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class SavedActivationsTests
{
    private static SpikeTensor Spikes(Shape shape, int seed)
    {
        using var u = new PhiloxGenerator((ulong)seed).Normal(shape);
        return SpikeTensor.FromThreshold(u, 0.5f);
    }

    [Fact]
    public void Reports_each_saved_tensor_with_its_storage_shape_and_bytes()
    {
        using var scope = DisposeScope.Begin();
        var x = Variable.Constant(Spikes(new Shape(6, 70), 1));
        var w = Variable.Parameter(new PhiloxGenerator(2).Normal(new Shape(5, 70)));
        var loss = Functional.Sum(Functional.Linear(x, w));
        var report = SavedActivations.Of(loss);

        Assert.Empty(report.UndescribedOps);
        Assert.Equal(2, report.Nodes);
        var input = Assert.Single(report.Tensors, t => t.Op == "linear" && t.What == "input");
        Assert.Equal(SavedStorage.Bits, input.Storage);
        Assert.Equal(new Shape(6, 70), input.Shape);
        Assert.Equal(6 * 2 * 8, input.Bytes); // 70 bits a row take two 64-bit words
        Assert.True(input.Leaf); // the network's input: it lives on without the graph
        Assert.False(input.OnlyZeroOne);
        // The weight is saved only when x needs a gradient; x is a constant here.
        Assert.DoesNotContain(report.Tensors, t => t.What == "weight");
        Assert.Equal(0, report.Bytes);
        Assert.Equal(96, report.LeafBytes);
    }

    [Fact]
    public void Finds_a_spike_saved_as_float_and_counts_shared_storage_once()
    {
        using var scope = DisposeScope.Begin();
        var u = Variable.Parameter(new PhiloxGenerator(3).Normal(new Shape(4, 8)));
        var w = Variable.Parameter(new PhiloxGenerator(4).Normal(new Shape(3, 8)));
        var spikes = Functional.Spike(u, new ATan());
        var dense = Functional.SpikesToDense(spikes);
        // Two consumers of one dense 0/1 tensor: the linear saves a float copy of spikes, twice the same storage.
        var y = Functional.Add(Functional.Linear(dense, w), Functional.Linear(dense, w));
        var report = SavedActivations.Of(Functional.Sum(y));

        Assert.Empty(report.UndescribedOps);
        var inputs = report.Tensors.Where(t => t.Op == "linear" && t.What == "input").ToList();
        Assert.Equal(2, inputs.Count);
        Assert.All(inputs, t => Assert.Equal(SavedStorage.Dense, t.Storage));
        Assert.All(inputs, t => Assert.True(t.OnlyZeroOne));
        Assert.Equal([false, true], inputs.Select(t => t.Shared));
        var flagged = Assert.Single(report.ZeroOneFloats, t => !t.Shared);
        Assert.Equal(4 * 8 * sizeof(float), flagged.Bytes);
        Assert.Equal(4 * 8 * sizeof(float), report.ZeroOneFloatBytes);
        // The spike op's own input (the potential) is float but not 0/1; the weights are leaves.
        var potential = Assert.Single(report.Tensors, t => t.Op.StartsWith("spike[", StringComparison.Ordinal));
        Assert.False(potential.OnlyZeroOne);
        Assert.True(potential.Leaf);
        Assert.All(report.Tensors.Where(t => t.What == "weight"), t => Assert.True(t.Leaf));
        Assert.Equal(4 * 8 * sizeof(float), report.FloatBytes);
        var linear = Assert.Single(report.ByOp(), t => t.Op == "linear");
        Assert.Equal(2, linear.Nodes);
        Assert.Equal(4 * 8 * sizeof(float), linear.ZeroOneFloatBytes);
        Assert.Contains("linear | 2 | 128 | 128 | 0 | 0", report.Format(), StringComparison.Ordinal);
    }

    [Fact]
    public void Names_ops_that_do_not_describe_what_they_saved()
    {
        using var scope = DisposeScope.Begin();
        var x = Variable.Parameter(Tensor.FromArray([1f, 2f], 2));
        var report = SavedActivations.Of(Functional.Sum(DoubledSquareNode.Apply(x)));
        Assert.Equal(["doubled square (test)"], report.UndescribedOps);
        Assert.Contains("not described: doubled square (test)", report.Format(), StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_the_report_changes_neither_values_nor_gradients_and_backward_releases_what_it_saw()
    {
        float[] Run(bool report, out int nodesAfter)
        {
            using var scope = DisposeScope.Begin();
            var u = Variable.Parameter(new PhiloxGenerator(5).Normal(new Shape(2, 3, 6, 6)));
            var w = Variable.Parameter(new PhiloxGenerator(6).Normal(new Shape(4, 3, 3, 3)));
            var s = Functional.Spike(u, new ATan());
            var y = Functional.MaxPool2d(Functional.Spike(Functional.Conv2d(s, w, padding: 1), new ATan()), 2);
            var loss = Functional.Sum(Functional.SpikesToDense(y));
            if (report) Assert.NotEmpty(SavedActivations.Of(loss).Tensors);
            loss.Backward();
            nodesAfter = SavedActivations.Of(loss).Nodes;
            return [.. u.Grad!.ToArray(), .. w.Grad!.ToArray()];
        }

        var plain = Run(report: false, out _);
        var reported = Run(report: true, out int nodesAfter);
        Assert.Equal(plain, reported);
        Assert.Equal(0, nodesAfter);
    }

    [Fact]
    public void Every_op_of_the_engine_describes_what_it_saves()
    {
        var missing = typeof(Node).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Node)) && !t.IsAbstract)
            .Where(t => t.GetMethod("DescribeSaved", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.DeclaredOnly) is null)
            .Select(t => t.FullName)
            .ToList();
        Assert.Empty(missing);
    }

    [Theory]
    [InlineData(new float[0], false)]
    [InlineData(new[] { 0f, 1f, 1f, 0f, -0f, 1f, 0f, 0f, 1f, 1f, 0f, 1f, 0f, 0f, 0f, 1f, 1f, 0f, 1f }, true)]
    [InlineData(new[] { 0f, 1f, 1f, 0f, 0f, 1f, 0f, 0f, 1f, 1f, 0f, 1f, 0f, 0f, 0f, 1f, 1f, 0f, 2f }, false)]
    [InlineData(new[] { 0f, 1f, 1f, 0f, 0f, 1f, 0f, 0.5f, 1f, 1f, 0f, 1f, 0f, 0f, 0f, 1f, 1f, 0f, 1f }, false)]
    [InlineData(new[] { 1e-45f, 0f }, false)]
    [InlineData(new[] { 1f, 0.99999994f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f }, false)]
    [InlineData(new[] { float.NaN, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f }, false)]
    [InlineData(new[] { float.PositiveInfinity, 1f }, false)]
    public void Tells_a_zero_one_tensor(float[] values, bool expected) =>
        Assert.Equal(expected, SavedTensorSink.OnlyZeroOne(values));
}

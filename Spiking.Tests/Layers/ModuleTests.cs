using System;
using System.Linq;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class ModuleTests
{
    private sealed class Block : Module
    {
        public Block()
        {
            Q = RegisterModule("q", new Linear(3, 2));
            Norm = RegisterModule("norm", new Sequential(new Flatten(), new LeakyIntegrateAndFire()));
        }

        public Linear Q { get; }

        public Sequential Norm { get; }

        public override Variable Forward(Variable input) => Norm.Forward(Q.Forward(input));
    }

    private sealed class Model : Module
    {
        public Model()
        {
            RegisterModule("blocks", new Sequential(new Block(), new Block()));
        }

        public override Variable Forward(Variable input) => Children[0].Value.Forward(input);
    }

    [Fact]
    public void Sequential_names_children_by_index_as_pytorch()
    {
        using var w1 = new Sequential(new Flatten(), new Linear(784, 512), new LeakyIntegrateAndFire(), new Linear(512, 10), new LeakyIntegrateAndFire());
        Assert.Equal(["1.weight", "1.bias", "3.weight", "3.bias"], w1.StateDict().Select(e => e.Name));
        Assert.Equal(new Shape(512, 784), w1.StateDict()[0].Value!.Shape);
    }

    [Fact]
    public void Nested_modules_join_names_with_dots()
    {
        using var model = new Model();
        Assert.Equal(["blocks.0.q.weight", "blocks.0.q.bias", "blocks.1.q.weight", "blocks.1.q.bias"], model.NamedParameters().Select(p => p.Name));
        Assert.Contains(model.NamedModules(), m => m.Name == "blocks.1.norm.1" && m.Module is LeakyIntegrateAndFire);
    }

    [Fact]
    public void Parametric_neuron_saves_its_scalar_as_w()
    {
        using var plif = new Sequential(new Linear(2, 2), new ParametricLeakyIntegrateAndFire(initTau: 2.0));
        var entry = plif.StateDict().Single(e => e.Name == "1.w");
        Assert.Equal(0, entry.Value!.Shape.Rank);
        Assert.Equal(0f, entry.Value.AsReadOnlySpan()[0]);
    }

    [Fact]
    public void Eval_and_train_reach_every_descendant()
    {
        using var model = new Model();
        model.Eval();
        Assert.All(model.NamedModules(), m => Assert.False(m.Module.Training));
        model.Train();
        Assert.All(model.NamedModules(), m => Assert.True(m.Module.Training));
    }

    [Fact]
    public void Duplicate_or_dotted_names_are_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new DuplicateNames());
        Assert.Contains("'weight'", ex.Message, StringComparison.Ordinal);
    }

    private sealed class DuplicateNames : Module
    {
        public DuplicateNames()
        {
            RegisterParameter("weight", Tensor.Zeros(1));
            RegisterParameter("weight", Tensor.Zeros(1));
        }

        public override Variable Forward(Variable input) => input;
    }

    [Fact]
    public void Default_initialisation_is_seeded_and_bounded_by_fan_in()
    {
        ModelSeed.Seed(7);
        using var a = new Linear(100, 30);
        ModelSeed.Seed(7);
        using var b = new Linear(100, 30);
        Assert.True(a.Weight.Value.AsReadOnlySpan().SequenceEqual(b.Weight.Value.AsReadOnlySpan()));
        float bound = 1f / MathF.Sqrt(100);
        foreach (var v in a.Weight.Value.AsReadOnlySpan()) Assert.InRange(v, -bound, bound);
        double mean = a.Weight.Value.AsReadOnlySpan().ToArray().Average(v => (double)v);
        Assert.InRange(mean, -0.01, 0.01);
    }

    [Fact]
    public void Linear_module_on_spikes_equals_the_dense_product_and_counts_synaptic_operations()
    {
        ModelSeed.Seed(3);
        using var layer = new Linear(70, 9);
        layer.Operations.Enabled = true;
        var rng = new Random(5);
        var bits = new float[2 * 3 * 70];
        for (int i = 0; i < bits.Length; i++) bits[i] = rng.NextDouble() < 0.3 ? 1f : 0f;
        using var dense = Tensor.FromArray(bits, 2, 3, 70);
        using var spikes = Variable.Constant(SpikeTensor.FromBinary(dense));
        using var y = layer.Forward(spikes);
        Assert.Equal(new Shape(2, 3, 9), y.Shape);
        var (expected, scale) = Reference.SpikeForward(bits, layer.Weight.Value.AsReadOnlySpan().ToArray(), layer.Bias!.Value.AsReadOnlySpan().ToArray(), 6, 70, 9);
        Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), scale, 1e-5, 1e-6, "spike linear module");
        Assert.Equal(bits.Count(b => b == 1f) * 9L, layer.Operations.SynapticOperations);
        using var x = Variable.Constant(dense.Clone());
        using var _ = layer.Forward(x);
        Assert.Equal(6L * 70 * 9, layer.Operations.MultiplyAccumulates);
    }

    [Fact]
    public void Neuron_module_counts_its_firing_rate()
    {
        using var lif = new LeakyIntegrateAndFire { CountSpikes = true, KeepLastSpikes = true };
        var current = new float[4 * 2 * 3];
        for (int i = 0; i < current.Length; i++) current[i] = i % 3 == 0 ? 2.5f : 0.1f;
        using var x = Variable.Constant(Tensor.FromArray(current, 4, 2, 3));
        using var s = lif.Forward(x);
        Assert.Equal(s.Spikes!.PopCount(), lif.SpikeCount);
        Assert.Equal(24, lif.NeuronSteps);
        Assert.Equal(8.0 / 24, lif.FiringRate, 12);
        Assert.Equal(s.Spikes.PopCount(), lif.LastSpikes!.PopCount());
    }

    [Fact]
    public void Dropout_shares_one_mask_over_time_and_is_identity_in_eval()
    {
        using var dropout = new Dropout(0.5, new PhiloxGenerator(11));
        using var x = Variable.Constant(Tensor.Ones(new Shape(5, 4, 50)));
        using var y = dropout.Forward(x);
        var v = y.Dense.AsReadOnlySpan();
        for (int t = 1; t < 5; t++)
        {
            Assert.True(v.Slice(t * 200, 200).SequenceEqual(v[..200]), $"step {t} has another mask");
        }
        foreach (var value in v) Assert.True(value is 0f or 2f, $"dropout gave {value}, expected 0 or 1/(1-p) = 2");
        int kept = v[..200].ToArray().Count(a => a != 0);
        Assert.InRange(kept, 70, 130);
        dropout.Eval();
        using var z = dropout.Forward(x);
        Assert.True(z.Dense.AsReadOnlySpan().SequenceEqual(x.Dense.AsReadOnlySpan()));
    }

    [Theory]
    [InlineData(2, 3, 7, 7)]
    [InlineData(1, 32, 7, 7)]
    [InlineData(3, 5, 9, 13)]
    public void Flatten_repacks_spikes_and_matches_the_dense_layout(int batch, int channels, int height, int width)
    {
        var rng = new Random(batch * 100 + width);
        var bits = new float[2 * batch * channels * height * width];
        for (int i = 0; i < bits.Length; i++) bits[i] = rng.NextDouble() < 0.4 ? 1f : 0f;
        using var dense = Tensor.FromArray(bits, 2, batch, channels, height, width);
        using var spikes = Variable.Constant(SpikeTensor.FromBinary(dense));
        using var flat = new Flatten().Forward(spikes);
        Assert.Equal(new Shape(2, batch, channels * height * width), flat.Shape);
        Assert.True(flat.Spikes!.ToTensor().AsReadOnlySpan().SequenceEqual(bits));
    }
}

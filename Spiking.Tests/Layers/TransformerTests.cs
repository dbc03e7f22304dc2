using System;
using System.Linq;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class TransformerTests
{
    private static Variable Images(int steps, int batch, int seed)
    {
        var data = SyntheticImages.Create(batch, seed);
        using var x = Tensor.FromArray(data.Pixels.ToArray().Select(p => p / 255f).ToArray(), batch, 1, 28, 28);
        return Variable.Constant(DirectEncoder.Encode(x, steps));
    }

    [Fact]
    public void Patch_splitting_gives_7x7_tokens_of_spike_sums()
    {
        ModelSeed.Seed(1);
        using var sps = new SpikingPatchSplitting(1, 64);
        using var scope = DisposeScope.Begin();
        using var x = Images(2, 3, 1);
        var tokens = sps.Forward(x);
        Assert.Equal(new Shape(2, 3, 49, 64), tokens.Shape);
        Assert.All(tokens.Dense.ToArray(), v => Assert.True(v is 0f or 1f or 2f, $"token value {v} is not a sum of two spikes"));
        Assert.Contains(sps.NamedParameters(), p => p.Name == "proj_conv3.weight");
        Assert.Contains(sps.NamedParameters(), p => p.Name == "rpe_bn.bias");
    }

    [Fact]
    public void Self_attention_emits_spikes_and_every_parameter_gets_a_gradient()
    {
        ModelSeed.Seed(2);
        using var ssa = new SpikingSelfAttention(32, heads: 4);
        var rng = new PhiloxGenerator(3);
        using var scope = DisposeScope.Begin();
        using var x = Variable.Input(rng.Normal(new Shape(2, 3, 5, 32), 1f, 1f));
        var y = ssa.Forward(x);
        Assert.True(y.IsSpikes);
        Assert.Equal(new Shape(2, 3, 5, 32), y.Shape);
        Functional.Sum(Functional.SpikesToDense(y)).Backward();
        foreach (var (name, p) in ssa.NamedParameters()) Assert.True(p.Grad is not null, $"{name} has no gradient");
        Assert.NotNull(x.Grad);
        var e = Assert.Throws<ArgumentException>(() => ssa.Forward(Variable.Constant(Tensor.Zeros(2, 3, 5, 16))));
        Assert.Contains("[2, 3, 5, 16]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Spikformer_names_its_state_as_the_paper_and_learns_a_few_batches()
    {
        ModelSeed.Seed(4);
        using var model = new Spikformer(dim: 32, depth: 1, heads: 2, mlpRatio: 2);
        var names = model.NamedParameters().Select(p => p.Name).ToList();
        Assert.Contains("patch_embed.proj_conv.weight", names);
        Assert.Contains("block.0.attn.q_linear.weight", names);
        Assert.Contains("block.0.mlp.fc2_bn.weight", names);
        Assert.Contains("head.bias", names);

        var data = SyntheticImages.Create(64, 5);
        var trainer = new ClassifierTrainer(model, new Adam(model.Parameters(), 3e-3),
            images => Variable.Constant(DirectEncoder.Encode(images, 2)), static (o, labels, _) => Losses.FiringRateCrossEntropy(o, labels));
        using var loader = new DataLoader(data, 16, shuffle: true, seed: 1);
        var losses = new System.Collections.Generic.List<double>();
        for (int epoch = 0; epoch < 8; epoch++)
        {
            foreach (var b in loader.Epoch(epoch)) losses.Add(trainer.TrainStep(b.Images, b.Labels).Loss);
        }
        Assert.True(losses.Skip(losses.Count - 4).Average() < 0.9 * losses.Take(4).Average(), $"loss went {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
    }
}

public sealed class AttentionOperationTests
{
    [Fact]
    public void Attention_operations_count_every_coinciding_pair_and_every_value_spike_per_query()
    {
        var rng = new Random(3);
        int n = 2, h = 3, l = 5, d = 70;
        var q = new float[n * h * l * d];
        var k = new float[q.Length];
        var v = new float[q.Length];
        for (int i = 0; i < q.Length; i++) (q[i], k[i], v[i]) = (rng.Next(3) == 0 ? 1 : 0, rng.Next(2), rng.Next(4) == 0 ? 1 : 0);
        long expected = 0;
        for (int head = 0; head < n * h; head++)
        {
            for (int i = 0; i < l; i++)
            {
                for (int j = 0; j < l; j++)
                {
                    for (int c = 0; c < d; c++) expected += (long)(q[(head * l + i) * d + c] * k[(head * l + j) * d + c]);
                    for (int c = 0; c < d; c++) expected += (long)v[(head * l + j) * d + c];
                }
            }
        }
        using var qt = Tensor.FromArray(q, n, h, l, d);
        using var kt = Tensor.FromArray(k, n, h, l, d);
        using var vt = Tensor.FromArray(v, n, h, l, d);
        using var qs = SpikeTensor.FromBinary(qt);
        using var ks = SpikeTensor.FromBinary(kt);
        using var vs = SpikeTensor.FromBinary(vt);
        Assert.Equal(expected, SpikingSelfAttention.AttentionOperations(qs, ks, vs));
    }
}

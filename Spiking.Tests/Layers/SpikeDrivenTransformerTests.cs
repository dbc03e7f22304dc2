using System;
using System.Collections.Generic;
using System.Linq;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class SpikeDrivenTransformerTests
{
    private static Variable Images(int steps, int batch, int seed)
    {
        var data = SyntheticImages.Create(batch, seed);
        using var x = Tensor.FromArray(data.Pixels.ToArray().Select(p => p / 255f).ToArray(), batch, 1, 28, 28);
        return Variable.Constant(DirectEncoder.Encode(x, steps));
    }

    private static SpikingNeuron NeuronOf(Module module, string name) =>
        (SpikingNeuron)module.NamedModules().Single(m => m.Name == name).Module;

    private static float[] Bits(SpikingNeuron neuron)
    {
        using var t = neuron.LastSpikes!.ToTensor();
        return t.ToArray();
    }

    private static string MixName(SdsaVariant variant) => variant == SdsaVariant.KeyValueMask ? "talking_heads_lif" : "attn_lif";

    private static float[] ParameterValues(Module module, string name) =>
        module.NamedParameters().Single(p => p.Name == name).Parameter.Value.ToArray();

    /// <summary>A weighted sum, so the gradient through a batch norm is not zero (a plain sum of its output is constant).</summary>
    private static void BackwardWeighted(Variable y, int seed)
    {
        var rng = new PhiloxGenerator((ulong)seed);
        using var w = Variable.Constant(rng.Normal(y.Shape));
        Functional.Sum(Functional.Multiply(y.IsSpikes ? Functional.SpikesToDense(y) : y, w)).Backward();
    }

    /// <summary>
    /// At initialisation a LIF on batch-normed currents fires about 3% of the time, so Q, K and V spikes rarely meet
    /// and the masks come out empty; a positive batch-norm shift before the Q, K, V and hidden neurons makes them fire
    /// often enough for the attention's data path to be exercised.
    /// </summary>
    private static void Excite(Module module)
    {
        foreach (var (name, p) in module.NamedParameters())
        {
            if (name.EndsWith("q_bn.bias", StringComparison.Ordinal) || name.EndsWith("k_bn.bias", StringComparison.Ordinal)
                || name.EndsWith("v_bn.bias", StringComparison.Ordinal) || name.EndsWith("fc1_bn.bias", StringComparison.Ordinal))
            {
                p.Value.Fill(0.8f);
            }
        }
    }

    private static void AssertEveryParameterHasAGradient(Module module)
    {
        foreach (var (name, p) in module.NamedParameters())
        {
            Assert.True(p.Grad is not null, $"{name} has no gradient");
            Assert.True(p.Grad!.ToArray().Any(g => g != 0f), $"{name} has an all-zero gradient");
        }
    }

    /// <summary>SpikingJelly's multi-step LIF (τ = 2, decay_input, hard reset to 0) over <c>[T, rest]</c>, in double.</summary>
    private static double[] NaiveLif(double[] x, int steps, double threshold)
    {
        int n = x.Length / steps;
        var v = new double[n];
        var s = new double[x.Length];
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < n; i++)
            {
                double h = v[i] + (x[t * n + i] - v[i]) / 2.0;
                s[t * n + i] = h >= threshold ? 1 : 0;
                v[i] = h >= threshold ? 0 : h;
            }
        }
        return s;
    }

    [Theory]
    [InlineData(SdsaVariant.KeyValueMask)]
    [InlineData(SdsaVariant.QueryKeyAttention)]
    [InlineData(SdsaVariant.LinearAttention)]
    [InlineData(SdsaVariant.SpikingKeyValueAttention)]
    public void Attention_matches_a_naive_reference_from_its_own_q_k_v_spikes(SdsaVariant variant)
    {
        const int T = 4, B = 2, N = 16, D = 16, H = 4, Dh = D / H;
        ModelSeed.Seed(11);
        // At these sizes Kᵀ·V holds small counts, so SDSA-3's 0.125 would leave attn_lif silent.
        const float Scale = 0.5f;
        using var attn = new SpikeDrivenSelfAttention(D, H, variant, Scale);
        string mixName = MixName(variant);
        Excite(attn);
        foreach (var name in new[] { "head_lif", "q_lif", "k_lif", "v_lif", mixName }) NeuronOf(attn, name).KeepLastSpikes = true;
        if (variant == SdsaVariant.SpikingKeyValueAttention) NeuronOf(attn, "kv_lif").KeepLastSpikes = true;
        var rng = new PhiloxGenerator(12);
        using var scope = DisposeScope.Begin();
        using var x = Variable.Input(rng.Normal(new Shape(T, B, N, D), 1f, 1.5f));
        var y = attn.Forward(x);
        Assert.False(y.IsSpikes);
        Assert.Equal(new Shape(T, B, N, D), y.Shape);

        var q = Bits(NeuronOf(attn, "q_lif"));
        var k = Bits(NeuronOf(attn, "k_lif"));
        var v = Bits(NeuronOf(attn, "v_lif"));
        Assert.Contains(1f, q);
        Assert.Contains(1f, k);
        var mixed = new double[T * B * N * D];
        if (variant == SdsaVariant.KeyValueMask)
        {
            // KV[t, b, d] = Σ_n K ⊙ V, a per-(batch, channel) current the neuron integrates over time.
            var kv = new double[T * B * D];
            for (int tb = 0; tb < T * B; tb++)
            {
                for (int n = 0; n < N; n++)
                {
                    for (int d = 0; d < D; d++) kv[tb * D + d] += k[(tb * N + n) * D + d] * v[(tb * N + n) * D + d];
                }
            }
            var mask = NaiveLif(kv, T, 0.5);
            Assert.Equal(mask, Bits(NeuronOf(attn, mixName)).Select(b => (double)b).ToArray());
            for (int tb = 0; tb < T * B; tb++)
            {
                for (int n = 0; n < N; n++)
                {
                    for (int d = 0; d < D; d++) mixed[(tb * N + n) * D + d] = q[(tb * N + n) * D + d] * mask[tb * D + d];
                }
            }
        }
        else
        {
            // m[t, b, h, j, c] = Σ_l K[l, j] · V[l, c] within head h, laid out [T, B·H, d, d] for SDSA-4's neuron.
            var m = new double[T * B * H * Dh * Dh];
            for (int tb = 0; tb < T * B; tb++)
            {
                for (int h = 0; h < H; h++)
                {
                    for (int j = 0; j < Dh; j++)
                    {
                        for (int c = 0; c < Dh; c++)
                        {
                            for (int l = 0; l < N; l++) m[((tb * H + h) * Dh + j) * Dh + c] += k[(tb * N + l) * D + h * Dh + j] * v[(tb * N + l) * D + h * Dh + c];
                        }
                    }
                }
            }
            if (variant == SdsaVariant.SpikingKeyValueAttention)
            {
                m = NaiveLif(m, T, 0.5);
                Assert.Equal(m, Bits(NeuronOf(attn, "kv_lif")).Select(b => (double)b).ToArray());
            }
            // a[t, b, h, n, c] = s · Σ_j Q[n, j] · m[j, c] within head h, laid out [T, B·H, N, d] for the neuron: the
            // same values whether Q·Kᵀ (SDSA-2) or Kᵀ·V (SDSA-3, SDSA-4) is formed first.
            var a = new double[T * B * H * N * Dh];
            for (int tb = 0; tb < T * B; tb++)
            {
                for (int h = 0; h < H; h++)
                {
                    for (int n = 0; n < N; n++)
                    {
                        for (int c = 0; c < Dh; c++)
                        {
                            double sum = 0;
                            for (int j = 0; j < Dh; j++) sum += q[(tb * N + n) * D + h * Dh + j] * m[((tb * H + h) * Dh + j) * Dh + c];
                            a[((tb * H + h) * N + n) * Dh + c] = Scale * sum;
                        }
                    }
                }
            }
            var spikes = NaiveLif(a, T, 0.5);
            Assert.Equal(spikes, Bits(NeuronOf(attn, mixName)).Select(b => (double)b).ToArray());
            for (int tb = 0; tb < T * B; tb++)
            {
                for (int h = 0; h < H; h++)
                {
                    for (int n = 0; n < N; n++)
                    {
                        for (int c = 0; c < Dh; c++) mixed[(tb * N + n) * D + h * Dh + c] = spikes[((tb * H + h) * N + n) * Dh + c];
                    }
                }
            }
        }

        Assert.Contains(1.0, mixed);

        // proj_linear, then a training-mode batch norm over T·B·N per channel.
        var w = ParameterValues(attn, "proj_linear.weight");
        var bias = ParameterValues(attn, "proj_linear.bias");
        var gamma = ParameterValues(attn, "proj_bn.weight");
        var beta = ParameterValues(attn, "proj_bn.bias");
        int rows = T * B * N;
        var z = new double[rows * D];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < D; o++)
            {
                double s = bias[o];
                for (int i = 0; i < D; i++) s += w[o * D + i] * mixed[r * D + i];
                z[r * D + o] = s;
            }
        }
        var actual = y.Dense.ToArray();
        for (int o = 0; o < D; o++)
        {
            double mean = 0, variance = 0;
            for (int r = 0; r < rows; r++) mean += z[r * D + o];
            mean /= rows;
            for (int r = 0; r < rows; r++) variance += (z[r * D + o] - mean) * (z[r * D + o] - mean);
            variance /= rows;
            for (int r = 0; r < rows; r++)
            {
                double expected = (z[r * D + o] - mean) / Math.Sqrt(variance + 1e-5) * gamma[o] + beta[o];
                Assert.True(Math.Abs(expected - actual[r * D + o]) < 1e-3, $"output [{r}, {o}] is {actual[r * D + o]}, expected {expected}");
            }
        }
    }

    [Theory]
    [InlineData(SdsaVariant.KeyValueMask)]
    [InlineData(SdsaVariant.QueryKeyAttention)]
    [InlineData(SdsaVariant.LinearAttention)]
    [InlineData(SdsaVariant.SpikingKeyValueAttention)]
    public void Attention_passes_a_gradient_to_every_parameter_and_to_its_input(SdsaVariant variant)
    {
        ModelSeed.Seed(2);
        // SDSA-4's counts reach at most d = 8 here, so its attn_lif needs a larger scale than 0.125 to fire.
        using var attn = new SpikeDrivenSelfAttention(32, heads: 4, variant, variant == SdsaVariant.SpikingKeyValueAttention ? 0.5f : 0.125f);
        Excite(attn);
        var rng = new PhiloxGenerator(3);
        using var scope = DisposeScope.Begin();
        using var x = Variable.Input(rng.Normal(new Shape(4, 3, 16, 32), 1f, 1f));
        var y = attn.Forward(x);
        BackwardWeighted(y, 4);
        AssertEveryParameterHasAGradient(attn);
        Assert.NotNull(x.Grad);
        Assert.Contains(x.Grad!.ToArray(), g => g != 0f);
        var e = Assert.Throws<ArgumentException>(() => attn.Forward(Variable.Constant(Tensor.Zeros(2, 3, 5, 16))));
        Assert.Contains("[2, 3, 5, 16]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[T, B, N, 32]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mlp_sees_spikes_and_returns_membrane_level_values()
    {
        ModelSeed.Seed(5);
        using var mlp = new SpikeDrivenMlp(16, 64);
        NeuronOf(mlp, "fc1_lif").KeepLastSpikes = true;
        NeuronOf(mlp, "fc2_lif").KeepLastSpikes = true;
        var rng = new PhiloxGenerator(6);
        using var scope = DisposeScope.Begin();
        using var x = Variable.Input(rng.Normal(new Shape(2, 2, 7, 16), 1f, 1f));
        var y = mlp.Forward(x);
        Assert.False(y.IsSpikes);
        Assert.Equal(new Shape(2, 2, 7, 16), y.Shape);
        Assert.Equal(new Shape(2, 2, 7, 16), NeuronOf(mlp, "fc1_lif").LastSpikes!.Shape);
        Assert.Equal(new Shape(2, 2, 7, 64), NeuronOf(mlp, "fc2_lif").LastSpikes!.Shape);
        BackwardWeighted(y, 7);
        AssertEveryParameterHasAGradient(mlp);
        var e = Assert.Throws<ArgumentException>(() => mlp.Forward(Variable.Constant(Tensor.Zeros(2, 7, 16))));
        Assert.Contains("[2, 7, 16]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Block_adds_both_branches_on_the_membrane_shortcut()
    {
        ModelSeed.Seed(8);
        using var block = new SpikeDrivenBlock(16, heads: 2, mlpRatio: 2);
        Excite(block);
        var rng = new PhiloxGenerator(9);
        using var scope = DisposeScope.Begin();
        using var x = Variable.Input(rng.Normal(new Shape(4, 2, 16, 16), 0.5f, 1f));
        var y = block.Forward(x);
        Assert.False(y.IsSpikes);
        Assert.Equal(x.Shape, y.Shape);

        // Same seeds, the branches by hand: x + attn(x), then + mlp of that.
        ModelSeed.Seed(8);
        using var twin = new SpikeDrivenBlock(16, heads: 2, mlpRatio: 2);
        Excite(twin);
        var attn = (SpikeDrivenSelfAttention)twin.NamedModules().Single(m => m.Name == "attn").Module;
        var mlp = (SpikeDrivenMlp)twin.NamedModules().Single(m => m.Name == "mlp").Module;
        var mid = x.Dense.ToArray().Zip(attn.Forward(x).Dense.ToArray(), (a, b) => a + b).ToArray();
        using var midT = Tensor.FromArray(mid, 4, 2, 16, 16);
        var expected = mid.Zip(mlp.Forward(Variable.Constant(midT)).Dense.ToArray(), (a, b) => a + b).ToArray();
        var actual = y.Dense.ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4, $"[{i}] {actual[i]} vs {expected[i]}");

        BackwardWeighted(y, 10);
        AssertEveryParameterHasAGradient(block);
        var names = block.NamedParameters().Select(p => p.Name).ToList();
        Assert.Contains("attn.q_linear.weight", names);
        Assert.DoesNotContain("attn.q_linear.bias", names);
        Assert.Contains("attn.proj_bn.bias", names);
        Assert.Contains("mlp.fc1_linear.weight", names);
        Assert.Contains("mlp.fc2_bn.weight", names);
    }

    [Fact]
    public void Conv_block_keeps_the_map_shape_and_trains_every_parameter()
    {
        ModelSeed.Seed(13);
        using var block = new MetaSpikeFormerConvBlock(8, mlpRatio: 2, kernelSize: 3);
        var rng = new PhiloxGenerator(14);
        using var scope = DisposeScope.Begin();
        using var x = Variable.Input(rng.Normal(new Shape(2, 2, 8, 6, 6), 1f, 1f));
        var y = block.Forward(x);
        Assert.False(y.IsSpikes);
        Assert.Equal(x.Shape, y.Shape);
        BackwardWeighted(y, 15);
        AssertEveryParameterHasAGradient(block);
        Assert.NotNull(x.Grad);
        var names = block.NamedParameters().Select(p => p.Name).ToList();
        Assert.Equal(
            ["Conv.pwconv1.weight", "Conv.bn1.weight", "Conv.bn1.bias", "Conv.dwconv.weight", "Conv.pwconv2.weight", "Conv.bn2.weight", "Conv.bn2.bias",
             "conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias"],
            names);
        Assert.Equal(new Shape(16, 1, 3, 3), block.NamedParameters().Single(p => p.Name == "Conv.dwconv.weight").Parameter.Value.Shape);
        var e = Assert.Throws<ArgumentException>(() => block.Forward(Variable.Constant(Tensor.Zeros(2, 2, 4, 6, 6))));
        Assert.Contains("[2, 2, 4, 6, 6]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[T, B, 8, H, W]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MetaSpikeFormerConvBlock(8, kernelSize: 4));
    }

    [Theory]
    [InlineData(SdsaVariant.KeyValueMask)]
    [InlineData(SdsaVariant.QueryKeyAttention)]
    [InlineData(SdsaVariant.LinearAttention)]
    [InlineData(SdsaVariant.SpikingKeyValueAttention)]
    public void Model_gives_one_output_per_step_with_the_papers_names(SdsaVariant variant)
    {
        ModelSeed.Seed(16);
        // SDSA-4's query product counts at most d channels, times 0.125: one head of 32 lets attn_lif fire.
        using var model = new SpikeDrivenTransformer(dim: 32, depth: 2, heads: variant == SdsaVariant.SpikingKeyValueAttention ? 1 : 4, mlpRatio: 2, variant: variant);
        // SDSA-1's mask fires at initialisation; the scaled products of SDSA-2 to SDSA-4 need Q, K and V to fire more.
        if (variant != SdsaVariant.KeyValueMask) Excite(model);
        Assert.Equal(variant, model.Variant);
        var names = model.NamedParameters().Select(p => p.Name).ToList();
        Assert.Contains("patch_embed.proj_conv.weight", names);
        Assert.Contains("block.0.attn.q_linear.weight", names);
        Assert.Contains("block.1.attn.proj_linear.bias", names);
        Assert.Contains("block.1.mlp.fc2_bn.weight", names);
        Assert.Contains("head.weight", names);
        Assert.Contains("patch_embed.proj_bn3.weight", names);
        Assert.Contains("patch_embed.rpe_bn.bias", names);
        Assert.Contains(model.NamedModules(), m => m.Name == "block.0.attn." + MixName(variant));
        Assert.Equal(variant == SdsaVariant.SpikingKeyValueAttention, model.NamedModules().Any(m => m.Name == "block.0.attn.kv_lif"));
        Assert.Contains(model.NamedModules(), m => m.Name == "head_lif");

        using var scope = DisposeScope.Begin();
        using var x = Images(4, 3, 17);
        var y = model.Forward(x);
        Assert.Equal(new Shape(4, 3, 10), y.Shape);
        BackwardWeighted(y, 18);
        // At initialisation every weight, down to the first SPS conv, is reached through the surrogates.
        AssertEveryParameterHasAGradient(model);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Variable.Constant(Tensor.Zeros(4, 3, 1, 27, 28))));
        Assert.Contains("[4, 3, 1, 27, 28]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Patch_splitting_adds_the_position_embedding_to_the_membrane_level_feature()
    {
        ModelSeed.Seed(20);
        using var sps = new SpikeDrivenPatchSplitting(1, 16);
        Assert.Equal(
            ["proj_conv.weight", "proj_bn.weight", "proj_bn.bias", "proj_conv1.weight", "proj_bn1.weight", "proj_bn1.bias",
             "proj_conv2.weight", "proj_bn2.weight", "proj_bn2.bias", "proj_conv3.weight", "proj_bn3.weight", "proj_bn3.bias",
             "rpe_conv.weight", "rpe_bn.weight", "rpe_bn.bias"],
            sps.NamedParameters().Select(p => p.Name).ToList());
        Assert.Equal(["maxpool2", "maxpool3", "proj_lif3"], sps.NamedModules().Select(m => m.Name).Where(n => n is "maxpool2" or "maxpool3" or "proj_lif3" or "rpe_lif").ToList());

        using (var scope = DisposeScope.Begin())
        {
            using var x = Images(2, 3, 21);
            var y = sps.Forward(x);
            Assert.False(y.IsSpikes);
            Assert.Equal(new Shape(2, 3, 49, 16), y.Shape);
            // Real-valued tokens, not Spikformer's sums of two spike maps in {0, 1, 2}.
            Assert.Contains(y.Dense.ToArray(), v => v != MathF.Round(v));
            BackwardWeighted(y, 22);
            AssertEveryParameterHasAGradient(sps);
        }

        // With both last batch norms flat, the feature is β everywhere, its spikes reach the RPE only through its
        // batch norm (flat too, γ), and every token is β + γ: the sum is taken on membrane-level values.
        foreach (var (name, p) in sps.NamedParameters())
        {
            if (name is "proj_bn3.weight" or "rpe_bn.weight") p.Value.Fill(0f);
            if (name == "proj_bn3.bias") p.Value.Fill(1.5f);
            if (name == "rpe_bn.bias") p.Value.Fill(-0.25f);
        }
        NeuronOf(sps, "proj_lif3").KeepLastSpikes = true;
        using (var scope = DisposeScope.Begin())
        {
            using var x = Images(2, 3, 23);
            var y = sps.Forward(x);
            Assert.All(y.Dense.ToArray(), v => Assert.Equal(1.25f, v));
            Assert.Contains(1f, Bits(NeuronOf(sps, "proj_lif3")));
        }
        var e = Assert.Throws<ArgumentException>(() => sps.Forward(Variable.Constant(Tensor.Zeros(2, 3, 1, 30, 28))));
        Assert.Contains("[2, 3, 1, 30, 28]", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SdsaVariant.KeyValueMask)]
    [InlineData(SdsaVariant.QueryKeyAttention)]
    [InlineData(SdsaVariant.LinearAttention)]
    [InlineData(SdsaVariant.SpikingKeyValueAttention)]
    public void Attention_counts_its_own_accumulates_pair_by_pair(SdsaVariant variant)
    {
        const int T = 2, B = 3, N = 9, D = 24, H = 3, Dh = D / H;
        ModelSeed.Seed(30);
        using var attn = new SpikeDrivenSelfAttention(D, H, variant, scale: 0.5f);
        Excite(attn);
        string mixName = MixName(variant);
        foreach (var name in new[] { "q_lif", "k_lif", "v_lif", mixName }) NeuronOf(attn, name).KeepLastSpikes = true;
        if (variant == SdsaVariant.SpikingKeyValueAttention) NeuronOf(attn, "kv_lif").KeepLastSpikes = true;
        EnergyModel.StartCounting(attn);
        var rng = new PhiloxGenerator(31);
        using (var scope = DisposeScope.Begin())
        {
            using var x = Variable.Input(rng.Normal(new Shape(T, B, N, D), 1f, 1.5f));
            attn.Forward(x);
        }
        EnergyModel.StopCounting(attn);

        var q = Bits(NeuronOf(attn, "q_lif"));
        var k = Bits(NeuronOf(attn, "k_lif"));
        var v = Bits(NeuronOf(attn, "v_lif"));
        var mix = Bits(NeuronOf(attn, mixName));
        var map = variant == SdsaVariant.SpikingKeyValueAttention ? Bits(NeuronOf(attn, "kv_lif")) : [];
        Assert.Contains(1f, q);
        Assert.Contains(1f, k);
        Assert.Contains(1f, v);
        long expected = 0;
        for (int tb = 0; tb < T * B; tb++)
        {
            for (int h = 0; h < H; h++)
            {
                double Q(int l, int c) => q[(tb * N + l) * D + h * Dh + c];
                double K(int l, int c) => k[(tb * N + l) * D + h * Dh + c];
                double V(int l, int c) => v[(tb * N + l) * D + h * Dh + c];
                for (int i = 0; i < N; i++)
                {
                    for (int a = 0; a < Dh; a++)
                    {
                        for (int b = 0; b < Dh; b++)
                        {
                            switch (variant)
                            {
                                // SDSA-1 has no d × d products; its column sum and mask are counted below.
                                case SdsaVariant.QueryKeyAttention:
                                    // Q·Kᵀ: one per coinciding (query i, key j) pair in a channel; ·V: one per value spike per query.
                                    if (a == b)
                                    {
                                        for (int j = 0; j < N; j++) expected += (long)(Q(i, a) * K(j, a) + V(j, a));
                                    }
                                    break;
                                case SdsaVariant.LinearAttention:
                                    // Kᵀ·V: one per key-value pair in token i; Q·M: a row of d counts per query spike.
                                    expected += (long)(K(i, a) * V(i, b) + Q(i, a));
                                    break;
                                case SdsaVariant.SpikingKeyValueAttention:
                                    expected += (long)(K(i, a) * V(i, b) + Q(i, a) * map[((tb * H + h) * Dh + a) * Dh + b]);
                                    break;
                            }
                        }
                        if (variant == SdsaVariant.KeyValueMask) expected += (long)(K(i, a) * V(i, a) + Q(i, a) * mix[(tb * H + h) * Dh + a]);
                    }
                }
            }
        }
        Assert.True(expected > 0);
        Assert.Equal(expected, attn.Operations.SynapticOperations);
        Assert.Equal(0, attn.Operations.MultiplyAccumulates);
        var report = EnergyModel.Report(attn, B);
        Assert.Equal((double)expected / B, report.Layers.Single(l => l.Name == "").SynapticOperations);
    }

    [Fact]
    public void Model_learns_a_few_batches()
    {
        ModelSeed.Seed(4);
        using var model = new SpikeDrivenTransformer(dim: 64, depth: 1, heads: 2, mlpRatio: 2);
        var data = SyntheticImages.Create(64, 5);
        var trainer = new ClassifierTrainer(model, new Adam(model.Parameters(), 3e-3),
            images => Variable.Constant(DirectEncoder.Encode(images, 4)), static (o, labels, _) => Losses.FiringRateCrossEntropy(o, labels));
        using var loader = new DataLoader(data, 16, shuffle: true, seed: 1);
        var losses = new List<double>();
        for (int epoch = 0; epoch < 8; epoch++)
        {
            foreach (var b in loader.Epoch(epoch)) losses.Add(trainer.TrainStep(b.Images, b.Labels).Loss);
        }
        Assert.True(losses.Skip(losses.Count - 4).Average() < 0.9 * losses.Take(4).Average(), $"loss went {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
    }
}

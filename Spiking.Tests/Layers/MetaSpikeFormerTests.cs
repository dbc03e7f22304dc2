using System;
using System.Collections.Generic;
using System.Linq;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>
/// Meta-SpikeFormer (Spike-driven Transformer V2) as the official <c>classification/models.py</c> builds it: the
/// attention against a naive reference from its own spikes, the MLP's neuron placement, the blocks' shortcuts and
/// layer scales, the model's state dict against a name and shape list derived by hand from the official code, and
/// the pluggable layers the QSD-Transformer builds on.
/// </summary>
public sealed class MetaSpikeFormerTests
{
    private static Variable Images(int steps, int batch, int seed, int side = 28)
    {
        var data = SyntheticImages.Create(batch, seed);
        using var x = Tensor.FromArray(data.Pixels.ToArray().Select(p => p / 255f).ToArray(), batch, 1, 28, 28);
        if (side == 28) return Variable.Constant(DirectEncoder.Encode(x, steps));
        using var crop = Tensor.Empty(batch, 1, side, side);
        var source = x.AsReadOnlySpan();
        var destination = crop.AsSpan();
        for (int b = 0; b < batch; b++)
        {
            for (int r = 0; r < side; r++) source.Slice(b * 784 + r * 28, side).CopyTo(destination.Slice((b * side + r) * side, side));
        }
        return Variable.Constant(DirectEncoder.Encode(crop, steps));
    }

    private static INeuronLayer NeuronOf(Module module, string name) =>
        (INeuronLayer)module.NamedModules().Single(m => m.Name == name).Module;

    private static Module ModuleOf(Module module, string name) => module.NamedModules().Single(m => m.Name == name).Module;

    private static float[] Bits(INeuronLayer neuron)
    {
        using var t = neuron.LastSpikes!.ToTensor();
        return t.ToArray();
    }

    /// <summary>A weighted sum, so the gradient through a batch norm is not zero (a plain sum of its output is constant).</summary>
    private static void BackwardWeighted(Variable y, int seed)
    {
        using var w = Variable.Constant(new PhiloxGenerator((ulong)seed).Normal(y.Shape));
        Functional.Sum(Functional.Multiply(y.IsSpikes ? Functional.SpikesToDense(y) : y, w)).Backward();
    }

    /// <summary>
    /// At initialisation Q, K and V fire a few percent of the time and <c>Kᵀ·V</c> holds small counts, so the
    /// attention's output neuron stays silent; a positive shift of the norms before Q, K and V makes them fire often
    /// enough for the attention's data path (and the output projection's weight gradient) to be exercised.
    /// </summary>
    private static void Excite(Module module, float shift = 1.5f)
    {
        foreach (var (name, p) in module.NamedParameters())
        {
            if (name.EndsWith("q_conv.1.bias", StringComparison.Ordinal) || name.EndsWith("k_conv.1.bias", StringComparison.Ordinal)
                || name.EndsWith("v_conv.1.bias", StringComparison.Ordinal))
            {
                p.Value.Fill(shift);
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

    /// <summary>
    /// The running statistics of every norm: a training-mode call updates them, and the padded norms of the RepConvs
    /// fill their border from them, so a sub-module re-run for the reference must start from the same statistics.
    /// </summary>
    private static List<float[]> RunningStatistics(Module module) => module.NamedBuffers().Select(b => b.Buffer.ToArray()).ToList();

    private static void Restore(Module module, List<float[]> statistics)
    {
        int i = 0;
        foreach (var (_, buffer) in module.NamedBuffers()) statistics[i++].CopyTo(buffer.AsSpan());
    }

    [Fact]
    public void Attention_matches_a_naive_reference_from_its_own_spikes_in_the_official_layout()
    {
        const int T = 4, B = 2, C = 16, Hh = 4, Ww = 3, N = Hh * Ww, Heads = 2, D = C / Heads;
        // At these sizes Kᵀ·V holds small counts, so V2's 0.125 would leave attn_lif silent.
        const float Scale = 0.5f;
        ModelSeed.Seed(51);
        using var attn = new MetaSpikeFormerAttention(C, Heads, MetaSpikeFormerLayers.Default with { AttentionScale = Scale });
        Assert.Equal(Scale, attn.Scale);
        Excite(attn, 0.8f);
        foreach (var name in new[] { "head_lif", "q_lif", "k_lif", "v_lif", "attn_lif" }) NeuronOf(attn, name).KeepLastSpikes = true;
        var initial = RunningStatistics(attn);
        using var scope = DisposeScope.Begin();
        using var x = Variable.Input(new PhiloxGenerator(52).Normal(new Shape(T, B, C, Hh, Ww), 1f, 1.5f));
        var y = attn.Forward(x);
        Assert.False(y.IsSpikes);
        Assert.Equal(x.Shape, y.Shape);

        // Q, K and V: the neuron over time on q_conv(head spikes), channel-major [T, B, C, N] as the official code runs it.
        var head = NeuronOf(attn, "head_lif").LastSpikes!;
        Assert.Equal(new Shape(T, B, C, Hh, Ww), head.Shape);
        double[] Fired(string conv, string lif)
        {
            Restore(attn, initial);
            var currents = ModuleOf(attn, conv).Forward(Variable.Constant(head.Clone())).Dense.ToArray().Select(v => (double)v).ToArray();
            var expected = NaiveLif(currents, T, 1.0);
            // The layer keeps its bits token-major, [T, B, N, C].
            var bits = Bits(NeuronOf(attn, lif));
            for (int tb = 0; tb < T * B; tb++)
            {
                for (int c = 0; c < C; c++)
                {
                    for (int n = 0; n < N; n++) Assert.Equal(expected[(tb * C + c) * N + n], bits[(tb * N + n) * C + c]);
                }
            }
            Assert.Contains(1.0, expected);
            return expected;
        }
        var q = Fired("q_conv", "q_lif");
        var k = Fired("k_conv", "k_lif");
        var v = Fired("v_conv", "v_lif");

        // a[c = h·d + j, n] = s · Σ_i Q[h·d + i, n] · Σ_l K[h·d + i, l] · V[h·d + j, l], then attn_lif (threshold 0.5).
        var a = new double[T * B * C * N];
        for (int tb = 0; tb < T * B; tb++)
        {
            for (int h = 0; h < Heads; h++)
            {
                var m = new double[D, D];
                for (int i = 0; i < D; i++)
                {
                    for (int j = 0; j < D; j++)
                    {
                        for (int l = 0; l < N; l++) m[i, j] += k[(tb * C + h * D + i) * N + l] * v[(tb * C + h * D + j) * N + l];
                    }
                }
                for (int j = 0; j < D; j++)
                {
                    for (int n = 0; n < N; n++)
                    {
                        double sum = 0;
                        for (int i = 0; i < D; i++) sum += q[(tb * C + h * D + i) * N + n] * m[i, j];
                        a[(tb * C + h * D + j) * N + n] = Scale * sum;
                    }
                }
            }
        }
        var mixed = NaiveLif(a, T, 0.5);
        Assert.Equal(mixed, Bits(NeuronOf(attn, "attn_lif")).Select(b => (double)b).ToArray());
        Assert.Contains(1.0, mixed);

        // The output is proj_conv of those spikes (training-mode norms: the same batch gives the same statistics).
        var attnSpikes = NeuronOf(attn, "attn_lif").LastSpikes!.Clone();
        Restore(attn, initial);
        var expectedOut = ModuleOf(attn, "proj_conv").Forward(Variable.Constant(attnSpikes)).Dense.ToArray();
        Assert.Equal(expectedOut, y.Dense.ToArray());

        BackwardWeighted(y, 53);
        AssertEveryParameterHasAGradient(attn);
        Assert.Contains(x.Grad!.ToArray(), g => g != 0f);
        var e = Assert.Throws<ArgumentException>(() => attn.Forward(Variable.Constant(Tensor.Zeros(2, 3, 8, 4, 4))));
        Assert.Contains("[T, B, 16, H, W]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MetaSpikeFormerAttention(16, heads: 3));
    }

    [Fact]
    public void Attention_counts_the_accumulates_of_its_linear_attention_on_spikes()
    {
        ModelSeed.Seed(54);
        using var attn = new MetaSpikeFormerAttention(16, 2);
        Excite(attn, 0.8f);
        foreach (var name in new[] { "q_lif", "k_lif", "v_lif" }) NeuronOf(attn, name).KeepLastSpikes = true;
        attn.Operations.Enabled = true;
        using var scope = DisposeScope.Begin();
        attn.Forward(Variable.Constant(new PhiloxGenerator(55).Normal(new Shape(2, 2, 16, 3, 3), 1f, 1.5f)));
        // Token-major [T·B, N, C] bits: Σ over (batch, head, token) |K|·|V| within the head, plus d per query spike.
        var q = Bits(NeuronOf(attn, "q_lif"));
        var k = Bits(NeuronOf(attn, "k_lif"));
        var v = Bits(NeuronOf(attn, "v_lif"));
        long expected = 0;
        for (int row = 0; row < 4 * 9; row++)
        {
            for (int h = 0; h < 2; h++)
            {
                long kc = 0, vc = 0;
                for (int j = 0; j < 8; j++)
                {
                    kc += (long)k[row * 16 + h * 8 + j];
                    vc += (long)v[row * 16 + h * 8 + j];
                    expected += 8 * (long)q[row * 16 + h * 8 + j];
                }
                expected += kc * vc;
            }
        }
        Assert.True(expected > 0);
        Assert.Equal(expected, attn.Operations.SynapticOperations);
    }

    [Fact]
    public void Mlp_fires_before_each_convolution_and_returns_membrane_level_maps()
    {
        ModelSeed.Seed(56);
        using var mlp = new MetaSpikeFormerMlp(8, 24);
        NeuronOf(mlp, "fc1_lif").KeepLastSpikes = true;
        NeuronOf(mlp, "fc2_lif").KeepLastSpikes = true;
        using var scope = DisposeScope.Begin();
        using var x = Variable.Input(new PhiloxGenerator(57).Normal(new Shape(2, 3, 8, 2, 5), 1f, 1f));
        var y = mlp.Forward(x);
        Assert.False(y.IsSpikes);
        Assert.Equal(x.Shape, y.Shape);
        // The official MS_MLP flattens the maps to [T, B, C, N] and fires on its input and on fc1_bn's output.
        Assert.Equal(new Shape(2, 3, 8, 10), NeuronOf(mlp, "fc1_lif").LastSpikes!.Shape);
        Assert.Equal(new Shape(2, 3, 24, 10), NeuronOf(mlp, "fc2_lif").LastSpikes!.Shape);
        var fc1Input = NeuronOf(mlp, "fc1_lif").LastSpikes!.Clone();
        var fc1 = ModuleOf(mlp, "fc1_conv").Forward(Variable.Constant(fc1Input));
        var fc2Current = ModuleOf(mlp, "fc1_bn").Forward(fc1).Dense.ToArray().Select(c => (double)c).ToArray();
        Assert.Equal(NaiveLif(fc2Current, 2, 1.0), Bits(NeuronOf(mlp, "fc2_lif")).Select(b => (double)b).ToArray());
        BackwardWeighted(y, 58);
        AssertEveryParameterHasAGradient(mlp);
        Assert.Equal(
            ["fc1_conv.weight", "fc1_conv.bias", "fc1_bn.weight", "fc1_bn.bias", "fc2_conv.weight", "fc2_conv.bias", "fc2_bn.weight", "fc2_bn.bias"],
            mlp.NamedParameters().Select(p => p.Name).ToList());
        Assert.Equal(new Shape(24, 8, 1), mlp.NamedParameters().First().Parameter.Shape);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Block_adds_both_branches_on_the_membrane_shortcut_scaled_when_asked(bool layerScale)
    {
        var layers = MetaSpikeFormerLayers.Default with { LayerScale = layerScale, LayerScaleInit = 0.25f };
        ModelSeed.Seed(59);
        using var block = new MetaSpikeFormerBlock(16, heads: 2, mlpRatio: 2, layers);
        Excite(block);
        var names = block.NamedParameters().Select(p => p.Name).ToList();
        Assert.Equal(layerScale, names.Contains("layer_scale1"));
        if (layerScale)
        {
            // A module's own parameters come first in PyTorch's state_dict, before its children's.
            Assert.Equal(["layer_scale1", "layer_scale2"], names.Take(2));
            Assert.All(block.NamedParameters().Take(2), p => Assert.Equal(Enumerable.Repeat(0.25f, 16), p.Parameter.Value.ToArray()));
            // Different per-channel scales, so a broadcast along the wrong axis would show.
            for (int i = 0; i < 2; i++) new PhiloxGenerator(60 + (ulong)i).FillNormal(block.NamedParameters().ElementAt(i).Parameter.Value, 0.5f, 0.3f);
        }
        using var scope = DisposeScope.Begin();
        using var x = Variable.Input(new PhiloxGenerator(62).Normal(new Shape(4, 2, 16, 3, 3), 0.5f, 1f));
        var y = block.Forward(x);
        Assert.Equal(x.Shape, y.Shape);

        float[] Scale(int which) => layerScale ? block.NamedParameters().ElementAt(which).Parameter.Value.ToArray() : Enumerable.Repeat(1f, 16).ToArray();
        float[] Add(float[] a, float[] branch, float[] scale) => a.Select((value, i) => value + scale[i / 9 % 16] * branch[i]).ToArray();
        ModelSeed.Seed(59);
        using var twin = new MetaSpikeFormerBlock(16, heads: 2, mlpRatio: 2, layers);
        Excite(twin);
        var mid = Add(x.Dense.ToArray(), ModuleOf(twin, "attn").Forward(x).Dense.ToArray(), Scale(0));
        using var midT = Tensor.FromArray(mid, 4, 2, 16, 3, 3);
        var expected = Add(mid, ModuleOf(twin, "mlp").Forward(Variable.Constant(midT)).Dense.ToArray(), Scale(1));
        var actual = y.Dense.ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"[{i}] {actual[i]} vs {expected[i]}");

        BackwardWeighted(y, 63);
        AssertEveryParameterHasAGradient(block);
    }

    [Fact]
    public void Downsampling_fires_before_its_convolution_except_in_the_first_layer()
    {
        ModelSeed.Seed(64);
        using var first = new MetaSpikeFormerDownsampling(1, 4, 7, 2, 3, firstLayer: true);
        using var later = new MetaSpikeFormerDownsampling(4, 6, 3, 1, 1);
        Assert.DoesNotContain(first.NamedModules(), m => m.Name == "encode_lif");
        Assert.Contains(later.NamedModules(), m => m.Name == "encode_lif");
        Assert.Equal(["encode_conv.weight", "encode_conv.bias", "encode_bn.weight", "encode_bn.bias"], later.NamedParameters().Select(p => p.Name));
        NeuronOf(later, "encode_lif").KeepLastSpikes = true;
        using var scope = DisposeScope.Begin();
        var x = Images(2, 2, 65, side: 9);
        var y = first.Forward(x);
        Assert.Equal(new Shape(2, 2, 4, 5, 5), y.Shape);
        var z = later.Forward(y);
        Assert.Equal(new Shape(2, 2, 6, 5, 5), z.Shape);
        Assert.Equal(NaiveLif(y.Dense.ToArray().Select(v => (double)v).ToArray(), 2, 1.0), Bits(NeuronOf(later, "encode_lif")).Select(b => (double)b).ToArray());
    }

    /// <summary>
    /// The state dict of <c>Spiking_vit_MetaFormer</c> (BICLab/Spike-Driven-Transformer-V2,
    /// <c>classification/models.py</c>) for a configuration, derived by hand from its <c>__init__</c>s: each helper
    /// lists what PyTorch's <c>state_dict()</c> holds for one class, in its order (a module's own parameters, then its
    /// buffers, then its children in the order <c>__init__</c> assigns them; neurons, <c>nn.Identity</c> drop paths and
    /// padding hold nothing). <c>nn.Conv2d(i, o, k)</c> has <c>weight [o, i/groups, k, k]</c> and a bias unless
    /// <c>bias=False</c>; <c>nn.Conv1d(i, o, 1)</c> has <c>weight [o, i, 1]</c> and a bias; <c>nn.BatchNorm</c> has
    /// <c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>running_var</c> <c>[c]</c> and the int64 scalar
    /// <c>num_batches_tracked</c>; <c>nn.Linear(i, o)</c> <c>weight [o, i]</c>, <c>bias [o]</c>. QSD-Transformer's
    /// MS_Block adds its own <c>layer_scale1</c>, <c>layer_scale2</c> <c>[dim]</c>, so they come before <c>attn</c>.
    /// The official stage-3 and stage-4 depths are fixed (6 and 2 in V2); here they are the configuration's.
    /// </summary>
    private static List<(string Name, string Shape)> OfficialStateDict(MetaSpikeFormerConfig config, bool layerScale)
    {
        var e = new List<(string, string)>();
        void Add(string name, params int[] shape) => e.Add((name, shape.Length == 0 ? "I64[]" : $"[{string.Join(", ", shape)}]"));
        void Bn(string p, int c)
        {
            Add(p + "weight", c);
            Add(p + "bias", c);
            Add(p + "running_mean", c);
            Add(p + "running_var", c);
            Add(p + "num_batches_tracked");
        }
        // SepConv: lif1, pwconv1 (1×1, no bias), bn1, lif2, dwconv (groups = med, no bias), pwconv2, bn2; med = 2·dim.
        void SepConv(string p, int dim)
        {
            int med = 2 * dim, k = config.SepConvKernel;
            Add(p + "pwconv1.weight", med, dim, 1, 1);
            Bn(p + "bn1.", med);
            Add(p + "dwconv.weight", med, 1, k, k);
            Add(p + "pwconv2.weight", dim, med, 1, 1);
            Bn(p + "bn2.", dim);
        }
        // MS_ConvBlock: Conv (SepConv), lif1, conv1 (3×3, no bias), bn1, lif2, conv2, bn2.
        void ConvBlock(string p, int dim)
        {
            int r = config.MlpRatio;
            SepConv(p + "Conv.", dim);
            Add(p + "conv1.weight", dim * r, dim, 3, 3);
            Bn(p + "bn1.", dim * r);
            Add(p + "conv2.weight", dim, dim * r, 3, 3);
            Bn(p + "bn2.", dim);
        }
        // RepConv: body = Sequential(conv1x1, BNAndPadLayer(.bn), Sequential(dw 3×3, 1×1, BatchNorm2d)).
        void RepConv(string p, int i, int o)
        {
            Add(p + "body.0.weight", i, i, 1, 1);
            Bn(p + "body.1.bn.", i);
            Add(p + "body.2.0.weight", i, 1, 3, 3);
            Add(p + "body.2.1.weight", o, i, 1, 1);
            Bn(p + "body.2.2.", o);
        }
        // MS_Attention_RepConv_qkv_id: head_lif, q_conv, k_conv, v_conv = Sequential(RepConv, BatchNorm2d), the lifs, proj_conv.
        void Attention(string p, int dim)
        {
            foreach (var name in new[] { "q_conv", "k_conv", "v_conv", "proj_conv" })
            {
                RepConv($"{p}{name}.0.", dim, dim);
                Bn($"{p}{name}.1.", dim);
            }
        }
        // MS_MLP: fc1_conv (Conv1d, bias), fc1_bn, fc1_lif, fc2_conv, fc2_bn, fc2_lif.
        void Mlp(string p, int dim, int hidden)
        {
            Add(p + "fc1_conv.weight", hidden, dim, 1);
            Add(p + "fc1_conv.bias", hidden);
            Bn(p + "fc1_bn.", hidden);
            Add(p + "fc2_conv.weight", dim, hidden, 1);
            Add(p + "fc2_conv.bias", dim);
            Bn(p + "fc2_bn.", dim);
        }
        void Block(string p, int dim)
        {
            if (layerScale)
            {
                Add(p + "layer_scale1", dim);
                Add(p + "layer_scale2", dim);
            }
            Attention(p + "attn.", dim);
            Mlp(p + "mlp.", dim, dim * config.MlpRatio);
        }
        // MS_DownSampling: encode_conv (with bias), encode_bn, encode_lif unless first_layer.
        void Down(string p, int i, int o, int k)
        {
            Add(p + "encode_conv.weight", o, i, k, k);
            Add(p + "encode_conv.bias", o);
            Bn(p + "encode_bn.", o);
        }
        var d = config.EmbedDims;
        Down("downsample1_1.", config.InChannels, d[0] / 2, 7);
        ConvBlock("ConvBlock1_1.0.", d[0] / 2);
        Down("downsample1_2.", d[0] / 2, d[0], 3);
        ConvBlock("ConvBlock1_2.0.", d[0]);
        Down("downsample2.", d[0], d[1], 3);
        ConvBlock("ConvBlock2_1.0.", d[1]);
        ConvBlock("ConvBlock2_2.0.", d[1]);
        Down("downsample3.", d[1], d[2], 3);
        for (int j = 0; j < config.Stage3Depth; j++) Block($"block3.{j}.", d[2]);
        Down("downsample4.", d[2], d[3], 3);
        for (int j = 0; j < config.Stage4Depth; j++) Block($"block4.{j}.", d[3]);
        Add("head.weight", config.Classes, d[3]);
        Add("head.bias", config.Classes);
        return e;
    }

    private static List<(string Name, string Shape)> StateDictOf(Module model) =>
        model.StateDict().Select(s => (s.Name, s.Value is null ? "I64[]" : s.Value.Shape.ToString())).ToList();

    private static readonly MetaSpikeFormerConfig s_small = new()
    {
        InChannels = 2,
        Classes = 5,
        EmbedDims = [8, 12, 16, 20],
        Heads = 2,
        MlpRatio = 3,
        Stage3Depth = 1,
        Stage4Depth = 2,
        SepConvKernel = 5,
    };

    [Fact]
    public void The_state_dict_lists_the_official_names_and_shapes_in_pytorchs_order()
    {
        ModelSeed.Seed(66);
        using var model = new MetaSpikeFormer(s_small);
        var expected = OfficialStateDict(s_small, layerScale: false);
        Assert.Equal(expected, StateDictOf(model));
        // 5 downsamplings of 7 entries, 4 conv blocks of 25, 3 transformer blocks of 86 (4 × 18 attention, 14 MLP), the head's 2.
        Assert.Equal(5 * 7 + 4 * 25 + 3 * 86 + 2, expected.Count);
        // The Fashion-MNIST configuration too, as the CLI builds it.
        using var small = new MetaSpikeFormer(MetaSpikeFormerConfig.FashionMnist);
        Assert.Equal(OfficialStateDict(MetaSpikeFormerConfig.FashionMnist, layerScale: false), StateDictOf(small));
    }

    [Fact]
    public void Model_gives_one_output_per_step_and_trains_every_parameter()
    {
        ModelSeed.Seed(67);
        var config = MetaSpikeFormerConfig.FashionMnist with { EmbedDims = [8, 16, 16, 24], Heads = 2, MlpRatio = 2 };
        using var model = new MetaSpikeFormer(config);
        Excite(model);
        // The model's lif sees the token mean of the last stage, whose spread is small at initialisation; a raised
        // stage-4 stream makes it fire, so the head's weight has a gradient.
        ((MetaSpikeFormerDownsampling)ModuleOf(model, "downsample4")).NamedParameters().Single(p => p.Name == "encode_bn.bias").Parameter.Value.Fill(2f);
        foreach (var name in new[] { "block3.0.attn.attn_lif", "block4.0.attn.attn_lif", "lif" }) NeuronOf(model, name).KeepLastSpikes = true;
        using var scope = DisposeScope.Begin();
        var y = model.Forward(Images(2, 3, 68));
        Assert.Equal(new Shape(2, 3, 10), y.Shape);
        // Stages 3 and 4 at 7×7: the attention sees 49 tokens.
        Assert.Equal(new Shape(2, 3, 16, 7, 7), NeuronOf(model, "block3.0.attn.attn_lif").LastSpikes!.Shape);
        Assert.Equal(new Shape(2, 3, 24, 7, 7), NeuronOf(model, "block4.0.attn.attn_lif").LastSpikes!.Shape);
        Assert.Equal(new Shape(2, 3, 24), NeuronOf(model, "lif").LastSpikes!.Shape);
        BackwardWeighted(y, 69);
        AssertEveryParameterHasAGradient(model);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Variable.Constant(Tensor.Zeros(2, 3, 3, 28, 28))));
        Assert.Contains("[2, 3, 3, 28, 28]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new MetaSpikeFormer(config with { Strides = [2, 2, 2] }));
        Assert.Throws<ArgumentException>(() => new MetaSpikeFormer(config with { Heads = 5 }));
    }

    [Fact]
    public void The_head_is_initialised_as_the_official_init_weights()
    {
        ModelSeed.Seed(70);
        using var model = new MetaSpikeFormer(MetaSpikeFormerConfig.FashionMnist with { Classes = 100 });
        var head = (Linear)ModuleOf(model, "head");
        Assert.All(head.Bias!.Value.ToArray(), b => Assert.Equal(0f, b));
        var w = head.Weight.Value.ToArray();
        double mean = w.Average(), std = Math.Sqrt(w.Select(v => (v - mean) * (v - mean)).Sum() / (w.Length - 1));
        // 6400 draws of N(0, 0.02²): the sample deviation is within 5 % of 0.02 with overwhelming probability (its
        // relative standard error is 1/√(2·6400) ≈ 0.9 %).
        Assert.InRange(std, 0.019, 0.021);
        Assert.InRange(mean, -0.0015, 0.0015);
    }

    /// <summary>A dense, non-spiking stand-in for a multi-level neuron: its output is a float, not bits.</summary>
    private sealed class DenseNeuron(float gain) : Module
    {
        public float Gain { get; } = gain;

        public override Variable Forward(Variable input) => Functional.Multiply(Functional.Relu(input.IsSpikes ? Functional.SpikesToDense(input) : input), Gain);
    }

    [Fact]
    public void Pluggable_layers_keep_every_state_dict_path_and_reach_every_class()
    {
        var specs = new List<Conv2dSpec>();
        var roles = new List<MetaSpikeFormerNeuronRole>();
        int pointwise = 0, heads = 0;
        var layers = MetaSpikeFormerLayers.Default with
        {
            Conv2d = spec =>
            {
                specs.Add(spec);
                return new RecordingConv(spec);
            },
            Conv1d = (i, o, bias) =>
            {
                pointwise++;
                return new PointwiseConv1d(i, o, bias);
            },
            Linear = (i, o) =>
            {
                heads++;
                return new Linear(i, o);
            },
            Neuron = role =>
            {
                roles.Add(role);
                return new DenseNeuron(role == MetaSpikeFormerNeuronRole.AttentionOutput ? 0.5f : 0.25f);
            },
            AttentionScale = 0.25f,
            LayerScale = true,
        };
        ModelSeed.Seed(71);
        using var model = new MetaSpikeFormer(s_small, layers);
        Assert.Equal(OfficialStateDict(s_small, layerScale: true), StateDictOf(model));
        Assert.All(model.NamedParameters().Where(p => p.Name.Contains("layer_scale", StringComparison.Ordinal)), p => Assert.All(p.Parameter.Value.ToArray(), v => Assert.Equal(1e-6f, v)));

        // Every convolution of the model came from the factory: 5 downsamplings, 4 conv blocks of 5, 3 blocks of 4 RepConvs of 3.
        Assert.Equal(5 + 4 * 5 + 3 * 4 * 3, specs.Count);
        Assert.Equal(5, specs.Count(s => s.Bias));
        Assert.Equal(4 + 3 * 4, specs.Count(s => s.Depthwise));
        Assert.Contains(new Conv2dSpec(2, 4, 7, 2, 3, Bias: true), specs);
        Assert.Equal(3 * 2, pointwise);
        Assert.Equal(1, heads);
        // Neurons: 4 per downsampling but the first, 4 per conv block, 7 per transformer block (one an attention output), the model's lif.
        Assert.Equal(3, roles.Count(r => r == MetaSpikeFormerNeuronRole.AttentionOutput));
        Assert.Equal(4 + 4 * 4 + 3 * 6 + 1, roles.Count(r => r == MetaSpikeFormerNeuronRole.Ordinary));
        Assert.All(model.NamedModules().Where(m => m.Name.EndsWith("attn", StringComparison.Ordinal)), m => Assert.Equal(0.25f, ((MetaSpikeFormerAttention)m.Module).Scale));

        // Dense neurons take the dense attention path; the model still trains end to end.
        using var scope = DisposeScope.Begin();
        var y = model.Forward(Variable.Constant(new PhiloxGenerator(72).Uniform(new Shape(2, 2, 2, 16, 16))));
        Assert.Equal(new Shape(2, 2, 5), y.Shape);
        BackwardWeighted(y, 73);
        Assert.Contains(model.NamedParameters(), p => p.Name == "block4.1.layer_scale2" && p.Parameter.Grad!.ToArray().Any(g => g != 0f));
        AssertEveryParameterHasAGradient(model);
    }

    [Fact]
    public void The_conv_based_blocks_take_the_pluggable_layers_and_keep_their_defaults()
    {
        var kernels = new List<int>();
        var layers = MetaSpikeFormerLayers.Default with
        {
            Conv2d = spec =>
            {
                kernels.Add(spec.KernelSize);
                return new RecordingConv(spec);
            },
        };
        ModelSeed.Seed(74);
        using var custom = new MetaSpikeFormerConvBlock(4, mlpRatio: 2, kernelSize: 5, layers);
        ModelSeed.Seed(74);
        using var plain = new MetaSpikeFormerConvBlock(4, mlpRatio: 2, kernelSize: 5);
        Assert.Equal([1, 5, 1, 3, 3], kernels);
        Assert.Equal(StateDictOf(plain), StateDictOf(custom));
        Assert.IsType<Conv2d>(ModuleOf(plain, "conv1"));
        Assert.IsType<DepthwiseConv2d>(ModuleOf(plain, "Conv.dwconv"));
        Assert.IsType<LeakyIntegrateAndFire>(ModuleOf(plain, "Conv.lif1"));
        Assert.IsType<RecordingConv>(ModuleOf(custom, "Conv.pwconv2"));
    }
}

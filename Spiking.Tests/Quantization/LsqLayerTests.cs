using System;
using System.Linq;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Layers.Serialization;
using Spiking.Tensors;
using Spiking.Tests.Layers;
using Xunit;

namespace Spiking.Tests.Quantization;

public sealed class LsqLayerTests
{
    private static string[] Entries(Module module) => module.StateDict().Select(e => $"{e.Name} {e.Value!.Shape}").ToArray();

    [Fact]
    public void State_dicts_hold_the_official_names_and_shapes()
    {
        // As PyTorch lists Conv2dLSQ(8, 16, 3, 1, 1, bias=False).state_dict(): weight, alpha, init_state, act.*.
        using var conv = new LsqConv2d(8, 16, 3, 1, 1, bias: false);
        Assert.Equal(
            ["weight [16, 8, 3, 3]", "alpha [16]", "init_state [1]",
             "act.alpha [8]", "act.zero_point [8]", "act.init_state [1]", "act.signed [1]"],
            Entries(conv));
        using var depthwise = new LsqConv2d(12, 12, 7, padding: 3, groups: 12, bias: false);
        Assert.Equal(
            ["weight [12, 1, 7, 7]", "alpha [12]", "init_state [1]",
             "act.alpha [12]", "act.zero_point [12]", "act.init_state [1]", "act.signed [1]"],
            Entries(depthwise));
        using var fc = new LsqConv1d(8, 32);
        Assert.Equal(
            ["weight [32, 8, 1]", "bias [32]", "alpha [32]", "init_state [1]",
             "act.alpha [8]", "act.zero_point [8]", "act.init_state [1]", "act.signed [1]"],
            Entries(fc));
        using var head = new LsqLinear(64, 10);
        Assert.Equal(
            ["weight [10, 64]", "bias [10]", "alpha [10]", "init_state [1]",
             "act.alpha [64]", "act.zero_point [64]", "act.init_state [1]", "act.signed [1]"],
            Entries(head));
        // Only weight, bias and alpha train; the inert act entries are buffers.
        Assert.Equal(["weight", "bias", "alpha"], head.NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void The_weight_and_bias_start_within_pytorchs_bound()
    {
        using var conv = new LsqConv2d(6, 4, 3, generator: new PhiloxGenerator(1));
        double bound = 1 / Math.Sqrt(6 * 9);
        Assert.All(conv.Weight.Value.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.All(conv.Bias!.Value.ToArray(), v => Assert.InRange(v, -bound, bound));
        using var depthwise = new LsqConv2d(6, 6, 3, groups: 6, generator: new PhiloxGenerator(1));
        Assert.All(depthwise.Weight.Value.ToArray(), v => Assert.InRange(v, -1 / 3.0, 1 / 3.0));
        Assert.True(depthwise.Weight.Value.ToArray().Max() > 1 / 6.0);
    }

    private static double NaiveInitialStep(float[] w, int bits) => 2 * w.Average(v => Math.Abs((double)v)) / Math.Sqrt(NaiveLsq.Range(bits).Qp);

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void The_step_is_initialised_once_on_the_first_training_forward(int bits)
    {
        using var conv = new LsqConv2d(3, 5, 3, padding: 1, bits: bits, generator: new PhiloxGenerator(2));
        Assert.False(conv.StepInitialized);
        using var x = Variable.Constant(new PhiloxGenerator(3).Normal(new Shape(2, 1, 3, 6, 6)));
        // New weights before the first forward (as a model's own initialisation does): the step follows them.
        conv.Weight.Value.MultiplyInPlace(3f);
        conv.Eval();
        conv.Forward(x);
        Assert.False(conv.StepInitialized);
        conv.Train();
        conv.Forward(x);
        Assert.True(conv.StepInitialized);
        double expected = NaiveInitialStep(conv.Weight.Value.ToArray(), bits);
        Reference.AssertRounded(Enumerable.Repeat(expected, 5).ToArray(), conv.Alpha.Value.AsReadOnlySpan(), "alpha after the first training forward");
        conv.Alpha.Value.AsSpan()[2] = 0.5f;
        conv.Weight.Value.MultiplyInPlace(2f);
        conv.Forward(x);
        Assert.Equal(0.5f, conv.Alpha.Value.AsReadOnlySpan()[2]);
        Assert.Equal((float)expected, conv.Alpha.Value.AsReadOnlySpan()[0]);
    }

    [Fact]
    public void A_loaded_checkpoint_keeps_its_steps()
    {
        using var dir = new TempFolder();
        using var trained = new LsqLinear(16, 4, generator: new PhiloxGenerator(4));
        using var x = Variable.Constant(new PhiloxGenerator(5).Normal(new Shape(3, 16)));
        trained.Forward(x);
        new[] { 0.01f, 0.02f, 0.03f, 0.04f }.CopyTo(trained.Alpha.Value.AsSpan());
        Checkpoint.Save(trained, dir.File("head.safetensors"));
        using var loaded = new LsqLinear(16, 4, generator: new PhiloxGenerator(6));
        Checkpoint.Load(loaded, dir.File("head.safetensors"));
        Assert.True(loaded.StepInitialized);
        loaded.Forward(x);
        Assert.Equal([0.01f, 0.02f, 0.03f, 0.04f], loaded.Alpha.Value.ToArray());
        Reference.AssertBitwise(trained.Forward(x).Dense.AsReadOnlySpan(), loaded.Forward(x).Dense.AsReadOnlySpan(), "loaded vs saved layer");
    }

    [Fact]
    public void Exported_codes_and_scales_reproduce_the_layer()
    {
        using var conv = new LsqConv2d(4, 6, 3, stride: 2, padding: 1, bits: 4, generator: new PhiloxGenerator(7));
        new[] { 0.02f, 0.05f, 0.1f, 0.03f, 0.2f, 0.07f }.CopyTo(conv.Alpha.Value.AsSpan());
        conv.Eval();
        var export = conv.ExportCodes();
        Assert.Equal(new Shape(6, 4, 3, 3), export.Shape);
        Assert.Equal(4, export.Bits);
        Assert.Equal(36, export.InFeatures);
        Assert.Equal(conv.Alpha.Value.ToArray(), export.Scales.ToArray());
        var weight = conv.Weight.Value.ToArray();
        var codes = NaiveLsq.Codes(weight, export.Scales.ToArray(), 4);
        Assert.Equal(codes, export.Codes().Select(c => (double)c));
        var exported = export.Codes();
        var steps = export.Scales.ToArray();
        var bias = conv.Bias!.Value.ToArray();
        Assert.Contains(exported, c => c == 7);
        Assert.Contains(exported, c => c == -8);

        // The layer against the naive convolution of the exported codes: y = α·Σ x·q + b.
        var rng = new PhiloxGenerator(8);
        using var x = Variable.Constant(rng.Normal(new Shape(2, 1, 4, 5, 5)));
        var y = conv.Forward(x);
        Assert.Equal(new Shape(2, 1, 6, 3, 3), y.Shape);
        var xs = x.Dense.ToArray();
        var expected = new double[y.Shape.ElementCount];
        var scale = new double[expected.Length];
        for (int n = 0; n < 2; n++)
        for (int o = 0; o < 6; o++)
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
        {
            double sum = 0, magnitude = 0;
            for (int c = 0; c < 4; c++)
            for (int ki = 0; ki < 3; ki++)
            for (int kj = 0; kj < 3; kj++)
            {
                int r = i * 2 - 1 + ki, s = j * 2 - 1 + kj;
                if (r < 0 || r >= 5 || s < 0 || s >= 5) continue;
                double term = xs[((n * 4 + c) * 5 + r) * 5 + s] * exported[((o * 4 + c) * 3 + ki) * 3 + kj];
                sum += term;
                magnitude += Math.Abs(term);
            }
            int at = ((n * 6 + o) * 3 + i) * 3 + j;
            expected[at] = sum * steps[o] + bias[o];
            scale[at] = magnitude * steps[o] + Math.Abs(bias[o]);
        }
        Reference.AssertClose(expected, y.Dense.AsReadOnlySpan(), scale, 1e-6, 1e-7, "layer vs exported codes");
    }

    [Fact]
    public void Multi_level_spikes_give_the_integer_engines_bits()
    {
        // Counts/4 times integer codes sum exactly in float32, so the layer equals (Σ count·q)/4 · α + b, each step
        // rounded once, which an integer engine computes from the exported codes.
        using var linear = new LsqLinear(40, 7, bits: 8, generator: new PhiloxGenerator(9));
        using var conv = new LsqConv2d(5, 3, 3, padding: 1, bits: 4, generator: new PhiloxGenerator(10));
        using var dw = new LsqConv2d(5, 5, 3, padding: 1, groups: 5, bias: false, bits: 8, generator: new PhiloxGenerator(11));
        var rng = new Random(12);
        byte[] Counts(int n) => Enumerable.Range(0, n).Select(_ => (byte)rng.Next(0, 5)).ToArray();
        Variable Spikes(byte[] counts, params int[] dims) => Variable.Constant(Tensor.FromArray(counts.Select(c => c / 4f).ToArray(), dims));

        var c1 = Counts(3 * 40);
        Check(linear, Spikes(c1, 3, 40), (row, o, q) => Enumerable.Range(0, 40).Sum(k => (long)c1[row * 40 + k] * q[o * 40 + k]), 3, 7, 1);
        var c2 = Counts(2 * 5 * 4 * 4);
        Check(conv, Spikes(c2, 1, 2, 5, 4, 4), (image, o, q) => ConvSum(c2, q, image, o, 5, depthwise: false), 2, 3, 16);
        Check(dw, Spikes(c2, 1, 2, 5, 4, 4), (image, o, q) => ConvSum(c2, q, image, o, 5, depthwise: true), 2, 5, 16);

        static void Check(LsqLayer layer, Variable input, Func<int, int, sbyte[], long> sum, int rows, int outputs, int positions)
        {
            layer.Eval();
            var y = layer.Forward(input).Dense.ToArray();
            var export = layer.ExportCodes();
            var q = export.Codes();
            var scales = export.Scales.ToArray();
            var bias = layer.Bias?.Value.ToArray();
            var expected = new float[y.Length];
            for (int r = 0; r < rows; r++)
            for (int o = 0; o < outputs; o++)
            for (int p = 0; p < positions; p++)
            {
                float product = sum(r, o * positions + p, q) / 4f * scales[o];
                expected[(r * outputs + o) * positions + p] = bias is null ? product : product + bias[o];
            }
            Reference.AssertBitwise(expected, y, layer.GetType().Name);
        }
    }

    /// <summary>Σ count·q of a 3×3, padding-1 convolution over 4×4 images of 5 channels, at output (channel, position) packed as o·16 + p.</summary>
    private static long ConvSum(byte[] counts, sbyte[] q, int image, int outputAndPosition, int channels, bool depthwise)
    {
        int o = outputAndPosition / 16, p = outputAndPosition % 16, i = p / 4, j = p % 4;
        long sum = 0;
        for (int c = depthwise ? o : 0; c < (depthwise ? o + 1 : channels); c++)
        for (int ki = 0; ki < 3; ki++)
        for (int kj = 0; kj < 3; kj++)
        {
            int r = i - 1 + ki, s = j - 1 + kj;
            if (r < 0 || r >= 4 || s < 0 || s >= 4) continue;
            int tap = depthwise ? ki * 3 + kj : ((o * channels + c) * 3 + ki) * 3 + kj;
            if (depthwise) tap += o * 9;
            sum += (long)counts[((image * channels + c) * 4 + r) * 4 + s] * q[tap];
        }
        return sum;
    }

    [Fact]
    public void Training_saves_no_activation_for_the_step_and_the_neuron_window_as_bits()
    {
        using var scope = DisposeScope.Begin();
        using var neuron = new Multispike();
        using var conv = new LsqConv2d(4, 6, 3, padding: 1, bias: false, generator: new PhiloxGenerator(14));
        var x = Variable.Input(new PhiloxGenerator(15).Normal(new Shape(2, 3, 4, 5, 5)));
        var y = conv.Forward(neuron.Forward(x));
        var report = SavedActivations.Of(Functional.Sum(y));
        Assert.Empty(report.UndescribedOps);
        var window = Assert.Single(report.Tensors, t => t.Op == "multispike");
        Assert.Equal(SavedStorage.Bits, window.Storage);
        // The convolution keeps its input (the neuron's output) and the codes; the step's gradient needs no copy of
        // the convolution's output, and α and the weight are the layer's own leaves.
        var floats = report.Tensors.Where(t => t.Storage == SavedStorage.Dense && !t.Leaf).Select(t => (t.Op, t.What, t.Shape.ElementCount)).ToList();
        Assert.Equal([("conv2d", "input", 2 * 3 * 4 * 5 * 5), ("conv2d", "weight", 6 * 4 * 3 * 3)], floats.OrderBy(f => f.Op).ThenBy(f => f.What));
        Assert.All(report.Tensors.Where(t => t.Op.StartsWith("lsq", StringComparison.Ordinal)), t => Assert.True(t.Leaf));
    }

    [Fact]
    public void Leading_axes_fold_into_the_batch()
    {
        var rng = new PhiloxGenerator(13);
        using var conv = new LsqConv2d(3, 4, 3, padding: 1, generator: rng);
        using var fc = new LsqConv1d(6, 5, generator: rng);
        using var head = new LsqLinear(6, 2, generator: rng);
        // In evaluation the steps stay as set (no first-forward initialisation), so the head can take the conv's.
        conv.Eval();
        fc.Eval();
        head.Eval();
        using var images = rng.Normal(new Shape(2, 3, 3, 5, 5));
        using var tokens = rng.Normal(new Shape(2, 3, 6, 7));
        Reference.AssertBitwise(
            conv.Forward(Variable.Constant(images.Reshape(6, 3, 5, 5))).Dense.AsReadOnlySpan(),
            conv.Forward(Variable.Constant(images.Clone())).Dense.AsReadOnlySpan(), "LsqConv2d [T, B, ...] vs [T*B, ...]");
        var y = fc.Forward(Variable.Constant(tokens.Clone()));
        Assert.Equal(new Shape(2, 3, 5, 7), y.Shape);
        Reference.AssertBitwise(fc.Forward(Variable.Constant(tokens.Reshape(6, 6, 7))).Dense.AsReadOnlySpan(), y.Dense.AsReadOnlySpan(), "LsqConv1d");
        // The kernel-1 convolution is the head's linear map applied along the channels.
        fc.Weight.Value.AsReadOnlySpan()[..12].CopyTo(head.Weight.Value.AsSpan());
        fc.Alpha.Value.AsReadOnlySpan()[..2].CopyTo(head.Alpha.Value.AsSpan());
        fc.Bias!.Value.AsReadOnlySpan()[..2].CopyTo(head.Bias!.Value.AsSpan());
        var perToken = head.Forward(Variable.Constant(tokens.Reshape(6, 6, 7).Permute(0, 2, 1))).Dense.ToArray();
        var channelsFirst = y.Dense.ToArray();
        for (int b = 0; b < 6; b++)
        for (int n = 0; n < 7; n++)
        for (int o = 0; o < 2; o++)
            Assert.Equal(channelsFirst[(b * 5 + o) * 7 + n], perToken[(b * 7 + n) * 2 + o], 5);
    }

    [Fact]
    public void Bad_groups_and_inputs_are_refused_with_the_shapes_named()
    {
        var g = Assert.Throws<ArgumentException>(() => new LsqConv2d(4, 8, 3, groups: 4));
        Assert.Equal("groups", g.ParamName);
        Assert.Contains("4→8", g.Message, StringComparison.Ordinal);
        using var conv = new LsqConv2d(4, 8, 3);
        var e = Assert.Throws<ArgumentException>(() => conv.Forward(Variable.Constant(Tensor.Zeros(2, 3, 5, 5))));
        Assert.Contains("[..., 4, H, W]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3, 5, 5]", e.Message, StringComparison.Ordinal);
        using var fc = new LsqConv1d(4, 8);
        Assert.Throws<ArgumentException>(() => fc.Forward(Variable.Constant(Tensor.Zeros(4, 7))));
        using var head = new LsqLinear(4, 8);
        Assert.Contains("[..., 4]", Assert.Throws<ArgumentException>(() => head.Forward(Variable.Constant(Tensor.Zeros(2, 5)))).Message, StringComparison.Ordinal);
    }
}

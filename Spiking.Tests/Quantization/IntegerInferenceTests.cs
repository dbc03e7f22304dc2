using System.IO;
using System.Linq;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Layers.Quantization;
using Spiking.Layers.Serialization;
using Spiking.Tensors;
using Spiking.Tests.Layers;
using Xunit;

namespace Spiking.Tests.Quantization;

/// <summary>
/// The integer inference path of the QSD-Transformer gives the fake-quant float model's outputs bit for bit (so the
/// same spikes and predictions), while its LSQ layers fed by the multi-level neuron really run on the integer kernels.
/// </summary>
[Collection("Parallelism")]
public sealed class IntegerInferenceTests
{
    [Theory]
    [InlineData(4, 1)]
    [InlineData(8, 2)]
    public void A_qsd_model_on_the_integer_kernels_gives_the_float_paths_outputs_bit_for_bit(int bits, int threads)
    {
        int saved = Parallelism.MaxThreads;
        Parallelism.MaxThreads = threads;
        try
        {
            ModelSeed.Seed(21);
            using var model = QsdTransformer.Create(MetaSpikeFormerConfig.FashionMnist, bits);
            using var images = Variable.Constant(new PhiloxGenerator(22).Uniform(new Shape(1, 6, 1, 28, 28)));
            // A few training steps' worth of batch statistics, so the batch norms are not at their identity start.
            model.Train();
            using (GradMode.NoGrad())
            using (DisposeScope.Begin())
            {
                for (int i = 0; i < 3; i++) model.Forward(images);
            }
            model.Eval();

            float[] floatPath, integerPath;
            using (GradMode.NoGrad())
            using (DisposeScope.Begin())
            {
                floatPath = model.Forward(images).Dense.ToArray();
                Assert.Equal(LsqCount(model), LsqLayer.UseIntegerInference(model, true));
                integerPath = model.Forward(images).Dense.ToArray();
            }
            LsqLayer.UseIntegerInference(model, false);

            Reference.AssertBitwise(floatPath, integerPath, $"{bits}-bit QSD, integer vs float path");
            var layers = model.NamedModules().Select(m => m.Module).OfType<LsqLayer>().ToArray();
            int integerLayers = layers.Count(l => l.IntegerPasses > 0);
            // Every LSQ layer whose input is a neuron's counts: all but the first convolution (the image) and the
            // RepConvs' depthwise and second pointwise convolutions (a batch norm's and a convolution's output).
            Assert.True(integerLayers >= layers.Length / 2, $"{integerLayers} of {layers.Length} LSQ layers took the integer path");
            Assert.Equal(0, layers.Single(l => l == model.NamedModules().Single(m => m.Name == "downsample1_1.encode_conv").Module).IntegerPasses);
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    private static int LsqCount(Module model) => model.NamedModules().Count(m => m.Module is LsqLayer);

    [Fact]
    public void Training_and_recorded_graphs_keep_the_float_path()
    {
        ModelSeed.Seed(23);
        using var conv = new LsqConv2d(2, 3, 3, padding: 1, bits: 4) { IntegerInference = true };
        float[] quarters = Enumerable.Range(0, 2 * 2 * 5 * 5).Select(i => (i * 7 % 5) * 0.25f).ToArray();
        using var x = Variable.Constant(Tensor.FromArray(quarters, 1, 2, 2, 5, 5));
        conv.Train();
        using (DisposeScope.Begin()) conv.Forward(x);
        conv.Eval();
        using (DisposeScope.Begin()) conv.Forward(x);
        Assert.Equal(0, conv.IntegerPasses);
        using (GradMode.NoGrad())
        using (DisposeScope.Begin()) conv.Forward(x);
        Assert.Equal(1, conv.IntegerPasses);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void A_packed_checkpoint_is_smaller_and_loads_into_the_same_outputs(int bits)
    {
        using var folder = new TempFolder();
        ModelSeed.Seed(24);
        using var model = QsdTransformer.Create(MetaSpikeFormerConfig.FashionMnist, bits);
        using var images = Variable.Constant(new PhiloxGenerator(25).Uniform(new Shape(1, 4, 1, 28, 28)));
        model.Train();
        using (GradMode.NoGrad())
        using (DisposeScope.Begin()) model.Forward(images);
        model.Eval();
        string full = folder.File("full.safetensors"), packed = folder.File("packed.safetensors");
        Checkpoint.Save(model, full);
        long packedBytes = PackedCheckpoint.Save(model, packed);

        var file = SafeTensors.Read(packed);
        Assert.True(PackedCheckpoint.IsPacked(file));
        Assert.False(PackedCheckpoint.IsPacked(SafeTensors.Read(full)));
        Assert.Equal(new FileInfo(packed).Length, packedBytes);
        Assert.False(file.TryGetEntry("head.weight", out _));
        Assert.Equal(bits == 4 ? SafeTensorsDType.U8 : SafeTensorsDType.I8, file["head.weight.codes"].DType);
        // Every LSQ weight shrinks from 32 bits to its width; the batch norms and biases stay float.
        long lsqWeights = model.NamedModules().Select(m => m.Module).OfType<LsqLayer>().Sum(l => (long)l.Weight.Shape.ElementCount);
        Assert.True(new FileInfo(full).Length - packedBytes >= lsqWeights * (32 - bits) / 8 - 64 * 1024, $"{new FileInfo(full).Length} → {packedBytes} bytes");

        ModelSeed.Seed(99);
        using var loaded = QsdTransformer.Create(MetaSpikeFormerConfig.FashionMnist, bits);
        PackedCheckpoint.Load(loaded, file);
        loaded.Eval();
        using (GradMode.NoGrad())
        using (DisposeScope.Begin())
        {
            Reference.AssertBitwise(model.Forward(images).Dense.AsReadOnlySpan(), loaded.Forward(images).Dense.AsReadOnlySpan(), "packed and reloaded vs original");
        }
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using Spiking.Autograd;
using Spiking.Cli.Training;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>
/// Every library consumer of a seed draws from its own Philox stream by default (<see cref="RandomStreams"/>), so one
/// seed can drive weights, spikes, dropout masks and the shuffle without two of them reading the same words.
/// </summary>
public sealed class RandomStreamsTests
{
    private const int Blocks = 1024;

    private static readonly ulong[] Seeds = [0, 1, 42, 0x0123_4567_89AB_CDEF];

    /// <summary>
    /// The first <see cref="Blocks"/> 128-bit blocks a generator reads (4096 words), written out from the documented
    /// counter layout: key = seed, counter = (block, stream). The words are checked against the generator's own
    /// uniforms, so they are the words the consumer really draws.
    /// </summary>
    private static HashSet<Philox4x32Block> GeneratorBlocks(PhiloxGenerator generator)
    {
        uint k0 = (uint)generator.Seed, k1 = (uint)(generator.Seed >> 32);
        uint s0 = (uint)generator.Stream, s1 = (uint)(generator.Stream >> 32);
        var blocks = new Philox4x32Block[Blocks];
        for (int b = 0; b < Blocks; b++) blocks[b] = Philox4x32.Generate((uint)b, 0, s0, s1, k0, k1);

        var replay = new PhiloxGenerator(generator.Seed, generator.Stream);
        var uniforms = new float[4 * Blocks];
        replay.FillUniform(uniforms);
        for (int b = 0; b < Blocks; b++)
        {
            var (x0, x1, x2, x3) = blocks[b];
            Assert.Equal([PhiloxTransforms.Uniform(x0), PhiloxTransforms.Uniform(x1), PhiloxTransforms.Uniform(x2), PhiloxTransforms.Uniform(x3)],
                uniforms.AsSpan(4 * b, 4).ToArray());
        }
        return [.. blocks];
    }

    /// <summary>
    /// The blocks of epoch <paramref name="epoch"/>'s shuffle, checked against the loader: a Fisher–Yates shuffle
    /// driven by them (two 64-bit draws a block) must give the loader's order.
    /// </summary>
    private static HashSet<Philox4x32Block> ShuffleBlocks(ulong seed, uint epoch)
    {
        ulong stream = RandomStreams.Shuffle(epoch);
        int n = 2 * Blocks + 1;
        var blocks = new Philox4x32Block[Blocks];
        for (int b = 0; b < Blocks; b++) blocks[b] = Philox4x32.Generate((uint)b, 0, (uint)stream, (uint)(stream >> 32), (uint)seed, (uint)(seed >> 32));

        var order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1, k = 0; i > 0; i--, k++)
        {
            var block = blocks[k / 2];
            ulong r = k % 2 == 0 ? block.X0 | ((ulong)block.X1 << 32) : block.X2 | ((ulong)block.X3 << 32);
            int j = (int)(((UInt128)r * (ulong)(i + 1)) >> 64);
            (order[i], order[j]) = (order[j], order[i]);
        }
        using var loader = new DataLoader(new ImageDataset(new byte[n], new byte[n], 1, 1), 64, shuffle: true, seed);
        Assert.Equal(order, loader.Order((int)epoch));
        return [.. blocks];
    }

    /// <summary>
    /// The blocks the text-window sampler reads, checked against it: its starts over 2^20 possible ones are the top
    /// 20 bits of each block's two 64-bit words.
    /// </summary>
    private static HashSet<Philox4x32Block> TextWindowBlocks(ulong seed)
    {
        ulong stream = RandomStreams.TextWindows;
        var blocks = new Philox4x32Block[Blocks];
        for (int b = 0; b < Blocks; b++) blocks[b] = Philox4x32.Generate((uint)b, 0, (uint)stream, (uint)(stream >> 32), (uint)seed, (uint)(seed >> 32));

        // Two tokens more than 2^20 leave exactly 2^20 starts for a context of 1.
        var windows = new TextWindows(new int[(1 << 20) + 2], context: 1, seed);
        var starts = new int[2 * Blocks];
        windows.Next(new int[2 * starts.Length], starts);
        for (int b = 0; b < Blocks; b++)
        {
            Assert.Equal((int)(blocks[b].X1 >> 12), starts[2 * b]);
            Assert.Equal((int)(blocks[b].X3 >> 12), starts[2 * b + 1]);
        }
        return [.. blocks];
    }

    /// <summary>
    /// The blocks the text generator reads, checked against it: over 1024 equally likely ids a draw is the top 10 bits
    /// of its 64-bit word (the uniform is its top 53 bits, and equal weights sum exactly).
    /// </summary>
    private static HashSet<Philox4x32Block> TextSamplingBlocks(ulong seed)
    {
        ulong stream = RandomStreams.TextSampling;
        var blocks = new Philox4x32Block[Blocks];
        for (int b = 0; b < Blocks; b++) blocks[b] = Philox4x32.Generate((uint)b, 0, (uint)stream, (uint)(stream >> 32), (uint)seed, (uint)(seed >> 32));

        var text = new char[1024];
        for (int i = 0; i < text.Length; i++) text[i] = (char)(0x4E00 + i);
        var vocabulary = CharVocabulary.FromText(text);
        using var model = new Spiking.Tests.LanguageModels.BigramLanguageModel(1024);
        var drawn = new TextGenerator(model, vocabulary).Generate(vocabulary[0].ToString(), 2 * Blocks, 1.0, seed).Select(c => c[0] - 0x4E00).ToArray();
        for (int b = 0; b < Blocks; b++)
        {
            Assert.Equal((int)(blocks[b].X1 >> 22), drawn[2 * b]);
            Assert.Equal((int)(blocks[b].X3 >> 22), drawn[2 * b + 1]);
        }
        return [.. blocks];
    }

    [Fact]
    public void Default_consumers_of_one_seed_share_no_words()
    {
        foreach (ulong seed in Seeds)
        {
            ModelSeed.Seed(seed);
            var consumers = new Dictionary<string, HashSet<Philox4x32Block>>
            {
                ["initialisation (ModelSeed)"] = GeneratorBlocks(ModelSeed.Shared),
                ["first Dropout"] = GeneratorBlocks(new Dropout(0.5).Generator),
                ["second Dropout"] = GeneratorBlocks(new Dropout(0.5).Generator),
                ["PoissonEncoder"] = GeneratorBlocks(new PoissonEncoder(seed).Generator),
                ["DataLoader shuffle, epoch 0"] = ShuffleBlocks(seed, 0),
                ["DataLoader shuffle, epoch 1"] = ShuffleBlocks(seed, 1),
                ["DataLoader shuffle, epoch 0x9015"] = ShuffleBlocks(seed, 0x9015),
                ["DataLoader shuffle, epoch 0xD0D0"] = ShuffleBlocks(seed, 0xD0D0),
                ["DataLoader shuffle, epoch 0x54455854"] = ShuffleBlocks(seed, 0x5445_5854),
                ["TextWindows"] = TextWindowBlocks(seed),
                ["TextGenerator"] = TextSamplingBlocks(seed),
                ["SLTT-K's trained steps"] = GeneratorBlocks(new PhiloxGenerator(seed, RandomStreams.TrainingSteps)),
                ["DataLoader shuffle, epoch 0x534C5454"] = ShuffleBlocks(seed, 0x534C_5454),
            };
            var names = consumers.Keys.ToArray();
            for (int a = 0; a < names.Length; a++)
            {
                Assert.Equal(Blocks, consumers[names[a]].Count);
                for (int b = a + 1; b < names.Length; b++)
                {
                    int shared = consumers[names[a]].Intersect(consumers[names[b]]).Count();
                    Assert.True(shared == 0, $"seed {seed}: {names[a]} and {names[b]} share {shared} of their first {Blocks} blocks");
                }
            }

            // The check sees a collision when there is one: a generator on stream 0, the encoder's old default,
            // reads exactly the initialisation's words.
            Assert.Equal(Blocks, GeneratorBlocks(new PhiloxGenerator(seed)).Intersect(consumers["initialisation (ModelSeed)"]).Count());
        }
    }

    [Fact]
    public void The_streams_are_the_documented_constants_and_the_clis_poisson_stream_is_unchanged()
    {
        // 0x9015 is what `spiking train` always passed; W1's results depend on it.
        Assert.Equal(0x9015UL, RandomStreams.Poisson);
        Assert.Equal(0UL, RandomStreams.Initialization);
        Assert.Equal(0xD0D0UL, RandomStreams.Dropout);
        Assert.Equal(0x5348_5546u, RandomStreams.ShuffleTag);
        Assert.Equal("SHUF", string.Concat(BitConverter.GetBytes(RandomStreams.ShuffleTag).Reverse().Select(b => (char)b)));
        Assert.Equal(0x0000_0003_0000_D0D0UL, RandomStreams.DropoutLayer(3));
        Assert.Equal(0x5348_5546_0000_0007UL, RandomStreams.Shuffle(7));
        Assert.Equal(0x5445_5854UL, RandomStreams.TextWindows);
        Assert.Equal("TEXT", string.Concat(BitConverter.GetBytes((uint)RandomStreams.TextWindows).Reverse().Select(b => (char)b)));
        Assert.Equal("SAMP", string.Concat(BitConverter.GetBytes((uint)RandomStreams.TextSampling).Reverse().Select(b => (char)b)));

        ModelSeed.Seed(5);
        Assert.Equal(RandomStreams.Initialization, ModelSeed.Shared.Stream);
        Assert.Equal(RandomStreams.Poisson, new PoissonEncoder(5).Generator.Stream);

        // The CLI's W1 encoder draws the library default's bits.
        using var images = new PhiloxGenerator(8).Uniform(new Shape(3, 1, 28, 28));
        using var flat = images.Reshape(3, 784);
        using var cli = ModelKind.Mlp.Encoder(timeSteps: 4, seed: 11)(images);
        using var library = new PoissonEncoder(11).Encode(flat, 4);
        Assert.Equal(library.Words.ToArray(), cli.Spikes!.Words.ToArray());
    }

    [Fact]
    public void Default_dropout_layers_of_a_model_draw_different_masks_and_a_seed_replays_them()
    {
        float[][] Masks()
        {
            ModelSeed.Seed(3);
            using var first = new Dropout(0.5);
            using var second = new Dropout(0.5);
            Assert.Equal(3UL, first.Generator.Seed);
            Assert.Equal(RandomStreams.DropoutLayer(0), first.Generator.Stream);
            Assert.Equal(RandomStreams.DropoutLayer(1), second.Generator.Stream);
            using var x = Variable.Constant(Tensor.Ones(new Shape(2, 4, 64)));
            using var a = first.Forward(x);
            using var b = second.Forward(x);
            return [a.Dense.AsReadOnlySpan().ToArray(), b.Dense.AsReadOnlySpan().ToArray()];
        }

        var run = Masks();
        Assert.NotEqual(run[0], run[1]);
        var again = Masks();
        Assert.Equal(run[0], again[0]);
        Assert.Equal(run[1], again[1]);
    }
}

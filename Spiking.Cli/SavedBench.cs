using System;
using System.Globalization;
using System.Linq;
using Spiking.Autograd;
using Spiking.Cli.Training;
using Spiking.Layers;
using Spiking.Tensors;

namespace Spiking.Cli;

/// <summary>
/// <c>spiking bench saved</c>: what one training step of an image model (W1, W2, the three transformers) holds for its backward, per sample, as the
/// CLI trains it (<see cref="ModelKind.Build"/>, its encoding, its loss, training mode): a forward on uniform random
/// images, then <see cref="SavedActivations"/> on the loss, before any backward. Prints the totals (float, float
/// holding only 0/1, bits, other), the ops by bytes, the largest saved tensors, and every float tensor that holds only
/// 0/1 values (a spike saved as float). <c>--sdsa 2|3|4</c> builds the Spike-driven Transformer with that SDSA core
/// instead of the CLI's SDSA-1.
/// </summary>
internal static class SavedBench
{
    public static int Run(Options options)
    {
        var which = options.Choice("model", "all", "all", "mlp", "cnn", "spikformer", "sdt", "metaspikeformer");
        var sdsa = ModelKind.SdsaFromNumber(options.Int("sdsa", 1, min: 1, max: 4));
        int batch = options.Int("batch", 8, min: 1, max: 4096);
        int top = options.Int("top", 10, min: 0, max: 10_000);
        int seed = options.Int("seed", 0);
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1, max: Options.MaxThreads);
        options.RejectUnknown(positional: 1);
        Parallelism.MaxThreads = threads;
        ModelKind[] kinds = which == "all" ? [ModelKind.Mlp, ModelKind.Cnn, ModelKind.Spikformer, ModelKind.SpikeDriven, ModelKind.MetaSpikeFormer] : [ModelKind.TryParse(which)!];
        foreach (var kind in kinds)
        {
            int steps = options.Int("timesteps", kind.DefaultTimeSteps, min: 1, max: 1 << 16);
            kind.CheckSize(steps, batch);
            using var scope = DisposeScope.Begin();
            ModelSeed.Seed((ulong)seed);
            using var net = kind.Build(steps, sdsa: kind.TakesSdsa ? sdsa : SdsaVariant.KeyValueMask);
            net.Train();
            using var images = Tensor.Empty(new Shape(batch, 1, 28, 28));
            new PhiloxGenerator((ulong)seed + 1).FillUniform(images);
            var labels = Enumerable.Range(0, batch).Select(i => i % 10).ToArray();
            var input = kind.Encoder(steps, (ulong)seed)(images);
            var loss = kind.Loss(net.Forward(input), labels, steps);
            var report = SavedActivations.Of(loss);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# {kind.Name} ({kind.Workload}){(kind.TakesSdsa ? $" SDSA-{ModelKind.SdsaNumber(sdsa)}" : "")}  T={steps}  batch={batch}  training forward, before backward"));
            Console.Write(report.Format(batch));
            if (top > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"largest saved tensors (per sample):"));
                foreach (var t in report.Tensors.Where(t => !t.Shared && !t.Leaf).OrderByDescending(t => t.Bytes).Take(top))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  #{t.NodeIndex} {t.Op}: {t.What} {t.Storage} {t.Shape} {t.Bytes / batch} B"));
                }
            }
            var zeroOne = report.ZeroOneFloats.ToList();
            Console.WriteLine(zeroOne.Count == 0 ? "no float tensor holding only 0/1 is saved" : "float tensors holding only 0/1:");
            foreach (var t in zeroOne) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  #{t.NodeIndex} {t.Op}: {t.What} {t.Shape} {t.Bytes / batch} B"));
            Console.WriteLine();
        }
        return 0;
    }
}

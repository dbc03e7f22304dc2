using System;
using System.Globalization;
using System.IO;
using Spectre.Console;
using Spiking.Layers;
using Spiking.Layers.Quantization;
using Spiking.Layers.Serialization;

namespace Spiking.Cli.Training;

/// <summary>
/// <c>spiking export --checkpoint FILE --quantize packed --out FILE</c>: writes a quantized (QSD) model with its LSQ
/// weights packed at their bit width (<see cref="PackedCheckpoint"/>), which <c>spiking eval</c> reads back, and
/// reports the two files' sizes.
/// </summary>
internal static class ExportCommand
{
    public static int Run(Options options)
    {
        string path = options.String("checkpoint") ?? throw new UsageException("export needs --checkpoint FILE");
        // One packing today; the option names it so the command reads as what it does.
        options.Choice("quantize", "packed", "packed");
        string outPath = OutputPaths.File(options, "out") ?? throw new UsageException("export needs --out FILE");
        options.RejectUnknown();

        var file = SafeTensors.Read(path);
        if (PackedCheckpoint.IsPacked(file)) throw new InputException($"checkpoint '{path}' is packed already");
        var (model, timeSteps, _) = EvalCommand.Recipe(file, null, null);
        int bits = model.TakesWeightBits ? ModelKind.WeightBitsOf(file) : 32;
        if (bits == 32)
        {
            throw new InputException($"checkpoint '{path}' holds a --model {model.Name} network with float weights; --quantize packs the LSQ weights of a --model qsd checkpoint trained with --weight-bits 4 or 8");
        }
        using var net = model.Build(timeSteps, weightBits: bits);
        Checkpoint.Load(net, file);
        long packedBytes;
        try
        {
            packedBytes = PackedCheckpoint.Save(net, outPath, file.Metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputException($"--out '{outPath}' could not be written: {e.Message}");
        }
        long floatBytes = new FileInfo(path).Length;
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "{0} ({1}, {2}-bit weights): {3:N0} bytes as float → {4:N0} bytes packed in {5} (×{6:F2} smaller)",
            Markup.Escape(path), model.Name, bits, floatBytes, packedBytes, Markup.Escape(outPath), (double)floatBytes / packedBytes);
        return 0;
    }
}

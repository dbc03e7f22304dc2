using System;
using BenchmarkDotNet.Attributes;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Bench;

/// <summary>
/// Packing a membrane-potential-sized tensor (<c>[T·B, N]</c> = 512×512 and 256×25088 as in W1 and W2) into spike
/// bits by threshold compare, unpacking back to floats, and the 64×64 block bit transpose the weight gradient uses.
/// </summary>
[MemoryDiagnoser]
public class BitPackBench
{
    private float[] _values = [];
    private ulong[] _words = [];
    private ulong[] _transposed = [];
    private float[] _unpacked = [];

    [Params("512x512", "256x25088")]
    public string Shape { get; set; } = "512x512";

    [Params(Implementation.Fast, Implementation.Reference)]
    public Implementation Impl { get; set; }

    private int Rows => int.Parse(Shape.Split('x')[0], System.Globalization.CultureInfo.InvariantCulture);

    private int Columns => int.Parse(Shape.Split('x')[1], System.Globalization.CultureInfo.InvariantCulture);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(0);
        _values = KernelShapes.Normal(rng, Rows * Columns);
        _words = new ulong[Rows * SpikeTensor.WordsFor(Columns)];
        _transposed = new ulong[Columns * SpikeTensor.WordsFor(Rows)];
        _unpacked = new float[Rows * Columns];
        BitPack.PackGreaterOrEqual(_values, Columns, 1f, _words);
    }

    [Benchmark]
    public void PackThreshold()
    {
        if (Impl == Implementation.Fast) BitPack.PackGreaterOrEqual(_values, Columns, 1f, _words);
        else BitPack.PackReference(_values, Columns, 1f, _words);
    }

    [Benchmark]
    public void Unpack()
    {
        if (Impl == Implementation.Fast) BitPack.Unpack(_words, Columns, _unpacked);
        else BitPack.UnpackReference(_words, Columns, _unpacked);
    }

    [Benchmark]
    public void TransposeBits()
    {
        if (Impl == Implementation.Fast) BitTranspose.Transpose(_words, Rows, Columns, _transposed);
        else BitTranspose.TransposeReference(_words, Rows, Columns, _transposed);
    }
}

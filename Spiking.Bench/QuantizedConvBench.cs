using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Bench;

/// <summary>
/// Convolutions on counts 0…4 (non-zero with probability 0.3) by the float engine (the counts as floats through
/// im2col + SGEMM, or the depthwise kernel) and by the integer kernels with int8 and int4 codes: a 3×3 and a 1×1
/// convolution and a 7×7 depthwise one at the sizes of a small spike-driven transformer's stages (16 images = T·B).
/// </summary>
[Config(typeof(Columns))]
public class QuantizedConvBench
{
    private static readonly (string Name, int Images, int Channels, int Size, int Out, int Kernel, int Padding, bool Depthwise)[] s_layers =
    [
        ("conv3x3 16x64x28x28->64", 16, 64, 28, 64, 3, 1, false),
        ("conv1x1 16x128x14x14->128", 16, 128, 14, 128, 1, 0, false),
        ("dw7x7 16x128x14x14", 16, 128, 14, 128, 7, 3, true),
    ];

    private (string Name, int Images, int Channels, int Size, int Out, int Kernel, int Padding, bool Depthwise) _layer;
    private byte[] _counts = [];
    private Tensor? _x, _weight, _y;
    private float[] _output = [];
    private QuantizedConvKernel? _conv;
    private QuantizedDepthwiseConvKernel? _depthwise;

    public static IEnumerable<string> Cases()
    {
        foreach (var layer in s_layers)
        {
            foreach (string impl in new[] { "float", "int8", "int4" }) yield return $"{layer.Name} {impl}";
        }
    }

    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _layer = Array.Find(s_layers, l => Case.StartsWith(l.Name + " ", StringComparison.Ordinal));
        var l = _layer;
        var rng = new Random(0);
        int perOut = l.Depthwise ? 1 : l.Channels, patch = perOut * l.Kernel * l.Kernel;
        _counts = new byte[l.Images * l.Channels * l.Size * l.Size];
        for (int i = 0; i < _counts.Length; i++) _counts[i] = rng.NextDouble() < 0.3 ? (byte)rng.Next(1, 5) : (byte)0;
        bool int4 = Case.EndsWith("int4", StringComparison.Ordinal);
        var codes = new sbyte[l.Out * patch];
        for (int i = 0; i < codes.Length; i++) codes[i] = (sbyte)rng.Next(int4 ? -8 : -128, int4 ? 8 : 128);
        var scales = new float[l.Out];
        Array.Fill(scales, 0.01f);
        int outSize = l.Size + 2 * l.Padding - l.Kernel + 1;
        _output = new float[l.Images * l.Out * outSize * outSize];
        _x = Tensor.FromArray(Array.ConvertAll(_counts, c => (float)c), l.Images, l.Channels, l.Size, l.Size);
        _weight = Tensor.FromArray(Array.ConvertAll(codes, q => q * 0.01f), l.Out, patch);
        _y = Tensor.Zeros(l.Images, l.Out, outSize, outSize);
        if (l.Depthwise)
        {
            if (int4)
            {
                var packed = new byte[l.Out * Int4Codes.RowBytes(patch)];
                Int4Codes.Pack(codes, l.Out, patch, packed);
                _depthwise = QuantizedDepthwiseConvKernel.FromInt4(packed, l.Channels, l.Kernel, l.Kernel, 1, l.Padding, scales);
            }
            else
            {
                _depthwise = QuantizedDepthwiseConvKernel.FromInt8(codes, l.Channels, l.Kernel, l.Kernel, 1, l.Padding, scales);
            }
        }
        else if (int4)
        {
            var packed = new byte[l.Out * Int4Codes.RowBytes(patch)];
            Int4Codes.Pack(codes, l.Out, patch, packed);
            _conv = QuantizedConvKernel.FromInt4(packed, l.Out, l.Channels, l.Kernel, l.Kernel, 1, l.Padding, scales);
        }
        else
        {
            _conv = QuantizedConvKernel.FromInt8(codes, l.Out, l.Channels, l.Kernel, l.Kernel, 1, l.Padding, scales);
        }
        Forward();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _x?.Dispose();
        _weight?.Dispose();
        _y?.Dispose();
    }

    [Benchmark]
    public void Forward()
    {
        var l = _layer;
        var g = new ConvGeometry(l.Channels, l.Size, l.Size, l.Kernel, l.Kernel, 1, l.Padding);
        if (Case.EndsWith("float", StringComparison.Ordinal))
        {
            if (l.Depthwise) DepthwiseConv.Forward(_x, null, _weight!, null, l.Images, g, _y!);
            else Conv.Forward(_x!, _weight!, null, l.Images, l.Out, g, _y!);
        }
        else if (l.Depthwise)
        {
            _depthwise!.Forward(_counts, l.Images, l.Size, l.Size, _output);
        }
        else
        {
            _conv!.Forward(_counts, l.Images, l.Size, l.Size, _output);
        }
    }

    private sealed class Columns : ManualConfig
    {
        public Columns()
        {
            AddJob(Job.Default.WithWarmupCount(4).WithIterationCount(15).WithLaunchCount(1));
            AddColumn(StatisticColumn.Median);
            SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(50);
        }
    }
}

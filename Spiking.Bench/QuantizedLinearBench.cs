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
/// One layer <c>y[M, N] = x[M, K]·Wᵀ</c> by the float engine and by the integer kernels of docs/INTEGER_INFERENCE.md, at
/// the QSD-Transformer's layer sizes (M = T·B·tokens = 64·49, K = N = 64…256) and DESIGN.md's kernel shapes. Weights
/// are prepared outside the timing (panels, codes), as a layer prepares them once.
/// </summary>
[Config(typeof(Columns))]
public abstract class QuantizedLinearBenchBase
{
    protected static readonly string[] Shapes = ["3136x64x64", "3136x128x128", "3136x256x256", "512x784x512", "512x1024x1024", "2048x1024x1024", "256x4096x4096"];

    private int _m, _k, _n;
    private float[] _weight = [];
    private float[] _output = [];
    private float[] _countsAsFloat = [];
    private byte[] _counts = [];
    private SpikeTensor? _spikes;
    private readonly SpikeWeightPanels _panels = new();
    private QuantizedLinearKernel? _kernel;

    public abstract QuantizedLinearCase Layer { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_m, _k, _n) = KernelShapes.Parse(Layer.Shape);
        var rng = new Random(0);
        _output = new float[_m * _n];
        var codes = new sbyte[_n * _k];
        int range = Layer.Impl.StartsWith("int4", StringComparison.Ordinal) ? 8 : 128;
        for (int i = 0; i < codes.Length; i++) codes[i] = (sbyte)rng.Next(-range, range);
        var scales = new float[_n];
        for (int j = 0; j < _n; j++) scales[j] = 0.01f;
        _weight = new float[_n * _k];
        for (int i = 0; i < _weight.Length; i++) _weight[i] = codes[i] * 0.01f;
        var weightTransposed = new float[_k * _n];
        for (int j = 0; j < _n; j++)
        {
            for (int c = 0; c < _k; c++) weightTransposed[c * _n + j] = _weight[j * _k + c];
        }
        _panels.PackTransposed(weightTransposed, _k, _n);
        var path = Layer.Impl.EndsWith("portable", StringComparison.Ordinal) ? IntegerKernelPath.Portable
            : Layer.Impl.EndsWith("vnni", StringComparison.Ordinal) ? IntegerKernelPath.DotProduct
            : IntegerKernelPaths.Best;
        if (Layer.Impl.StartsWith("int4", StringComparison.Ordinal))
        {
            var packed = new byte[_n * Int4Codes.RowBytes(_k)];
            Int4Codes.Pack(codes, _n, _k, packed);
            _kernel = QuantizedLinearKernel.FromInt4(packed, _n, _k, scales, default, path);
        }
        else
        {
            _kernel = QuantizedLinearKernel.FromInt8(codes, _n, _k, scales, default, path);
        }
        if (Layer.Input == "spikes")
        {
            using var dense = Tensor.FromArray(KernelShapes.Bernoulli(rng, _m * _k, Layer.Rate), _m, _k);
            _spikes = SpikeTensor.FromBinary(dense);
        }
        else
        {
            _counts = new byte[_m * _k];
            for (int i = 0; i < _counts.Length; i++) _counts[i] = rng.NextDouble() < Layer.Rate ? (byte)rng.Next(1, 5) : (byte)0;
            _countsAsFloat = Array.ConvertAll(_counts, c => (float)c);
        }
        Forward();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _spikes?.Dispose();
        _panels.Dispose();
    }

    [Benchmark]
    public void Forward()
    {
        switch (Layer.Impl)
        {
            case "float-spike": SpikeAccumulate.Forward(_spikes!.Words, _m, _panels, default, _output); break;
            case "float-gemm": Gemm.Multiply(_countsAsFloat, false, _weight, true, _output, _m, _n, _k); break;
            case "int8-select": _kernel!.ForwardSpikesSelected(_spikes!.Words, _m, _output); break;
            case "int8-expand": _kernel!.ForwardSpikesExpanded(_spikes!.Words, _m, _output); break;
            default:
                if (Layer.Input == "spikes") _kernel!.Forward(_spikes!.Words, _m, _output);
                else _kernel!.Forward(_counts, _m, _output);
                break;
        }
    }

    /// <summary>Medians beside the means, whole case names, and a short job: the suites have 70 and 49 cases.</summary>
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

/// <summary>
/// Binary spikes at rates 0.1 and 0.3: the float spike-accumulate forward (<c>float-spike</c>) against the integer
/// kernel's public forward with int8 and int4 codes (<c>int8</c>, <c>int4</c>: codes selected by set bits below the
/// expansion rate, bits expanded into counts above it) and against each of the two forced (<c>int8-select</c>,
/// <c>int8-expand</c>).
/// </summary>
public class QuantizedSpikeLinearBench : QuantizedLinearBenchBase
{
    public static IEnumerable<QuantizedLinearCase> Cases()
    {
        foreach (string shape in Shapes)
        {
            foreach (double rate in new[] { 0.1, 0.3 })
            {
                foreach (string impl in new[] { "float-spike", "int8", "int8-select", "int8-expand", "int4" }) yield return new QuantizedLinearCase(shape, "spikes", rate, impl);
            }
        }
    }

    [ParamsSource(nameof(Cases))]
    public override QuantizedLinearCase Layer { get; set; } = new("3136x64x64", "spikes", 0.1, "float-spike");
}

/// <summary>
/// Counts 0…4 (non-zero with probability 0.3): the float SGEMM on the counts as floats (<c>float-gemm</c>) against
/// int8 and int4 codes by AVX-512BW pair sums (<c>*-pairs</c>), AVX-VNNI (<c>*-vnni</c>) and the portable int16 kernel
/// (<c>*-portable</c>).
/// </summary>
public class QuantizedCountLinearBench : QuantizedLinearBenchBase
{
    public static IEnumerable<QuantizedLinearCase> Cases()
    {
        foreach (string shape in Shapes)
        {
            foreach (string impl in new[] { "float-gemm", "int8-pairs", "int8-vnni", "int8-portable", "int4-pairs", "int4-vnni", "int4-portable" })
            {
                yield return new QuantizedLinearCase(shape, "counts", 0.3, impl);
            }
        }
    }

    [ParamsSource(nameof(Cases))]
    public override QuantizedLinearCase Layer { get; set; } = new("3136x64x64", "counts", 0.3, "float-gemm");
}

/// <summary>One case: a shape "MxKxN", the input ("spikes" or "counts"), its rate, and the implementation.</summary>
public sealed record QuantizedLinearCase(string Shape, string Input, double Rate, string Impl)
{
    /// <summary>How BenchmarkDotNet names the case, e.g. "3136x64x64 spikes 0.1 int8-select".</summary>
    public override string ToString() => FormattableString.Invariant($"{Shape} {Input} {Rate} {Impl}");
}

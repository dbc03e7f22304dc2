using System;
using System.Diagnostics;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests;

public sealed class TmpPerf
{
    [Fact]
    public void Time()
    {
        Parallelism.MaxThreads = 1;
        var shape = new Shape(8, 64, 1024);
        var philox = new PhiloxGenerator(1);
        using var xt = philox.Normal(shape, 0.6f, 0.8f);
        using var x = Variable.Constant(xt.Clone());
        using var w = Variable.Parameter(philox.Normal(new Shape(8, 8), 0f, 0.3f));
        using var b = Variable.Parameter(Tensor.Full(new Shape(8, 1), -1f));
        var s = new ATan();
        var ta = new System.Collections.Generic.List<double>();
        var tb = new System.Collections.Generic.List<double>();
        var tc = new System.Collections.Generic.List<double>();
        float sink = 0;
        for (int r = 0; r < 300; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            using (GradMode.NoGrad()) Functional.ParallelSpikingNeuron(x, w, b, s).Dispose();
            ta.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            t0 = Stopwatch.GetTimestamp();
            sink += System.Numerics.Tensors.TensorPrimitives.Sum(xt.AsReadOnlySpan());
            tb.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            t0 = Stopwatch.GetTimestamp();
            using (var z = SpikeTensor.Zeros(shape)) sink += z.Length;
            tc.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        var td = new System.Collections.Generic.List<double>();
        var te = new System.Collections.Generic.List<double>();
        var tf = new System.Collections.Generic.List<double>();
        using var xi = Variable.Input(xt.Clone());
        using var g = philox.Normal(shape);
        using var wc = Variable.Constant(w.Dense.Clone());
        using var bc = Variable.Constant(b.Dense.Clone());
        for (int r = 0; r < 200; r++)
        {
            using var o = Functional.ParallelSpikingNeuron(xi, w, b, s);
            long t0 = Stopwatch.GetTimestamp();
            o.Backward(g);
            td.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            xi.ZeroGrad(); w.ZeroGrad(); b.ZeroGrad();
            using var o2 = Functional.ParallelSpikingNeuron(xi, wc, bc, s);
            t0 = Stopwatch.GetTimestamp();
            o2.Backward(g);
            te.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            xi.ZeroGrad();
            t0 = Stopwatch.GetTimestamp();
            using (var c = g.Clone()) sink += c.Length;
            tf.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        td.Sort(); te.Sort(); tf.Sort();
        ta.Sort(); tb.Sort(); tc.Sort();
        System.IO.File.WriteAllText("/tmp/perf/out.txt", $"psn fwd {ta[150]:F3} ({ta[0]:F3}); sum x {tb[150]:F3} ({tb[0]:F3}); zeros {tc[150]:F3}; bwd all {td[100]:F3}; bwd dx only {te[100]:F3}; clone g {tf[100]:F3} {sink}");
    }
}

using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Cli;
using Spiking.Tensors;

namespace Spiking.Bench;

/// <summary>An attention layer of the benchmark: T timesteps, B samples, N tokens, D channels in H heads.</summary>
public sealed record AttentionLayer(int T, int B, int N, int D, int H)
{
    /// <summary>Formats as <c>T4xB64xN49xD64xH4</c> for the results table.</summary>
    public override string ToString() => $"T{T}xB{B}xN{N}xD{D}xH{H}";
}

/// <summary>Which attention <see cref="AttentionBench"/> times.</summary>
public enum AttentionVariant
{
    /// <summary>Spikformer's <c>(Q·Kᵀ)·V·0.125</c> on spikes.</summary>
    Ssa,

    /// <summary>Spike-driven <c>Q ⊙ SN(Σ K ⊙ V)</c> on spikes.</summary>
    Sdsa1,

    /// <summary>Linear spike-driven <c>Q·(Kᵀ·V)·0.125</c> on spikes.</summary>
    Sdsa3,

    /// <summary>The float baseline <c>softmax(Q·Kᵀ/√d)·V</c> on dense Q, K, V.</summary>
    FloatSoftmax,
}

/// <summary>
/// Forward + backward of the spiking attention cores and the float softmax baseline at the shapes of
/// <c>spiking bench attention</c>: (T=4, B=64, 49 tokens, D=64, 4 heads) and (T=4, B=16, 196 tokens, D=384, 12 heads),
/// operands <c>[T·B, H, N, D/H]</c>. Spike variants threshold Philox potentials firing at <see cref="Rate"/> through
/// <c>Spike</c> with the ATan surrogate, so their time includes that input step, as the CLI's does.
/// </summary>
public class AttentionBench
{
    private readonly ATan _surrogate = new();
    private Variable _q = null!, _k = null!, _v = null!;
    private Tensor _qf = null!, _kf = null!, _vf = null!, _g = null!;
    private float _floatScale;

    [Params(AttentionVariant.Ssa, AttentionVariant.Sdsa1, AttentionVariant.Sdsa3, AttentionVariant.FloatSoftmax)]
    public AttentionVariant Variant { get; set; }

    [ParamsSource(nameof(Layers))]
    public AttentionLayer Layer { get; set; } = null!;

    [Params(0.15)]
    public double Rate { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    public static IEnumerable<AttentionLayer> Layers() => [new(4, 64, 49, 64, 4), new(4, 16, 196, 384, 12)];

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        var shape = new Shape(Layer.T * Layer.B, Layer.H, Layer.N, Layer.D / Layer.H);
        var philox = new PhiloxGenerator(0);
        _q = Variable.Input(Potentials(philox, shape));
        _k = Variable.Input(Potentials(philox, shape));
        _v = Variable.Input(Potentials(philox, shape));
        _qf = philox.Normal(shape);
        _kf = philox.Normal(shape);
        _vf = philox.Normal(shape);
        _g = philox.Normal(shape);
        _floatScale = 1f / System.MathF.Sqrt(shape[3]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _q.Dispose();
        _k.Dispose();
        _v.Dispose();
        _qf.Dispose();
        _kf.Dispose();
        _vf.Dispose();
        _g.Dispose();
    }

    [Benchmark]
    public void ForwardBackward()
    {
        if (Variant == AttentionVariant.FloatSoftmax)
        {
            var (y, saved) = FloatSoftmaxAttention.Forward(_qf, _kf, _vf, _floatScale);
            var (dq, dk, dv) = saved.Backward(_g);
            saved.Dispose();
            y.Dispose();
            dq.Dispose();
            dk.Dispose();
            dv.Dispose();
            return;
        }
        using (DisposeScope.Begin())
        {
            var q = Functional.Spike(_q, _surrogate);
            var k = Functional.Spike(_k, _surrogate);
            var v = Functional.Spike(_v, _surrogate);
            var y = Variant switch
            {
                AttentionVariant.Ssa => Functional.SpikingAttention(q, k, v, 0.125f),
                AttentionVariant.Sdsa1 => Functional.SpikeMask(q, Functional.Spike(Functional.SpikeDrivenKeyValue(k, v), _surrogate, 0.5f)),
                _ => Functional.SpikeLinearAttention(q, k, v, 0.125f),
            };
            y.Backward(_g);
        }
        _q.ZeroGrad();
        _k.ZeroGrad();
        _v.ZeroGrad();
    }

    /// <summary>Potentials <c>u − (1 − rate)</c>, u uniform in [0, 1), which reach the threshold 0 with probability <see cref="Rate"/>.</summary>
    private Tensor Potentials(PhiloxGenerator philox, Shape shape)
    {
        var u = philox.Uniform(shape);
        var span = u.AsSpan();
        System.Numerics.Tensors.TensorPrimitives.Subtract(span, (float)(1 - Rate), span);
        return u;
    }
}

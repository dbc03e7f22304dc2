using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Samples.Extensions;

/// <summary>
/// A custom neuron with two state variables, from the public API alone: the resonate-and-fire neuron (Izhikevich
/// 2001) as a damped rotation of the state (u, w) per step, driven through u, firing when w crosses the threshold:
/// <code>
/// a_t = ρ·(cos ω·u_{t−1} − sin ω·w_{t−1}) + x_t
/// b_t = ρ·(sin ω·u_{t−1} + cos ω·w_{t−1})
/// s_t = heaviside(b_t − θ)                    (backward: the surrogate g'(b_t − θ))
/// (u_t, w_t) = (1 − s_t)·(a_t, b_t)           (both reset to 0; the reset's spike is detached)
/// </code>
/// </summary>
public sealed record ResonateAndFireNeuron : NeuronModel
{
    /// <summary>The rotation per step, in radians.</summary>
    public double Omega { get; init; } = 0.6;

    /// <summary>The damping ρ per step, in (0, 1].</summary>
    public double Damping { get; init; } = 0.95;

    /// <summary>The threshold on w.</summary>
    public float VThreshold { get; init; } = 1f;

    /// <inheritdoc/>
    public override string Name => "ResonateAndFire";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => ["u", "w"];

    /// <inheritdoc/>
    public override IReadOnlyList<string> SavedNames => ["a", "b"];

    /// <inheritdoc/>
    protected override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters)
    {
        ArgumentNullException.ThrowIfNull(runner);
        runner.Run(new Dynamics((float)(Damping * Math.Cos(Omega)), (float)(Damping * Math.Sin(Omega)), VThreshold));
    }

    private readonly struct Dynamics(float cosine, float sine, float threshold) : INeuronDynamics
    {
        public static int StateCount => 2;

        public static int SavedCount => 2;

        public static int ParameterCount => 0;

        public static bool EmitsSpikes => true;

        public bool BackwardReadsInput => false;

        public float RestValue(int variable) => 0f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
            where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            TVec c = TSimd.Broadcast(cosine), s = TSimd.Broadcast(sine), u = state[0], w = state[1];
            var a = TSimd.Add(TSimd.Subtract(TSimd.Multiply(c, u), TSimd.Multiply(s, w)), x);
            var b = TSimd.Add(TSimd.Multiply(s, u), TSimd.Multiply(c, w));
            saved[0] = a;
            saved[1] = b;
            spikes = TSimd.GreaterThanOrEqualMask(b, TSimd.Broadcast(threshold));
            var keep = TSimd.Subtract(TSimd.One, TSimd.ExpandBits((uint)spikes));
            state[0] = TSimd.Multiply(a, keep);
            state[1] = TSimd.Multiply(b, keep);
            return b;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Backward<TSimd, TVec, TSurrogate>(in NeuronBackwardLanes<TVec> lanes, TVec gradOutput, in TSurrogate surrogate)
            where TSimd : struct, ISimd<TVec> where TVec : struct where TSurrogate : struct, ISurrogateFunction
        {
            TVec c = TSimd.Broadcast(cosine), s = TSimd.Broadcast(sine), theta = TSimd.Broadcast(threshold);
            var b = lanes.Saved[1];
            var keep = TSimd.Subtract(TSimd.One, TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(b, theta)));
            var ga = TSimd.Multiply(lanes.GradState[0], keep);
            var gb = TSimd.Add(TSimd.Multiply(lanes.GradState[1], keep), TSimd.Multiply(gradOutput, surrogate.Derivative<TSimd, TVec>(TSimd.Subtract(b, theta))));
            lanes.GradState[0] = TSimd.Add(TSimd.Multiply(c, ga), TSimd.Multiply(s, gb));
            lanes.GradState[1] = TSimd.Subtract(TSimd.Multiply(c, gb), TSimd.Multiply(s, ga));
            return ga;
        }
    }
}

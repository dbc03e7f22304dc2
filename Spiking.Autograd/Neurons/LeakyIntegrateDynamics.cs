using System.Runtime.CompilerServices;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The dynamics of SpikingJelly's IF, LIF and parametric LIF (<see cref="IFNeuron"/>, <see cref="LifNeuron"/>,
/// <see cref="ParametricLifNeuron"/>): charge by <typeparamref name="TCharge"/>, fire at <c>h ≥ θ</c>, reset by
/// <typeparamref name="TReset"/>. Saves only <c>h</c>: the spike and the previous potential are recomputed from it.
/// </summary>
/// <remarks>
/// Backward, per step: <c>dL/dh = dL/ds · g'(h − θ) + dL/dv · dv/dh</c>, then <c>dL/dx = dL/dh · ∂h/∂x</c> and
/// <c>dL/dv_{t−1} = dL/dh · ∂h/∂v</c>; with a learnable <c>k</c> it also sums <c>dL/dh · ∂h/∂k</c>.
/// </remarks>
internal readonly struct LeakyIntegrateDynamics<TCharge, TReset> : INeuronDynamics
    where TCharge : struct, IChargeRule where TReset : struct, IResetRule
{
    private readonly float _k, _vReset, _threshold, _dhDx, _dhDv;
    private readonly bool _decayInput, _learnK;

    /// <param name="k"><c>1/τ</c> or <c>sigmoid(w)</c> (unused by IF).</param>
    /// <param name="vReset">The reset potential, 0 for the soft reset.</param>
    /// <param name="threshold">The firing threshold.</param>
    /// <param name="leaky">False for IF (<c>∂h/∂v = 1</c>).</param>
    /// <param name="decayInput">Whether the input is scaled by k.</param>
    /// <param name="learnK">Whether the backward sums <c>dL/dk</c>.</param>
    public LeakyIntegrateDynamics(float k, float vReset, float threshold, bool leaky, bool decayInput, bool learnK)
    {
        _k = k;
        _vReset = vReset;
        _threshold = threshold;
        _decayInput = decayInput;
        _learnK = learnK;
        _dhDx = leaky && decayInput ? k : 1f;
        _dhDv = leaky ? 1f - k : 1f;
    }

    public static int StateCount => 1;

    public static int SavedCount => 1;

    public static int ParameterCount => 1;

    public static bool EmitsSpikes => true;

    public bool BackwardReadsInput => _learnK && _decayInput;

    public float RestValue(int variable) => _vReset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var vr = TSimd.Broadcast(_vReset);
        var theta = TSimd.Broadcast(_threshold);
        var h = TCharge.Charge<TSimd, TVec>(state[0], x, TSimd.Broadcast(_k), vr);
        saved[0] = h;
        spikes = TSimd.GreaterThanOrEqualMask(h, theta);
        state[0] = TReset.Reset<TSimd, TVec>(h, TSimd.ExpandBits((uint)spikes), TSimd.One, vr, theta);
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Backward<TSimd, TVec, TSurrogate>(in NeuronBackwardLanes<TVec> lanes, TVec gradOutput, in TSurrogate surrogate)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TSurrogate : struct, ISurrogateFunction
    {
        var vr = TSimd.Broadcast(_vReset);
        var theta = TSimd.Broadcast(_threshold);
        var one = TSimd.One;
        var h = lanes.Saved[0];
        var spike = TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(h, theta));
        var g = surrogate.Derivative<TSimd, TVec>(TSimd.Subtract(h, theta));
        var gh = TSimd.Add(TSimd.Multiply(gradOutput, g), TSimd.Multiply(lanes.GradState[0], TReset.DvDh<TSimd, TVec>(h, spike, g, one, vr, theta)));
        lanes.GradState[0] = TSimd.Multiply(gh, TSimd.Broadcast(_dhDv));
        if (_learnK)
        {
            var vPrevious = PreviousPotential.Of<TSimd, TVec, TReset>(lanes, vr, theta);
            var leak = TSimd.Subtract(vPrevious, vr);
            var dhdk = _decayInput ? TSimd.Subtract(lanes.Input, leak) : TSimd.Subtract(TSimd.Zero, leak);
            lanes.GradParameters[0] = TSimd.Add(lanes.GradParameters[0], TSimd.Multiply(gh, dhdk));
        }
        return TSimd.Multiply(gh, TSimd.Broadcast(_dhDx));
    }
}

/// <summary>Builds the IF/LIF family's dynamics for a charge rule and a reset rule chosen at run time.</summary>
internal readonly struct LeakyIntegrateFactory<TCharge>(float k, float vReset, float threshold, bool leaky, bool decayInput, bool learnK) : IResetSpecialised
    where TCharge : struct, IChargeRule
{
    public void Run<TReset>(INeuronDynamicsRunner runner) where TReset : struct, IResetRule =>
        runner.Run(new LeakyIntegrateDynamics<TCharge, TReset>(k, vReset, threshold, leaky, decayInput, learnK));
}

/// <summary>The constants of the device kernels for IF and LIF, which compute the ATan and Sigmoid surrogates themselves.</summary>
internal static class LeakyIntegrateDevice
{
    public static Tensors.Backends.NeuronKernelSpec? Spec(ThresholdNeuron model, Tensors.Backends.ChargeRule charge, float k) => model.Surrogate switch
    {
        ATan a => new(charge, model.HardReset, model.DetachReset, model.VThreshold, model.ResetPotential, k, Tensors.Backends.SurrogateKind.ATan, (float)a.Alpha),
        Sigmoid s => new(charge, model.HardReset, model.DetachReset, model.VThreshold, model.ResetPotential, k, Tensors.Backends.SurrogateKind.Sigmoid, (float)s.Alpha),
        _ => null,
    };
}

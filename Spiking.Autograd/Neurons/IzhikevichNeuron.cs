using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// SpikingJelly's <c>IzhikevichNode</c>: a QIF membrane with an adaptation current <c>w</c> (a second state variable,
/// starting at <c>w_rest</c>):
/// <code>
/// h_t = v_{t−1} + (x_t + a0·(v_{t−1} − v_rest)·(v_{t−1} − v_c) − w_{t−1})/τ
/// s_t = heaviside(h_t − v_threshold)
/// hard: v_t = (1 − s′_t)·h_t + s_t·v_reset        soft: v_t = h_t − s′_t·v_threshold
/// w_t = w_{t−1} + (a·(h_t − v_rest) − w_{t−1})/τ_w + b·s_t
/// </code>
/// where <c>s′</c> is the spike, detached when <see cref="ThresholdNeuron.DetachReset"/> is set. As in SpikingJelly,
/// the hard reset's <c>v_reset</c> term and the jump <c>b·s_t</c> use the undetached spike, so the surrogate gradient
/// flows through them even with <c>detach_reset</c>. Saves <c>h</c>; the backward recomputes <c>v_{t−1}</c> from the
/// previous step's <c>h</c>. State names <c>v</c>, <c>w</c> (traces <c>v_seq</c>, <c>w_seq</c>).
/// </summary>
public sealed record IzhikevichNeuron : ThresholdNeuron
{
    private static readonly IReadOnlyList<string> s_stateNames = ["v", "w"];

    private readonly double _tau = 2.0;
    private readonly double _vC = 0.8;
    private readonly double _a0 = 1.0;
    private readonly double _vRest = -0.1;
    private readonly double _wRest;
    private readonly double _tauW = 2.0;
    private readonly double _a;
    private readonly double _b;

    /// <summary>The membrane time constant (SpikingJelly's <c>tau</c>, default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double Tau
    {
        get => _tau;
        init => _tau = GreaterThan(value, 1, "tau");
    }

    /// <summary>The critical voltage of the quadratic term (SpikingJelly's <c>v_c</c>, default 0.8).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public double VC
    {
        get => _vC;
        init => _vC = Finite(value, "v_c");
    }

    /// <summary>The quadratic coefficient (SpikingJelly's <c>a0</c>, default 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 0.</exception>
    public double A0
    {
        get => _a0;
        init => _a0 = GreaterThan(value, 0, "a0");
    }

    /// <summary>The resting potential of the quadratic term and of the adaptation's coupling (SpikingJelly's <c>v_rest</c>, default −0.1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public double VRest
    {
        get => _vRest;
        init => _vRest = Finite(value, "v_rest");
    }

    /// <summary>The adaptation current at rest, its value before the first step (SpikingJelly's <c>w_rest</c>, default 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public double WRest
    {
        get => _wRest;
        init => _wRest = Finite(value, "w_rest");
    }

    /// <summary>The adaptation time constant (SpikingJelly's <c>tau_w</c>, default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 0.</exception>
    public double TauW
    {
        get => _tauW;
        init => _tauW = GreaterThan(value, 0, "tau_w");
    }

    /// <summary>The subthreshold coupling of <c>w</c> to the potential (SpikingJelly's <c>a</c>, default 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public double A
    {
        get => _a;
        init => _a = Finite(value, "a");
    }

    /// <summary>The jump of <c>w</c> at each spike (SpikingJelly's <c>b</c>, default 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public double B
    {
        get => _b;
        init => _b = Finite(value, "b");
    }

    /// <inheritdoc/>
    public override string Name => "Izhikevich";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => s_stateNames;

    /// <inheritdoc/>
    public override IReadOnlyList<string> SavedNames => LeakyIntegrateNames.Saved;

    /// <inheritdoc/>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters) =>
        DispatchByReset(runner, new Factory(this));

    /// <summary>
    /// The model of SpikingJelly's <c>IzhikevichNode</c> built with <paramref name="settings"/> (<c>tau</c>, <c>v_c</c>,
    /// <c>a0</c>, <c>v_rest</c>, <c>w_rest</c>, <c>tau_w</c>, <c>a</c>, <c>b</c> and the <c>BaseNode</c> arguments).
    /// </summary>
    /// <exception cref="ArgumentException">A setting has the wrong type or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>tau</c> is not &gt; 1, <c>a0</c> or <c>tau_w</c> is not &gt; 0, or a value is not finite.</exception>
    public static IzhikevichNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return WithBaseNodeSettings(new IzhikevichNeuron
        {
            Tau = settings.Number("tau", 2.0),
            VC = settings.Number("v_c", 0.8),
            A0 = settings.Number("a0", 1.0),
            VRest = settings.Number("v_rest", -0.1),
            WRest = settings.Number("w_rest", 0.0),
            TauW = settings.Number("tau_w", 2.0),
            A = settings.Number("a", 0.0),
            B = settings.Number("b", 0.0),
        }, settings);
    }

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() =>
        $"Izhikevich(tau={Format(Tau)}, v_c={Format(VC)}, a0={Format(A0)}, v_rest={Format(VRest)}, w_rest={Format(WRest)}, tau_w={Format(TauW)}, " +
        $"a={Format(A)}, b={Format(B)}, {ResetSettings()})";

    private readonly struct Factory(IzhikevichNeuron model) : IResetSpecialised
    {
        public void Run<TReset>(INeuronDynamicsRunner runner) where TReset : struct, IResetRule =>
            runner.Run(new IzhikevichDynamics<TReset>(new QuadraticCharge(model.Tau, model.A0, model.VRest, model.VC), model));
    }
}

/// <summary>
/// The dynamics of <see cref="IzhikevichNeuron"/>. Backward, with <c>sg = g'(h − θ)</c>:
/// <c>dL/dh = dL/ds·sg + dL/dv_t·dv_t/dh + dL/dw_t·(a/τ_w + b·sg)</c>, where <c>dv_t/dh</c> is the reset rule's plus
/// <c>v_reset·sg</c> for the detached hard reset (its <c>v_reset</c> term keeps the spike's gradient);
/// <c>dL/dx = dL/dh/τ</c>, <c>dL/dv_{t−1} = dL/dh·∂h/∂v</c>, <c>dL/dw_{t−1} = dL/dw_t·(1 − 1/τ_w) − dL/dh/τ</c>.
/// </summary>
internal readonly struct IzhikevichDynamics<TReset> : INeuronDynamics where TReset : struct, IResetRule
{
    private readonly QuadraticCharge _charge;
    private readonly float _vRest, _wRest, _kW, _wDecay, _a, _aKW, _b, _vReset, _threshold;

    public IzhikevichDynamics(QuadraticCharge charge, IzhikevichNeuron model)
    {
        _charge = charge;
        _vRest = (float)model.VRest;
        _wRest = (float)model.WRest;
        _kW = (float)(1.0 / model.TauW);
        _wDecay = (float)(1.0 - 1.0 / model.TauW);
        _a = (float)model.A;
        _aKW = (float)(model.A / model.TauW);
        _b = (float)model.B;
        _vReset = model.ResetPotential;
        _threshold = model.VThreshold;
    }

    public static int StateCount => 2;

    public static int SavedCount => 1;

    public static int ParameterCount => 0;

    public static bool EmitsSpikes => true;

    public bool BackwardReadsInput => false;

    public float RestValue(int variable) => variable == 0 ? _vReset : _wRest;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var theta = TSimd.Broadcast(_threshold);
        var w = state[1];
        var h = _charge.Charge<TSimd, TVec>(state[0], TSimd.Subtract(x, w));
        saved[0] = h;
        spikes = TSimd.GreaterThanOrEqualMask(h, theta);
        var s = TSimd.ExpandBits((uint)spikes);
        // The forward value of (1 − s′)·h + s·v_reset is the rule's hard reset: s and s′ are equal in value.
        state[0] = TReset.Reset<TSimd, TVec>(h, s, TSimd.One, TSimd.Broadcast(_vReset), theta);
        var coupling = TSimd.Subtract(TSimd.Multiply(TSimd.Broadcast(_a), TSimd.Subtract(h, TSimd.Broadcast(_vRest))), w);
        state[1] = TSimd.Add(TSimd.Add(w, TSimd.Multiply(coupling, TSimd.Broadcast(_kW))), TSimd.Multiply(TSimd.Broadcast(_b), s));
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Backward<TSimd, TVec, TSurrogate>(in NeuronBackwardLanes<TVec> lanes, TVec gradOutput, in TSurrogate surrogate)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TSurrogate : struct, ISurrogateFunction
    {
        var vr = TSimd.Broadcast(_vReset);
        var theta = TSimd.Broadcast(_threshold);
        var k = TSimd.Broadcast(_charge.K);
        var h = lanes.Saved[0];
        var spike = TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(h, theta));
        var g = surrogate.Derivative<TSimd, TVec>(TSimd.Subtract(h, theta));
        var dvdh = TReset.DvDh<TSimd, TVec>(h, spike, g, TSimd.One, vr, theta);
        if (TReset.IsHard && TReset.IsDetached) dvdh = TSimd.Add(dvdh, TSimd.Multiply(vr, g));
        var gradW = lanes.GradState[1];
        var dwdh = TSimd.Add(TSimd.Broadcast(_aKW), TSimd.Multiply(TSimd.Broadcast(_b), g));
        var gh = TSimd.Add(TSimd.Add(TSimd.Multiply(gradOutput, g), TSimd.Multiply(lanes.GradState[0], dvdh)), TSimd.Multiply(gradW, dwdh));
        var vPrevious = PreviousPotential.Of<TSimd, TVec, TReset>(lanes, vr, theta);
        var ghk = TSimd.Multiply(gh, k);
        lanes.GradState[0] = TSimd.Multiply(gh, _charge.DhDv<TSimd, TVec>(vPrevious));
        lanes.GradState[1] = TSimd.Subtract(TSimd.Multiply(gradW, TSimd.Broadcast(_wDecay)), ghk);
        return ghk;
    }
}

using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// SpikingJelly's <c>EIFNode</c>, the exponential integrate-and-fire neuron:
/// <c>h_t = v_{t−1} + (x_t + v_rest − v_{t−1} + Δ_T·exp((v_{t−1} − θ_rh)/Δ_T))/τ</c>, spike when
/// <c>h_t ≥ v_threshold</c>, then the reset of <see cref="ThresholdNeuron"/> (<c>v_reset</c> defaults to −0.1 here,
/// as in SpikingJelly). Saves <c>h</c>; the backward recomputes <c>v_{t−1}</c> from the previous step's <c>h</c> for
/// <c>∂h/∂v = 1 + (exp((v_{t−1} − θ_rh)/Δ_T) − 1)/τ</c>.
/// </summary>
/// <remarks>
/// SpikingJelly's constructor also asserts <c>v_threshold &gt; v_reset</c> and <c>v_rest ≥ v_reset</c>; the equations
/// are defined without them, so they are not required here.
/// </remarks>
public sealed record EifNeuron : ThresholdNeuron
{
    private readonly double _tau = 2.0;
    private readonly double _deltaT = 1.0;
    private readonly double _thetaRh = 0.8;
    private readonly double _vRest;

    /// <summary>An EIF neuron with SpikingJelly's defaults (<c>v_reset</c> −0.1).</summary>
    public EifNeuron() => VReset = -0.1f;

    /// <summary>The membrane time constant (SpikingJelly's <c>tau</c>, default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double Tau
    {
        get => _tau;
        init => _tau = GreaterThan(value, 1, "tau");
    }

    /// <summary>The sharpness of the exponential (SpikingJelly's <c>delta_T</c>, default 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 0.</exception>
    public double DeltaT
    {
        get => _deltaT;
        init => _deltaT = GreaterThan(value, 0, "delta_T");
    }

    /// <summary>The rheobase threshold (SpikingJelly's <c>theta_rh</c>, default 0.8), where the exponential takes over.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public double ThetaRh
    {
        get => _thetaRh;
        init => _thetaRh = Finite(value, "theta_rh");
    }

    /// <summary>The resting potential the leak pulls towards (SpikingJelly's <c>v_rest</c>, default 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public double VRest
    {
        get => _vRest;
        init => _vRest = Finite(value, "v_rest");
    }

    /// <inheritdoc/>
    public override string Name => "EIF";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => LeakyIntegrateNames.State;

    /// <inheritdoc/>
    public override IReadOnlyList<string> SavedNames => LeakyIntegrateNames.Saved;

    /// <inheritdoc/>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters) =>
        DispatchByReset(runner, new Factory(this));

    /// <summary>The model of SpikingJelly's <c>EIFNode</c> built with <paramref name="settings"/> (<c>tau</c>, <c>delta_T</c>, <c>theta_rh</c>, <c>v_rest</c> and the <c>BaseNode</c> arguments, <c>v_reset</c> defaulting to −0.1).</summary>
    /// <exception cref="ArgumentException">A setting has the wrong type or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>tau</c> is not &gt; 1, <c>delta_T</c> is not &gt; 0, or a value is not finite.</exception>
    public static EifNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return WithBaseNodeSettings(new EifNeuron
        {
            Tau = settings.Number("tau", 2.0),
            DeltaT = settings.Number("delta_T", 1.0),
            ThetaRh = settings.Number("theta_rh", 0.8),
            VRest = settings.Number("v_rest", 0.0),
        }, settings, vResetDefault: -0.1);
    }

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() =>
        $"EIF(tau={Format(Tau)}, delta_T={Format(DeltaT)}, theta_rh={Format(ThetaRh)}, v_rest={Format(VRest)}, {ResetSettings()})";

    private readonly struct Factory(EifNeuron model) : IResetSpecialised
    {
        public void Run<TReset>(INeuronDynamicsRunner runner) where TReset : struct, IResetRule =>
            runner.Run(new EifDynamics<TReset>(model.Tau, model.DeltaT, model.ThetaRh, model.VRest, model.ResetPotential, model.VThreshold));
    }
}

/// <summary>
/// The dynamics of <see cref="EifNeuron"/>: exponential charge, fire at <c>h ≥ θ</c>, reset by <typeparamref name="TReset"/>.
/// Backward: <c>dL/dh = dL/ds·g'(h − θ) + dL/dv·dv/dh</c>, <c>dL/dx = dL/dh/τ</c>, <c>dL/dv_{t−1} = dL/dh·∂h/∂v</c>,
/// the exponential recomputed at the recomputed <c>v_{t−1}</c>.
/// </summary>
internal readonly struct EifDynamics<TReset> : INeuronDynamics where TReset : struct, IResetRule
{
    private readonly float _k, _deltaT, _inverseDeltaT, _thetaRh, _vRest, _vReset, _threshold;

    public EifDynamics(double tau, double deltaT, double thetaRh, double vRest, float vReset, float threshold)
    {
        _k = (float)(1.0 / tau);
        _deltaT = (float)deltaT;
        _inverseDeltaT = (float)(1.0 / deltaT);
        _thetaRh = (float)thetaRh;
        _vRest = (float)vRest;
        _vReset = vReset;
        _threshold = threshold;
    }

    public static int StateCount => 1;

    public static int SavedCount => 1;

    public static int ParameterCount => 0;

    public static bool EmitsSpikes => true;

    public bool BackwardReadsInput => false;

    public float RestValue(int variable) => _vReset;

    /// <summary><c>exp((v − θ_rh)/Δ_T)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TVec Exponential<TSimd, TVec>(TVec v) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Exp(TSimd.Multiply(TSimd.Subtract(v, TSimd.Broadcast(_thetaRh)), TSimd.Broadcast(_inverseDeltaT)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var theta = TSimd.Broadcast(_threshold);
        var v = state[0];
        var drive = TSimd.Add(TSimd.Subtract(TSimd.Add(x, TSimd.Broadcast(_vRest)), v), TSimd.Multiply(TSimd.Broadcast(_deltaT), Exponential<TSimd, TVec>(v)));
        var h = TSimd.Add(v, TSimd.Multiply(drive, TSimd.Broadcast(_k)));
        saved[0] = h;
        spikes = TSimd.GreaterThanOrEqualMask(h, theta);
        state[0] = TReset.Reset<TSimd, TVec>(h, TSimd.ExpandBits((uint)spikes), TSimd.One, TSimd.Broadcast(_vReset), theta);
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Backward<TSimd, TVec, TSurrogate>(in NeuronBackwardLanes<TVec> lanes, TVec gradOutput, in TSurrogate surrogate)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TSurrogate : struct, ISurrogateFunction
    {
        var vr = TSimd.Broadcast(_vReset);
        var theta = TSimd.Broadcast(_threshold);
        var k = TSimd.Broadcast(_k);
        var h = lanes.Saved[0];
        var spike = TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(h, theta));
        var g = surrogate.Derivative<TSimd, TVec>(TSimd.Subtract(h, theta));
        var gh = TSimd.Add(TSimd.Multiply(gradOutput, g), TSimd.Multiply(lanes.GradState[0], TReset.DvDh<TSimd, TVec>(h, spike, g, TSimd.One, vr, theta)));
        var vPrevious = PreviousPotential.Of<TSimd, TVec, TReset>(lanes, vr, theta);
        var dhdv = TSimd.Add(TSimd.One, TSimd.Multiply(TSimd.Subtract(Exponential<TSimd, TVec>(vPrevious), TSimd.One), k));
        lanes.GradState[0] = TSimd.Multiply(gh, dhdv);
        return TSimd.Multiply(gh, k);
    }
}

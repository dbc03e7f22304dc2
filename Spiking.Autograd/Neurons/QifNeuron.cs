using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// SpikingJelly's <c>QIFNode</c>, the quadratic integrate-and-fire neuron:
/// <c>h_t = v_{t−1} + (x_t + a0·(v_{t−1} − v_rest)·(v_{t−1} − v_c))/τ</c>, spike when <c>h_t ≥ v_threshold</c>, then
/// the reset of <see cref="ThresholdNeuron"/> (<c>v_reset</c> defaults to −0.1 here, as in SpikingJelly). Saves
/// <c>h</c>; the backward recomputes <c>v_{t−1}</c> from the previous step's <c>h</c> for
/// <c>∂h/∂v = 1 + a0·(2v_{t−1} − v_rest − v_c)/τ</c>.
/// </summary>
/// <remarks>
/// SpikingJelly's constructor also asserts <c>v_threshold &gt; v_reset</c> and <c>v_rest ≥ v_reset</c>; the equations
/// are defined without them, so they are not required here.
/// </remarks>
public sealed record QifNeuron : ThresholdNeuron
{
    private readonly double _tau = 2.0;
    private readonly double _vC = 0.8;
    private readonly double _a0 = 1.0;
    private readonly double _vRest;

    /// <summary>A QIF neuron with SpikingJelly's defaults (<c>v_reset</c> −0.1).</summary>
    public QifNeuron() => VReset = -0.1f;

    /// <summary>The membrane time constant (SpikingJelly's <c>tau</c>, default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double Tau
    {
        get => _tau;
        init => _tau = GreaterThan(value, 1, "tau");
    }

    /// <summary>The critical voltage (SpikingJelly's <c>v_c</c>, default 0.8): above it the quadratic term drives the potential up.</summary>
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

    /// <summary>The resting potential (SpikingJelly's <c>v_rest</c>, default 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public double VRest
    {
        get => _vRest;
        init => _vRest = Finite(value, "v_rest");
    }

    /// <inheritdoc/>
    public override string Name => "QIF";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => LeakyIntegrateNames.State;

    /// <inheritdoc/>
    public override IReadOnlyList<string> SavedNames => LeakyIntegrateNames.Saved;

    /// <inheritdoc/>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters) =>
        DispatchByReset(runner, new Factory(new QuadraticCharge(Tau, A0, VRest, VC), ResetPotential, VThreshold));

    /// <summary>The model of SpikingJelly's <c>QIFNode</c> built with <paramref name="settings"/> (<c>tau</c>, <c>v_c</c>, <c>a0</c>, <c>v_rest</c> and the <c>BaseNode</c> arguments, <c>v_reset</c> defaulting to −0.1).</summary>
    /// <exception cref="ArgumentException">A setting has the wrong type or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>tau</c> is not &gt; 1, <c>a0</c> is not &gt; 0, or a value is not finite.</exception>
    public static QifNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return WithBaseNodeSettings(new QifNeuron
        {
            Tau = settings.Number("tau", 2.0),
            VC = settings.Number("v_c", 0.8),
            A0 = settings.Number("a0", 1.0),
            VRest = settings.Number("v_rest", 0.0),
        }, settings, vResetDefault: -0.1);
    }

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() => $"QIF(tau={Format(Tau)}, v_c={Format(VC)}, a0={Format(A0)}, v_rest={Format(VRest)}, {ResetSettings()})";

    private readonly struct Factory(QuadraticCharge charge, float vReset, float threshold) : IResetSpecialised
    {
        public void Run<TReset>(INeuronDynamicsRunner runner) where TReset : struct, IResetRule =>
            runner.Run(new QifDynamics<TReset>(charge, vReset, threshold));
    }
}

/// <summary>
/// The quadratic charge of QIF and Izhikevich: <c>h = v + (drive + a0·(v − v_rest)·(v − v_c))·k</c> with <c>k = 1/τ</c>
/// (<c>drive</c> is <c>x</c> for QIF, <c>x − w</c> for Izhikevich), and its <c>∂h/∂v = 1 + a0·k·(2v − v_rest − v_c)</c>.
/// </summary>
internal readonly struct QuadraticCharge
{
    private readonly float _k, _a0, _vRest, _vC, _a0K, _vSum;

    /// <summary>The charge of time constant <paramref name="tau"/>; the constants are rounded to float once.</summary>
    public QuadraticCharge(double tau, double a0, double vRest, double vC)
    {
        _k = (float)(1.0 / tau);
        _a0 = (float)a0;
        _vRest = (float)vRest;
        _vC = (float)vC;
        _a0K = (float)(a0 / tau);
        _vSum = (float)(vRest + vC);
    }

    /// <summary><c>k = 1/τ</c>: also <c>∂h/∂drive</c>.</summary>
    public float K => _k;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Charge<TSimd, TVec>(TVec v, TVec drive) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var quadratic = TSimd.Multiply(TSimd.Multiply(TSimd.Broadcast(_a0), TSimd.Subtract(v, TSimd.Broadcast(_vRest))), TSimd.Subtract(v, TSimd.Broadcast(_vC)));
        return TSimd.Add(v, TSimd.Multiply(TSimd.Add(drive, quadratic), TSimd.Broadcast(_k)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec DhDv<TSimd, TVec>(TVec v) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Add(TSimd.One, TSimd.Multiply(TSimd.Broadcast(_a0K), TSimd.Subtract(TSimd.Add(v, v), TSimd.Broadcast(_vSum))));
}

/// <summary>
/// The dynamics of <see cref="QifNeuron"/>: quadratic charge, fire at <c>h ≥ θ</c>, reset by <typeparamref name="TReset"/>.
/// Backward: <c>dL/dh = dL/ds·g'(h − θ) + dL/dv·dv/dh</c>, <c>dL/dx = dL/dh/τ</c>, <c>dL/dv_{t−1} = dL/dh·∂h/∂v</c>.
/// </summary>
internal readonly struct QifDynamics<TReset> : INeuronDynamics where TReset : struct, IResetRule
{
    private readonly QuadraticCharge _charge;
    private readonly float _vReset, _threshold;

    public QifDynamics(QuadraticCharge charge, float vReset, float threshold)
    {
        _charge = charge;
        _vReset = vReset;
        _threshold = threshold;
    }

    public static int StateCount => 1;

    public static int SavedCount => 1;

    public static int ParameterCount => 0;

    public static bool EmitsSpikes => true;

    public bool BackwardReadsInput => false;

    public float RestValue(int variable) => _vReset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var theta = TSimd.Broadcast(_threshold);
        var h = _charge.Charge<TSimd, TVec>(state[0], x);
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
        var h = lanes.Saved[0];
        var spike = TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(h, theta));
        var g = surrogate.Derivative<TSimd, TVec>(TSimd.Subtract(h, theta));
        var gh = TSimd.Add(TSimd.Multiply(gradOutput, g), TSimd.Multiply(lanes.GradState[0], TReset.DvDh<TSimd, TVec>(h, spike, g, TSimd.One, vr, theta)));
        var vPrevious = PreviousPotential.Of<TSimd, TVec, TReset>(lanes, vr, theta);
        lanes.GradState[0] = TSimd.Multiply(gh, _charge.DhDv<TSimd, TVec>(vPrevious));
        return TSimd.Multiply(gh, TSimd.Broadcast(_charge.K));
    }
}

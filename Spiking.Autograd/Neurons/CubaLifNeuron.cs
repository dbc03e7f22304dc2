using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The current-based LIF neuron as NIR defines it (<c>CubaLIF</c>): a synaptic current <c>i</c> (a second state
/// variable, <c>i_{−1} = 0</c>) that filters the input and feeds the membrane. SpikingJelly's neuron module has no such
/// class; the catalog knows it as <c>CubaLIFNode</c>. Per step:
/// <code>
/// i_t = i_{t−1} + (x_t − i_{t−1})/τ_syn
/// h_t = v_{t−1} + (v_leak − v_{t−1} + r·i_t)/τ_mem
/// s_t = heaviside(h_t − v_threshold),  then the reset of <see cref="ThresholdNeuron"/> (v_{−1} = v_reset, or 0 for the soft reset)
/// </code>
/// </summary>
/// <remarks>
/// NIR's continuous form is <c>τ_syn·dI/dt = −I + w_in·S</c>, <c>τ_mem·dv/dt = (v_leak − v) + R·I</c>; this is its
/// forward-Euler discretisation at <c>dt = 1</c> (τ in steps), the current stepped first and the membrane charged with
/// the new current, and <c>w_in</c> left to the layer before. Mapping NIR's τ and dt (in seconds) onto these steps is
/// the import's business. Saves <c>h</c> only: the backward needs no state values, since every derivative but the
/// reset's is a constant. Traces <c>v</c>, <c>i</c> (state) and <c>h</c>.
/// </remarks>
public sealed record CubaLifNeuron : ThresholdNeuron
{
    private static readonly IReadOnlyList<string> s_stateNames = ["v", "i"];

    private readonly double _tauSyn = 2.0;
    private readonly double _tauMem = 2.0;
    private readonly double _r = 1.0;
    private readonly double _vLeak;

    /// <summary>The synaptic time constant in steps (<c>tau_syn</c>, default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double TauSyn
    {
        get => _tauSyn;
        init => _tauSyn = GreaterThan(value, 1, "tau_syn");
    }

    /// <summary>The membrane time constant in steps (<c>tau_mem</c>, default 2, SpikingJelly's LIF default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double TauMem
    {
        get => _tauMem;
        init => _tauMem = GreaterThan(value, 1, "tau_mem");
    }

    /// <summary>The resistance that turns the current into potential (NIR's <c>r</c>, default 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public double R
    {
        get => _r;
        init => _r = Finite(value, "r");
    }

    /// <summary>The potential the membrane leaks towards (NIR's <c>v_leak</c>, default 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public double VLeak
    {
        get => _vLeak;
        init => _vLeak = Finite(value, "v_leak");
    }

    /// <inheritdoc/>
    public override string Name => "CubaLIF";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => s_stateNames;

    /// <inheritdoc/>
    public override IReadOnlyList<string> SavedNames => LeakyIntegrateNames.Saved;

    /// <inheritdoc/>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters) =>
        DispatchByReset(runner, new Factory(this));

    /// <summary>The model built with <paramref name="settings"/>: <c>tau_syn</c>, <c>tau_mem</c>, <c>r</c>, <c>v_leak</c> and the <c>BaseNode</c> arguments.</summary>
    /// <exception cref="ArgumentException">A setting has the wrong type or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>tau_syn</c> or <c>tau_mem</c> is not &gt; 1, or a value is not finite.</exception>
    public static CubaLifNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return WithBaseNodeSettings(new CubaLifNeuron
        {
            TauSyn = settings.Number("tau_syn", 2.0),
            TauMem = settings.Number("tau_mem", 2.0),
            R = settings.Number("r", 1.0),
            VLeak = settings.Number("v_leak", 0.0),
        }, settings);
    }

    /// <summary>Formats the settings with the catalog's names.</summary>
    public override string ToString() =>
        $"CubaLIF(tau_syn={Format(TauSyn)}, tau_mem={Format(TauMem)}, r={Format(R)}, v_leak={Format(VLeak)}, {ResetSettings()})";

    private readonly struct Factory(CubaLifNeuron model) : IResetSpecialised
    {
        public void Run<TReset>(INeuronDynamicsRunner runner) where TReset : struct, IResetRule =>
            runner.Run(new CubaLifDynamics<TReset>(model));
    }
}

/// <summary>
/// The dynamics of <see cref="CubaLifNeuron"/>. Backward: <c>dL/dh = dL/ds·g'(h − θ) + dL/dv_t·dv/dh</c>;
/// <c>dL/dv_{t−1} = dL/dh·(1 − 1/τ_mem)</c>; the current after the step collects <c>dL/di_t + dL/dh·r/τ_mem</c>, of
/// which <c>dL/dx = ·/τ_syn</c> and <c>dL/di_{t−1} = ·(1 − 1/τ_syn)</c>.
/// </summary>
internal readonly struct CubaLifDynamics<TReset> : INeuronDynamics where TReset : struct, IResetRule
{
    private readonly float _kSyn, _kMem, _synDecay, _memDecay, _r, _rKMem, _vLeak, _vReset, _threshold;

    public CubaLifDynamics(CubaLifNeuron model)
    {
        _kSyn = (float)(1.0 / model.TauSyn);
        _kMem = (float)(1.0 / model.TauMem);
        _synDecay = (float)(1.0 - 1.0 / model.TauSyn);
        _memDecay = (float)(1.0 - 1.0 / model.TauMem);
        _r = (float)model.R;
        _rKMem = (float)(model.R / model.TauMem);
        _vLeak = (float)model.VLeak;
        _vReset = model.ResetPotential;
        _threshold = model.VThreshold;
    }

    public static int StateCount => 2;

    public static int SavedCount => 1;

    public static int ParameterCount => 0;

    public static bool EmitsSpikes => true;

    public bool BackwardReadsInput => false;

    public float RestValue(int variable) => variable == 0 ? _vReset : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var theta = TSimd.Broadcast(_threshold);
        var v = state[0];
        var current = state[1];
        current = TSimd.Add(current, TSimd.Multiply(TSimd.Subtract(x, current), TSimd.Broadcast(_kSyn)));
        var drive = TSimd.Add(TSimd.Subtract(TSimd.Broadcast(_vLeak), v), TSimd.Multiply(TSimd.Broadcast(_r), current));
        var h = TSimd.Add(v, TSimd.Multiply(drive, TSimd.Broadcast(_kMem)));
        saved[0] = h;
        spikes = TSimd.GreaterThanOrEqualMask(h, theta);
        state[0] = TReset.Reset<TSimd, TVec>(h, TSimd.ExpandBits((uint)spikes), TSimd.One, TSimd.Broadcast(_vReset), theta);
        state[1] = current;
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
        var gi = TSimd.Add(lanes.GradState[1], TSimd.Multiply(gh, TSimd.Broadcast(_rKMem)));
        lanes.GradState[0] = TSimd.Multiply(gh, TSimd.Broadcast(_memDecay));
        lanes.GradState[1] = TSimd.Multiply(gi, TSimd.Broadcast(_synDecay));
        return TSimd.Multiply(gi, TSimd.Broadcast(_kSyn));
    }
}

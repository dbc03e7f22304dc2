using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The adaptive LIF neuron (ALIF) of Bellec et al.'s long short-term memory spiking networks (LSNN, "Long short-term
/// memory and learning-to-learn in networks of spiking neurons", 2018): a LIF membrane whose threshold rises at each
/// spike and decays back. SpikingJelly has no such class; the catalog knows it as <c>ALIFNode</c>. With the
/// adaptation <c>a</c> (a second state variable, <c>a_{−1} = 0</c>), per step:
/// <code>
/// h_t = LIF charge of v_{t−1} (tau, decay_input; as LIFNode, towards v_reset or 0)
/// θ_t = v_threshold + β·a_{t−1}
/// s_t = heaviside(h_t − θ_t)                        (backward g'(h_t − θ_t))
/// hard: v_t = s′_t·v_reset + (1 − s′_t)·h_t          soft: v_t = h_t − s′_t·v_threshold
/// a_t = ρ·a_{t−1} + s_t,   ρ = exp(−1/τ_a)
/// </code>
/// The soft reset subtracts the baseline <c>v_threshold</c>, not <c>θ_t</c> (Bellec's <c>z_t·v_th</c>). <c>s′</c> is the
/// spike, detached when <see cref="ThresholdNeuron.DetachReset"/> is set; that detaches only the reset: the gradient
/// always flows through <c>a</c> and <c>θ</c> (full backpropagation through time).
/// </summary>
/// <remarks>
/// The 2018 paper increments the adaptation by <c>(1 − ρ)·z_t</c>; this follows the form <c>a_t = ρ·a_{t−1} + s_t</c>
/// (as in Bellec et al.'s e-prop paper, 2020), so <see cref="Beta"/> here is the paper's β times <c>1 − ρ</c> for the
/// same dynamics. The default β = 1.8 is the paper's number taken as the threshold's rise per spike: with
/// <c>v_threshold</c> 1 one spike nearly triples the threshold, which then decays with τ_a = 20 steps. Saves <c>h</c>
/// and <c>θ</c> (traces <c>h</c>, <c>theta</c>); the state's traces are <c>v</c> and <c>a</c>.
/// </remarks>
public sealed record AdaptiveLifNeuron : ThresholdNeuron
{
    private static readonly IReadOnlyList<string> s_stateNames = ["v", "a"];
    private static readonly IReadOnlyList<string> s_savedNames = ["h", "theta"];

    private readonly double _tau = 2.0;
    private readonly double _tauAdapt = 20.0;
    private readonly double _rho = Math.Exp(-1.0 / 20.0);
    private readonly double _beta = 1.8;

    /// <summary>The membrane time constant (as LIF's <c>tau</c>, default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double Tau
    {
        get => _tau;
        init => _tau = GreaterThan(value, 1, "tau");
    }

    /// <summary>Whether the input is divided by tau (as LIF's <c>decay_input</c>, default true).</summary>
    public bool DecayInput { get; init; } = true;

    /// <summary>The adaptation time constant τ_a in steps (<c>tau_adapt</c>, default 20); setting it sets <see cref="Rho"/> to <c>exp(−1/τ_a)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 0.</exception>
    public double TauAdapt
    {
        get => _tauAdapt;
        init
        {
            _tauAdapt = GreaterThan(value, 0, "tau_adapt");
            _rho = Math.Exp(-1.0 / value);
        }
    }

    /// <summary>The adaptation's decay per step ρ (<c>rho</c>, default <c>exp(−1/20)</c>); setting it sets <see cref="TauAdapt"/> to <c>−1/ln ρ</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [0, 1).</exception>
    public double Rho
    {
        get => _rho;
        init
        {
            _rho = Decay(value, "rho");
            _tauAdapt = -1.0 / Math.Log(value);
        }
    }

    /// <summary>How far the threshold rises per unit of adaptation (<c>beta</c>, default 1.8); negative values lower it (facilitation).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public double Beta
    {
        get => _beta;
        init => _beta = Finite(value, "beta");
    }

    /// <inheritdoc/>
    public override string Name => "ALIF";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => s_stateNames;

    /// <inheritdoc/>
    public override IReadOnlyList<string> SavedNames => s_savedNames;

    /// <inheritdoc/>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters)
    {
        if (DecayInput) DispatchByReset(runner, new Factory<DecayInputCharge>(this));
        else DispatchByReset(runner, new Factory<LeakCharge>(this));
    }

    /// <summary>
    /// The model built with <paramref name="settings"/>: <c>tau</c>, <c>decay_input</c>, <c>tau_adapt</c> or <c>rho</c>,
    /// <c>beta</c> and the <c>BaseNode</c> arguments.
    /// </summary>
    /// <exception cref="ArgumentException">A setting has the wrong type, the surrogate is unknown, or both <c>tau_adapt</c> and <c>rho</c> are given.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of its range (<c>tau</c> &gt; 1, <c>tau_adapt</c> &gt; 0, <c>rho</c> in [0, 1), finite <c>beta</c>).</exception>
    public static AdaptiveLifNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var model = new AdaptiveLifNeuron
        {
            Tau = settings.Number("tau", 2.0),
            DecayInput = settings.Flag("decay_input", true),
            Beta = settings.Number("beta", 1.8),
        };
        if (settings.Has("tau_adapt") && settings.Has("rho"))
        {
            throw new ArgumentException($"{settings.Node}: give tau_adapt or rho, not both (rho = exp(−1/tau_adapt)); got tau_adapt={Format(settings.Number("tau_adapt", 0))} and rho={Format(settings.Number("rho", 0))}.", nameof(settings));
        }
        model = settings.Has("rho") ? model with { Rho = settings.Number("rho", 0) } : model with { TauAdapt = settings.Number("tau_adapt", 20.0) };
        return WithBaseNodeSettings(model, settings);
    }

    /// <summary>Formats the settings with the catalog's names.</summary>
    public override string ToString() =>
        $"ALIF(tau={Format(Tau)}, decay_input={DecayInput}, tau_adapt={Format(TauAdapt)}, rho={Format(Rho)}, beta={Format(Beta)}, {ResetSettings()})";

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the setting unless <paramref name="value"/> is in [0, 1).</summary>
    private static double Decay(double value, string name)
    {
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1) (exp(−1/tau_adapt)); got {value.ToString("R", CultureInfo.InvariantCulture)}.");
        }
        return value;
    }

    private readonly struct Factory<TCharge>(AdaptiveLifNeuron model) : IResetSpecialised where TCharge : struct, IChargeRule
    {
        public void Run<TReset>(INeuronDynamicsRunner runner) where TReset : struct, IResetRule =>
            runner.Run(new AdaptiveLifDynamics<TCharge, TReset>(model));
    }
}

/// <summary>
/// The dynamics of <see cref="AdaptiveLifNeuron"/>. Backward, with <c>u = h − θ</c> and <c>sg = g'(u)</c>: the reset
/// rule's <c>dv/dh</c> with the spike held (<c>sg = 0</c>) and moving (<c>sg</c>) differ by the path through the spike,
/// so <c>dL/du = (dL/ds + dL/da_t)·sg + dL/dv_t·(dv/dh − dv/dh|held)</c> gathers everything the spike reaches;
/// <c>dL/dh = dL/du + dL/dv_t·dv/dh|held</c>, <c>dL/dx = dL/dh·∂h/∂x</c>, <c>dL/dv_{t−1} = dL/dh·(1 − 1/τ)</c>,
/// <c>dL/da_{t−1} = ρ·dL/da_t − β·dL/du</c> (θ rises with <c>a_{t−1}</c>, so <c>∂u/∂a_{t−1} = −β</c>).
/// </summary>
internal readonly struct AdaptiveLifDynamics<TCharge, TReset> : INeuronDynamics where TCharge : struct, IChargeRule where TReset : struct, IResetRule
{
    private readonly float _k, _dhDx, _dhDv, _rho, _beta, _vReset, _threshold;

    public AdaptiveLifDynamics(AdaptiveLifNeuron model)
    {
        _k = (float)(1.0 / model.Tau);
        _dhDx = model.DecayInput ? _k : 1f;
        _dhDv = (float)(1.0 - 1.0 / model.Tau);
        _rho = (float)model.Rho;
        _beta = (float)model.Beta;
        _vReset = model.ResetPotential;
        _threshold = model.VThreshold;
    }

    public static int StateCount => 2;

    public static int SavedCount => 2;

    public static int ParameterCount => 0;

    public static bool EmitsSpikes => true;

    public bool BackwardReadsInput => false;

    public float RestValue(int variable) => variable == 0 ? _vReset : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var vr = TSimd.Broadcast(_vReset);
        var baseline = TSimd.Broadcast(_threshold);
        var a = state[1];
        var h = TCharge.Charge<TSimd, TVec>(state[0], x, TSimd.Broadcast(_k), vr);
        var theta = TSimd.Add(baseline, TSimd.Multiply(TSimd.Broadcast(_beta), a));
        saved[0] = h;
        saved[1] = theta;
        spikes = TSimd.GreaterThanOrEqualMask(h, theta);
        var s = TSimd.ExpandBits((uint)spikes);
        state[0] = TReset.Reset<TSimd, TVec>(h, s, TSimd.One, vr, baseline);
        state[1] = TSimd.Add(TSimd.Multiply(TSimd.Broadcast(_rho), a), s);
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Backward<TSimd, TVec, TSurrogate>(in NeuronBackwardLanes<TVec> lanes, TVec gradOutput, in TSurrogate surrogate)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TSurrogate : struct, ISurrogateFunction
    {
        var vr = TSimd.Broadcast(_vReset);
        var baseline = TSimd.Broadcast(_threshold);
        var h = lanes.Saved[0];
        var theta = lanes.Saved[1];
        var spike = TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(h, theta));
        var g = surrogate.Derivative<TSimd, TVec>(TSimd.Subtract(h, theta));
        var gradV = lanes.GradState[0];
        var gradA = lanes.GradState[1];
        var held = TReset.DvDh<TSimd, TVec>(h, spike, TSimd.Zero, TSimd.One, vr, baseline);
        var moving = TReset.DvDh<TSimd, TVec>(h, spike, g, TSimd.One, vr, baseline);
        var gu = TSimd.Add(TSimd.Multiply(TSimd.Add(gradOutput, gradA), g), TSimd.Multiply(gradV, TSimd.Subtract(moving, held)));
        var gh = TSimd.Add(gu, TSimd.Multiply(gradV, held));
        lanes.GradState[0] = TSimd.Multiply(gh, TSimd.Broadcast(_dhDv));
        lanes.GradState[1] = TSimd.Subtract(TSimd.Multiply(gradA, TSimd.Broadcast(_rho)), TSimd.Multiply(gu, TSimd.Broadcast(_beta)));
        return TSimd.Multiply(gh, TSimd.Broadcast(_dhDx));
    }
}

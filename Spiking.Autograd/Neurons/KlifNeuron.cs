using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// SpikingJelly's <c>KLIFNode</c> (KLIF, arXiv:2302.09238): the LIF charge, then a learnable scalar <c>k</c> shared by
/// the layer scales the potential before it fires.
/// <code>
/// h_t = LIF charge of v_{t−1} and x_t (tau, decay_input, v_r = v_reset or 0)
/// f_t = relu(k·h_t)
/// s_t = heaviside(f_t − v_threshold)                    (backward: g'(f_t − v_threshold))
/// v_t = reset(f_t, s'_t)                                without scale_reset
/// v_t = reset(f_t/k, s'_t) with threshold v_threshold/k   with scale_reset
/// </code>
/// <c>s'</c> is the spike, detached with <c>detach_reset</c>; reset is <see cref="ThresholdNeuron"/>'s hard or soft
/// reset. <c>k</c> (SpikingJelly initialises it to 1) gets <c>dL/dk = Σ dL/df·h·[k·h &gt; 0]</c>, plus with
/// <c>scale_reset</c> the derivative of both divisions by k (the one of <c>v_threshold/k</c> even when the reset is
/// detached).
/// </summary>
public sealed record KlifNeuron : ThresholdNeuron
{
    private static readonly IReadOnlyList<string> s_state = ["v"];
    private static readonly IReadOnlyList<string> s_saved = ["h", "f"];

    private readonly double _tau = 2.0;

    /// <summary>The membrane time constant (SpikingJelly's <c>tau</c>, default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double Tau
    {
        get => _tau;
        init => _tau = GreaterThan(value, 1, "tau");
    }

    /// <summary>Whether the input is divided by tau (SpikingJelly's <c>decay_input</c>, default true).</summary>
    public bool DecayInput { get; init; } = true;

    /// <summary>Whether the reset runs on <c>f/k</c> with threshold <c>v_threshold/k</c> (SpikingJelly's <c>scale_reset</c>, default false).</summary>
    public bool ScaleReset { get; init; }

    /// <inheritdoc/>
    public override string Name => "KLIF";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => s_state;

    /// <summary><c>h</c>, the LIF charge, which the backward reads; and <c>f = relu(k·h)</c>, saved only as SpikingJelly's <c>f_seq</c> trace (the backward recomputes it from h).</summary>
    public override IReadOnlyList<string> SavedNames => s_saved;

    /// <inheritdoc/>
    public override IReadOnlyList<NeuronParameter> Parameters => [new("k", 1f)];

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ScaleReset"/> is on and k is 0 (the reset divides by it).</exception>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters)
    {
        float k = parameters[0];
        if (ScaleReset && k == 0f)
        {
            throw new ArgumentOutOfRangeException(nameof(parameters), k, "The KLIF neuron with scale_reset divides by its learnable 'k', which must not be 0.");
        }
        float kTau = (float)(1.0 / Tau);
        if (DecayInput) DispatchByReset(runner, new KlifFactory<DecayInputCharge>(k, kTau, kTau, ResetPotential, VThreshold, ScaleReset));
        else DispatchByReset(runner, new KlifFactory<LeakCharge>(k, kTau, 1f, ResetPotential, VThreshold, ScaleReset));
    }

    /// <summary>
    /// The model of SpikingJelly's <c>KLIFNode</c> built with <paramref name="settings"/> (<c>scale_reset</c>, <c>tau</c>,
    /// <c>decay_input</c> and the <c>BaseNode</c> arguments).
    /// </summary>
    /// <exception cref="ArgumentException">A setting has the wrong type or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>tau</c> is not &gt; 1.</exception>
    public static KlifNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return WithBaseNodeSettings(new KlifNeuron
        {
            ScaleReset = settings.Flag("scale_reset", false),
            Tau = settings.Number("tau", 2.0),
            DecayInput = settings.Flag("decay_input", true),
        }, settings);
    }

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"KLIF(scale_reset={ScaleReset}, tau={Format(Tau)}, decay_input={DecayInput}, {ResetSettings()})");
}

/// <summary>
/// The dynamics of <see cref="KlifNeuron"/>: charge by <typeparamref name="TCharge"/>, scale and rectify, fire at
/// <c>f ≥ θ</c>, reset by <typeparamref name="TReset"/>. With <c>scale_reset</c> the reset runs on <c>q = f/k</c> with
/// threshold <c>θ/k</c>, so the reset rules serve unchanged: the spike's derivative with respect to q is <c>k·g'</c>.
/// </summary>
/// <remarks>
/// Backward, per step: <c>dL/df = dL/ds·g'(f − θ) + dL/dv·dv/df</c> (<c>dv/df = dv/dq / k</c> with scale_reset), then
/// <c>dL/dh = dL/df·k·[k·h &gt; 0]</c>, <c>dL/dx = dL/dh·∂h/∂x</c>, <c>dL/dv_{t−1} = dL/dh·∂h/∂v</c>, and
/// <c>dL/dk</c> sums <c>dL/df·h·[k·h &gt; 0]</c> plus, with scale_reset, <c>dL/dv·∂v/∂k</c> at fixed f and spike:
/// <c>−(1 − s)·q/k</c> for the hard reset, <c>−v/k</c> for the soft one.
/// </remarks>
internal readonly struct KlifDynamics<TCharge, TReset> : INeuronDynamics
    where TCharge : struct, IChargeRule where TReset : struct, IResetRule
{
    private readonly float _k, _kTau, _vReset, _threshold, _scaledThreshold, _dhDx, _dhDv;
    private readonly bool _scaleReset;

    /// <param name="k">The learnable scale.</param>
    /// <param name="kTau"><c>1/τ</c>.</param>
    /// <param name="dhDx"><c>∂h/∂x</c> of the charge: <c>1/τ</c> with decay_input, else 1.</param>
    /// <param name="vReset">The reset potential, 0 for the soft reset.</param>
    /// <param name="threshold">The firing threshold.</param>
    /// <param name="scaleReset">Whether the reset runs on <c>f/k</c> (k is then nonzero).</param>
    public KlifDynamics(float k, float kTau, float dhDx, float vReset, float threshold, bool scaleReset)
    {
        _k = k;
        _kTau = kTau;
        _vReset = vReset;
        _threshold = threshold;
        _scaleReset = scaleReset;
        _scaledThreshold = scaleReset ? (float)((double)threshold / k) : threshold;
        _dhDx = dhDx;
        _dhDv = 1f - kTau;
    }

    public static int StateCount => 1;

    public static int SavedCount => 2;

    public static int ParameterCount => 1;

    public static bool EmitsSpikes => true;

    public bool BackwardReadsInput => false;

    public float RestValue(int variable) => _vReset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var vr = TSimd.Broadcast(_vReset);
        var theta = TSimd.Broadcast(_threshold);
        var k = TSimd.Broadcast(_k);
        var h = TCharge.Charge<TSimd, TVec>(state[0], x, TSimd.Broadcast(_kTau), vr);
        var f = TSimd.Max(TSimd.Multiply(k, h), TSimd.Zero);
        saved[0] = h;
        saved[1] = f;
        spikes = TSimd.GreaterThanOrEqualMask(f, theta);
        var s = TSimd.ExpandBits((uint)spikes);
        state[0] = _scaleReset
            ? TReset.Reset<TSimd, TVec>(TSimd.Divide(f, k), s, TSimd.One, vr, TSimd.Broadcast(_scaledThreshold))
            : TReset.Reset<TSimd, TVec>(f, s, TSimd.One, vr, theta);
        return f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Backward<TSimd, TVec, TSurrogate>(in NeuronBackwardLanes<TVec> lanes, TVec gradOutput, in TSurrogate surrogate)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TSurrogate : struct, ISurrogateFunction
    {
        var vr = TSimd.Broadcast(_vReset);
        var theta = TSimd.Broadcast(_threshold);
        var k = TSimd.Broadcast(_k);
        var one = TSimd.One;
        var h = lanes.Saved[0];
        var kh = TSimd.Multiply(k, h);
        var f = TSimd.Max(kh, TSimd.Zero);
        var s = TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(f, theta));
        var g = surrogate.Derivative<TSimd, TVec>(TSimd.Subtract(f, theta));
        var gradV = lanes.GradState[0];
        TVec gradF, gradK;
        if (_scaleReset)
        {
            var scaledTheta = TSimd.Broadcast(_scaledThreshold);
            var q = TSimd.Divide(f, k);
            var dvdq = TReset.DvDh<TSimd, TVec>(q, s, TSimd.Multiply(g, k), one, vr, scaledTheta);
            gradF = TSimd.Add(TSimd.Multiply(gradOutput, g), TSimd.Divide(TSimd.Multiply(gradV, dvdq), k));
            // ∂v/∂k at fixed f and spike: v = reset(f/k, s, θ/k) is −(1 − s)·q/k for the hard reset, −v/k for the soft one.
            var scaled = TReset.IsHard
                ? TSimd.Multiply(TSimd.Subtract(one, s), q)
                : TReset.Reset<TSimd, TVec>(q, s, one, vr, scaledTheta);
            gradK = TSimd.Negate(TSimd.Divide(TSimd.Multiply(gradV, scaled), k));
        }
        else
        {
            gradF = TSimd.Add(TSimd.Multiply(gradOutput, g), TSimd.Multiply(gradV, TReset.DvDh<TSimd, TVec>(f, s, g, one, vr, theta)));
            gradK = TSimd.Zero;
        }
        // relu passes the gradient where k·h > 0 (none at 0, as torch's relu).
        var gradKh = TSimd.BitwiseAnd(TSimd.GreaterThan(kh, TSimd.Zero), gradF);
        var gradH = TSimd.Multiply(gradKh, k);
        lanes.GradParameters[0] = TSimd.Add(lanes.GradParameters[0], TSimd.Add(TSimd.Multiply(gradKh, h), gradK));
        lanes.GradState[0] = TSimd.Multiply(gradH, TSimd.Broadcast(_dhDv));
        return TSimd.Multiply(gradH, TSimd.Broadcast(_dhDx));
    }
}

/// <summary>Builds <see cref="KlifDynamics{TCharge, TReset}"/> for the reset rule chosen at run time.</summary>
internal readonly struct KlifFactory<TCharge>(float k, float kTau, float dhDx, float vReset, float threshold, bool scaleReset) : IResetSpecialised
    where TCharge : struct, IChargeRule
{
    public void Run<TReset>(INeuronDynamicsRunner runner) where TReset : struct, IResetRule =>
        runner.Run(new KlifDynamics<TCharge, TReset>(k, kTau, dhDx, vReset, threshold, scaleReset));
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>The analog activation of a <see cref="LiafNeuron"/> (SpikingJelly passes <c>torch.sigmoid</c>, <c>torch.tanh</c> or <c>torch.relu</c>).</summary>
public enum LiafActivation
{
    /// <summary><c>1/(1 + e^−a)</c>.</summary>
    Sigmoid,

    /// <summary><c>tanh(a)</c>.</summary>
    Tanh,

    /// <summary><c>max(a, 0)</c>, with derivative 0 at 0 (as torch's).</summary>
    Relu,
}

/// <summary>
/// SpikingJelly's <c>LIAFNode</c> (leaky integrate and analog fire, arXiv:2011.06176): a LIF neuron whose output is an
/// analog activation of its charged potential; its binary spikes only drive the reset.
/// <code>
/// h_t = LIF charge of v_{t−1} and x_t (tau, decay_input, v_r = v_reset or 0)
/// y_t = act(h_t − v_threshold) with threshold_related, else act(h_t)      (the output)
/// s_t = heaviside(h_t − v_threshold)                                     (backward: g'(h_t − v_threshold))
/// v_t = reset(h_t, s'_t)
/// </code>
/// The surrogate reaches the input only through the reset, so with <c>detach_reset</c> it plays no part. The spikes
/// are reported as the <c>spike</c> trace.
/// </summary>
public sealed record LiafNeuron : ThresholdNeuron
{
    private readonly double _tau = 2.0;
    private readonly LiafActivation _act;

    /// <summary>The analog activation (SpikingJelly's <c>act</c>; required, as there).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="LiafActivation"/>.</exception>
    public required LiafActivation Act
    {
        get => _act;
        init => _act = Enum.IsDefined(value) ? value : throw UnknownActivation(value);
    }

    /// <summary>Whether the activation sees <c>h − v_threshold</c> rather than h (SpikingJelly's <c>threshold_related</c>; required, as there).</summary>
    public required bool ThresholdRelated { get; init; }

    /// <summary>The membrane time constant (SpikingJelly's <c>tau</c>, default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double Tau
    {
        get => _tau;
        init => _tau = GreaterThan(value, 1, "tau");
    }

    /// <summary>Whether the input is divided by tau (SpikingJelly's <c>decay_input</c>, default true).</summary>
    public bool DecayInput { get; init; } = true;

    /// <inheritdoc/>
    public override string Name => "LIAF";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => LeakyIntegrateNames.State;

    /// <inheritdoc/>
    public override IReadOnlyList<string> SavedNames => LeakyIntegrateNames.Saved;

    /// <summary><c>y</c>: the output is the analog activation.</summary>
    public override string OutputName => "y";

    /// <summary>True: the spikes that drive the reset are the <c>spike</c> trace.</summary>
    public override bool HasInternalSpikes => true;

    /// <inheritdoc/>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters)
    {
        float kTau = (float)(1.0 / Tau);
        float offset = ThresholdRelated ? VThreshold : 0f;
        switch (Act, DecayInput)
        {
            case (LiafActivation.Sigmoid, true): DispatchByReset(runner, new LiafFactory<DecayInputCharge, SigmoidActivation>(kTau, kTau, ResetPotential, VThreshold, offset)); break;
            case (LiafActivation.Sigmoid, false): DispatchByReset(runner, new LiafFactory<LeakCharge, SigmoidActivation>(kTau, 1f, ResetPotential, VThreshold, offset)); break;
            case (LiafActivation.Tanh, true): DispatchByReset(runner, new LiafFactory<DecayInputCharge, TanhActivation>(kTau, kTau, ResetPotential, VThreshold, offset)); break;
            case (LiafActivation.Tanh, false): DispatchByReset(runner, new LiafFactory<LeakCharge, TanhActivation>(kTau, 1f, ResetPotential, VThreshold, offset)); break;
            case (LiafActivation.Relu, true): DispatchByReset(runner, new LiafFactory<DecayInputCharge, ReluActivation>(kTau, kTau, ResetPotential, VThreshold, offset)); break;
            case (LiafActivation.Relu, false): DispatchByReset(runner, new LiafFactory<LeakCharge, ReluActivation>(kTau, 1f, ResetPotential, VThreshold, offset)); break;
        }
    }

    /// <summary>
    /// The model of SpikingJelly's <c>LIAFNode</c> built with <paramref name="settings"/>: <c>act</c> (<c>sigmoid</c>,
    /// <c>tanh</c> or <c>relu</c>) and <c>threshold_related</c>, both required as in SpikingJelly, then LIFNode's
    /// <c>tau</c>, <c>decay_input</c> and the <c>BaseNode</c> arguments.
    /// </summary>
    /// <exception cref="ArgumentException"><c>act</c> or <c>threshold_related</c> is missing, <c>act</c> is not one of the three, a setting has the wrong type, or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>tau</c> is not &gt; 1.</exception>
    public static LiafNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        foreach (var key in new[] { "act", "threshold_related" })
        {
            if (!settings.Has(key)) throw Missing(settings.Node, key);
        }
        string act = settings.Text("act", "");
        return WithBaseNodeSettings(new LiafNeuron
        {
            Act = act switch
            {
                "sigmoid" => LiafActivation.Sigmoid,
                "tanh" => LiafActivation.Tanh,
                "relu" => LiafActivation.Relu,
                _ => throw UnknownActivation(settings.Node, act),
            },
            ThresholdRelated = settings.Flag("threshold_related", false),
            Tau = settings.Number("tau", 2.0),
            DecayInput = settings.Flag("decay_input", true),
        }, settings);
    }

    private static ArgumentOutOfRangeException UnknownActivation(LiafActivation act, string setting = "act") =>
        new(setting, act, $"act must be sigmoid, tanh or relu; got {act}.");

    private static ArgumentException UnknownActivation(string node, string act, string setting = "act") =>
        new($"{node}: parameter 'act' must be \"sigmoid\", \"tanh\" or \"relu\"; got \"{act}\".", setting);

    private static ArgumentException Missing(string node, string setting) => new($"{node} needs '{setting}' (SpikingJelly's LIAFNode has no default for it).", setting);

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"LIAF(act={Act.ToString().ToLowerInvariant()}, threshold_related={ThresholdRelated}, tau={Format(Tau)}, decay_input={DecayInput}, {ResetSettings()})");
}

/// <summary>An analog activation <c>y = act(a)</c> and its derivative, over <see cref="ISimd{TVec}"/>; finite for every finite a.</summary>
internal interface ILiafActivation
{
    static abstract TVec Value<TSimd, TVec>(TVec a) where TSimd : struct, ISimd<TVec> where TVec : struct;

    static abstract TVec Derivative<TSimd, TVec>(TVec a) where TSimd : struct, ISimd<TVec> where TVec : struct;
}

/// <summary>
/// <c>sigmoid(a)</c> from <c>e = exp(−|a|)</c>: <c>1/(1 + e)</c> for a ≥ 0, <c>e/(1 + e)</c> below, and the derivative
/// <c>e/(1 + e)²</c>; e never overflows, so both tails keep their relative accuracy.
/// </summary>
internal readonly struct SigmoidActivation : ILiafActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Value<TSimd, TVec>(TVec a) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var e = TSimd.Exp(TSimd.Negate(TSimd.Abs(a)));
        var r = TSimd.Divide(TSimd.One, TSimd.Add(TSimd.One, e));
        return TSimd.ConditionalSelect(TSimd.GreaterThanOrEqual(a, TSimd.Zero), r, TSimd.Multiply(e, r));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Derivative<TSimd, TVec>(TVec a) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var e = TSimd.Exp(TSimd.Negate(TSimd.Abs(a)));
        var d = TSimd.Add(TSimd.One, e);
        return TSimd.Divide(e, TSimd.Multiply(d, d));
    }
}

/// <summary>
/// <c>tanh(a)</c> from <c>e = exp(−2|a|)</c>: <c>sign(a)·(1 − e)/(1 + e)</c>, and the derivative <c>4e/(1 + e)²</c>;
/// below <c>|a| = 1/8</c>, where <c>1 − e</c> would cancel, the Taylor series to <c>a⁷</c> (its truncation error is
/// under 3e-9 relative). Relative error under 1e-6 everywhere, largest just above the switch.
/// </summary>
internal readonly struct TanhActivation : ILiafActivation
{
    private const float SeriesBelow = 0.125f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Value<TSimd, TVec>(TVec a) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var magnitude = TSimd.Abs(a);
        var e = TSimd.Exp(TSimd.Multiply(TSimd.Broadcast(-2f), magnitude));
        var t = TSimd.Divide(TSimd.Subtract(TSimd.One, e), TSimd.Add(TSimd.One, e));
        var signed = TSimd.ConditionalSelect(TSimd.LessThan(a, TSimd.Zero), TSimd.Negate(t), t);
        // tanh a = a − a³/3 + 2a⁵/15 − 17a⁷/315 + …
        var a2 = TSimd.Multiply(a, a);
        var p = TSimd.MultiplyAdd(a2, TSimd.Broadcast(-17f / 315f), TSimd.Broadcast(2f / 15f));
        p = TSimd.MultiplyAdd(a2, p, TSimd.Broadcast(-1f / 3f));
        var series = TSimd.MultiplyAdd(TSimd.Multiply(a, a2), p, a);
        return TSimd.ConditionalSelect(TSimd.LessThan(magnitude, TSimd.Broadcast(SeriesBelow)), series, signed);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Derivative<TSimd, TVec>(TVec a) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var e = TSimd.Exp(TSimd.Multiply(TSimd.Broadcast(-2f), TSimd.Abs(a)));
        var d = TSimd.Add(TSimd.One, e);
        return TSimd.Divide(TSimd.Multiply(TSimd.Broadcast(4f), e), TSimd.Multiply(d, d));
    }
}

/// <summary><c>max(a, 0)</c>, derivative 1 where a &gt; 0 and 0 elsewhere (torch's relu has none at 0).</summary>
internal readonly struct ReluActivation : ILiafActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Value<TSimd, TVec>(TVec a) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.Max(a, TSimd.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Derivative<TSimd, TVec>(TVec a) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.BitwiseAnd(TSimd.GreaterThan(a, TSimd.Zero), TSimd.One);
}

/// <summary>
/// The dynamics of <see cref="LiafNeuron"/>: charge by <typeparamref name="TCharge"/>, output
/// <typeparamref name="TActivation"/> of <c>h − offset</c>, fire at <c>h ≥ θ</c> for the reset only, reset by
/// <typeparamref name="TReset"/>. Saves only h: the activation and the spike are recomputed from it.
/// </summary>
/// <remarks>
/// Backward, per step: <c>dL/dh = dL/dy·act'(h − offset) + dL/dv·dv/dh</c> (the surrogate enters through the reset
/// only), then <c>dL/dx = dL/dh·∂h/∂x</c> and <c>dL/dv_{t−1} = dL/dh·∂h/∂v</c>.
/// </remarks>
internal readonly struct LiafDynamics<TCharge, TReset, TActivation> : INeuronDynamics
    where TCharge : struct, IChargeRule where TReset : struct, IResetRule where TActivation : struct, ILiafActivation
{
    private readonly float _kTau, _dhDx, _dhDv, _vReset, _threshold, _offset;

    /// <param name="kTau"><c>1/τ</c>.</param>
    /// <param name="dhDx"><c>∂h/∂x</c> of the charge: <c>1/τ</c> with decay_input, else 1.</param>
    /// <param name="vReset">The reset potential, 0 for the soft reset.</param>
    /// <param name="threshold">The firing threshold.</param>
    /// <param name="offset">What the activation's argument subtracts from h: the threshold when threshold_related, else 0.</param>
    public LiafDynamics(float kTau, float dhDx, float vReset, float threshold, float offset)
    {
        _kTau = kTau;
        _dhDx = dhDx;
        _dhDv = 1f - kTau;
        _vReset = vReset;
        _threshold = threshold;
        _offset = offset;
    }

    public static int StateCount => 1;

    public static int SavedCount => 1;

    public static int ParameterCount => 0;

    public static bool EmitsSpikes => false;

    public bool BackwardReadsInput => false;

    public float RestValue(int variable) => _vReset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var vr = TSimd.Broadcast(_vReset);
        var theta = TSimd.Broadcast(_threshold);
        var h = TCharge.Charge<TSimd, TVec>(state[0], x, TSimd.Broadcast(_kTau), vr);
        saved[0] = h;
        spikes = TSimd.GreaterThanOrEqualMask(h, theta);
        state[0] = TReset.Reset<TSimd, TVec>(h, TSimd.ExpandBits((uint)spikes), TSimd.One, vr, theta);
        return TActivation.Value<TSimd, TVec>(TSimd.Subtract(h, TSimd.Broadcast(_offset)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Backward<TSimd, TVec, TSurrogate>(in NeuronBackwardLanes<TVec> lanes, TVec gradOutput, in TSurrogate surrogate)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TSurrogate : struct, ISurrogateFunction
    {
        var vr = TSimd.Broadcast(_vReset);
        var theta = TSimd.Broadcast(_threshold);
        var h = lanes.Saved[0];
        var spike = TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(h, theta));
        // A detached reset does not read the surrogate; skip computing it.
        var g = TReset.IsDetached ? TSimd.Zero : surrogate.Derivative<TSimd, TVec>(TSimd.Subtract(h, theta));
        var dydh = TActivation.Derivative<TSimd, TVec>(TSimd.Subtract(h, TSimd.Broadcast(_offset)));
        var gradH = TSimd.Add(TSimd.Multiply(gradOutput, dydh), TSimd.Multiply(lanes.GradState[0], TReset.DvDh<TSimd, TVec>(h, spike, g, TSimd.One, vr, theta)));
        lanes.GradState[0] = TSimd.Multiply(gradH, TSimd.Broadcast(_dhDv));
        return TSimd.Multiply(gradH, TSimd.Broadcast(_dhDx));
    }
}

/// <summary>Builds <see cref="LiafDynamics{TCharge, TReset, TActivation}"/> for the reset rule chosen at run time.</summary>
internal readonly struct LiafFactory<TCharge, TActivation>(float kTau, float dhDx, float vReset, float threshold, float offset) : IResetSpecialised
    where TCharge : struct, IChargeRule where TActivation : struct, ILiafActivation
{
    public void Run<TReset>(INeuronDynamicsRunner runner) where TReset : struct, IResetRule =>
        runner.Run(new LiafDynamics<TCharge, TReset, TActivation>(kTau, dhDx, vReset, threshold, offset));
}

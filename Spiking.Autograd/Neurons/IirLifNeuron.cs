using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The LIF neuron of IIR-SNN ("One Timestep is All You Need", Chowdhury, Rathi and Roy, 2021; the neuron of DIET-SNN
/// before it) with a learnable leak λ and a learnable threshold θ, one scalar each per layer:
/// <code>
/// h_t = λ·v_{t−1} + x_t                       (the input is not scaled: IIR-SNN's mem = leak·mem + W·x)
/// s_t = heaviside(h_t − θ)                    (backward: ∂s/∂h = g'(z)/θ, ∂s/∂θ = −g'(z)·h_t/θ², z = h_t/θ − 1)
/// v_t = h_t − θ·s'_t                          soft reset (default, IIR-SNN's)
/// v_t = s'_t·v_reset + (1 − s'_t)·h_t         hard reset, when <see cref="VReset"/> is set
/// </code>
/// <c>s'</c> is the spike, detached from the graph with <see cref="DetachReset"/> (default true: IIR-SNN's reset
/// subtracts <c>θ·(mem/θ − 1 &gt; 0)</c>, a comparison without gradient, so only θ's own factor carries one). The
/// surrogate acts on the normalised potential z, as in IIR-SNN, so its width scales with the threshold.
/// </summary>
/// <remarks>
/// <para>
/// Parameterisation: the learnable scalars are <c>leak_w</c> and <c>threshold_w</c> (their state-dict names), with
/// <c>λ = sigmoid(leak_w)</c> in (0, 1) and <c>θ = softplus(threshold_w) = ln(1 + e^threshold_w)</c> &gt; 0, so no
/// optimiser step can take the leak out of (0, 1) or the threshold to 0 or below (IIR-SNN trains raw values with no
/// bound). In float32, λ rounds to 1 (an IF neuron) for <c>leak_w</c> above about 17, and θ is floored at 1e-6 so
/// <c>1/θ</c> stays finite (only <c>threshold_w</c> below about −13.8 reaches the floor). <see cref="Leak"/> and
/// <see cref="Threshold"/> map the stored values to λ and θ.
/// </para>
/// <para>
/// Departures from IIR-SNN's code, besides the parameterisation: a spike fires at <c>h ≥ θ</c> (SpikingJelly's
/// heaviside) rather than <c>h &gt; θ</c>; the surrogate is any of the engine's (IIR-SNN's is the piecewise-linear
/// <c>0.3·max(0, 1 − |z|)</c>; the default here is the engine's, Sigmoid(4)); and the state starts from rest
/// (<c>v_reset</c>, 0 for the soft reset) at every call.
/// </para>
/// <para>
/// Gradients, per step, with <c>A = dL/ds_t + dL/dv_t·∂v_t/∂s'_t</c> (the second term only without
/// <see cref="DetachReset"/>; ∂v/∂s' is −θ soft, <c>v_reset − h</c> hard): <c>dL/dh_t = A·g'(z)/θ + dL/dv_t·∂v_t/∂h_t</c>
/// (∂v/∂h is 1 soft, <c>1 − s</c> hard), <c>dL/dx_t = dL/dh_t</c>, <c>dL/dv_{t−1} = λ·dL/dh_t</c>;
/// <c>dL/dλ = Σ dL/dh_t·v_{t−1}</c> and <c>dL/dθ = Σ (−A·g'(z)·h_t/θ² − dL/dv_t·s_t)</c> (the last term for the soft
/// reset only), then <c>dL/dleak_w = dL/dλ·λ(1 − λ)</c> and <c>dL/dthreshold_w = dL/dθ·sigmoid(threshold_w)</c>.
/// </para>
/// </remarks>
public sealed record IirLifNeuron : NeuronModel
{
    /// <summary>The smallest threshold the dynamics run with.</summary>
    public const float MinThreshold = 1e-6f;

    private static readonly IReadOnlyList<string> s_state = ["v"];
    private static readonly IReadOnlyList<string> s_saved = ["h"];

    private readonly double _initialLeak = 0.5;
    private readonly double _initialThreshold = 1.0;
    private readonly float? _vReset;

    /// <summary>The leak λ a layer starts at (default 0.5, as a LIF of τ = 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not strictly between 0 and 1.</exception>
    public double InitialLeak
    {
        get => _initialLeak;
        init => _initialLeak = BetweenZeroAndOne(value, "init_leak");
    }

    /// <summary>The threshold θ a layer starts at (default 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 0.</exception>
    public double InitialThreshold
    {
        get => _initialThreshold;
        init => _initialThreshold = GreaterThan(value, 0, "init_threshold");
    }

    /// <summary>The reset potential of a hard reset; null (the default, IIR-SNN's) selects the soft reset.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public float? VReset
    {
        get => _vReset;
        init => _vReset = value is null ? null : Finite(value.Value, "v_reset");
    }

    /// <summary>Whether the reset uses the spike without its gradient (default true, as IIR-SNN's code).</summary>
    public bool DetachReset { get; init; } = true;

    /// <summary>True for the hard reset.</summary>
    public bool HardReset => VReset is not null;

    /// <summary><c>v_reset</c>, or 0 for the soft reset: the state at rest.</summary>
    public float ResetPotential => VReset ?? 0f;

    /// <inheritdoc/>
    public override string Name => "IIRLIF";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => s_state;

    /// <summary><c>h</c>, the potential before firing; the backward recomputes the spike and the previous potential from it.</summary>
    public override IReadOnlyList<string> SavedNames => s_saved;

    /// <summary><c>leak_w</c> (λ = sigmoid(leak_w)) and <c>threshold_w</c> (θ = softplus(threshold_w)), started at <see cref="InitialLeak"/> and <see cref="InitialThreshold"/>.</summary>
    public override IReadOnlyList<NeuronParameter> Parameters =>
        [new("leak_w", (float)LeakW(InitialLeak)), new("threshold_w", (float)ThresholdW(InitialThreshold))];

    /// <summary>The leak of a stored <c>leak_w</c>: <c>sigmoid(leak_w)</c>.</summary>
    public static double Leak(double leakW) => 1.0 / (1.0 + Math.Exp(-leakW));

    /// <summary>The threshold of a stored <c>threshold_w</c>: <c>softplus(threshold_w)</c>, at least <see cref="MinThreshold"/>.</summary>
    public static double Threshold(double thresholdW) => Math.Max(Softplus(thresholdW), MinThreshold);

    /// <summary>The <c>leak_w</c> of leak <paramref name="leak"/> in (0, 1): <c>ln(λ/(1 − λ))</c>.</summary>
    public static double LeakW(double leak) => Math.Log(leak / (1.0 - leak));

    /// <summary>The <c>threshold_w</c> of threshold <paramref name="threshold"/> &gt; 0: <c>ln(e^θ − 1)</c>.</summary>
    public static double ThresholdW(double threshold) => threshold > 30 ? threshold + Math.Log(-double.ExpM1(-threshold)) : Math.Log(double.ExpM1(threshold));

    private static double BetweenZeroAndOne(double value, string name)
    {
        if (!(value > 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(name, value,
                $"{name} must be a number strictly between 0 and 1 (the leak is sigmoid(leak_w)); got {value.ToString("R", CultureInfo.InvariantCulture)}.");
        }
        return value;
    }

    private static double Softplus(double w) => w > 0 ? w + Math.Log(1 + Math.Exp(-w)) : Math.Log(1 + Math.Exp(w));

    /// <inheritdoc/>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters)
    {
        ArgumentNullException.ThrowIfNull(runner);
        float leak = (float)Leak(parameters[0]);
        double threshold = Threshold(parameters[1]);
        var create = new IirLifFactory(leak, (float)threshold, (float)(1.0 / threshold), ResetPotential);
        switch (HardReset, DetachReset)
        {
            case (true, false): create.Run<HardReset>(runner); break;
            case (true, true): create.Run<HardResetDetached>(runner); break;
            case (false, false): create.Run<SoftReset>(runner); break;
            default: create.Run<SoftResetDetached>(runner); break;
        }
    }

    /// <summary><c>dL/dleak_w = dL/dλ·λ(1 − λ)</c> and <c>dL/dthreshold_w = dL/dθ·sigmoid(threshold_w)</c>, in double.</summary>
    protected internal override void ParameterGradients(ReadOnlySpan<double> sums, ReadOnlySpan<float> parameters, Span<float> gradients)
    {
        double leak = Leak(parameters[0]);
        gradients[0] = (float)(sums[0] * leak * (1 - leak));
        gradients[1] = Softplus(parameters[1]) < MinThreshold ? 0f : (float)(sums[1] * Leak(parameters[1]));
    }

    /// <summary>
    /// The model of class <c>IIRLIFNode</c> built with <paramref name="settings"/>: <c>init_leak</c> [0.5],
    /// <c>init_threshold</c> [1], <c>v_reset</c> [None: soft reset], <c>detach_reset</c> [true] and the surrogate
    /// [Sigmoid]. Not a SpikingJelly class; the names follow SpikingJelly's <c>BaseNode</c> where they can.
    /// </summary>
    /// <exception cref="ArgumentException">A setting has the wrong type or the surrogate is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>init_leak</c> is not in (0, 1) or <c>init_threshold</c> not &gt; 0.</exception>
    public static IirLifNeuron FromSettings(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        double? vReset = settings.NumberOrNone("v_reset", null);
        return new IirLifNeuron
        {
            InitialLeak = settings.Number("init_leak", 0.5),
            InitialThreshold = settings.Number("init_threshold", 1.0),
            VReset = vReset is { } r ? (float)r : null,
            DetachReset = settings.Flag("detach_reset", true),
            Surrogate = settings.Surrogate("Sigmoid"),
        };
    }

    /// <summary>Formats the settings.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"IIRLIF(init_leak={Format(InitialLeak)}, init_threshold={Format(InitialThreshold)}, v_reset={(VReset is { } r ? r.ToString(CultureInfo.InvariantCulture) : "None")}, detach_reset={DetachReset}, surrogate={Surrogate?.ToString() ?? "None"})");
}

/// <summary>
/// The dynamics of <see cref="IirLifNeuron"/> for reset rule <typeparamref name="TReset"/>: charge <c>h = λ·v + x</c>,
/// fire at <c>h ≥ θ</c>, reset; the surrogate at <c>z = (h − θ)/θ</c>. Saves h only; the backward recomputes the spike
/// and the previous potential from the saved h with the forward's operations.
/// </summary>
internal readonly struct IirLifDynamics<TReset> : INeuronDynamics where TReset : struct, IResetRule
{
    private readonly float _leak, _threshold, _inverseThreshold, _vReset;

    public IirLifDynamics(float leak, float threshold, float inverseThreshold, float vReset)
    {
        _leak = leak;
        _threshold = threshold;
        _inverseThreshold = inverseThreshold;
        _vReset = vReset;
    }

    public static int StateCount => 1;

    public static int SavedCount => 1;

    public static int ParameterCount => 2;

    public static bool EmitsSpikes => true;

    public bool BackwardReadsInput => false;

    public float RestValue(int variable) => _vReset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var theta = TSimd.Broadcast(_threshold);
        var h = TSimd.Add(TSimd.Multiply(TSimd.Broadcast(_leak), state[0]), x);
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
        var inverse = TSimd.Broadcast(_inverseThreshold);
        var one = TSimd.One;
        var h = lanes.Saved[0];
        var s = TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(h, theta));
        // ∂s/∂h = g'(z)/θ at z = (h − θ)/θ; ∂s/∂θ = −∂s/∂h·h/θ.
        var dsdh = TSimd.Multiply(surrogate.Derivative<TSimd, TVec>(TSimd.Multiply(TSimd.Subtract(h, theta), inverse)), inverse);
        var gradV = lanes.GradState[0];
        // dL/ds through the output and, unless detached, through the reset.
        var gradS = gradOutput;
        if (!TReset.IsDetached)
        {
            var dvds = TReset.IsHard ? TSimd.Subtract(vr, h) : TSimd.Negate(theta);
            gradS = TSimd.Add(gradS, TSimd.Multiply(gradV, dvds));
        }
        var throughSpike = TSimd.Multiply(gradS, dsdh);
        var gradH = TReset.IsHard
            ? TSimd.Add(throughSpike, TSimd.Multiply(gradV, TSimd.Subtract(one, s)))
            : TSimd.Add(throughSpike, gradV);
        var gradTheta = TSimd.Negate(TSimd.Multiply(throughSpike, TSimd.Multiply(h, inverse)));
        if (!TReset.IsHard) gradTheta = TSimd.Subtract(gradTheta, TSimd.Multiply(gradV, s));
        var vPrevious = PreviousPotential.Of<TSimd, TVec, TReset>(lanes, vr, theta);
        lanes.GradParameters[0] = TSimd.Add(lanes.GradParameters[0], TSimd.Multiply(gradH, vPrevious));
        lanes.GradParameters[1] = TSimd.Add(lanes.GradParameters[1], gradTheta);
        lanes.GradState[0] = TSimd.Multiply(gradH, TSimd.Broadcast(_leak));
        return gradH;
    }
}

/// <summary>Builds <see cref="IirLifDynamics{TReset}"/> for the reset rule chosen at run time.</summary>
internal readonly struct IirLifFactory(float leak, float threshold, float inverseThreshold, float vReset) : IResetSpecialised
{
    public void Run<TReset>(INeuronDynamicsRunner runner) where TReset : struct, IResetRule =>
        runner.Run(new IirLifDynamics<TReset>(leak, threshold, inverseThreshold, vReset));
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// SpikingJelly's <c>ILIFNode</c>, the integer LIF of "Integer-Valued Training and Spike-Driven Inference" (ECCV
/// 2024), also the multi-level neuron of the adaptive spiking neurons and of the quantized spike-driven transformer: each
/// step it emits a spike count 0..D instead of one bit.
/// <code>
/// h_t = v_{t−1} − v_{t−1}/tau + x_t                               (v_{−1} = 0)
/// s_t = round(clamp(h_t/v_threshold, 0, D))                       (round half to even)
/// v_t = h_t − s'_t·v_threshold                                    (always the soft reset)
/// backward: ds_t/dh_t = 1/v_threshold where grad_min ≤ h_t/v_threshold ≤ grad_max, else 0
/// </code>
/// <c>s'</c> is the count, detached with <c>detach_reset</c>. SpikingJelly configures D and the window through its
/// surrogate <c>MultiLevelSpikeCount(max_spike_count, grad_window)</c>; here they are settings of the model, whose
/// <see cref="NeuronModel.Surrogate"/> is null (the window is the derivative). The output is the counts as floats; for
/// spike-driven inference, <see cref="Functional.ExpandCounts"/> turns them into D binary sub-steps.
/// </summary>
public sealed record IlifNeuron : NeuronModel
{
    private readonly double _tau = 4.0 / 3.0;
    private readonly float _vThreshold = 1f;
    private readonly int _maxSpikeCount = 4;
    private readonly (double Min, double Max)? _gradWindow;

    /// <summary>An ILIF model with SpikingJelly's defaults; it has no surrogate.</summary>
    public IlifNeuron() => Surrogate = null;

    /// <summary>The membrane time constant (SpikingJelly's <c>tau</c>, default 4/3: the paper's decay 0.25 = 1 − 1/tau).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double Tau
    {
        get => _tau;
        init => _tau = GreaterThan(value, 1, "tau");
    }

    /// <summary>The potential one count stands for (SpikingJelly's <c>v_threshold</c>, default 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 0.</exception>
    public float VThreshold
    {
        get => _vThreshold;
        init => _vThreshold = (float)GreaterThan(value, 0, "v_threshold");
    }

    /// <summary>The largest count D (SpikingJelly's <c>max_spike_count</c>, default 4).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxSpikeCount
    {
        get => _maxSpikeCount;
        init => _maxSpikeCount = value >= 1 ? value : throw OutOfRange("max_spike_count", value, $"max_spike_count must be at least 1; got {value}.");
    }

    /// <summary>
    /// The range of <c>h/v_threshold</c> (both ends included) where the count passes a gradient (SpikingJelly's
    /// <c>grad_window</c>); null, the default, is <c>(0, D)</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An end is not finite, or Min &gt; Max.</exception>
    public (double Min, double Max)? GradWindow
    {
        get => _gradWindow;
        init
        {
            if (value is { } w && (!double.IsFinite(w.Min) || !double.IsFinite(w.Max) || w.Min > w.Max))
            {
                throw OutOfRange("grad_window", w,
                    string.Create(CultureInfo.InvariantCulture, $"grad_window must be two finite numbers (min, max) with min <= max; got ({w.Min}, {w.Max})."));
            }
            _gradWindow = value;
        }
    }

    /// <summary>The lower end of the gradient window: <see cref="GradWindow"/>'s, or 0.</summary>
    public double GradMin => GradWindow?.Min ?? 0.0;

    /// <summary>The upper end of the gradient window: <see cref="GradWindow"/>'s, or D.</summary>
    public double GradMax => GradWindow?.Max ?? MaxSpikeCount;

    /// <summary>Whether the reset uses the count without its gradient (SpikingJelly's <c>detach_reset</c>, default false).</summary>
    public bool DetachReset { get; init; }

    /// <inheritdoc/>
    public override string Name => "ILIF";

    /// <inheritdoc/>
    public override IReadOnlyList<string> StateNames => LeakyIntegrateNames.State;

    /// <inheritdoc/>
    public override IReadOnlyList<string> SavedNames => LeakyIntegrateNames.Saved;

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">A surrogate was set: the gradient window is ILIF's derivative, and a surrogate would go unused.</exception>
    protected internal override void Dispatch(INeuronDynamicsRunner runner, ReadOnlySpan<float> parameters)
    {
        ArgumentNullException.ThrowIfNull(runner);
        if (Surrogate is not null)
        {
            throw new InvalidOperationException($"The ILIF neuron's derivative is its grad_window (GradWindow); its Surrogate must stay null, but it is {Surrogate}.");
        }
        var kTau = (float)(1.0 / Tau);
        if (DetachReset) runner.Run(new IlifDynamics<SoftResetDetached>(kTau, VThreshold, MaxSpikeCount, (float)GradMin, (float)GradMax));
        else runner.Run(new IlifDynamics<SoftReset>(kTau, VThreshold, MaxSpikeCount, (float)GradMin, (float)GradMax));
    }

    /// <summary>
    /// The model of SpikingJelly's <c>ILIFNode</c> built with <paramref name="settings"/>: <c>tau</c>, <c>v_threshold</c>,
    /// <c>detach_reset</c>, and the surrogate (<c>surrogate</c> or <c>surrogate_function</c>), which must be
    /// <c>MultiLevelSpikeCount</c> with params <c>max_spike_count</c> [4], <c>grad_window</c> [null: (0, D)] and
    /// <c>spiking</c> [true; false is refused, as SpikingJelly refuses it].
    /// </summary>
    /// <exception cref="ArgumentException">A setting has the wrong type, the surrogate is not MultiLevelSpikeCount, or it has a parameter it does not take.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range (tau, v_threshold, max_spike_count, grad_window).</exception>
    public static IlifNeuron FromSpikingJelly(NeuronSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var (name, p) = settings.SurrogateSpec("MultiLevelSpikeCount");
        if (name != "MultiLevelSpikeCount")
        {
            throw Wrong("surrogate", $"{settings.Node}: the surrogate must be MultiLevelSpikeCount (it sets the counts and their gradient); got {name}.");
        }
        int maxCount = 4;
        (double, double)? window = null;
        foreach (var (key, value) in p)
        {
            switch (key, value)
            {
                case ("max_spike_count", double d) when d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue: maxCount = (int)d; break;
                case ("grad_window", null): break;
                case ("grad_window", IReadOnlyList<double> { Count: 2 } ends): window = (ends[0], ends[1]); break;
                case ("spiking", true): break;
                case ("max_spike_count" or "grad_window" or "spiking", _):
                    throw Wrong(key,
                        $"{settings.Node}: surrogate parameter '{key}' must be {(key == "max_spike_count" ? "a whole number" : key == "grad_window" ? "null or [min, max]" : "true (SpikingJelly refuses a non-spiking MultiLevelSpikeCount)")}; got {value ?? "null"}.");
                default:
                    throw Wrong(key, $"{settings.Node}: MultiLevelSpikeCount has no parameter '{key}' (it takes max_spike_count, grad_window, spiking).");
            }
        }
        return new IlifNeuron
        {
            Tau = settings.Number("tau", 4.0 / 3.0),
            VThreshold = (float)settings.Number("v_threshold", 1.0),
            DetachReset = settings.Flag("detach_reset", false),
            MaxSpikeCount = maxCount,
            GradWindow = window,
        };
    }

    private static ArgumentOutOfRangeException OutOfRange(string setting, object value, string message) => new(setting, value, message);

    private static ArgumentException Wrong(string setting, string message) => new(message, setting);

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"ILIF(tau={Format(Tau)}, v_threshold={VThreshold}, surrogate=MultiLevelSpikeCount(max_spike_count={MaxSpikeCount}, grad_window={(GradWindow is { } w ? $"({Format(w.Min)}, {Format(w.Max)})" : "None")}), detach_reset={DetachReset})");
}

/// <summary>
/// The dynamics of <see cref="IlifNeuron"/>: the leak charge with no reset potential, a count
/// <c>round(clamp(h/θ, 0, D))</c>, and the soft reset <typeparamref name="TReset"/> (<see cref="SoftReset"/> or
/// <see cref="SoftResetDetached"/>) by that count, whose derivative <c>ds/dh</c> stands where the other neurons
/// have the surrogate's. Saves only h.
/// </summary>
/// <remarks>
/// Backward, per step: <c>dL/dh = dL/ds·ds/dh + dL/dv·(1 − θ·ds/dh)</c> (1 when detached), with
/// <c>ds/dh = 1/θ</c> inside the window; <c>dL/dx = dL/dh</c>, <c>dL/dv_{t−1} = dL/dh·(1 − 1/τ)</c>.
/// </remarks>
internal readonly struct IlifDynamics<TReset> : INeuronDynamics where TReset : struct, IResetRule
{
    private readonly float _kTau, _dhDv, _threshold, _inverseThreshold, _maxCount, _gradMin, _gradMax;

    public IlifDynamics(float kTau, float threshold, int maxCount, float gradMin, float gradMax)
    {
        _kTau = kTau;
        _dhDv = 1f - kTau;
        _threshold = threshold;
        _inverseThreshold = (float)(1.0 / threshold);
        _maxCount = maxCount;
        _gradMin = gradMin;
        _gradMax = gradMax;
    }

    public static int StateCount => 1;

    public static int SavedCount => 1;

    public static int ParameterCount => 0;

    public static bool EmitsSpikes => false;

    public bool BackwardReadsInput => false;

    public float RestValue(int variable) => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var theta = TSimd.Broadcast(_threshold);
        var h = LeakCharge.Charge<TSimd, TVec>(state[0], x, TSimd.Broadcast(_kTau), TSimd.Zero);
        saved[0] = h;
        var count = TSimd.Round(TSimd.Min(TSimd.Max(TSimd.Divide(h, theta), TSimd.Zero), TSimd.Broadcast(_maxCount)));
        state[0] = TReset.Reset<TSimd, TVec>(h, count, TSimd.One, TSimd.Zero, theta);
        spikes = 0;
        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVec Backward<TSimd, TVec, TSurrogate>(in NeuronBackwardLanes<TVec> lanes, TVec gradOutput, in TSurrogate surrogate)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TSurrogate : struct, ISurrogateFunction
    {
        var theta = TSimd.Broadcast(_threshold);
        var h = lanes.Saved[0];
        var u = TSimd.Divide(h, theta);
        var inWindow = TSimd.BitwiseAnd(TSimd.GreaterThanOrEqual(u, TSimd.Broadcast(_gradMin)), TSimd.LessThanOrEqual(u, TSimd.Broadcast(_gradMax)));
        var dsdh = TSimd.BitwiseAnd(inWindow, TSimd.Broadcast(_inverseThreshold));
        // The soft reset never reads the count itself, only its derivative.
        var dvdh = TReset.DvDh<TSimd, TVec>(h, TSimd.Zero, dsdh, TSimd.One, TSimd.Zero, theta);
        var gradH = TSimd.Add(TSimd.Multiply(gradOutput, dsdh), TSimd.Multiply(lanes.GradState[0], dvdh));
        lanes.GradState[0] = TSimd.Multiply(gradH, TSimd.Broadcast(_dhDv));
        return gradH;
    }
}

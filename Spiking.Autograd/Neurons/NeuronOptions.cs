using System;
using System.Globalization;
using Spiking.Autograd.Surrogates;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The settings of a spiking neuron, with SpikingJelly's names and defaults: <see cref="VThreshold"/> 1,
/// <see cref="VReset"/> 0 (a float means hard reset, null means soft reset), <see cref="DetachReset"/> false, the
/// <see cref="Surrogates.Sigmoid"/> surrogate (alpha 4), and for LIF <see cref="Tau"/> 2 and <see cref="DecayInput"/>
/// true, for parametric LIF <see cref="InitTau"/> 2. Build one with <see cref="IF"/>, <see cref="Lif"/> or
/// <see cref="ParametricLif"/>, and change it with <c>with</c>; every setter validates its value.
/// </summary>
/// <remarks>
/// The equations, elementwise for t = 0..T−1, with <c>v_r</c> = <see cref="VReset"/> (0 for soft reset) and the initial
/// state <c>v_{−1} = v_r</c>:
/// <code>
/// charge:      h_t = f(v_{t-1}, x_t)                      (see NeuronModel)
/// fire:        s_t = heaviside(h_t − v_threshold)         backward: g'(h_t − v_threshold), g the surrogate
/// reset:       s'  = detach_reset ? s_t.detach() : s_t
///   hard:      v_t = s' · v_reset + (1 − s') · h_t
///   soft:      v_t = h_t − s' · v_threshold
/// </code>
/// </remarks>
public sealed record NeuronOptions
{
    private readonly double _tau = 2.0;
    private readonly double _initTau = 2.0;
    private readonly float _vThreshold = 1f;
    private readonly float? _vReset = 0f;
    private readonly Surrogate _surrogate = new Sigmoid();

    /// <summary>The charge equation.</summary>
    public NeuronModel Model { get; init; } = NeuronModel.LeakyIntegrateAndFire;

    /// <summary>The membrane time constant of <see cref="NeuronModel.LeakyIntegrateAndFire"/> (SpikingJelly's <c>tau</c>, default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double Tau
    {
        get => _tau;
        init => _tau = GreaterThanOne(value, "tau");
    }

    /// <summary>
    /// The initial time constant of <see cref="NeuronModel.ParametricLeakyIntegrateAndFire"/> (SpikingJelly's
    /// <c>init_tau</c>, default 2): the learnable <c>w</c> starts at <see cref="InitialW"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number &gt; 1.</exception>
    public double InitTau
    {
        get => _initTau;
        init => _initTau = GreaterThanOne(value, "init_tau");
    }

    /// <summary>Whether the input is divided by tau (SpikingJelly's <c>decay_input</c>, default true); LIF and parametric LIF only.</summary>
    public bool DecayInput { get; init; } = true;

    /// <summary>The firing threshold (SpikingJelly's <c>v_threshold</c>, default 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public float VThreshold
    {
        get => _vThreshold;
        init => _vThreshold = Finite(value, "v_threshold");
    }

    /// <summary>The reset potential of a hard reset (SpikingJelly's <c>v_reset</c>, default 0); null selects the soft reset.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public float? VReset
    {
        get => _vReset;
        init => _vReset = value is null ? null : Finite(value.Value, "v_reset");
    }

    /// <summary>Whether the reset uses the spike without its gradient (SpikingJelly's <c>detach_reset</c>, default false).</summary>
    public bool DetachReset { get; init; }

    /// <summary>The surrogate gradient of the spike function (SpikingJelly's default is <c>Sigmoid(alpha=4)</c>).</summary>
    public Surrogate Surrogate
    {
        get => _surrogate;
        init => _surrogate = value ?? throw new ArgumentNullException(nameof(value), "A neuron needs a surrogate.");
    }

    /// <summary>True for the hard reset (a <see cref="VReset"/> value), false for the soft reset.</summary>
    public bool HardReset => VReset is not null;

    /// <summary>The initial learnable <c>w = −ln(init_tau − 1)</c> of a parametric LIF, so that <c>sigmoid(w) = 1/init_tau</c>.</summary>
    public double InitialW => -Math.Log(InitTau - 1.0);

    /// <summary>SpikingJelly's <c>IFNode</c>.</summary>
    public static NeuronOptions IF(float vThreshold = 1f, float? vReset = 0f, bool detachReset = false, Surrogate? surrogate = null) => new()
    {
        Model = NeuronModel.IntegrateAndFire,
        VThreshold = vThreshold,
        VReset = vReset,
        DetachReset = detachReset,
        Surrogate = surrogate ?? new Sigmoid(),
    };

    /// <summary>SpikingJelly's <c>LIFNode</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> is not &gt; 1, or a potential is not finite.</exception>
    public static NeuronOptions Lif(double tau = 2.0, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f,
        bool detachReset = false, Surrogate? surrogate = null) => new()
    {
        Model = NeuronModel.LeakyIntegrateAndFire,
        Tau = tau,
        DecayInput = decayInput,
        VThreshold = vThreshold,
        VReset = vReset,
        DetachReset = detachReset,
        Surrogate = surrogate ?? new Sigmoid(),
    };

    /// <summary>SpikingJelly's <c>ParametricLIFNode</c>; its learnable <c>w</c> is passed to the neuron ops separately.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="initTau"/> is not &gt; 1, or a potential is not finite.</exception>
    public static NeuronOptions ParametricLif(double initTau = 2.0, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f,
        bool detachReset = false, Surrogate? surrogate = null) => new()
    {
        Model = NeuronModel.ParametricLeakyIntegrateAndFire,
        InitTau = initTau,
        DecayInput = decayInput,
        VThreshold = vThreshold,
        VReset = vReset,
        DetachReset = detachReset,
        Surrogate = surrogate ?? new Sigmoid(),
    };

    /// <summary>Formats the settings with SpikingJelly's names.</summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        string model = Model switch
        {
            NeuronModel.IntegrateAndFire => "IF(",
            NeuronModel.LeakyIntegrateAndFire => string.Create(inv, $"LIF(tau={Tau}, decay_input={DecayInput}, "),
            _ => string.Create(inv, $"ParametricLIF(init_tau={InitTau}, decay_input={DecayInput}, "),
        };
        string reset = VReset is { } r ? r.ToString(inv) : "None";
        return string.Create(inv, $"{model}v_threshold={VThreshold}, v_reset={reset}, detach_reset={DetachReset}, surrogate={Surrogate})");
    }

    private static double GreaterThanOne(double value, string name)
    {
        if (!(value > 1) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(name, value,
                $"{name} must be a finite number > 1 (SpikingJelly requires it); got {value.ToString("R", CultureInfo.InvariantCulture)}.");
        }
        return value;
    }

    private static float Finite(float value, string name)
    {
        if (!float.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number; got {value.ToString(CultureInfo.InvariantCulture)}.");
        }
        return value;
    }
}

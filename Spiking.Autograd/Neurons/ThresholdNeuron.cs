using System;
using System.Globalization;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// SpikingJelly's <c>BaseNode</c> family: neurons that fire when a value crosses <see cref="VThreshold"/> and reset,
/// hard to <see cref="VReset"/> or softly by subtracting the threshold when <see cref="VReset"/> is null, with the
/// reset's spike optionally detached from the graph (<see cref="DetachReset"/>). The state starts at
/// <c>v_reset</c> (0 for the soft reset).
/// </summary>
public abstract record ThresholdNeuron : NeuronModel
{
    private readonly float _vThreshold = 1f;
    private readonly float? _vReset = 0f;

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

    /// <summary>True for the hard reset (a <see cref="VReset"/> value), false for the soft reset.</summary>
    public bool HardReset => VReset is not null;

    /// <summary><c>v_reset</c>, or 0 for the soft reset: the potential a hard reset sets, and the state at rest.</summary>
    public float ResetPotential => VReset ?? 0f;

    /// <summary>Hands <paramref name="create"/>'s dynamics, specialised for this model's reset rule, to <paramref name="runner"/>.</summary>
    protected void DispatchByReset<TFactory>(INeuronDynamicsRunner runner, in TFactory create) where TFactory : struct, IResetSpecialised
    {
        ArgumentNullException.ThrowIfNull(runner);
        switch (HardReset, DetachReset)
        {
            case (true, false): create.Run<HardReset>(runner); break;
            case (true, true): create.Run<HardResetDetached>(runner); break;
            case (false, false): create.Run<SoftReset>(runner); break;
            default: create.Run<SoftResetDetached>(runner); break;
        }
    }

    /// <summary>
    /// <paramref name="model"/> with SpikingJelly's <c>BaseNode</c> arguments read from <paramref name="settings"/>:
    /// <c>v_threshold</c> [1], <c>v_reset</c> [<paramref name="vResetDefault"/>; null for the soft reset],
    /// <c>detach_reset</c> [false] and the surrogate [Sigmoid, SpikingJelly's default].
    /// </summary>
    /// <exception cref="ArgumentException">A setting has the wrong type or the surrogate is unknown.</exception>
    protected static TModel WithBaseNodeSettings<TModel>(TModel model, NeuronSettings settings, double vResetDefault = 0.0) where TModel : ThresholdNeuron
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        double? vReset = settings.NumberOrNone("v_reset", vResetDefault);
        return (TModel)(model with
        {
            VThreshold = (float)settings.Number("v_threshold", 1.0),
            VReset = vReset is { } r ? (float)r : null,
            DetachReset = settings.Flag("detach_reset", false),
            Surrogate = settings.Surrogate("Sigmoid"),
        });
    }

    /// <summary>The common settings in SpikingJelly's names, for <see cref="object.ToString"/>.</summary>
    protected string ResetSettings() =>
        string.Create(CultureInfo.InvariantCulture,
            $"v_threshold={VThreshold}, v_reset={(VReset is { } r ? r.ToString(CultureInfo.InvariantCulture) : "None")}, detach_reset={DetachReset}, surrogate={Surrogate?.ToString() ?? "None"}");
}

/// <summary>Builds a model's dynamics for a reset rule chosen at run time, so each rule gets its own compiled kernel.</summary>
public interface IResetSpecialised
{
    /// <summary>Runs <paramref name="runner"/> with the dynamics for reset rule <typeparamref name="TReset"/>.</summary>
    void Run<TReset>(INeuronDynamicsRunner runner) where TReset : struct, IResetRule;
}

namespace Spiking.Tensors.Backends;

/// <summary>How a neuron charges its membrane from the previous potential <c>v</c> and the input <c>x</c>.</summary>
public enum ChargeRule
{
    /// <summary>IF: <c>h = v + x</c>.</summary>
    Integrate,

    /// <summary>LIF with <c>decay_input</c>: <c>h = v + (x − (v − v_reset))·k</c>.</summary>
    DecayInputLeak,

    /// <summary>LIF without <c>decay_input</c>: <c>h = v − (v − v_reset)·k + x</c>.</summary>
    Leak,
}

/// <summary>The surrogate gradients a device backend computes itself (SpikingJelly's definitions).</summary>
public enum SurrogateKind
{
    /// <summary><c>α/2 / (1 + (π/2·α·x)²)</c>, the two constants computed in double from α and rounded to float once.</summary>
    ATan,

    /// <summary><c>α·σ(αx)·(1 − σ(αx))</c>, evaluated as <c>α·e/(1 + e)²</c> with <c>e = exp(−|αx|)</c>.</summary>
    Sigmoid,
}

/// <summary>
/// The constants of a fused multi-step neuron kernel: charge, fire at <c>h ≥ threshold</c>, reset (hard to
/// <see cref="VReset"/> or soft by subtracting the threshold), and the backward through time with a surrogate
/// for the Heaviside derivative. <see cref="DhDx"/> and <see cref="DhDv"/> are the charge's partial derivatives.
/// </summary>
/// <param name="Charge">The charge rule.</param>
/// <param name="HardReset">Hard reset to <see cref="VReset"/> (true) or soft reset by the threshold (false).</param>
/// <param name="DetachReset">Whether the reset is cut from the graph (SpikingJelly's <c>detach_reset</c>).</param>
/// <param name="Threshold">The firing threshold.</param>
/// <param name="VReset">The reset potential, also the initial potential; 0 for soft reset.</param>
/// <param name="K"><c>1/τ</c> (or <c>σ(w)</c> for the parametric LIF); unused by IF.</param>
/// <param name="Surrogate">The surrogate gradient function.</param>
/// <param name="Alpha">The surrogate's sharpness α.</param>
public readonly record struct NeuronKernelSpec(
    ChargeRule Charge, bool HardReset, bool DetachReset, float Threshold, float VReset, float K, SurrogateKind Surrogate, float Alpha)
{
    /// <summary><c>∂h/∂x</c>: k with <c>decay_input</c>, else 1.</summary>
    public float DhDx => Charge == ChargeRule.DecayInputLeak ? K : 1f;

    /// <summary><c>∂h/∂v</c>: 1 − k for the leaky rules, 1 for IF.</summary>
    public float DhDv => Charge == ChargeRule.Integrate ? 1f : 1f - K;
}

/// <summary>
/// One Adam or AdamW step with PyTorch's float32 update order: <c>m ← lerp(m, g, 1−β₁)</c>,
/// <c>v ← β₂·v + (1−β₂)·g²</c>, <c>p ← p − lr/(1−β₁ᵏ) · m / (√v/√(1−β₂ᵏ) + ε)</c>, with L2 weight decay added to the
/// gradient (Adam) or the parameter shrunk by <c>1 − lr·wd</c> first (AdamW).
/// </summary>
/// <param name="NegativeStepSize"><c>−lr/(1−β₁ᵏ)</c>.</param>
/// <param name="BiasCorrection2Sqrt"><c>√(1−β₂ᵏ)</c>.</param>
/// <param name="Epsilon">ε.</param>
/// <param name="OneMinusBeta1">The lerp weight <c>1 − β₁</c>.</param>
/// <param name="Beta2">β₂.</param>
/// <param name="OneMinusBeta2"><c>1 − β₂</c>.</param>
/// <param name="L2WeightDecay">Weight decay added to the gradient; 0 for none.</param>
/// <param name="ShrinkFactor">Factor the parameter is multiplied by first (AdamW); 1 for none.</param>
/// <param name="LerpFromStart">torch's lerp formula switch: <c>m + w(g − m)</c> when true, else <c>g − (g − m)(1 − w)</c>.</param>
public readonly record struct AdamStepSpec(
    float NegativeStepSize, float BiasCorrection2Sqrt, float Epsilon, float OneMinusBeta1, float Beta2, float OneMinusBeta2,
    float L2WeightDecay, float ShrinkFactor, bool LerpFromStart);

/// <summary>
/// Batch normalisation's settings: in training, the batch mean and biased variance normalise and the running
/// statistics move by <c>running = (1 − momentum)·running + momentum·batch</c>, the variance made unbiased over the
/// values per channel times <see cref="Replicas"/>; otherwise the running statistics normalise.
/// </summary>
/// <param name="Training">Batch statistics (and the running update) or running statistics.</param>
/// <param name="Momentum">The weight of the batch in the running statistics.</param>
/// <param name="Eps">Added to the variance under the square root.</param>
/// <param name="Replicas">How many identical copies the input stands for (a static prefix's time steps).</param>
public readonly record struct BatchNormSpec(bool Training, double Momentum, double Eps, int Replicas);

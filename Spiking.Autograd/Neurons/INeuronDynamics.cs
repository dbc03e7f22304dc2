using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The dynamics of one neuron model over one time step, written once for a vector of neurons over
/// <see cref="ISimd{TVec}"/>: the forward charges, fires and resets, and the backward is its hand-written derivative,
/// side by side. The fused multi-step kernel (<see cref="Functional.Neuron(Variable, NeuronModel, Variable[])"/>)
/// runs it over every step and neuron: it keeps the state between steps, saves what the forward writes to
/// <c>saved</c> for the backward, packs spikes into bits, and sums the parameter gradients. The single-step path is
/// the same kernel over one step.
/// </summary>
/// <remarks>
/// Implement it with a readonly struct holding the model's constants in float; the kernel is compiled for the
/// struct, so the calls inline. A lane beyond the last neuron (a zero-padded tail) must stay finite: it starts
/// from the rest state with input, saved values and gradients 0.
/// </remarks>
public interface INeuronDynamics
{
    /// <summary>How many state variables each neuron carries from step to step (the membrane potential first).</summary>
    static abstract int StateCount { get; }

    /// <summary>How many floats per neuron and step the forward saves for the backward (e.g. the pre-reset potential).</summary>
    static abstract int SavedCount { get; }

    /// <summary>How many scalar gradients the backward sums over neurons and steps (learnable parameters).</summary>
    static abstract int ParameterCount { get; }

    /// <summary>
    /// True when the output is binary spikes (the kernel packs the <c>spikes</c> mask of <see cref="Forward"/> into
    /// bits); false when it is a float per neuron and step (the value <see cref="Forward"/> returns: analog outputs,
    /// spike counts).
    /// </summary>
    static abstract bool EmitsSpikes { get; }

    /// <summary>Whether the backward reads the input <c>x_t</c> (<see cref="NeuronBackwardLanes{TVec}.Input"/>); if not, the input is not kept.</summary>
    bool BackwardReadsInput { get; }

    /// <summary>The value state variable <paramref name="variable"/> has at rest, before the first step.</summary>
    float RestValue(int variable);

    /// <summary>
    /// One step for <c>TSimd.Count</c> neurons: reads the state after the previous step from <paramref name="state"/>
    /// and writes the state after this one, writes what the backward needs to <paramref name="saved"/>, sets bit i of
    /// <paramref name="spikes"/> when lane i fires, and returns the float output (ignored for spiking models).
    /// </summary>
    TVec Forward<TSimd, TVec>(TVec x, NeuronLanes<TVec> state, NeuronLanes<TVec> saved, out ulong spikes)
        where TSimd : struct, ISimd<TVec> where TVec : struct;

    /// <summary>
    /// The derivative of one step for <c>TSimd.Count</c> neurons: given the gradient of this step's output
    /// <paramref name="gradOutput"/> and of the state after it (<see cref="NeuronBackwardLanes{TVec}.GradState"/>),
    /// replaces the latter with the gradient of the state before the step, adds to the parameter gradients, and
    /// returns the gradient of the input <c>x_t</c>. <paramref name="surrogate"/> is the derivative that stands for
    /// the spike function's.
    /// </summary>
    TVec Backward<TSimd, TVec, TSurrogate>(in NeuronBackwardLanes<TVec> lanes, TVec gradOutput, in TSurrogate surrogate)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TSurrogate : struct, ISurrogateFunction;
}

using System.Runtime.CompilerServices;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// A vector of neurons' values of several variables (state variables, saved values, gradients): variable j of the
/// current vector is <c>this[j]</c>, read and written in place.
/// </summary>
/// <typeparam name="TVec">The vector of floats.</typeparam>
public readonly ref struct NeuronLanes<TVec> where TVec : struct
{
    private readonly ref float _first;
    private readonly nint _stride;

    /// <summary>Lanes whose variable j starts at <paramref name="first"/> plus <c>j·stride</c> floats.</summary>
    internal NeuronLanes(ref float first, nint stride)
    {
        _first = ref first;
        _stride = stride;
    }

    /// <summary>Variable <paramref name="variable"/> of the current vector of neurons.</summary>
    public ref TVec this[int variable] => ref Unsafe.As<float, TVec>(ref Unsafe.Add(ref _first, variable * _stride));
}

/// <summary>What the backward of one step sees for a vector of neurons.</summary>
/// <typeparam name="TVec">The vector of floats.</typeparam>
public readonly ref struct NeuronBackwardLanes<TVec> where TVec : struct
{
    internal NeuronBackwardLanes(NeuronLanes<TVec> saved, NeuronLanes<TVec> previousSaved, NeuronLanes<TVec> initialState, bool isFirst,
        TVec input, NeuronLanes<TVec> gradState, NeuronLanes<TVec> gradParameters)
    {
        Saved = saved;
        PreviousSaved = previousSaved;
        InitialState = initialState;
        IsFirst = isFirst;
        Input = input;
        GradState = gradState;
        GradParameters = gradParameters;
    }

    /// <summary>What the forward saved at this step.</summary>
    public NeuronLanes<TVec> Saved { get; }

    /// <summary>What the forward saved at the step before; only valid when <see cref="IsFirst"/> is false.</summary>
    public NeuronLanes<TVec> PreviousSaved { get; }

    /// <summary>The state before the first step (rest, or the state carried into the call); only valid when <see cref="IsFirst"/> is true.</summary>
    public NeuronLanes<TVec> InitialState { get; }

    /// <summary>True at the first step of the call, whose state before comes from <see cref="InitialState"/>.</summary>
    public bool IsFirst { get; }

    /// <summary>The input of this step, when the dynamics reads it in its backward (<see cref="INeuronDynamics.BackwardReadsInput"/>); zero otherwise.</summary>
    public TVec Input { get; }

    /// <summary>In: the gradient of the state after this step. Out: the gradient of the state before it.</summary>
    public NeuronLanes<TVec> GradState { get; }

    /// <summary>The running sums of the parameter gradients, one vector per parameter; add into them.</summary>
    public NeuronLanes<TVec> GradParameters { get; }
}

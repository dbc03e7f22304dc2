using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>
/// A step of the recorded graph: the op that produced a variable from its inputs. A subclass keeps what its
/// backward needs (as bits where the forward saw spikes, in <see cref="SavedTensor"/>s where it saw floats), returns
/// the gradient of each input from the gradient of its output, and releases what it saved in
/// <see cref="ReleaseSaved"/>, called as soon as backward has used it.
/// </summary>
/// <remarks>
/// A custom op is a subclass plus a forward that computes the value, records the node with <see cref="Record"/> and
/// wraps the value with <see cref="Variable.FromOp(Tensor, Node?, int)"/>; nothing else is needed. An op with several
/// outputs derives from <see cref="MultiOutputNode"/>.
/// </remarks>
public abstract class Node
{
    private IReadOnlyList<Variable> _inputs;

    /// <summary>Records the inputs of the op.</summary>
    protected Node(params Variable[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        _inputs = inputs;
    }

    /// <summary>The op's inputs, in the order <see cref="Backward(Tensor)"/> returns their gradients; empty once released.</summary>
    public IReadOnlyList<Variable> Inputs => _inputs;

    /// <summary>The op's name, for messages.</summary>
    public abstract string Name { get; }

    /// <summary>How many variables the op produces: 1, except for a <see cref="MultiOutputNode"/>.</summary>
    public virtual int OutputCount => 1;

    /// <summary>True once a backward pass ran through the node and released what it saved.</summary>
    public bool IsReleased { get; private set; }

    /// <summary>
    /// Returns the gradient of each input (aligned with <see cref="Inputs"/>; null for inputs that do not require
    /// grad) given the gradient of the output. The caller owns the returned tensors and disposes
    /// <paramref name="gradOutput"/>.
    /// </summary>
    protected internal abstract Tensor?[] Backward(Tensor gradOutput);

    /// <summary>
    /// The form of backward the graph calls: adds the gradient of each input into <paramref name="gradients"/> given
    /// the gradient of each output (null for an output no gradient reached). The default hands the one output's
    /// gradient to <see cref="Backward(Tensor)"/>; ops with several outputs, or whose gradient touches only part of
    /// an input, override it.
    /// </summary>
    protected internal virtual void Backward(IReadOnlyList<Tensor?> gradOutputs, InputGradients gradients)
    {
        ArgumentNullException.ThrowIfNull(gradOutputs);
        ArgumentNullException.ThrowIfNull(gradients);
        var grads = Backward(gradOutputs[0] ?? throw new InvalidOperationException($"{Name}: backward reached the node without a gradient."));
        if (grads.Length != Inputs.Count)
        {
            foreach (var g in grads) g?.Dispose();
            throw new InvalidOperationException($"{Name}.Backward returned {grads.Length} gradients for {Inputs.Count} inputs.");
        }
        for (int k = 0; k < grads.Length; k++)
        {
            if (grads[k] is { } g) gradients.Add(k, g);
        }
    }

    /// <summary>Returns the tensors saved for backward to their pools; called once backward has run.</summary>
    protected internal virtual void ReleaseSaved()
    {
    }

    /// <summary>
    /// Reports each tensor the node holds for its backward to <paramref name="saved"/> (what it is, as bits or floats),
    /// for <see cref="SavedActivations"/>; called between the forward and <see cref="ReleaseSaved"/>, it must not
    /// change anything. A node that saves nothing overrides it with an empty body; the default marks the node as not
    /// describing what it saved.
    /// </summary>
    protected internal virtual void DescribeSaved(SavedTensorSink saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        saved.Undescribed();
    }

    /// <summary>True when input <paramref name="index"/> wants a gradient.</summary>
    protected bool NeedsGrad(int index) => Inputs[index].RequiresGrad;

    /// <summary>Formats the op name.</summary>
    public override string ToString() => Name;

    /// <summary>
    /// Returns a node for an op on <paramref name="inputs"/> when one should be recorded (grad mode on and some
    /// input requires grad), built by <paramref name="create"/>; otherwise null, and nothing is saved.
    /// </summary>
    public static TNode? Record<TNode>(Func<TNode> create, params ReadOnlySpan<Variable> inputs) where TNode : Node
    {
        ArgumentNullException.ThrowIfNull(create);
        if (!GradMode.IsEnabled) return null;
        foreach (var v in inputs)
        {
            if (v.RequiresGrad) return create();
        }
        return null;
    }

    /// <summary>Releases the saved tensors and the links to the inputs, so the graph behind can be collected.</summary>
    internal void Release()
    {
        if (IsReleased) return;
        ReleaseSaved();
        IsReleased = true;
        _inputs = [];
    }
}

/// <summary>
/// A step of the recorded graph that produces several variables at once (a neuron's spikes and its new state, the
/// time steps of an unbound sequence). Each output is wrapped with
/// <see cref="Variable.FromOp(Tensor, Node?, int)"/> and its index; backward receives every output's gradient
/// together, null for the outputs no gradient reached.
/// </summary>
public abstract class MultiOutputNode : Node
{
    private readonly int _outputCount;

    /// <summary>Records the inputs of an op with <paramref name="outputCount"/> outputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputCount"/> is less than 1.</exception>
    protected MultiOutputNode(int outputCount, params Variable[] inputs) : base(inputs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputCount, 1);
        _outputCount = outputCount;
    }

    /// <inheritdoc/>
    public sealed override int OutputCount => _outputCount;

    /// <summary>Not used: the graph calls <see cref="Backward(IReadOnlyList{Tensor?}, InputGradients)"/> on a multi-output node.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    protected internal sealed override Tensor?[] Backward(Tensor gradOutput) =>
        throw new NotSupportedException($"{Name} has {OutputCount} outputs; its backward takes the gradient of each.");

    /// <inheritdoc/>
    protected internal abstract override void Backward(IReadOnlyList<Tensor?> gradOutputs, InputGradients gradients);
}

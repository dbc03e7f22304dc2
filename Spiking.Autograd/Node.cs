using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>
/// A step of the recorded graph: the op that produced one variable from its inputs. A subclass keeps what its
/// backward needs (as bits where the forward saw spikes), returns the gradient of each input from the gradient of
/// its output, and releases what it saved in <see cref="ReleaseSaved"/>, called as soon as backward has used it.
/// </summary>
public abstract class Node
{
    /// <summary>Records the inputs of the op.</summary>
    protected Node(params Variable[] inputs)
    {
        Inputs = inputs;
    }

    /// <summary>The op's inputs, in the order <see cref="Backward"/> returns their gradients.</summary>
    public IReadOnlyList<Variable> Inputs { get; }

    /// <summary>The op's name, for messages.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Returns the gradient of each input (aligned with <see cref="Inputs"/>; null for inputs that do not require
    /// grad) given the gradient of the output. The caller owns the returned tensors and disposes
    /// <paramref name="gradOutput"/>.
    /// </summary>
    protected internal abstract Tensor?[] Backward(Tensor gradOutput);

    /// <summary>Returns the tensors saved for backward to their pools; called once backward has run.</summary>
    protected internal virtual void ReleaseSaved()
    {
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
}

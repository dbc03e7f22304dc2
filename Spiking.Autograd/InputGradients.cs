using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>
/// Where a node's backward puts the gradients of its inputs: <see cref="Add"/> hands over a whole gradient,
/// <see cref="Accumulator"/> opens the input's running sum for an op whose gradient touches only part of it (a time
/// step taken from a sequence adds into its own step and costs that step's size). Gradients of an input used by
/// several ops sum here; an input that does not require grad takes nothing.
/// </summary>
public sealed class InputGradients
{
    private readonly Dictionary<Node, Tensor?[]> _pending;
    private Node _node = null!;

    internal InputGradients(Dictionary<Node, Tensor?[]> pending)
    {
        _pending = pending;
    }

    /// <summary>
    /// Whether the graph is kept for another backward (<c>retainGraph</c>): a node may then not reuse what it saved as
    /// scratch, since the next pass reads it again.
    /// </summary>
    internal bool RetainsGraph { get; init; }

    /// <summary>The node whose backward is running.</summary>
    internal Node Node
    {
        set => _node = value;
    }

    /// <summary>Adds <paramref name="gradient"/> (the shape of input <paramref name="input"/>) to that input's gradient, taking ownership of it.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="input"/> is not an input index of the node.</exception>
    /// <exception cref="InvalidOperationException">The gradient's shape is not the input's.</exception>
    public void Add(int input, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        var variable = InputAt(input);
        if (!variable.RequiresGrad)
        {
            gradient.Dispose();
            return;
        }
        if (gradient.Shape != variable.Shape)
        {
            gradient.Dispose();
            throw new InvalidOperationException($"{_node.Name}.Backward returned a gradient of shape {gradient.Shape} for input {input} of shape {variable.Shape}.");
        }
        if (variable.Creator is not { } creator)
        {
            variable.AccumulateGrad(gradient);
            return;
        }
        var slots = Slots(creator);
        ref var slot = ref slots[variable.OutputIndex];
        if (slot is null)
        {
            slot = gradient;
            return;
        }
        slot.AddInPlace(gradient);
        gradient.Dispose();
    }

    /// <summary>
    /// The running gradient of input <paramref name="input"/> (its shape, zero until something is added), for adding
    /// into part of it in place; null when the input does not require grad. The graph owns the tensor.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="input"/> is not an input index of the node.</exception>
    public Tensor? Accumulator(int input)
    {
        var variable = InputAt(input);
        if (!variable.RequiresGrad) return null;
        if (variable.Creator is not { } creator)
        {
            variable.Grad ??= Tensor.Zeros(variable.Shape, variable.Device);
            return variable.Grad;
        }
        ref var slot = ref Slots(creator)[variable.OutputIndex];
        return slot ??= Tensor.Zeros(variable.Shape, variable.Device);
    }

    private Variable InputAt(int input)
    {
        var inputs = _node.Inputs;
        if ((uint)input >= (uint)inputs.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(input), input, $"{_node.Name} has {inputs.Count} inputs.");
        }
        return inputs[input];
    }

    private Tensor?[] Slots(Node creator)
    {
        if (!_pending.TryGetValue(creator, out var slots))
        {
            slots = new Tensor?[creator.OutputCount];
            _pending[creator] = slots;
        }
        return slots;
    }
}

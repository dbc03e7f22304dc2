using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>
/// Reverse-mode differentiation over the recorded graph: nodes run in reverse topological order, gradients of a
/// variable used several times are summed, and each node's saved tensors and intermediate gradients are released as
/// soon as they are used, so a training step's memory does not grow with the number of steps.
/// </summary>
internal static class Graph
{
    public static void Backward(Variable root, Tensor? gradient, bool retainGraph)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (!root.RequiresGrad)
        {
            throw new InvalidOperationException($"Backward() on {root}: it does not require grad, so no graph leads to it.");
        }
        ThrowIfReleased(root);
        Tensor seed;
        if (gradient is null)
        {
            if (root.Shape.ElementCount != 1)
            {
                throw new InvalidOperationException(
                    $"Backward() without a gradient needs a scalar (one element); {root} has shape {root.Shape}. Pass a gradient of that shape.");
            }
            seed = Tensor.Full(root.Shape, 1f, root.Device);
        }
        else
        {
            if (gradient.Shape != root.Shape)
            {
                throw new ArgumentException($"The gradient has shape {gradient.Shape}; {root} needs {root.Shape}.", nameof(gradient));
            }
            seed = gradient.Clone();
        }

        var order = TopologicalOrder(root);
        var grads = new Dictionary<Variable, Tensor>(ReferenceEqualityComparer.Instance) { [root] = seed };
        if (root.IsLeaf)
        {
            grads.Remove(root);
            root.AccumulateGrad(seed);
            return;
        }
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var v = order[i];
            var node = v.Creator!;
            if (!grads.Remove(v, out var g)) continue;
            Tensor?[] inputGrads;
            try
            {
                inputGrads = node.Backward(g);
            }
            finally
            {
                g.Dispose();
            }
            if (inputGrads.Length != node.Inputs.Count)
            {
                throw new InvalidOperationException($"{node.Name}.Backward returned {inputGrads.Length} gradients for {node.Inputs.Count} inputs.");
            }
            for (int k = 0; k < inputGrads.Length; k++)
            {
                var input = node.Inputs[k];
                var ig = inputGrads[k];
                if (ig is null) continue;
                if (!input.RequiresGrad)
                {
                    ig.Dispose();
                    continue;
                }
                if (ig.Shape != input.Shape)
                {
                    throw new InvalidOperationException($"{node.Name}.Backward returned a gradient of shape {ig.Shape} for input {k} of shape {input.Shape}.");
                }
                if (input.IsLeaf)
                {
                    input.AccumulateGrad(ig);
                }
                else if (grads.TryGetValue(input, out var existing))
                {
                    existing.AddInPlace(ig);
                    ig.Dispose();
                }
                else
                {
                    grads[input] = ig;
                }
            }
            if (!retainGraph)
            {
                node.ReleaseSaved();
                v.Unlink();
            }
        }
    }

    /// <summary>
    /// A variable whose graph an earlier backward released has lost the link to its inputs; backward through it
    /// would treat it as a leaf and give its inputs nothing, so it is an error (PyTorch's "backward through the
    /// graph a second time").
    /// </summary>
    private static void ThrowIfReleased(Variable v)
    {
        if (v.GraphReleased)
        {
            throw new InvalidOperationException(
                $"Backward through {v} a second time: an earlier Backward() released the graph that produced it (and the tensors it saved). " +
                "Pass retainGraph: true to the first Backward() to go through the graph again, or Detach() the variable to use its value as a new leaf.");
        }
    }

    /// <summary>Non-leaf variables reachable from <paramref name="root"/>, each after every variable it depends on.</summary>
    private static List<Variable> TopologicalOrder(Variable root)
    {
        var order = new List<Variable>();
        var visited = new HashSet<Variable>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Variable V, int Next)>();
        if (root.Creator is null) return order;
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (v, next) = stack.Pop();
            var inputs = v.Creator!.Inputs;
            if (next < inputs.Count)
            {
                stack.Push((v, next + 1));
                var input = inputs[next];
                ThrowIfReleased(input);
                if (input.Creator is not null && input.RequiresGrad && visited.Add(input)) stack.Push((input, 0));
            }
            else
            {
                order.Add(v);
            }
        }
        return order;
    }
}

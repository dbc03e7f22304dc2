using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>
/// Reverse-mode differentiation over the recorded graph: nodes run in reverse topological order, each once, with
/// the summed gradients of all its outputs; each node's saved tensors and intermediate gradients are released as
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
        if (root.Creator is not { } rootNode)
        {
            root.AccumulateGrad(seed);
            return;
        }

        var order = TopologicalOrder(rootNode);
        var pending = new Dictionary<Node, Tensor?[]>(ReferenceEqualityComparer.Instance);
        var rootSlots = new Tensor?[rootNode.OutputCount];
        rootSlots[root.OutputIndex] = seed;
        pending[rootNode] = rootSlots;
        var gradients = new InputGradients(pending) { RetainsGraph = retainGraph };
        try
        {
            for (int i = order.Count - 1; i >= 0; i--)
            {
                var node = order[i];
                if (!pending.Remove(node, out var gradOutputs)) continue;
                try
                {
                    gradients.Node = node;
                    node.Backward(gradOutputs, gradients);
                }
                finally
                {
                    foreach (var g in gradOutputs) g?.Dispose();
                }
                if (!retainGraph) node.Release();
            }
        }
        finally
        {
            // Only an exception leaves gradients here: return them to the pool.
            foreach (var slots in pending.Values)
            {
                foreach (var g in slots) g?.Dispose();
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

    /// <summary>
    /// Nodes reachable from <paramref name="root"/> through inputs that require grad, each after every node it depends
    /// on; a released graph throws unless <paramref name="allowReleased"/> (a report that only reads what is left).
    /// </summary>
    internal static List<Node> TopologicalOrder(Node root, bool allowReleased = false)
    {
        var order = new List<Node>();
        var visited = new HashSet<Node>(ReferenceEqualityComparer.Instance) { root };
        var stack = new Stack<(Node N, int Next)>();
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            var inputs = node.Inputs;
            if (next < inputs.Count)
            {
                stack.Push((node, next + 1));
                var input = inputs[next];
                if (!allowReleased) ThrowIfReleased(input);
                if (input.RequiresGrad && input.Creator is { } creator && visited.Add(creator)) stack.Push((creator, 0));
            }
            else
            {
                order.Add(node);
            }
        }
        return order;
    }
}

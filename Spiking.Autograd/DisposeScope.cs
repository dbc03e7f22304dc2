using System;
using System.Collections.Generic;

namespace Spiking.Autograd;

/// <summary>
/// Collects every variable an op produces on this thread while the scope is open and disposes them all when it
/// closes (TorchSharp's <c>NewDisposeScope</c>), so a training step returns its activations, saved tensors and
/// gradients to the pool instead of leaving them to the garbage collector. Scopes nest; a variable to keep past
/// the scope is handed out with <see cref="MoveToOuter"/>.
/// </summary>
/// <example><code>
/// using (DisposeScope.Begin())
/// {
///     var loss = Losses.FiringRateMse(model.Forward(input), labels);
///     loss.Backward();
///     optimizer.Step();
/// }   // every activation of the step goes back to the pool here
/// </code></example>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic]
    private static DisposeScope? t_current;

    private readonly DisposeScope? _outer;
    private readonly List<Variable> _owned = [];
    private bool _closed;

    private DisposeScope(DisposeScope? outer) => _outer = outer;

    /// <summary>Opens a scope on this thread; it becomes the scope new op results are tracked by.</summary>
    public static DisposeScope Begin() => t_current = new DisposeScope(t_current);

    /// <summary>The number of variables the scope will dispose.</summary>
    public int Count => _owned.Count;

    /// <summary>
    /// Stops tracking <paramref name="variable"/> here and hands it to the enclosing scope (or to the caller when
    /// there is none), so it survives this scope's end.
    /// </summary>
    public Variable MoveToOuter(Variable variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        int index = _owned.LastIndexOf(variable);
        if (index >= 0)
        {
            _owned.RemoveAt(index);
            _outer?._owned.Add(variable);
        }
        return variable;
    }

    internal static void Track(Variable variable) => t_current?._owned.Add(variable);

    /// <summary>Disposes every tracked variable and makes the enclosing scope current again.</summary>
    /// <exception cref="InvalidOperationException">An inner scope opened on this thread is still open.</exception>
    public void Dispose()
    {
        if (_closed) return;
        if (!ReferenceEquals(t_current, this))
        {
            throw new InvalidOperationException("DisposeScope: an inner scope is still open; close scopes in the reverse order they were opened.");
        }
        _closed = true;
        t_current = _outer;
        foreach (var variable in _owned) variable.Dispose();
        _owned.Clear();
    }
}

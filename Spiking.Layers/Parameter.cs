using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// A trainable tensor of a <see cref="Module"/>: a leaf <see cref="Autograd.Variable"/> that requires grad and
/// that optimizers update in place (so caches keyed on the tensor's version see every update).
/// </summary>
public sealed class Parameter : IDisposable
{
    /// <summary>Wraps <paramref name="value"/> (the parameter takes ownership of it).</summary>
    public Parameter(Tensor value, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        Variable = Variable.Parameter(value, name);
    }

    /// <summary>The differentiable leaf to pass to ops.</summary>
    public Variable Variable { get; private set; }

    /// <summary>The value, updated in place by optimizers and checkpoint loading.</summary>
    public Tensor Value => Variable.Tensor!;

    /// <summary>The accumulated gradient after a backward pass; null before the first one or after <see cref="ZeroGrad"/>.</summary>
    public Tensor? Grad => Variable.Grad;

    /// <summary>The shape of the value.</summary>
    public Shape Shape => Value.Shape;

    /// <summary>Forgets the accumulated gradient.</summary>
    public void ZeroGrad() => Variable.ZeroGrad();

    /// <summary>
    /// Moves the value to <paramref name="device"/> (a copy; the old value is disposed) and drops the gradient. Modules
    /// read <see cref="Variable"/> at every forward, so they follow; optimizers keep their per-parameter state.
    /// </summary>
    public void MoveTo(Device device)
    {
        if (Value.Device == device) return;
        var moved = Variable.Parameter(Value.To(device), Variable.Name);
        Variable.Dispose();
        Variable = moved;
    }

    /// <summary>Implicit use as the variable it wraps, so a parameter passes straight to <see cref="Functional"/> ops.</summary>
    public static implicit operator Variable(Parameter parameter) => parameter?.Variable!;

    /// <summary>The wrapped variable (the named form of the implicit conversion).</summary>
    public Variable ToVariable() => Variable;

    /// <summary>Returns the value's storage to the pool.</summary>
    public void Dispose() => Variable.Dispose();
}

/// <summary>
/// An integer buffer of a module's state (BatchNorm's <c>num_batches_tracked</c>), saved as int64 as PyTorch does.
/// </summary>
public sealed class Int64Buffer
{
    /// <summary>The value.</summary>
    public long Value { get; set; }
}

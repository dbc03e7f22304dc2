using System;
using System.Collections.Generic;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Updates parameters in place from their gradients, as <c>torch.optim</c> optimizers do. Parameters whose
/// <see cref="Parameter.Grad"/> is null are skipped, and their per-parameter state (step counts, moments) does not
/// advance, as in PyTorch. Updates write through <see cref="Tensor.AsSpan"/>, so each updated tensor's
/// <see cref="Tensor.Version"/> changes and caches keyed on it (transposed weights) refresh. Disposing frees the
/// state an optimizer keeps on a device (Adam's moments there); host state is ordinary arrays.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly Parameter[] _parameters;
    private double _learningRate;

    /// <summary>Takes the parameters to update and the initial learning rate.</summary>
    /// <exception cref="ArgumentException">The parameter list is empty, holds null, or holds a parameter twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is negative, NaN or not finite as a float32.</exception>
    protected Optimizer(IEnumerable<Parameter> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = new List<Parameter>(parameters);
        if (list.Count == 0) throw new ArgumentException($"{GetType().Name} got an empty parameter list.", nameof(parameters));
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is null) throw new ArgumentException($"{GetType().Name}: parameter {i} of the list is null.", nameof(parameters));
            if (!seen.Add(list[i]))
            {
                throw new ArgumentException(
                    $"{GetType().Name}: parameter {i} ('{list[i].Variable.Name}', shape {list[i].Shape}) appears more than once in the list.", nameof(parameters));
            }
        }
        _parameters = list.ToArray();
        LearningRate = learningRate;
    }

    /// <summary>The parameters this optimizer updates, in the order given.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The learning rate of the next <see cref="Step"/>; schedules change it between steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, NaN, or not finite as a float32 (above 3.4e38), the precision updates run in.</exception>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value >= 0) || value > float.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(LearningRate), value,
                    $"The learning rate is {value}; it must be >= 0 and finite in float32 (at most {float.MaxValue}), the precision of the updates.");
            }
            _learningRate = value;
        }
    }

    /// <summary>Updates every parameter that has a gradient.</summary>
    /// <exception cref="InvalidOperationException">A parameter is disposed or its gradient's shape differs from its value's.</exception>
    /// <exception cref="ObjectDisposedException">The optimizer is disposed.</exception>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        for (int i = 0; i < _parameters.Length; i++)
        {
            var parameter = _parameters[i];
            if (parameter.Grad is not { } grad) continue;
            var value = parameter.Value;
            if (value.IsDisposed || grad.IsDisposed || grad.Shape != value.Shape)
            {
                throw new InvalidOperationException(
                    $"{GetType().Name}: parameter {i} ('{parameter.Variable.Name}') has value {value.Shape} and gradient {grad.Shape}" +
                    $"{(value.IsDisposed || grad.IsDisposed ? " and one is disposed" : "")}; they must be live and of one shape.");
            }
            if (value.IsOnHost) Update(i, value.AsSpan(), grad.AsReadOnlySpan());
            else UpdateOnDevice(i, value, grad);
        }
    }

    /// <summary>
    /// Updates parameter <paramref name="index"/> whose value and gradient live on a device, through the device's
    /// backend. The default says the optimizer has no device kernel.
    /// </summary>
    /// <exception cref="NotSupportedException">This optimizer runs on the CPU only.</exception>
    protected virtual void UpdateOnDevice(int index, Tensor value, Tensor grad) =>
        throw new NotSupportedException($"{GetType().Name} has no kernel on {value.Device} yet; use Adam or AdamW there, or train on the CPU.");

    /// <summary>Whether <see cref="Dispose()"/> has run; a disposed optimizer refuses <see cref="Step"/>.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Frees the optimizer's device state; the parameters stay as they are.</summary>
    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees state held outside the managed heap; the base class holds none.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Forgets the gradient of every parameter.</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in _parameters) parameter.ZeroGrad();
    }

    /// <summary>Applies one update to parameter <paramref name="index"/> from its gradient; must allocate nothing.</summary>
    protected abstract void Update(int index, Span<float> value, ReadOnlySpan<float> grad);

    /// <summary>A zeroed float array per parameter, of its element count, for optimizer state.</summary>
    protected float[][] NewState()
    {
        var state = new float[_parameters.Length][];
        for (int i = 0; i < state.Length; i++) state[i] = new float[_parameters[i].Value.Length];
        return state;
    }

    /// <summary>
    /// Throws when a hyperparameter is NaN, not finite as a float32 (the precision updates run in), or below
    /// <paramref name="min"/> (or at/above an exclusive <paramref name="maxExclusive"/>).
    /// </summary>
    protected static void CheckHyperparameter(double value, string name, double min, double maxExclusive = double.PositiveInfinity)
    {
        if (!(value >= min && value < maxExclusive) || Math.Abs(value) > float.MaxValue)
        {
            string range = double.IsPositiveInfinity(maxExclusive) ? $">= {min}" : $"in [{min}, {maxExclusive})";
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' is {value}; it must be finite in float32 and {range}.");
        }
    }
}

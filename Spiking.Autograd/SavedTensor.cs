using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>
/// A tensor an op saved for its backward: a view that holds a reference on the storage (no copy), so the value
/// survives the disposal of the variable it came from, with the storage's <see cref="Tensor.Version"/> at save
/// time. Reading it after mutable access was handed out (an in-place write) throws rather than giving a gradient
/// computed from values the forward never saw. A custom op saves its operands this way in its node's constructor
/// and calls <see cref="Release"/> from <see cref="Node.ReleaseSaved"/>.
/// </summary>
public sealed class SavedTensor
{
    private readonly Tensor _view;
    private readonly int _version;
    private readonly string _what;

    /// <summary>Saves <paramref name="value"/>; <paramref name="what"/> names it in the error a later in-place write causes.</summary>
    public SavedTensor(Tensor value, string what)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(what);
        _view = value.Reshape(value.Shape);
        _version = value.Version;
        _what = what;
    }

    /// <summary>The saved value.</summary>
    /// <exception cref="InvalidOperationException">The tensor was modified in place after the forward saved it.</exception>
    public Tensor Value
    {
        get
        {
            if (_view.Version != _version)
            {
                throw new InvalidOperationException(
                    $"{_what} (shape {_view.Shape}) was opened for writing (AsSpan) after the forward pass saved it for backward; " +
                    "the gradient would use values the forward never saw. Clone a tensor before modifying it in place.");
            }
            return _view;
        }
    }

    /// <summary>The saved view without the in-place check, for reports that only look at it.</summary>
    internal Tensor View => _view;

    /// <summary>Releases the reference on the storage.</summary>
    public void Release() => _view.Dispose();

    /// <summary>A view of <paramref name="spikes"/> holding a reference on its bits (no copy).</summary>
    public static SpikeTensor Keep(SpikeTensor spikes) => spikes.Reshape(spikes.Shape.Dimensions.ToArray());
}

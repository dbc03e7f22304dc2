using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Modules applied in order; children are named by their index (<c>0</c>, <c>1</c>, …), so a Linear at index 1
/// owns <c>1.weight</c> and <c>1.bias</c>, as in PyTorch's <c>nn.Sequential</c>.
/// </summary>
public sealed class Sequential : Module
{
    private readonly Module[] _layers;

    /// <summary>Chains <paramref name="layers"/> (the sequential takes ownership of them).</summary>
    public Sequential(params Module[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = (Module[])layers.Clone();
        for (int i = 0; i < _layers.Length; i++)
        {
            if (_layers[i] is null) throw new ArgumentException($"Sequential: layer {i} is null.", nameof(layers));
            RegisterModule(i.ToString(CultureInfo.InvariantCulture), _layers[i]);
        }
    }

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<Module> Layers => _layers;

    /// <summary>The number of layers.</summary>
    public int Count => _layers.Length;

    /// <summary>The layer at <paramref name="index"/>.</summary>
    public Module this[int index] => _layers[index];

    /// <inheritdoc/>
    public override Variable Forward(Variable input)
    {
        var x = input;
        foreach (var layer in _layers) x = layer.Forward(x);
        return x;
    }
}

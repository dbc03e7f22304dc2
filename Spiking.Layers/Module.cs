using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// A layer or a model: parameters, buffers and child modules registered under names that join with dots into
/// PyTorch-style state-dict names (<c>blocks.0.attn.q.weight</c>), a training/evaluation mode, and a multi-step
/// <see cref="Forward"/> over <c>[T, B, …]</c>.
/// </summary>
/// <remarks>
/// Registration order is the state-dict order, as in PyTorch: a module's own parameters, then its buffers, then
/// each child's entries in the order the children were registered.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716", Justification = "Module is the name PyTorch and SpikingJelly users look for.")]
public abstract class Module : IDisposable
{
    private readonly List<KeyValuePair<string, Parameter>> _parameters = [];
    private readonly List<KeyValuePair<string, Tensor>> _buffers = [];
    private readonly List<KeyValuePair<string, Int64Buffer>> _intBuffers = [];
    private readonly List<KeyValuePair<string, Module>> _children = [];
    private bool _disposed;

    /// <summary>True in training mode (the default), false after <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>The module's child modules with their names, in registration order.</summary>
    public IReadOnlyList<KeyValuePair<string, Module>> Children => _children;

    /// <summary>Runs the module on <paramref name="input"/>; multi-step modules take <c>[T, B, …]</c>.</summary>
    public abstract Variable Forward(Variable input);

    /// <summary>Sets training mode on this module and every descendant; returns this module.</summary>
    public Module Train(bool training = true)
    {
        Training = training;
        foreach (var child in _children) child.Value.Train(training);
        return this;
    }

    /// <summary>Sets evaluation mode on this module and every descendant; returns this module.</summary>
    public Module Eval() => Train(false);

    /// <summary>
    /// Returns every stateful neuron of the model to rest (SpikingJelly's <c>functional.reset_net</c>). Multi-step
    /// neurons already start each call from rest; this matters for single-step use and for stateful layers.
    /// </summary>
    public void ResetState()
    {
        ResetOwnState();
        foreach (var child in _children) child.Value.ResetState();
    }

    /// <summary>Override to clear state this module keeps between calls; the default keeps none.</summary>
    protected virtual void ResetOwnState()
    {
    }

    /// <summary>Every parameter of this module and its descendants, in state-dict order.</summary>
    public IEnumerable<Parameter> Parameters()
    {
        foreach (var (_, parameter) in NamedParameters()) yield return parameter;
    }

    /// <summary>Every parameter with its full dotted name, in state-dict order.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var p in _parameters) yield return (prefix + p.Key, p.Value);
        foreach (var child in _children)
        {
            foreach (var entry in child.Value.NamedParameters(prefix + child.Key + ".")) yield return entry;
        }
    }

    /// <summary>Every float buffer (running statistics) with its full dotted name.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "")
    {
        foreach (var b in _buffers) yield return (prefix + b.Key, b.Value);
        foreach (var child in _children)
        {
            foreach (var entry in child.Value.NamedBuffers(prefix + child.Key + ".")) yield return entry;
        }
    }

    /// <summary>
    /// The state dict: every parameter, float buffer and int64 buffer under its full name, in PyTorch's order
    /// (per module: parameters, then buffers, then children).
    /// </summary>
    public IReadOnlyList<StateEntry> StateDict()
    {
        var entries = new List<StateEntry>();
        CollectState("", entries);
        return entries;
    }

    private void CollectState(string prefix, List<StateEntry> entries)
    {
        foreach (var p in _parameters) entries.Add(new StateEntry(prefix + p.Key, p.Value.Value, null));
        foreach (var b in _buffers) entries.Add(new StateEntry(prefix + b.Key, b.Value, null));
        foreach (var b in _intBuffers) entries.Add(new StateEntry(prefix + b.Key, null, b.Value));
        foreach (var child in _children) child.Value.CollectState(prefix + child.Key + ".", entries);
    }

    /// <summary>Forgets the gradients of every parameter.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>Every module of the tree with its dotted name, this one first (named "").</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix.TrimEnd('.'), this);
        foreach (var child in _children)
        {
            foreach (var entry in child.Value.NamedModules(prefix + child.Key + ".")) yield return entry;
        }
    }

    /// <summary>Registers a trainable tensor under <paramref name="name"/> (the module takes ownership).</summary>
    protected Parameter RegisterParameter(string name, Tensor value)
    {
        CheckName(name);
        var parameter = new Parameter(value, name);
        _parameters.Add(new(name, parameter));
        return parameter;
    }

    /// <summary>
    /// Registers a float state tensor that is saved but not trained (the module takes ownership). <see cref="To"/>
    /// replaces it with a copy on the new device, so a module that keeps the returned tensor in a field must read
    /// it through <see cref="Buffer"/> instead if it is to move.
    /// </summary>
    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(value);
        _buffers.Add(new(name, value));
        return value;
    }

    /// <summary>The float buffer registered as <paramref name="name"/>, on the module's current device.</summary>
    /// <exception cref="ArgumentException">This module has no float buffer of that name.</exception>
    protected Tensor Buffer(string name)
    {
        foreach (var b in _buffers)
        {
            if (b.Key == name) return b.Value;
        }
        throw new ArgumentException($"{GetType().Name} has no buffer named '{name}'.", nameof(name));
    }

    /// <summary>Registers an int64 state value that is saved but not trained.</summary>
    protected Int64Buffer RegisterInt64Buffer(string name)
    {
        CheckName(name);
        var buffer = new Int64Buffer();
        _intBuffers.Add(new(name, buffer));
        return buffer;
    }

    /// <summary>Registers a child module under <paramref name="name"/>; its entries are named <c>name.…</c>.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(module);
        _children.Add(new(name, module));
        return module;
    }

    private void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A module entry name may not contain '.'; got '{name}'.", nameof(name));
        }
        foreach (var p in _parameters) Duplicate(p.Key);
        foreach (var b in _buffers) Duplicate(b.Key);
        foreach (var b in _intBuffers) Duplicate(b.Key);
        foreach (var c in _children) Duplicate(c.Key);

        void Duplicate(string existing)
        {
            if (existing == name) throw new ArgumentException($"{GetType().Name} already has an entry named '{name}'.", nameof(name));
        }
    }

    /// <summary>
    /// Moves every parameter and float buffer to <paramref name="device"/> (PyTorch's <c>module.to(device)</c>); the
    /// module's forward then runs there, each op asking the device's backend for its kernels. Int64 buffers stay
    /// host counters. <see cref="StateDict"/> then names the moved tensors.
    /// </summary>
    /// <returns>This module.</returns>
    public Module To(Device device)
    {
        foreach (var parameter in Parameters()) parameter.MoveTo(device);
        foreach (var (_, module) in NamedModules()) module.MoveBuffers(device);
        return this;
    }

    private void MoveBuffers(Device device)
    {
        for (int i = 0; i < _buffers.Count; i++)
        {
            var (name, buffer) = _buffers[i];
            if (buffer.Device == device) continue;
            _buffers[i] = new(name, buffer.To(device));
            buffer.Dispose();
        }
    }

    /// <summary>Disposes every parameter, buffer and child.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the module's tensors; override to release more, calling the base.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed || !disposing) return;
        _disposed = true;
        foreach (var p in _parameters) p.Value.Dispose();
        foreach (var b in _buffers) b.Value.Dispose();
        foreach (var c in _children) c.Value.Dispose();
    }
}

/// <summary>
/// One state-dict entry: a float tensor (a parameter or a running statistic) or an int64 scalar
/// (<c>num_batches_tracked</c>), under its full dotted name.
/// </summary>
/// <param name="Name">The full dotted name, as PyTorch's <c>state_dict()</c> gives it.</param>
/// <param name="Value">The float tensor, or null for an int64 entry.</param>
/// <param name="Counter">The int64 scalar, or null for a float entry.</param>
public sealed record StateEntry(string Name, Tensor? Value, Int64Buffer? Counter);

using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>
/// A differentiable value: a dense <see cref="Tensors.Tensor"/> or a bit-packed <see cref="SpikeTensor"/>, the
/// gradient of a loss with respect to it, and the <see cref="Node"/> that made it (null for a leaf).
/// </summary>
/// <remarks>
/// The gradient of a spike-valued variable is dense (<c>∂L/∂S</c>, one float per element): a neuron turns it into
/// the gradient of its membrane potential through its surrogate. A variable owns its value and its gradient; dispose
/// it (or let the GC collect it) when it is no longer needed.
/// </remarks>
public sealed partial class Variable : IDisposable
{
    private Variable(Tensor? dense, SpikeTensor? spikes, bool requiresGrad, Node? creator, string? name)
    {
        Tensor = dense;
        Spikes = spikes;
        RequiresGrad = requiresGrad;
        Creator = creator;
        Name = name;
    }

    /// <summary>The dense value, or null when the value is spikes.</summary>
    public Tensor? Tensor { get; }

    /// <summary>The spike value, or null when the value is dense.</summary>
    public SpikeTensor? Spikes { get; }

    /// <summary>True when the value is a <see cref="SpikeTensor"/>.</summary>
    public bool IsSpikes => Spikes is not null;

    /// <summary>The shape of the value.</summary>
    public Shape Shape => Tensor?.Shape ?? Spikes!.Shape;

    /// <summary>The device that holds the value.</summary>
    public Device Device => Tensor?.Device ?? Spikes!.Device;

    /// <summary>Whether gradients flow to this variable.</summary>
    public bool RequiresGrad { get; }

    /// <summary>The node whose forward produced this variable; null for leaves and for values made without grad.</summary>
    public Node? Creator { get; private set; }

    /// <summary>True for a variable no op produced (an input or a parameter).</summary>
    public bool IsLeaf => Creator is null;

    /// <summary>An optional name for messages (parameters carry their state-dict name).</summary>
    public string? Name { get; }

    /// <summary>The accumulated gradient of a leaf that requires grad, after <see cref="Backward"/>; null before.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>A leaf that requires grad (a trainable parameter); the variable takes ownership of <paramref name="value"/>.</summary>
    public static Variable Parameter(Tensor value, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new Variable(value, null, requiresGrad: true, null, name);
    }

    /// <summary>A leaf that does not require grad (an input); the variable takes ownership of <paramref name="value"/>.</summary>
    public static Variable Constant(Tensor value, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new Variable(value, null, requiresGrad: false, null, name);
    }

    /// <summary>A leaf holding spikes; the variable takes ownership of <paramref name="value"/>.</summary>
    public static Variable Constant(SpikeTensor value, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new Variable(null, value, requiresGrad: false, null, name);
    }

    /// <summary>A leaf input whose gradient is wanted (for gradient checks and input attributions).</summary>
    public static Variable Input(Tensor value, string? name = null) => Parameter(value, name);

    /// <summary>
    /// The result of an op: records <paramref name="creator"/> when grad mode is on and any input requires grad;
    /// otherwise a plain constant, so inference builds no graph.
    /// </summary>
    internal static Variable FromOp(Tensor value, Node? creator) =>
        Tracked(creator is null ? new Variable(value, null, false, null, null) : new Variable(value, null, true, creator, null));

    internal static Variable FromOp(SpikeTensor value, Node? creator) =>
        Tracked(creator is null ? new Variable(null, value, false, null, null) : new Variable(null, value, true, creator, null));

    private static Variable Tracked(Variable variable)
    {
        DisposeScope.Track(variable);
        return variable;
    }

    /// <summary>The dense value; throws when the value is spikes (use <see cref="ToDense"/> to unpack explicitly).</summary>
    /// <exception cref="InvalidOperationException">The value is a spike tensor.</exception>
    public Tensor Dense => Tensor ?? throw new InvalidOperationException(
        $"Variable{(Name is null ? "" : $" '{Name}'")} holds spikes of shape {Shape}; unpack them explicitly with ToDense().");

    /// <summary>A float copy of the value (spikes unpack to 0/1). The caller owns the result.</summary>
    public Tensor ToDense() => Tensor?.Clone() ?? Spikes!.ToTensor();

    /// <summary>
    /// Back-propagates from this variable: a scalar needs no <paramref name="gradient"/> (it is 1); any other shape
    /// needs one of its own shape. Gradients accumulate into the <see cref="Grad"/> of every leaf that requires grad.
    /// </summary>
    /// <exception cref="InvalidOperationException">This variable does not require grad, or it is not a scalar and no gradient was given.</exception>
    /// <exception cref="ArgumentException">The gradient's shape differs from this variable's.</exception>
    public void Backward(Tensor? gradient = null, bool retainGraph = false) => Graph.Backward(this, gradient, retainGraph);

    /// <summary>Clears the accumulated gradient.</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    /// <summary>A new leaf sharing no graph with this one: a copy of the value that does not require grad.</summary>
    public Variable Detach() => Tensor is not null
        ? new Variable(Tensor.Clone(), null, false, null, Name)
        : new Variable(null, Spikes!.Clone(), false, null, Name);

    /// <summary>
    /// True once a backward pass released the graph behind this (non-leaf) variable: it no longer leads to the
    /// inputs that made it, so another backward through it would silently stop here.
    /// </summary>
    internal bool GraphReleased { get; private set; }

    /// <summary>Drops the link to the creator so the graph behind it can be collected (used after backward).</summary>
    internal void Unlink()
    {
        Creator = null;
        GraphReleased = true;
    }

    /// <summary>Adds <paramref name="gradient"/> into <see cref="Grad"/>, taking ownership of it when Grad is empty.</summary>
    internal void AccumulateGrad(Tensor gradient)
    {
        if (Grad is null)
        {
            Grad = gradient;
            return;
        }
        Grad.AddInPlace(gradient);
        gradient.Dispose();
    }

    /// <summary>Disposes the value and the gradient.</summary>
    public void Dispose()
    {
        Tensor?.Dispose();
        Spikes?.Dispose();
        Grad?.Dispose();
        Grad = null;
    }

    /// <summary>Formats the name, shape and kind.</summary>
    public override string ToString() =>
        $"Variable{(Name is null ? "" : $" '{Name}'")} {(IsSpikes ? "spikes" : "dense")}{Shape}{(RequiresGrad ? " requires_grad" : "")}";
}

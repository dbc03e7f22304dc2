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
    private Node? _creator;

    private Variable(Tensor? dense, SpikeTensor? spikes, bool requiresGrad, Node? creator, int outputIndex, string? name)
    {
        Tensor = dense;
        Spikes = spikes;
        RequiresGrad = requiresGrad;
        _creator = creator;
        OutputIndex = outputIndex;
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

    /// <summary>
    /// The node whose forward produced this variable; null for leaves, for values made without grad, and once a
    /// backward pass released the graph behind it.
    /// </summary>
    public Node? Creator => _creator is { IsReleased: false } ? _creator : null;

    /// <summary>Which output of <see cref="Creator"/> this variable is (0 except for a <see cref="MultiOutputNode"/>).</summary>
    public int OutputIndex { get; }

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
        return new Variable(value, null, requiresGrad: true, null, 0, name);
    }

    /// <summary>A leaf that does not require grad (an input); the variable takes ownership of <paramref name="value"/>.</summary>
    public static Variable Constant(Tensor value, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new Variable(value, null, requiresGrad: false, null, 0, name);
    }

    /// <summary>A leaf holding spikes; the variable takes ownership of <paramref name="value"/>.</summary>
    public static Variable Constant(SpikeTensor value, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new Variable(null, value, requiresGrad: false, null, 0, name);
    }

    /// <summary>A leaf input whose gradient is wanted (for gradient checks and input attributions).</summary>
    public static Variable Input(Tensor value, string? name = null) => Parameter(value, name);

    /// <summary>
    /// The result of an op: output <paramref name="outputIndex"/> of <paramref name="creator"/>, the node
    /// <see cref="Node.Record"/> returned (null when nothing was recorded: grad mode off or no input requiring grad),
    /// so inference builds no graph. The variable takes ownership of <paramref name="value"/> and joins the current
    /// <see cref="DisposeScope"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputIndex"/> is not an output of <paramref name="creator"/>.</exception>
    public static Variable FromOp(Tensor value, Node? creator, int outputIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckOutput(creator, outputIndex);
        return Tracked(new Variable(value, null, creator is not null, creator, outputIndex, null));
    }

    /// <summary>The spike-valued result of an op; see <see cref="FromOp(Tensor, Node?, int)"/>. Its gradient is dense.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputIndex"/> is not an output of <paramref name="creator"/>.</exception>
    public static Variable FromOp(SpikeTensor value, Node? creator, int outputIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckOutput(creator, outputIndex);
        return Tracked(new Variable(null, value, creator is not null, creator, outputIndex, null));
    }

    private static void CheckOutput(Node? creator, int outputIndex)
    {
        if (creator is null) return;
        int count = creator.OutputCount;
        if ((uint)outputIndex >= (uint)count)
        {
            throw new ArgumentOutOfRangeException(nameof(outputIndex), outputIndex,
                $"{creator.Name} has {count} output{(count == 1 ? "" : "s")}; output {outputIndex} does not exist.");
        }
    }

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
        ? new Variable(Tensor.Clone(), null, false, null, 0, Name)
        : new Variable(null, Spikes!.Clone(), false, null, 0, Name);

    /// <summary>
    /// True once a backward pass released the graph behind this (non-leaf) variable: it no longer leads to the
    /// inputs that made it, so another backward through it would silently stop here.
    /// </summary>
    internal bool GraphReleased => _creator is { IsReleased: true };

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

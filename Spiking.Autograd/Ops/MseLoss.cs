using System;
using Spiking.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The mean squared error <c>mean((input - target)²)</c> as a scalar, like PyTorch's <c>F.mse_loss</c> with
    /// mean reduction (NaN for empty tensors). <paramref name="target"/> is a constant of the same shape (a one-hot
    /// label against a firing rate, say); no gradient flows to it.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ, <paramref name="target"/> is disposed, or <paramref name="input"/> holds spikes.</exception>
    public static Variable MseLoss(Variable input, Tensor target) => MseLossNode.Forward(input, target);
}

/// <summary>Mean squared error: <c>dx = G·2(x - t)/n</c>. Saves the difference <c>x - t</c>.</summary>
internal sealed class MseLossNode : Node
{
    private Tensor? _difference;

    private MseLossNode(Variable input) : base(input)
    {
    }

    public override string Name => "mse loss";

    public static Variable Forward(Variable input, Tensor target)
    {
        var x = OpChecks.Dense(input, nameof(input), "MseLoss");
        ArgumentNullException.ThrowIfNull(target);
        if (target.IsDisposed) throw new ArgumentException($"MseLoss: 'target' (shape {target.Shape}) has been disposed.", nameof(target));
        if (target.Shape != x.Shape)
        {
            throw new ArgumentException($"MseLoss: 'target' has shape {target.Shape} but 'input' has shape {x.Shape}; they must match.", nameof(target));
        }
        Tensor difference, loss;
        if (x.IsOnHost && target.IsOnHost)
        {
            difference = Tensor.Empty(x.Shape);
            var d = difference.AsSpan();
            TensorPrimitives.Subtract(x.AsReadOnlySpan(), target.AsReadOnlySpan(), d);
            loss = Tensor.Scalar(difference.SumOfSquares() / d.Length);
        }
        else
        {
            (difference, loss) = DeviceForward(x, target);
        }
        var node = Record(() => new MseLossNode(input), input);
        if (node is null) difference.Dispose();
        else node._difference = difference;
        return Variable.FromOp(loss, node);
    }

    /// <summary>The loss on the input's device (a host target is copied there): <c>Σ(x − t)² / n</c>.</summary>
    private static (Tensor Difference, Tensor Loss) DeviceForward(Tensor x, Tensor target)
    {
        using var t = target.To(x.Device);
        var backend = x.Backend;
        var difference = x.Clone();
        backend.AddScaled(difference, t, -1f);
        using var squares = Tensor.Empty(x.Shape, x.Device);
        backend.Multiply(difference, difference, squares);
        var loss = Tensor.Empty(new Shape(), x.Device);
        backend.Sum(squares, loss);
        backend.Scale(loss, 1f / x.Length, loss);
        return (difference, loss);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var difference = _difference!;
        if (!difference.IsOnHost)
        {
            var dxDevice = Tensor.Empty(difference.Shape, difference.Device);
            difference.Backend.Scale(difference, 2f * gradOutput.ToScalar() / difference.Length, dxDevice);
            return [dxDevice];
        }
        var dx = Tensor.Empty(difference.Shape);
        TensorPrimitives.Multiply(difference.AsReadOnlySpan(), 2f * gradOutput.ToScalar() / difference.Length, dx.AsSpan());
        return [dx];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("input - target", _difference);
    }

    protected internal override void ReleaseSaved()
    {
        _difference?.Dispose();
        _difference = null;
    }
}

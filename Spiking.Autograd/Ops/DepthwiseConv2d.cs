using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Depthwise 2-D convolution as PyTorch's <c>conv2d(x, weight, bias, stride, padding, groups=C)</c>: each of the
    /// C channels of <paramref name="x"/> <c>[N, C, H, W]</c> (dense or spikes) is cross-correlated, zero padded, with
    /// its own filter in <paramref name="weight"/> <c>[C, 1, kh, kw]</c>, giving a dense <c>[N, C, Ho, Wo]</c> with
    /// <c>Ho = (H + 2·padding − kh) / stride + 1</c> (likewise Wo). Spike input is unpacked to floats one channel plane
    /// at a time into a pooled buffer (never as a whole tensor), in the forward and again for the weight gradient.
    /// Fold a time axis into N before calling (<c>[T, B, C, H, W]</c> → <c>[T·B, C, H, W]</c>).
    /// </summary>
    /// <remarks>
    /// Backward, per channel: <c>dx = Σ_taps w[tap]·G</c> scattered to the input positions each tap read (for spike
    /// input the dense gradient with respect to the spikes), <c>dW[tap] = Σ G·x</c> at the tap's shift, and
    /// <c>db = Σ G</c> over N, Ho, Wo.
    /// </remarks>
    /// <exception cref="ArgumentException">A shape does not fit (x not rank 4, weight not <c>[C, 1, kh, kw]</c> with x's C, bias not <c>[C]</c>, the kernel larger than the padded input), stride &lt; 1, padding &lt; 0, or the weight or bias holds spikes.</exception>
    public static Variable DepthwiseConv2d(Variable x, Variable weight, Variable? bias = null, int stride = 1, int padding = 0) =>
        DepthwiseConv2dNode.Forward(x, weight, bias, stride, padding);
}

/// <summary>
/// A depthwise 2-D convolution on dense or spike input. Saves the input when the weight needs a gradient (a view of
/// the dense tensor, or the spikes themselves, never floats of the spikes) and the weight when the input does.
/// </summary>
internal sealed class DepthwiseConv2dNode : Node
{
    private readonly int _images;
    private readonly ConvGeometry _g;
    private SavedTensor? _x;
    private SpikeTensor? _spikes;
    private SavedTensor? _weight;

    private DepthwiseConv2dNode(Variable[] inputs, Tensor weight, int images, ConvGeometry g) : base(inputs)
    {
        (_images, _g) = (images, g);
        var x = inputs[0];
        if (inputs[1].RequiresGrad)
        {
            if (x.Spikes is { } spikes) _spikes = SavedTensor.Keep(spikes);
            else _x = new SavedTensor(x.Tensor!, "depthwise conv2d's input");
        }
        if (x.RequiresGrad) _weight = new SavedTensor(weight, "depthwise conv2d's weight");
    }

    public override string Name => "depthwise_conv2d";

    public static Variable Forward(Variable x, Variable weight, Variable? bias, int stride, int padding)
    {
        ArgumentNullException.ThrowIfNull(x);
        var w = OpChecks.Dense(weight, nameof(weight), "DepthwiseConv2d");
        var b = bias is null ? null : OpChecks.Dense(bias, nameof(bias), "DepthwiseConv2d");
        var g = Check(x.Shape, w.Shape, b?.Shape, stride, padding);
        int images = x.Shape[0];
        var y = Tensor.Empty(images, g.Channels, g.OutHeight, g.OutWidth);
        DepthwiseConv.Forward(x.Tensor, x.Spikes, w, b, images, g, y);
        Variable[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        var node = Node.Record(() => new DepthwiseConv2dNode(inputs, w, images, g), inputs);
        return Variable.FromOp(y, node);
    }

    private static ConvGeometry Check(Shape x, Shape weight, Shape? bias, int stride, int padding)
    {
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"DepthwiseConv2d needs stride >= 1; it is {stride}.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, $"DepthwiseConv2d needs padding >= 0; it is {padding}.");
        if (x.Rank != 4) throw new ArgumentException($"DepthwiseConv2d needs 'x' of shape [N, C, H, W]; it has shape {x}. Fold a time axis into N first.", nameof(x));
        if (weight.Rank != 4 || weight[1] != 1)
        {
            throw new ArgumentException($"DepthwiseConv2d needs 'weight' of shape [C, 1, kh, kw]; it has shape {weight}.", nameof(weight));
        }
        if (weight[0] != x[1])
        {
            throw new ArgumentException($"DepthwiseConv2d: 'x' has shape {x} with {x[1]} channels but 'weight' has shape {weight}, which holds {weight[0]} filters; it needs one per channel.", nameof(x));
        }
        if (bias is { } bs && (bs.Rank != 1 || bs[0] != weight[0]))
        {
            throw new ArgumentException($"DepthwiseConv2d: 'bias' has shape {bs}; 'weight' of shape {weight} needs a bias of [{weight[0]}].", nameof(bias));
        }
        if (weight[2] < 1 || weight[3] < 1 || x[2] + 2 * padding < weight[2] || x[3] + 2 * padding < weight[3])
        {
            throw new ArgumentException(
                $"DepthwiseConv2d: the kernel {weight[2]}x{weight[3]} of 'weight' {weight} does not fit the input {x} padded by {padding} (padded size {x[2] + 2 * padding}x{x[3] + 2 * padding}).", nameof(weight));
        }
        return new ConvGeometry(x[1], x[2], x[3], weight[2], weight[3], stride, padding);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var grads = new Tensor?[Inputs.Count];
        if (NeedsGrad(0))
        {
            var dx = Tensor.Empty(Inputs[0].Shape);
            DepthwiseConv.InputGradient(gradOutput, _weight!.Value, _images, _g, dx);
            grads[0] = dx;
        }
        var dw = NeedsGrad(1) ? Tensor.Empty(Inputs[1].Shape) : null;
        var db = Inputs.Count > 2 && NeedsGrad(2) ? Tensor.Empty(_g.Channels) : null;
        if (dw is not null || db is not null)
        {
            DepthwiseConv.ParameterGradients(gradOutput, _x?.Value, _spikes, _images, _g, dw, db);
            grads[1] = dw;
            if (db is not null) grads[2] = db;
        }
        return grads;
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("input", _x);
        saved.Add("input", _spikes);
        saved.Add("weight", _weight);
    }

    protected internal override void ReleaseSaved()
    {
        _x?.Release();
        _spikes?.Dispose();
        _weight?.Release();
        _x = null;
        _spikes = null;
        _weight = null;
    }
}

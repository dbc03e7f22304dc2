using System;
using Spiking.Tensors;
using Spiking.Tensors.Backends;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// 2-D convolution as PyTorch's <c>conv2d</c> (cross-correlation, zero padding): <paramref name="x"/>
    /// <c>[N, C, H, W]</c> (dense or spikes) and a <paramref name="weight"/> <c>[O, C, kh, kw]</c> give a dense
    /// <c>[N, O, Ho, Wo]</c> with <c>Ho = (H + 2·padding − kh) / stride + 1</c> (likewise Wo). Dense input runs
    /// im2col and the SGEMM image by image; spike input gathers its patches as bits and runs
    /// <see cref="SpikeLinear"/>, so no multiplication touches a spike. Fold a time axis into N before calling
    /// (<c>[T, B, C, H, W]</c> → <c>[T·B, C, H, W]</c>). The <paramref name="cache"/> reuses the spike path's packed
    /// weight buffer; since the op views the weight as <c>[O, C·kh·kw]</c> anew on each call, the packing itself is
    /// redone per call (O·C·kh·kw floats, small next to the convolution). On a device the backend's im2col, SGEMM
    /// and batched transpose run the whole batch at once, spike input read as 0/1 floats there.
    /// </summary>
    /// <remarks>
    /// Backward: <c>dW = Σ_n G_n·cols_nᵀ</c> (<see cref="SpikeLinear.WeightGradient"/> on the saved bit patches for
    /// spikes), <c>db = Σ G</c> over N, Ho, Wo, and <c>dx = col2im(Wᵀ·G)</c>, which for spike input is the dense
    /// gradient with respect to the spikes.
    /// </remarks>
    /// <exception cref="ArgumentException">A shape does not fit (x not rank 4, weight not <c>[O, C, kh, kw]</c> with x's C, bias not <c>[O]</c>, the kernel larger than the padded input), stride &lt; 1, padding &lt; 0, or the weight or bias holds spikes.</exception>
    public static Variable Conv2d(Variable x, Variable weight, Variable? bias = null, int stride = 1, int padding = 0, TransposedWeightCache? cache = null) =>
        Conv2dNode.Forward(x, weight, bias, stride, padding, cache);
}

/// <summary>
/// A 2-D convolution on dense or spike input. Saves the input when the weight needs a gradient (a view of the
/// dense tensor, or the bit patches for spikes, never floats of the spikes) and the weight when the input does.
/// </summary>
internal sealed class Conv2dNode : Node
{
    private readonly int _images, _out;
    private readonly ConvGeometry _g;
    private SavedTensor? _x;
    // The spike input's bit patches on the host; on a device, the spike input itself (unrolled again in the backward).
    private SpikeTensor? _cols;
    private SavedTensor? _weight;

    private Conv2dNode(Variable[] inputs, Tensor? x, SpikeTensor? cols, Tensor weight, int images, int outChannels, ConvGeometry g) : base(inputs)
    {
        (_images, _out, _g) = (images, outChannels, g);
        if (inputs[1].RequiresGrad)
        {
            if (cols is not null) _cols = SavedTensor.Keep(cols);
            else _x = new SavedTensor(x!, "conv2d's input");
        }
        if (inputs[0].RequiresGrad) _weight = new SavedTensor(weight, "conv2d's weight");
    }

    public override string Name => "conv2d";

    public static Variable Forward(Variable x, Variable weight, Variable? bias, int stride, int padding, TransposedWeightCache? cache)
    {
        ArgumentNullException.ThrowIfNull(x);
        var w = OpChecks.Dense(weight, nameof(weight), "Conv2d");
        var b = bias is null ? null : OpChecks.Dense(bias, nameof(bias), "Conv2d");
        var g = Check(x.Shape, w.Shape, b?.Shape, stride, padding);
        int images = x.Shape[0], outChannels = w.Shape[0];
        if (!w.IsOnHost || x.Device != w.Device) return DeviceForward(x, weight, bias, w, b, images, outChannels, g);
        var y = Tensor.Empty(images, outChannels, g.OutHeight, g.OutWidth);
        SpikeTensor? cols = null;
        if (x.Spikes is { } spikes)
        {
            cols = SpikeTensor.Zeros(images * g.Positions, g.Patch);
            Conv.Im2ColBits(spikes, images, g, cols);
            using var w2 = w.Reshape(outChannels, g.Patch);
            using var rows = SpikeLinear.Forward(cols, w2, b, cache);
            Conv.RowsToChannels(rows, images, outChannels, g.Positions, y);
        }
        else
        {
            Conv.Forward(x.Tensor!, w, b, images, outChannels, g, y);
        }
        Variable[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        var node = Node.Record(() => new Conv2dNode(inputs, x.Tensor, cols, w, images, outChannels, g), inputs);
        cols?.Dispose();
        return Variable.FromOp(y, node);
    }

    /// <summary>
    /// The forward on a device: <c>cols[C·kh·kw, N·P]</c> by im2col (spikes unpacked to 0/1 floats first), the SGEMM
    /// <c>Z[N·P, O] = colsᵀ·Wᵀ</c> with the bias added per row, then each image's <c>[P, O]</c> transposed to NCHW.
    /// Saves the input as the host path does (the bits for spikes) and unrolls it again in the backward.
    /// </summary>
    private static Variable DeviceForward(Variable x, Variable weight, Variable? bias, Tensor w, Tensor? b, int images, int outChannels, ConvGeometry g)
    {
        OpChecks.SameDevice("Conv2d", w.Device, "weight", x.Device, "x");
        if (b is not null) OpChecks.SameDevice("Conv2d", w.Device, "weight", b.Device, "bias");
        var window = Window(images, g);
        var y = Tensor.Empty(new Shape(images, outChannels, g.OutHeight, g.OutWidth), w.Device);
        using (var cols = Unrolled(x.Tensor, x.Spikes, window))
        using (var rows = Tensor.Empty(new Shape(images * g.Positions, outChannels), w.Device))
        {
            var backend = w.Backend;
            backend.Gemm(cols, true, w, true, rows, images * g.Positions, outChannels, g.Patch);
            if (b is not null) backend.AddRowVector(rows, b);
            backend.TransposeBatched(rows, images, g.Positions, outChannels, y);
        }
        Variable[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        var node = Node.Record(() => new Conv2dNode(inputs, x.Tensor, x.Spikes, w, images, outChannels, g), inputs);
        return Variable.FromOp(y, node);
    }

    /// <summary>The device kernels' view of the geometry.</summary>
    private static SlidingWindow Window(int images, ConvGeometry g) =>
        new(images, g.Channels, g.Height, g.Width, g.KernelHeight, g.KernelWidth, g.Stride, g.Padding);

    /// <summary><c>cols[C·kh·kw, N·P]</c> of dense <paramref name="x"/> or of <paramref name="spikes"/> read as 0/1 floats, on their device.</summary>
    private static Tensor Unrolled(Tensor? x, SpikeTensor? spikes, in SlidingWindow window)
    {
        var device = x?.Device ?? spikes!.Device;
        var backend = ComputeBackend.For(device);
        var cols = Tensor.Empty(new Shape(window.Patch, window.Images * window.Positions), device);
        if (x is not null)
        {
            backend.Im2Col(x, window, cols);
            return cols;
        }
        using var values = Tensor.Empty(spikes!.Shape, device);
        backend.Unpack(spikes, values);
        backend.Im2Col(values, window, cols);
        return cols;
    }

    private static ConvGeometry Check(Shape x, Shape weight, Shape? bias, int stride, int padding)
    {
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"Conv2d needs stride >= 1; it is {stride}.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, $"Conv2d needs padding >= 0; it is {padding}.");
        if (x.Rank != 4) throw new ArgumentException($"Conv2d needs 'x' of shape [N, C, H, W]; it has shape {x}. Fold a time axis into N first.", nameof(x));
        if (weight.Rank != 4) throw new ArgumentException($"Conv2d needs 'weight' of shape [O, C, kh, kw]; it has shape {weight}.", nameof(weight));
        if (weight[1] != x[1])
        {
            throw new ArgumentException($"Conv2d: 'x' has shape {x} with {x[1]} channels but 'weight' has shape {weight}, which expects {weight[1]} input channels.", nameof(x));
        }
        if (bias is { } bs && (bs.Rank != 1 || bs[0] != weight[0]))
        {
            throw new ArgumentException($"Conv2d: 'bias' has shape {bs}; 'weight' of shape {weight} needs a bias of [{weight[0]}].", nameof(bias));
        }
        if (weight[2] < 1 || weight[3] < 1 || x[2] + 2 * padding < weight[2] || x[3] + 2 * padding < weight[3])
        {
            throw new ArgumentException(
                $"Conv2d: the kernel {weight[2]}x{weight[3]} of 'weight' {weight} does not fit the input {x} padded by {padding} (padded size {x[2] + 2 * padding}x{x[3] + 2 * padding}).", nameof(weight));
        }
        return new ConvGeometry(x[1], x[2], x[3], weight[2], weight[3], stride, padding);
    }

    /// <summary>
    /// The backward on a device: <c>G</c> back to position-major <c>[N·P, O]</c>, then <c>dW = Gᵀ·colsᵀ</c>,
    /// <c>db = Σ G</c> over rows and <c>dx = col2im(Wᵀ·Gᵀ)</c>.
    /// </summary>
    private Tensor?[] DeviceBackward(Tensor gradOutput)
    {
        var grads = new Tensor?[Inputs.Count];
        var device = gradOutput.Device;
        var backend = gradOutput.Backend;
        var window = Window(_images, _g);
        int positions = _images * _g.Positions;
        using var rows = Tensor.Empty(new Shape(positions, _out), device);
        backend.TransposeBatched(gradOutput, _images, _out, _g.Positions, rows);
        if (NeedsGrad(0))
        {
            using var cols = Tensor.Empty(new Shape(_g.Patch, positions), device);
            backend.Gemm(_weight!.Value, true, rows, true, cols, _g.Patch, positions, _out);
            var dx = Tensor.Empty(Inputs[0].Shape, device);
            backend.Col2Im(cols, window, dx);
            grads[0] = dx;
        }
        if (NeedsGrad(1))
        {
            using var cols = Unrolled(_x?.Value, _cols, window);
            var dw = Tensor.Empty(Inputs[1].Shape, device);
            backend.Gemm(rows, true, cols, true, dw, _out, _g.Patch, positions);
            grads[1] = dw;
        }
        if (Inputs.Count > 2 && NeedsGrad(2))
        {
            var db = Tensor.Empty(new Shape(_out), device);
            backend.SumRows(rows, db);
            grads[2] = db;
        }
        return grads;
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        if (!gradOutput.IsOnHost) return DeviceBackward(gradOutput);
        var grads = new Tensor?[Inputs.Count];
        if (NeedsGrad(0))
        {
            var dx = Tensor.Empty(Inputs[0].Shape);
            Conv.InputGradient(gradOutput, _weight!.Value, _images, _out, _g, dx);
            grads[0] = dx;
        }
        if (NeedsGrad(1))
        {
            if (_cols is not null)
            {
                using var rows = Tensor.Empty(_images * _g.Positions, _out);
                Conv.ChannelsToRows(gradOutput, _images, _out, _g.Positions, rows);
                using var dw = SpikeLinear.WeightGradient(rows, _cols);
                grads[1] = dw.Reshape(Inputs[1].Shape);
            }
            else
            {
                var dw = Tensor.Empty(Inputs[1].Shape);
                Conv.WeightGradient(gradOutput, _x!.Value, _images, _out, _g, dw.AsSpan());
                grads[1] = dw;
            }
        }
        if (Inputs.Count > 2 && NeedsGrad(2))
        {
            var db = Tensor.Empty(_out);
            Conv.BiasGradient(gradOutput.AsReadOnlySpan(), _images, _out, _g.Positions, db.AsSpan());
            grads[2] = db;
        }
        return grads;
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("input", _x);
        saved.Add("input patches (im2col of the spikes)", _cols);
        saved.Add("weight", _weight);
    }

    protected internal override void ReleaseSaved()
    {
        _x?.Release();
        _cols?.Dispose();
        _weight?.Release();
        _x = null;
        _cols = null;
        _weight = null;
    }
}

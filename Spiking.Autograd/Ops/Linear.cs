using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The fully connected layer <c>y = x·Wᵀ + b</c> for a PyTorch-layout <paramref name="weight"/> <c>[out, in]</c>
    /// and <paramref name="x"/> <c>[..., in]</c> (leading axes, such as time and batch, fold into rows), giving
    /// <c>[..., out]</c>. Dense input runs the SGEMM; spike input runs <see cref="SpikeLinear"/> without
    /// multiplications, keeping the spikes as bits for the backward. Pass a <paramref name="cache"/> kept beside
    /// the weight so the spike path transposes the weight once per update rather than once per call.
    /// </summary>
    /// <remarks>
    /// Backward: <c>dW = Gᵀ·x</c> (<see cref="SpikeLinear.WeightGradient"/> on spikes), <c>db = Σ G</c> over rows,
    /// and <c>dx = G·W</c>, which for spike input is the dense gradient with respect to the spikes, the one the
    /// neuron before it needs.
    /// </remarks>
    /// <exception cref="ArgumentException">The weight is not <c>[out, in]</c>, the bias is not <c>[out]</c>, the last axis of <paramref name="x"/> is not <c>in</c>, <paramref name="x"/> is a scalar, or the weight or bias holds spikes.</exception>
    public static Variable Linear(Variable x, Variable weight, Variable? bias = null, TransposedWeightCache? cache = null) =>
        LinearNode.Forward(x, weight, bias, cache);
}

/// <summary>
/// A fully connected layer on dense or spike input. Saves the input when the weight needs a gradient (a view of
/// the dense tensor, or of the spike bits, never a float copy of the spikes) and the weight when the input does.
/// </summary>
internal sealed class LinearNode : Node
{
    private readonly int _rows, _in, _out;
    private SavedTensor? _x;
    private SpikeTensor? _spikes;
    private SavedTensor? _weight;

    private LinearNode(Variable[] inputs, Tensor? x, SpikeTensor? spikes, Tensor weight, int rows, int inFeatures, int outFeatures) : base(inputs)
    {
        (_rows, _in, _out) = (rows, inFeatures, outFeatures);
        if (inputs[1].RequiresGrad)
        {
            if (spikes is not null) _spikes = SavedTensor.Keep(spikes);
            else _x = new SavedTensor(x!, "linear's input");
        }
        if (inputs[0].RequiresGrad) _weight = new SavedTensor(weight, "linear's weight");
    }

    public override string Name => "linear";

    public static Variable Forward(Variable x, Variable weight, Variable? bias, TransposedWeightCache? cache)
    {
        ArgumentNullException.ThrowIfNull(x);
        var w = OpChecks.Dense(weight, nameof(weight), "Linear");
        var b = bias is null ? null : OpChecks.Dense(bias, nameof(bias), "Linear");
        if (w.Rank != 2)
        {
            throw new ArgumentException($"Linear needs 'weight' of shape [out, in]; it has shape {w.Shape}.", nameof(weight));
        }
        int outFeatures = w.Shape[0], inFeatures = w.Shape[1];
        var shape = x.Shape;
        if (shape.Rank == 0 || shape[-1] != inFeatures)
        {
            throw new ArgumentException(
                $"Linear: 'x' has shape {shape} but 'weight' has shape {w.Shape}; the last axis of x must be the weight's in-features ({inFeatures}).", nameof(x));
        }
        if (b is not null && (b.Rank != 1 || b.Shape[0] != outFeatures))
        {
            throw new ArgumentException($"Linear: 'bias' has shape {b.Shape}; 'weight' of shape {w.Shape} needs a bias of [{outFeatures}].", nameof(bias));
        }
        int rows = shape.RowCount;
        Tensor y;
        if (!w.IsOnHost || x.Device != w.Device)
        {
            y = DeviceForward(x, w, b, rows, outFeatures, inFeatures);
        }
        else if (x.Spikes is { } spikes)
        {
            y = SpikeLinear.Forward(spikes, w, b, cache);
        }
        else
        {
            var dims = shape.Dimensions.ToArray();
            dims[^1] = outFeatures;
            y = Tensor.Empty(new Shape(dims));
            Gemm.Multiply(x.Tensor!.AsReadOnlySpan(), false, w.AsReadOnlySpan(), true, y.AsSpan(), rows, outFeatures, inFeatures);
            if (b is not null) y.AddInPlace(b);
        }
        Variable[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        var node = Node.Record(() => new LinearNode(inputs, x.Tensor, x.Spikes, w, rows, inFeatures, outFeatures), inputs);
        return Variable.FromOp(y, node);
    }

    /// <summary>The forward on a device: the backend's spike kernel or SGEMM, then the bias as a row vector.</summary>
    private static Tensor DeviceForward(Variable x, Tensor w, Tensor? b, int rows, int outFeatures, int inFeatures)
    {
        OpChecks.SameDevice("Linear", w.Device, "weight", x.Device, "x");
        if (b is not null) OpChecks.SameDevice("Linear", w.Device, "weight", b.Device, "bias");
        var dims = x.Shape.Dimensions.ToArray();
        dims[^1] = outFeatures;
        var y = Tensor.Empty(new Shape(dims), w.Device);
        var backend = w.Backend;
        if (x.Spikes is { } spikes)
        {
            backend.SpikeLinear(spikes, w, b, y);
            return y;
        }
        backend.Gemm(x.Tensor!, false, w, true, y, rows, outFeatures, inFeatures);
        if (b is not null) backend.AddRowVector(y, b);
        return y;
    }

    private Tensor?[] DeviceBackward(Tensor gradOutput)
    {
        var grads = new Tensor?[Inputs.Count];
        var backend = gradOutput.Backend;
        var device = gradOutput.Device;
        if (NeedsGrad(0))
        {
            var dx = Tensor.Empty(Inputs[0].Shape, device);
            backend.Gemm(gradOutput, false, _weight!.Value, false, dx, _rows, _in, _out);
            grads[0] = dx;
        }
        if (NeedsGrad(1))
        {
            var dw = Tensor.Empty(new Shape(_out, _in), device);
            if (_spikes is not null) backend.SpikeWeightGradient(gradOutput, _spikes, dw);
            else backend.Gemm(gradOutput, true, _x!.Value, false, dw, _out, _in, _rows);
            grads[1] = dw;
        }
        if (Inputs.Count > 2 && NeedsGrad(2))
        {
            var db = Tensor.Empty(new Shape(_out), device);
            backend.SumRows(gradOutput, db);
            grads[2] = db;
        }
        return grads;
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        if (!gradOutput.IsOnHost) return DeviceBackward(gradOutput);
        var grads = new Tensor?[Inputs.Count];
        var g = gradOutput.AsReadOnlySpan();
        if (NeedsGrad(0))
        {
            // dx[rows, in] = G[rows, out]·W[out, in]: the gradient with respect to the spikes on the spike path.
            var dx = Tensor.Empty(Inputs[0].Shape);
            Gemm.Multiply(g, false, _weight!.Value.AsReadOnlySpan(), false, dx.AsSpan(), _rows, _in, _out);
            grads[0] = dx;
        }
        if (NeedsGrad(1))
        {
            if (_spikes is not null)
            {
                grads[1] = SpikeLinear.WeightGradient(gradOutput, _spikes);
            }
            else
            {
                // dW[out, in] = Gᵀ·x, the rows summed by the product.
                var dw = Tensor.Empty(_out, _in);
                Gemm.Multiply(g, true, _x!.Value.AsReadOnlySpan(), false, dw.AsSpan(), _out, _in, _rows);
                grads[1] = dw;
            }
        }
        if (Inputs.Count > 2 && NeedsGrad(2))
        {
            grads[2] = gradOutput.SumToShape(new Shape(_out));
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

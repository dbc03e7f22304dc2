using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// A weight layer with LSQ-quantized weights (<see cref="Lsq"/>) in the form an integer engine computes it:
    /// <c>y = product(q) ⊙ α</c>, where <c>q = round(clamp(w/α, Qn, Qp))</c> are the integer codes (as floats) of
    /// <paramref name="weight"/> <c>[O, …]</c>, <paramref name="product"/> is the layer's linear map applied to a
    /// weight (a convolution or linear layer without bias, whose output channel o reads weight row o only), and the
    /// step α <c>[O]</c> scales output channel o along <paramref name="outputAxis"/> once. This is the function of
    /// QSD's <c>conv(x, q·α)</c>; a product of small integers and multi-level spikes is exact in float32, so an
    /// integer engine's <c>Σ x·q</c>, scaled by α, gives the same bits. Add a bias after it.
    /// </summary>
    /// <remarks>
    /// Backward, as LSQ's (the official <c>round_pass</c>/<c>grad_scale</c> graph, or <c>FunLSQ</c>): with
    /// <c>u = w/α</c>, <c>m = [Qn ≤ u ≤ Qp]</c> and <c>G_w = ∂L/∂(q·α)</c>, <c>∂L/∂w = m·G_w</c> and
    /// <c>∂L/∂α = g·Σ G_w·(q − m·u)</c> per output channel (<c>q − u</c> inside the range, Qn or Qp outside), g
    /// = <see cref="Lsq.GradScale"/>. The product sees <c>q</c>, so its weight gradient is <c>∂L/∂q = α·G_w</c>;
    /// α's share through the output scaling, <c>Σ ∂L/∂y·product(q) = Σ q·G_w</c>, is taken from that same weight
    /// gradient by the codes' node, so the scaling saves only α and no activation is kept for α's gradient.
    /// </remarks>
    /// <exception cref="ArgumentException">The weight or step is spikes or of the wrong shape (α must be <c>[O]</c> for a weight
    /// <c>[O, …]</c>), or the product's output has no axis <paramref name="outputAxis"/> of length O.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not 4 or 8.</exception>
    /// <exception cref="NotSupportedException">The weight or step is on a device (the codes are computed on the CPU only).</exception>
    public static Variable LsqProduct(Variable weight, Variable alpha, int bits, Func<Variable, Variable> product, int outputAxis)
    {
        ArgumentNullException.ThrowIfNull(product);
        var codes = LsqCodesNode.Forward(weight, alpha, bits);
        return LsqRescaleNode.Forward(product(codes), alpha, outputAxis);
    }
}

/// <summary>
/// The codes <c>q = round(clamp(w/α, Qn, Qp))</c> of a weight <c>[O, …]</c> with one step per row. Its backward
/// assumes what <see cref="Functional.LsqProduct"/> builds: the product of q scaled by α per output channel, with
/// α a constant there. Given <c>∂L/∂q = α·G_w</c>, it returns <c>∂L/∂w = m·(∂L/∂q)/α</c> and
/// <c>∂L/∂α = g·Σ (∂L/∂q)/α·(q − m·u)</c>, the second holding the scaling's share <c>Σ q·G_w</c>. Saves views of w
/// and α (parameters: no copy); u, m and q are recomputed.
/// </summary>
internal sealed class LsqCodesNode : Node
{
    private const string Op = "LsqProduct";
    private readonly int _bits;
    private SavedTensor? _weight, _alpha;

    private LsqCodesNode(Variable weight, Variable alpha, Tensor w, Tensor a, int bits) : base(weight, alpha)
    {
        _bits = bits;
        _weight = new SavedTensor(w, "LSQ's weight");
        _alpha = new SavedTensor(a, "LSQ's step alpha");
    }

    public override string Name => "lsq codes";

    public static Variable Forward(Variable weight, Variable alpha, int bits)
    {
        var w = OpChecks.Dense(weight, nameof(weight), Op);
        var a = OpChecks.Dense(alpha, nameof(alpha), Op);
        Lsq.CheckBits(bits, nameof(bits));
        if (w.Rank == 0 || a.Rank != 1 || a.Length != w.Shape[0])
        {
            throw new ArgumentException(
                $"{Op}: 'alpha' must be [O], one step per output channel of 'weight' [O, ...]; got alpha {a.Shape} for weight {w.Shape}.", nameof(alpha));
        }
        if (!w.IsOnHost) throw OpChecks.NoDeviceKernel(Op, w.Device, "its weight");
        if (!a.IsOnHost) throw OpChecks.NoDeviceKernel(Op, a.Device, "its step alpha");
        var q = Tensor.Empty(w.Shape);
        Lsq.Codes(w.AsReadOnlySpan(), a.AsReadOnlySpan(), bits, q.AsSpan());
        return Variable.FromOp(q, Record(() => new LsqCodesNode(weight, alpha, w, a, bits), weight, alpha));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var w = _weight!.Value;
        var steps = _alpha!.Value.AsReadOnlySpan();
        var weights = w.AsReadOnlySpan();
        var g = gradOutput.AsReadOnlySpan();
        int row = w.Length / steps.Length;
        float qn = Lsq.MinCode(_bits), qp = Lsq.MaxCode(_bits);
        double scale = Lsq.GradScale(w.Length, _bits);
        var dw = NeedsGrad(0) ? Tensor.Empty(w.Shape) : null;
        var da = NeedsGrad(1) ? Tensor.Empty(steps.Length) : null;
        var dws = dw is null ? default : dw.AsSpan();
        var das = da is null ? default : da.AsSpan();
        for (int o = 0; o < steps.Length; o++)
        {
            float step = steps[o];
            double sum = 0;
            for (int k = o * row, end = k + row; k < end; k++)
            {
                float u = weights[k] / step;
                bool inRange = u >= qn && u <= qp;
                if (dw is not null) dws[k] = inRange ? g[k] / step : 0f;
                sum += (double)g[k] * (Lsq.Code(u, qn, qp) - (inRange ? u : 0.0));
            }
            if (da is not null) das[o] = (float)(scale * sum / step);
        }
        return [dw, da];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("weight", _weight);
        saved.Add("alpha", _alpha);
    }

    protected internal override void ReleaseSaved()
    {
        _weight?.Release();
        _alpha?.Release();
        _weight = _alpha = null;
    }
}

/// <summary>
/// <c>y = z ⊙ α</c> along one axis, α a constant: <c>dz = G·α</c>. α's gradient through this product is
/// <see cref="LsqCodesNode"/>'s to give (see <see cref="Functional.LsqProduct"/>), so only α's view is saved.
/// </summary>
internal sealed class LsqRescaleNode : Node
{
    private readonly Shape _channelShape;
    private SavedTensor? _alpha;

    private LsqRescaleNode(Variable z, Tensor alpha, Shape channelShape) : base(z)
    {
        _channelShape = channelShape;
        _alpha = new SavedTensor(alpha, "LSQ's step alpha");
    }

    public override string Name => "lsq rescale";

    public static Variable Forward(Variable z, Variable alpha, int axis)
    {
        var value = OpChecks.Dense(z, "product(codes)", "LsqProduct");
        var a = alpha.Dense;
        if (value.Rank == 0) throw new ArgumentException($"LsqProduct: the product of the codes is a scalar; it needs an output-channel axis {axis}.", nameof(axis));
        int at = axis >= -value.Rank && axis < value.Rank ? value.Shape.NormalizeAxis(axis)
            : throw new ArgumentOutOfRangeException(nameof(axis), axis, $"LsqProduct: output axis {axis} is outside the product's shape {value.Shape}.");
        if (value.Shape[at] != a.Length)
        {
            throw new ArgumentException(
                $"LsqProduct: the product of the codes has shape {value.Shape}, whose axis {at} is {value.Shape[at]} long; it must hold the weight's {a.Length} output channels.",
                nameof(axis));
        }
        var channelShape = ChannelShape(value.Rank, at, a.Length);
        Tensor y;
        using (var view = a.Reshape(channelShape))
        {
            y = value.Multiply(view);
        }
        return Variable.FromOp(y, Record(() => new LsqRescaleNode(z, a, channelShape), z));
    }

    /// <summary>[C] viewed as [C, 1, …, 1], broadcasting onto the trailing axes from the channel axis on.</summary>
    private static Shape ChannelShape(int rank, int axis, int channels)
    {
        var dims = new int[rank - axis];
        dims.AsSpan().Fill(1);
        dims[0] = channels;
        return new Shape(dims);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        using var view = _alpha!.Value.Reshape(_channelShape);
        return [gradOutput.Multiply(view)];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved) => saved.Add("alpha", _alpha);

    protected internal override void ReleaseSaved()
    {
        _alpha?.Release();
        _alpha = null;
    }
}

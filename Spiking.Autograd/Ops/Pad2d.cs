using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Pads the maps of <paramref name="x"/> <c>[N, C, H, W]</c> by <paramref name="padding"/> pixels on every side,
    /// giving <c>[N, C, H + 2p, W + 2p]</c>; the border of channel c is <c>values[c]</c> (zero where
    /// <paramref name="values"/> is null). The values are constants: no gradient reaches them, as in RepVGG-style
    /// <c>BNAndPadLayer</c>s, whose border is a batch norm's response to zero computed from detached parameters. The
    /// gradient of x is the interior of the output gradient.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not a dense <c>[N, C, H, W]</c> on the host, or <paramref name="values"/> is not <c>[C]</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="padding"/> is negative.</exception>
    public static Variable Pad2d(Variable x, int padding, Tensor? values = null) => Pad2dNode.Forward(x, padding, values);
}

/// <summary>A constant border around each map: <c>dx</c> is the interior of G. Saves only the input's shape.</summary>
internal sealed class Pad2dNode : Node
{
    private const string Op = "Pad2d";
    private readonly Shape _input;
    private readonly int _padding;

    private Pad2dNode(Variable x, int padding) : base(x) => (_input, _padding) = (x.Shape, padding);

    public override string Name => "pad2d";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x, int padding, Tensor? values)
    {
        var value = OpChecks.Dense(x, nameof(x), Op);
        OpChecks.Rank(x, 4, nameof(x), Op);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        if (!value.IsOnHost) throw OpChecks.NoDeviceKernel(Op, value.Device);
        var s = value.Shape;
        int n = s[0], c = s[1], h = s[2], w = s[3], ph = h + 2 * padding, pw = w + 2 * padding;
        if (values is not null && (values.Rank != 1 || values.Shape[0] != c || !values.IsOnHost))
        {
            throw new ArgumentException($"{Op}: 'values' must be a host tensor [{c}], one border value per channel of 'x' (shape {s}); it has shape {values.Shape} on {values.Device}.", nameof(values));
        }
        var y = Tensor.Empty(n, c, ph, pw);
        var source = value.AsReadOnlySpan();
        var destination = y.AsSpan();
        ReadOnlySpan<float> fill = values is null ? default : values.AsReadOnlySpan();
        for (int m = 0; m < n * c; m++)
        {
            var map = destination.Slice(m * ph * pw, ph * pw);
            map.Fill(values is null ? 0f : fill[m % c]);
            for (int r = 0; r < h; r++) source.Slice((m * h + r) * w, w).CopyTo(map.Slice((r + padding) * pw + padding, w));
        }
        return Variable.FromOp(y, Record(() => new Pad2dNode(x, padding), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        int h = _input[2], w = _input[3], ph = h + 2 * _padding, pw = w + 2 * _padding, maps = _input[0] * _input[1];
        var dx = Tensor.Empty(_input);
        var g = gradOutput.AsReadOnlySpan();
        var d = dx.AsSpan();
        for (int m = 0; m < maps; m++)
        {
            for (int r = 0; r < h; r++) g.Slice(m * ph * pw + (r + _padding) * pw + _padding, w).CopyTo(d.Slice((m * h + r) * w, w));
        }
        return [dx];
    }
}

using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The reset of one single step, <c>v = r(h, s)</c> with <c>s = heaviside(h − θ)</c> recomputed from h. Its gradient
/// is <c>dL/dh = dL/dv · dv/dh</c>, where <c>dv/dh</c> includes the path through the spike (via the surrogate) unless
/// the reset is detached. Saves a view of h.
/// </summary>
internal sealed class ResetNode : Node
{
    private readonly Tensor _h;
    private readonly NeuronParameters _p;
    private readonly Surrogate _surrogate;

    private ResetNode(Variable h, NeuronParameters p, Surrogate surrogate) : base(h)
    {
        _h = h.Dense.Reshape(h.Shape);
        _p = p;
        _surrogate = surrogate;
    }

    public override string Name => "neuron_reset";

    /// <summary>Wraps the already computed <paramref name="v"/> as the op's output, recording the node when needed.</summary>
    public static Variable Wrap(Tensor v, Variable h, NeuronParameters p, Surrogate surrogate) =>
        Variable.FromOp(v, Record(() => new ResetNode(h, p, surrogate), h));

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var result = Tensor.Empty(_h.Shape);
        var d = result.AsSpan();
        var h = _h.AsReadOnlySpan();
        var g = gradOutput.AsReadOnlySpan();
        float theta = _p.Threshold, vr = _p.VReset;
        TensorPrimitives.Subtract(h, theta, d);
        _surrogate.Derivative(d, d);
        for (int i = 0; i < d.Length; i++)
        {
            float s = h[i] >= theta ? 1f : 0f;
            float dvdh = (_p.Hard, _p.Detach) switch
            {
                (true, false) => HardReset.DvDh(h[i], s, d[i], vr, theta),
                (true, true) => HardResetDetached.DvDh(h[i], s, d[i], vr, theta),
                (false, false) => SoftReset.DvDh(h[i], s, d[i], vr, theta),
                _ => SoftResetDetached.DvDh(h[i], s, d[i], vr, theta),
            };
            d[i] = g[i] * dvdh;
        }
        return [result];
    }

    protected internal override void ReleaseSaved() => _h.Dispose();
}

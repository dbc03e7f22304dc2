using System;
using Spiking.Tensors;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The charge of one single step, <c>h = f(v_prev, x)</c> (inputs v_prev, x and, for the parametric LIF, w). Its
/// gradients are <c>dL/dv_prev = dL/dh · ∂h/∂v</c>, <c>dL/dx = dL/dh · ∂h/∂x</c> and
/// <c>dL/dw = Σ dL/dh · ∂h/∂k · k(1 − k)</c>; it saves views of v_prev and x only for the last.
/// </summary>
internal sealed class ChargeNode : Node
{
    private readonly NeuronParameters _p;
    private readonly double _k;
    private readonly Tensor? _vPrevious;
    private readonly Tensor? _x;
    private readonly Shape _wShape;

    private ChargeNode(Variable vPrevious, Variable x, Variable? w, NeuronParameters p, double k)
        : base(w is null ? [vPrevious, x] : [vPrevious, x, w])
    {
        _p = p;
        _k = k;
        _wShape = w?.Shape ?? default;
        if (p.LearnK)
        {
            _vPrevious = vPrevious.Dense.Reshape(vPrevious.Shape);
            _x = x.Dense.Reshape(x.Shape);
        }
    }

    public override string Name => "neuron_charge";

    /// <summary>Wraps the already computed <paramref name="h"/> as the op's output, recording the node when needed.</summary>
    public static Variable Wrap(Tensor h, Variable vPrevious, Variable x, Variable? w, NeuronParameters p, double k) =>
        Variable.FromOp(h, w is null
            ? Record(() => new ChargeNode(vPrevious, x, w, p, k), vPrevious, x)
            : Record(() => new ChargeNode(vPrevious, x, w, p, k), vPrevious, x, w));

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var gv = NeedsGrad(0) ? gradOutput.Multiply(_p.DhDv) : null;
        var gx = NeedsGrad(1) ? gradOutput.Multiply(_p.DhDx) : null;
        if (Inputs.Count == 2) return [gv, gx];
        Tensor? gw = null;
        if (NeedsGrad(2))
        {
            var g = gradOutput.AsReadOnlySpan();
            var v = _vPrevious!.AsReadOnlySpan();
            var x = _x!.AsReadOnlySpan();
            double sum = 0;
            for (int i = 0; i < g.Length; i++) sum += (double)g[i] * _p.DhDk(x[i], v[i]);
            gw = Tensor.Full(_wShape, (float)(sum * _k * (1 - _k)));
        }
        return [gv, gx, gw];
    }

    protected internal override void ReleaseSaved()
    {
        _vPrevious?.Dispose();
        _x?.Dispose();
    }
}

using System;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Spiking.Tensors.Backends;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// A layer of spiking neurons in multi-step mode: one fused op over the input current <paramref name="xSeq"/>
    /// <c>[T, ...]</c> (time first) that runs all T steps and returns the spikes <c>[T, ...]</c> as bits. The state
    /// starts from rest, <c>v_{−1} = v_reset</c> (0 for soft reset), as after SpikingJelly's <c>reset_net</c>.
    /// </summary>
    /// <remarks>
    /// Per step, elementwise (see <see cref="NeuronOptions"/>; <c>v_r</c> is v_reset, or 0 for soft reset):
    /// <code>
    /// IF:                     h_t = v_{t-1} + x_t
    /// LIF, decay_input=true:  h_t = v_{t-1} + (x_t − (v_{t-1} − v_r)) / tau
    /// LIF, decay_input=false: h_t = v_{t-1} − (v_{t-1} − v_r) / tau + x_t
    /// ParametricLIF:          as LIF with 1/tau replaced by k = sigmoid(w)
    /// s_t = heaviside(h_t − v_threshold)              (x = 0 spikes; backward: g'(h_t − v_threshold))
    /// hard reset: v_t = s'·v_reset + (1 − s')·h_t     soft reset: v_t = h_t − s'·v_threshold
    /// s' = s_t without its gradient when detach_reset, else s_t
    /// </code>
    /// The backward is full backpropagation through time through v, the reset path included unless
    /// <c>detach_reset</c>; for the parametric LIF it also gives <c>dL/dw = Σ_{t,i} dL/dh_t,i · ∂h_t,i/∂k · k(1 − k)</c>.
    /// The op saves only the pre-reset potentials <c>h</c> (the spikes and <c>v_{t−1}</c> are recomputed from them)
    /// and, for the parametric LIF with <c>decay_input</c>, a view of the input.
    /// </remarks>
    /// <param name="xSeq">The input current, <c>[T, ...]</c> with at least one axis after time; dense.</param>
    /// <param name="options">The neuron model and its settings.</param>
    /// <param name="w">The learnable scalar of a parametric LIF (<c>1/tau = sigmoid(w)</c>); null for IF and LIF.</param>
    /// <exception cref="ArgumentException"><paramref name="xSeq"/> holds spikes or has no axis after time; <paramref name="w"/> is missing for a parametric LIF, given for another model, or not one element.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="w"/> is not finite.</exception>
    public static Variable Neuron(Variable xSeq, NeuronOptions options, Variable? w = null) =>
        NeuronNode.Forward(xSeq, options, w, traces: false, out _, out _);

    /// <summary>
    /// <see cref="Neuron(Variable, NeuronOptions, Variable?)"/> that also returns the membrane potential after reset at
    /// each step, <paramref name="vSeq"/> (SpikingJelly's <c>v_seq</c>), and before firing and reset,
    /// <paramref name="hSeq"/>, both <c>[T, ...]</c>; the caller owns (and disposes) them.
    /// </summary>
    public static Variable Neuron(Variable xSeq, NeuronOptions options, Variable? w, out Tensor vSeq, out Tensor hSeq)
    {
        var spikes = NeuronNode.Forward(xSeq, options, w, traces: true, out var v, out var h);
        vSeq = v!;
        hSeq = h!;
        return spikes;
    }

    /// <summary>SpikingJelly's <c>IFNode</c> in multi-step mode: <c>h_t = v_{t−1} + x_t</c>; see <see cref="Neuron(Variable, NeuronOptions, Variable?)"/>.</summary>
    public static Variable IfMultiStep(Variable xSeq, float vThreshold = 1f, float? vReset = 0f, bool detachReset = false, Surrogate? surrogate = null) =>
        Neuron(xSeq, NeuronOptions.IF(vThreshold, vReset, detachReset, surrogate));

    /// <summary>
    /// SpikingJelly's <c>LIFNode</c> in multi-step mode: <c>h_t = v_{t−1} + (x_t − (v_{t−1} − v_r)) / tau</c> with
    /// <paramref name="decayInput"/>, else <c>h_t = v_{t−1} − (v_{t−1} − v_r) / tau + x_t</c>; see
    /// <see cref="Neuron(Variable, NeuronOptions, Variable?)"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> is not a finite number &gt; 1.</exception>
    public static Variable LifMultiStep(Variable xSeq, double tau = 2.0, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f,
        bool detachReset = false, Surrogate? surrogate = null) =>
        Neuron(xSeq, NeuronOptions.Lif(tau, decayInput, vThreshold, vReset, detachReset, surrogate));

    /// <summary>
    /// SpikingJelly's <c>ParametricLIFNode</c> in multi-step mode: the LIF equations with <c>1/tau</c> replaced by
    /// <c>k = sigmoid(w)</c>, <paramref name="w"/> a learnable scalar (initially <c>−ln(init_tau − 1)</c>, see
    /// <see cref="NeuronOptions.InitialW"/>) that receives <c>dL/dw</c>; see <see cref="Neuron(Variable, NeuronOptions, Variable?)"/>.
    /// </summary>
    public static Variable ParametricLifMultiStep(Variable xSeq, Variable w, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f,
        bool detachReset = false, Surrogate? surrogate = null) =>
        Neuron(xSeq, NeuronOptions.ParametricLif(2.0, decayInput, vThreshold, vReset, detachReset, surrogate), w);
}

/// <summary>
/// The fused multi-step neuron op. Saves the pre-reset potentials <c>h</c> (float) and, for the parametric LIF with
/// <c>decay_input</c>, a view of the input; the backward through time recomputes the spikes and the post-reset
/// potentials from <c>h</c>.
/// </summary>
internal sealed class NeuronNode : Node
{
    private readonly Tensor _h;
    private readonly Tensor? _x;
    private readonly NeuronParameters _p;
    private readonly Surrogate _surrogate;
    private readonly double _k;
    private readonly Shape _wShape;
    private readonly bool _hasW;

    private NeuronNode(Variable xSeq, Variable? w, Tensor h, NeuronParameters p, Surrogate surrogate, double k)
        : base(w is null ? [xSeq] : [xSeq, w])
    {
        _h = h;
        _p = p;
        _surrogate = surrogate;
        _k = k;
        _hasW = w is not null;
        _wShape = w?.Shape ?? default;
        if (p.LearnK && p.DecayInput) _x = xSeq.Dense.Reshape(xSeq.Shape);
    }

    public override string Name => "neuron_multistep";

    public static Variable Forward(Variable xSeq, NeuronOptions options, Variable? w, bool traces, out Tensor? vSeq, out Tensor? hSeq)
    {
        NeuronChecks.Input(xSeq, 2, "[T, ...]: time first, then at least one neuron axis", nameof(xSeq));
        if (w is not null && (xSeq.Device.Kind != DeviceKind.Cpu || w.Device.Kind != DeviceKind.Cpu))
        {
            throw OpChecks.NoDeviceKernel("The parametric LIF", xSeq.Device.Kind != DeviceKind.Cpu ? xSeq.Device : w.Device, "its dL/dk is computed on the CPU only");
        }
        double k = NeuronChecks.ResolveK(options, w);
        var p = new NeuronParameters(options, (float)k);
        var shape = xSeq.Shape;
        bool record = GradMode.IsEnabled && (xSeq.RequiresGrad || (w?.RequiresGrad ?? false));
        var device = xSeq.Device;
        var spikes = SpikeTensor.Zeros(shape, device);
        var h = record || traces ? Tensor.Empty(shape, device) : null;
        vSeq = traces ? Tensor.Empty(shape, device) : null;
        if (device.Kind == DeviceKind.Cpu) NeuronKernel.Forward(xSeq.Dense, shape[0], p, spikes, h, vSeq, null);
        else xSeq.Dense.Backend.NeuronForward(xSeq.Dense, shape[0], DeviceSpec(p, options.Surrogate, device), spikes, h, vSeq);
        hSeq = traces ? h : null;
        NeuronNode? node = null;
        if (record)
        {
            var saved = traces ? h!.Clone() : h!;
            node = w is null
                ? Record(() => new NeuronNode(xSeq, w, saved, p, options.Surrogate, k), xSeq)
                : Record(() => new NeuronNode(xSeq, w, saved, p, options.Surrogate, k), xSeq, w);
            if (node is null) saved.Dispose();
        }
        else if (!traces)
        {
            h?.Dispose();
        }
        return Variable.FromOp(spikes, node);
    }

    /// <summary>
    /// The constants a device kernel runs with. Device kernels compute the ATan and Sigmoid surrogates themselves and
    /// do not learn k, so other surrogates and the parametric LIF stay on the CPU.
    /// </summary>
    private static NeuronKernelSpec DeviceSpec(in NeuronParameters p, Surrogate surrogate, Device device)
    {
        var (kind, alpha) = surrogate switch
        {
            ATan a => (SurrogateKind.ATan, (float)a.Alpha),
            Sigmoid s => (SurrogateKind.Sigmoid, (float)s.Alpha),
            _ => throw OpChecks.NoDeviceKernel($"The {surrogate.Name} surrogate", device, "device neurons compute ATan and Sigmoid"),
        };
        var charge = p.Model == NeuronModel.IntegrateAndFire ? ChargeRule.Integrate : p.DecayInput ? ChargeRule.DecayInputLeak : ChargeRule.Leak;
        return new NeuronKernelSpec(charge, p.Hard, p.Detach, p.Threshold, p.VReset, p.K, kind, alpha);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        if (!_h.IsOnHost)
        {
            var gradDevice = Tensor.Empty(_h.Shape, _h.Device);
            _h.Backend.NeuronBackward(_h, gradOutput, _h.Shape[0], DeviceSpec(_p, _surrogate, _h.Device), gradDevice);
            return [gradDevice];
        }
        var gradX = Tensor.Empty(_h.Shape);
        double dk = NeuronKernel.Backward(_h, gradOutput, _x, _h.Shape[0], _h.Shape.LastDimension, _p, _surrogate, gradX);
        Tensor? gx = gradX;
        if (!NeedsGrad(0))
        {
            gradX.Dispose();
            gx = null;
        }
        if (!_hasW) return [gx];
        var gw = NeedsGrad(1) ? Tensor.Full(_wShape, (float)(dk * _k * (1 - _k))) : null;
        return [gx, gw];
    }

    protected internal override void ReleaseSaved()
    {
        _h.Dispose();
        _x?.Dispose();
    }
}

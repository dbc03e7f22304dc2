using System;
using Spiking.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// RWKV-4's WKV scan over the sequence (SpikeGPT's and RWKV's time mixing), per channel <c>c</c> with decay
    /// <c>w = −exp(timeDecay)</c> and bonus <c>u = timeFirst</c>:
    /// <c>wkv_t = (Σ_{i&lt;t} e^{(t−1−i)w + k_i} v_i + e^{u + k_t} v_t) / (Σ_{i&lt;t} e^{(t−1−i)w + k_i} + e^{u + k_t})</c>,
    /// a weighted average of the values, in the overflow-free form of the official CUDA kernel (sums kept scaled by
    /// a running maximum exponent), so any finite <c>k</c> gives a finite result.
    /// </summary>
    /// <param name="timeDecay">The decay parameter <c>[C]</c> (RWKV's <c>time_decay</c>); larger forgets faster.</param>
    /// <param name="timeFirst">The current token's bonus <c>[C]</c> (RWKV's <c>time_first</c>).</param>
    /// <param name="k">The keys <c>[T, B, C]</c>, time first.</param>
    /// <param name="v">The values <c>[T, B, C]</c>.</param>
    /// <returns><c>[T, B, C]</c>. Backward gives all four gradients and keeps only its inputs and output (O(T·B·C)).</returns>
    /// <exception cref="ArgumentException">The shapes are not <c>[C]</c>, <c>[C]</c>, <c>[T, B, C]</c>, <c>[T, B, C]</c>, or an input holds spikes.</exception>
    public static Variable Wkv(Variable timeDecay, Variable timeFirst, Variable k, Variable v) => WkvNode.Forward(timeDecay, timeFirst, k, v, null);

    /// <summary>
    /// <see cref="Wkv(Variable, Variable, Variable, Variable)"/> continuing from <paramref name="state"/> (<c>[B, C]</c>
    /// sums left by the piece before) instead of empty sums, and leaving the state after the last token in it: a
    /// sequence fed in pieces, or one token at a time (RNN mode), gives the same values as in one call. The carried
    /// state is a constant to the backward (no gradient flows into the piece before), as truncated backpropagation
    /// through the pieces needs.
    /// </summary>
    /// <exception cref="ArgumentException">The state is not for B rows of C channels.</exception>
    public static Variable Wkv(Variable timeDecay, Variable timeFirst, Variable k, Variable v, WkvState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return WkvNode.Forward(timeDecay, timeFirst, k, v, state);
    }
}

/// <summary>
/// The WKV scan, forward and backward side by side (the scans themselves in <see cref="WkvKernel"/>). Every
/// (batch row, channel) is an independent recurrence over T. Backward recomputes the forward's scaled sums instead of
/// saving them, and derives the state gradients by a reverse scan with its own running maximum, as the official
/// kernel does.
/// </summary>
internal sealed class WkvNode : Node
{
    private SavedTensor? _w, _u, _k, _v, _y;
    private Tensor? _initial;

    private WkvNode(Variable timeDecay, Variable timeFirst, Variable k, Variable v, Tensor w, Tensor y, Tensor? initial)
        : base(timeDecay, timeFirst, k, v)
    {
        _initial = initial;
        _w = new SavedTensor(w, "WKV's decay");
        _u = new SavedTensor(timeFirst.Dense, "WKV's time_first");
        _k = new SavedTensor(k.Dense, "WKV's keys");
        _v = new SavedTensor(v.Dense, "WKV's values");
        _y = new SavedTensor(y, "WKV's output");
    }

    public override string Name => "wkv";

    public static Variable Forward(Variable timeDecay, Variable timeFirst, Variable k, Variable v, WkvState? state)
    {
        ArgumentNullException.ThrowIfNull(timeDecay);
        ArgumentNullException.ThrowIfNull(timeFirst);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        var keys = OpChecks.Dense(k, nameof(k), "Wkv");
        var values = OpChecks.Dense(v, nameof(v), "Wkv");
        var decay = OpChecks.Dense(timeDecay, nameof(timeDecay), "Wkv");
        var first = OpChecks.Dense(timeFirst, nameof(timeFirst), "Wkv");
        if (keys.Rank != 3 || values.Shape != keys.Shape)
        {
            throw new ArgumentException($"Wkv needs keys and values of one shape [T, B, C]; got k {keys.Shape} and v {values.Shape}.", nameof(v));
        }
        int channels = keys.Shape[2];
        if (decay.Shape != new Shape(channels) || first.Shape != new Shape(channels))
        {
            throw new ArgumentException(
                $"Wkv needs time_decay and time_first of shape [{channels}] (the channels of k {keys.Shape}); got {decay.Shape} and {first.Shape}.", nameof(timeDecay));
        }
        if (state is not null && (state.Batch != keys.Shape[1] || state.Channels != channels))
        {
            throw new ArgumentException(
                $"Wkv: the carried state is for {state.Batch} rows of {state.Channels} channels; k {keys.Shape} needs {keys.Shape[1]} rows of {channels}.", nameof(state));
        }
        var w = Tensor.Empty(decay.Shape);
        TensorPrimitives.Exp(decay.AsReadOnlySpan(), w.AsSpan());
        TensorPrimitives.Negate(w.AsReadOnlySpan(), w.AsSpan());
        var y = Tensor.Empty(keys.Shape);
        // The state is overwritten with the final one; the backward recomputes the scan from the initial one.
        var initial = state?.Values.Clone();
        WkvKernel.Run(new WkvScan
        {
            Steps = keys.Shape[0], Batch = keys.Shape[1], Channels = channels, W = w, U = first, K = keys, V = values, Y = y,
            Initial = initial, Final = state?.Values,
        });
        var node = Record(() => new WkvNode(timeDecay, timeFirst, k, v, w, y, initial), timeDecay, timeFirst, k, v);
        if (node is null) initial?.Dispose();
        return Variable.FromOp(y, node);
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var k = _k!.Value;
        int steps = k.Shape[0], batch = k.Shape[1], channels = k.Shape[2];
        var gk = Tensor.Empty(k.Shape);
        var gv = Tensor.Empty(k.Shape);
        // Per batch row, the decay and bonus gradients are summed over time; rows are summed afterwards in a fixed
        // order, so the result does not depend on the thread count.
        var gwRows = new float[batch * channels];
        var guRows = new float[batch * channels];
        WkvKernel.Run(new WkvScan
        {
            Steps = steps, Batch = batch, Channels = channels, W = _w!.Value, U = _u!.Value, K = k, V = _v!.Value, Y = _y!.Value,
            Initial = _initial, GradOutput = gradOutput, GradK = gk, GradV = gv, GradWRows = gwRows, GradURows = guRows,
        });
        var gDecay = Tensor.Zeros(channels);
        var gFirst = Tensor.Zeros(channels);
        var gd = gDecay.AsSpan();
        var gf = gFirst.AsSpan();
        for (int b = 0; b < batch; b++)
        {
            TensorPrimitives.Add(gd, gwRows.AsSpan(b * channels, channels), gd);
            TensorPrimitives.Add(gf, guRows.AsSpan(b * channels, channels), gf);
        }
        // d w / d time_decay = −exp(time_decay) = w.
        TensorPrimitives.Multiply(gd, _w.Value.AsReadOnlySpan(), gd);
        return [gDecay, gFirst, gk, gv];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("decay", _w);
        saved.Add("time_first", _u);
        saved.Add("keys", _k);
        saved.Add("values", _v);
        saved.Add("output", _y);
        saved.Add("initial state", _initial);
    }

    protected internal override void ReleaseSaved()
    {
        _w?.Release();
        _u?.Release();
        _k?.Release();
        _v?.Release();
        _y?.Release();
        _w = _u = _k = _v = _y = null;
        _initial?.Dispose();
        _initial = null;
    }
}

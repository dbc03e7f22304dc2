using System;
using System.Collections.Generic;

namespace Spiking.Tensors.Backends;

/// <summary>
/// The seam between tensors and the processors that compute on them. Every tensor lives on a <see cref="Device"/>;
/// an op asks the tensor's backend (<see cref="For"/>) for its kernels, so the op is written once and the CPU and CUDA
/// backends each supply the arithmetic. The CPU backend (<see cref="Cpu"/>) is the reference a device backend must
/// agree with to float32 tolerance; device backends register a factory with
/// <see cref="Register(DeviceKind, Func{int, DeviceBackend})"/>, so nothing here names them.
/// </summary>
/// <remarks>
/// Kernels take their operands already checked by the op that calls them (shapes agree, all on this backend's
/// device); they check only what would corrupt memory. Outputs are written, never accumulated into, unless the
/// method says so. Tensors are row-major; spike tensors are packed as <see cref="SpikeTensor"/> documents.
/// </remarks>
public abstract class ComputeBackend
{
    private static readonly object s_gate = new();
    private static readonly Dictionary<DeviceKind, Func<int, DeviceBackend>> s_factories = [];
    private static readonly Dictionary<Device, DeviceBackend> s_backends = [];

    /// <summary>The managed SIMD backend of host tensors.</summary>
    public static ComputeBackend Cpu { get; } = new CpuBackend();

    /// <summary>The device whose tensors this backend computes on.</summary>
    public abstract Device Device { get; }

    /// <summary>A short description of the processor, for logs (<c>"cuda:0 NVIDIA H200, sm_90"</c>).</summary>
    public abstract string Description { get; }

    /// <summary>
    /// Registers how to open a backend for devices of <paramref name="kind"/>; the factory runs once per device
    /// ordinal, on first use. Registering again replaces the factory for devices not yet opened.
    /// </summary>
    public static void Register(DeviceKind kind, Func<int, DeviceBackend> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (kind == DeviceKind.Cpu) throw new ArgumentException("The CPU backend is built in and cannot be replaced.", nameof(kind));
        lock (s_gate) s_factories[kind] = factory;
    }

    /// <summary>
    /// Registers an already opened backend for its own <see cref="Device"/> (a test double, or a backend opened with
    /// options a factory cannot know).
    /// </summary>
    /// <exception cref="InvalidOperationException">Another backend is already open for that device.</exception>
    public static void Register(DeviceBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        lock (s_gate)
        {
            if (s_backends.TryGetValue(backend.Device, out var open) && !ReferenceEquals(open, backend))
            {
                throw new InvalidOperationException($"A backend for {backend.Device} is already open: {open.Description}.");
            }
            s_backends[backend.Device] = backend;
        }
    }

    /// <summary>The backend of <paramref name="device"/>, opened on first use.</summary>
    /// <exception cref="InvalidOperationException">No backend is registered for the device's kind, or it failed to open the device.</exception>
    public static ComputeBackend For(Device device)
    {
        if (device.Kind == DeviceKind.Cpu) return Cpu;
        lock (s_gate)
        {
            if (s_backends.TryGetValue(device, out var open)) return open;
            if (!s_factories.TryGetValue(device.Kind, out var factory))
            {
                throw new InvalidOperationException(
                    $"No backend is registered for {device}. Reference Spiking.Gpu and call CudaBackend.Register() (the `spiking` command does this for --device cuda).");
            }
            var backend = factory(device.Index);
            s_backends[device] = backend;
            return backend;
        }
    }

    // Elementwise and reductions.

    /// <summary>Sets every element of <paramref name="y"/> to <paramref name="value"/>.</summary>
    public abstract void Fill(Tensor y, float value);

    /// <summary><c>y = a + b</c> elementwise (same element counts; <paramref name="y"/> may be either input).</summary>
    public abstract void Add(Tensor a, Tensor b, Tensor y);

    /// <summary><c>y += alpha·x</c> elementwise.</summary>
    public abstract void AddScaled(Tensor y, Tensor x, float alpha);

    /// <summary><c>y = a ⊙ b</c> elementwise.</summary>
    public abstract void Multiply(Tensor a, Tensor b, Tensor y);

    /// <summary><c>y = alpha·x</c> elementwise.</summary>
    public abstract void Scale(Tensor x, float alpha, Tensor y);

    /// <summary><c>y[r, c] += v[c]</c>: <paramref name="y"/> viewed as rows of <paramref name="v"/>.Length.</summary>
    public abstract void AddRowVector(Tensor y, Tensor v);

    /// <summary><c>y[c] = Σ_r x[r, c]</c>: <paramref name="x"/> viewed as rows of <paramref name="y"/>.Length, summed in row order.</summary>
    public abstract void SumRows(Tensor x, Tensor y);

    /// <summary>The sum of all elements of <paramref name="x"/> into the one-element <paramref name="y"/>.</summary>
    public abstract void Sum(Tensor x, Tensor y);

    // Dense products.

    /// <summary>
    /// SGEMM <c>C[m, n] = op(A)·op(B)</c>, with <c>op(A)</c> <c>[m, k]</c> (A stored <c>[k, m]</c> when
    /// <paramref name="transposeA"/>) and <c>op(B)</c> <c>[k, n]</c> (B stored <c>[n, k]</c> when
    /// <paramref name="transposeB"/>), all row-major and contiguous.
    /// </summary>
    public abstract void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k);

    // Spikes.

    /// <summary>Packs <c>x ≥ threshold</c> (NaN is no spike) into <paramref name="spikes"/> of the same shape.</summary>
    public abstract void PackGreaterOrEqual(Tensor x, float threshold, SpikeTensor spikes);

    /// <summary>Writes 1 for each spike and 0 elsewhere into <paramref name="y"/> of the same shape.</summary>
    public abstract void Unpack(SpikeTensor spikes, Tensor y);

    /// <summary>
    /// <c>Y[M, out] = S[M, in]·Wᵀ (+ bias)</c> for a PyTorch-layout <paramref name="weight"/> <c>[out, in]</c>: for each
    /// spike, an addition of a weight column; no multiplication.
    /// </summary>
    public abstract void SpikeLinear(SpikeTensor spikes, Tensor weight, Tensor? bias, Tensor y);

    /// <summary><c>dW[out, in] = Gᵀ[out, M]·S[M, in]</c>: the weight gradient from spikes.</summary>
    public abstract void SpikeWeightGradient(Tensor gradOutput, SpikeTensor spikes, Tensor gradWeight);

    /// <summary><c>C[M, N] = popcount(A_row ∧ B_row)</c> as floats: the binary <c>Q·Kᵀ</c> of spiking attention.</summary>
    public abstract void AndPopCount(SpikeTensor a, SpikeTensor b, Tensor c);

    /// <summary>
    /// Bernoulli spikes <c>u ≤ p</c> (never for <c>p ≤ 0</c> or NaN) into <paramref name="spikes"/>
    /// <c>[repeats, ...probabilities' shape]</c>: element <c>i</c> of repeat <c>t</c> (row-major over
    /// <paramref name="probabilities"/>, n elements) takes word <c>i mod 4</c> of the Philox4x32-10 block
    /// <c>firstBlock + t·⌈n/4⌉ + i/4</c>, counter <c>(block, stream)</c> and key <c>(key0, key1)</c>: the stream
    /// <see cref="PhiloxGenerator.FillBernoulli"/> gives when called once per repeat, on every device.
    /// </summary>
    public abstract void Bernoulli(Tensor probabilities, int repeats, uint key0, uint key1, ulong stream, ulong firstBlock, SpikeTensor spikes);

    // Layout, convolution and pooling.

    /// <summary>
    /// <c>y[b, c, r] = x[b, r, c]</c>: each of <paramref name="batch"/> row-major matrices <c>[rows, cols]</c> of
    /// <paramref name="x"/> transposed into <paramref name="y"/> (a convolution's position-major product becomes NCHW).
    /// </summary>
    public abstract void TransposeBatched(Tensor x, int batch, int rows, int cols, Tensor y);

    /// <summary>
    /// Unrolls the patches of <paramref name="x"/> <c>[N, C, H, W]</c> into <paramref name="cols"/>
    /// <c>[C·kh·kw, N·Ho·Wo]</c>: row <c>(c, i, j)</c>, column <c>(n, oy, ox)</c> holds the input under tap (i, j) of
    /// the window at (oy, ox), zero in the padding. A convolution is then one SGEMM with the weight <c>[O, C·kh·kw]</c>.
    /// </summary>
    public abstract void Im2Col(Tensor x, in SlidingWindow window, Tensor cols);

    /// <summary>
    /// The adjoint of <see cref="Im2Col"/>: writes into <paramref name="x"/> <c>[N, C, H, W]</c> the sum of the
    /// entries of <paramref name="cols"/> read from each element, added in tap order (i, then j) per element, so
    /// every backend sums in the same order; padding entries are dropped.
    /// </summary>
    public abstract void Col2Im(Tensor cols, in SlidingWindow window, Tensor x);

    /// <summary>
    /// Max pooling of <paramref name="x"/> <c>[N, C, H, W]</c> into <paramref name="y"/> <c>[N, C, Ho, Wo]</c>: each
    /// output is its window's first maximal element in row-major order (a NaN wins), padding never chosen.
    /// </summary>
    public abstract void MaxPool(Tensor x, in SlidingWindow window, Tensor y);

    /// <summary>Max pooling of spikes: an output bit is set when any bit of its window is (padding reads as no spike).</summary>
    public abstract void MaxPool(SpikeTensor x, in SlidingWindow window, SpikeTensor y);

    /// <summary>
    /// Writes into <paramref name="gradX"/> the max-pool gradient: each window's output gradient goes to the element
    /// <see cref="MaxPool(Tensor, in SlidingWindow, Tensor)"/> chose; overlapping windows add in output order.
    /// </summary>
    public abstract void MaxPoolBackward(Tensor gradOutput, Tensor x, in SlidingWindow window, Tensor gradX);

    /// <summary>
    /// The max-pool gradient for spike input: each window's gradient goes to its first set bit in row-major order, or
    /// to its first element inside the input when none is set (the element max pooling picks on 0/1 values).
    /// </summary>
    public abstract void MaxPoolBackward(Tensor gradOutput, SpikeTensor x, in SlidingWindow window, Tensor gradX);

    // Normalisation.

    /// <summary>
    /// Batch normalisation of <paramref name="x"/> <c>[N, C, *]</c> per channel (over N and the trailing axes) into
    /// <paramref name="y"/>: in training the batch mean and biased variance, accumulated in double, normalise, and the
    /// running statistics are updated in place as <paramref name="spec"/> says; otherwise the running statistics
    /// normalise. Writes the mean and <c>1/√(var + eps)</c> it used into <paramref name="statistics"/> <c>[2, C]</c> and
    /// normalises with those float values: <c>y = (x − mean)·invStd·γ + β</c>, formed in double.
    /// </summary>
    public abstract void BatchNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, in BatchNormSpec spec, Tensor y, Tensor statistics);

    /// <summary>
    /// The batch-norm backward from the forward's <paramref name="statistics"/>: <c>dγ = Σ g·x̂</c>, <c>dβ = Σ g</c>
    /// per channel, summed in double, and, when <paramref name="gradX"/> is given, <c>dx = γ·invStd·(g − mean(g) −
    /// x̂·mean(g·x̂))</c> in training (the statistics depend on x) or <c>γ·invStd·g</c> otherwise.
    /// </summary>
    public abstract void BatchNormBackward(Tensor x, Tensor gradOutput, Tensor gamma, Tensor statistics, bool training, Tensor? gradX, Tensor gradGamma, Tensor gradBeta);

    // Neurons.

    /// <summary>
    /// The fused multi-step neuron over <paramref name="x"/> viewed as <c>[steps, perStep]</c>, starting from
    /// <see cref="NeuronKernelSpec.VReset"/>: writes the spikes (shape of <paramref name="x"/>) and, when given, the
    /// pre-reset potentials <paramref name="hSeq"/> and post-reset potentials <paramref name="vSeq"/>.
    /// </summary>
    public abstract void NeuronForward(Tensor x, int steps, in NeuronKernelSpec spec, SpikeTensor spikes, Tensor? hSeq, Tensor? vSeq);

    /// <summary>
    /// Back-propagates through time from the pre-reset potentials <paramref name="hSeq"/> and the spikes' gradient
    /// <paramref name="gradSpikes"/>, writing <c>dL/dx</c> into <paramref name="gradX"/>.
    /// </summary>
    public abstract void NeuronBackward(Tensor hSeq, Tensor gradSpikes, int steps, in NeuronKernelSpec spec, Tensor gradX);

    // Optimizers.

    /// <summary>One Adam/AdamW step on <paramref name="parameter"/> with its moments, in place.</summary>
    public abstract void AdamStep(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, in AdamStepSpec spec);
}

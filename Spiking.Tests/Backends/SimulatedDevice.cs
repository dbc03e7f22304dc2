using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Spiking.Tensors;
using Spiking.Tensors.Backends;

namespace Spiking.Tests.Backends;

/// <summary>
/// A device backend whose "device memory" is unmanaged host memory the managed code cannot span: every kernel copies
/// its operands to host tensors, runs <see cref="ComputeBackend.Cpu"/> and copies the outputs back. It exercises the
/// seam (ops asking a tensor's backend, Module.To, device-resident optimizer state) without a GPU; its answers are the
/// CPU backend's by construction, so tests with it check the plumbing, not a device's arithmetic.
/// </summary>
internal sealed unsafe class SimulatedDevice : DeviceBackend
{
    public static SimulatedDevice Instance { get; } = Open();

    /// <summary>The test collection of every class that allocates on the device, so that <see cref="LiveAllocations"/> counts one test's work.</summary>
    public const string CollectionName = "simulated device";

    private readonly object _gate = new();

    private SimulatedDevice()
    {
    }

    /// <summary>Live allocations, to check that a training step returns what it takes.</summary>
    public int LiveAllocations { get; private set; }

    /// <summary>Kernel launches by name since start.</summary>
    public Dictionary<string, int> Launches { get; } = [];

    public override Device Device { get; } = new(DeviceKind.Cuda, 99);

    public override string Description => "cuda:99 simulated in host memory";

    /// <summary>A second backend claiming the same device, never registered: for the registry's conflict check.</summary>
    public static SimulatedDevice CreateUnregistered() => new();

    private static SimulatedDevice Open()
    {
        var device = new SimulatedDevice();
        Register(device);
        return device;
    }

    public override DeviceMemory Allocate(long bytes)
    {
        lock (_gate) LiveAllocations++;
        return new Memory(this, bytes);
    }

    public override void CopyFromHost(ReadOnlySpan<byte> source, ulong destination) => source.CopyTo(new Span<byte>((void*)destination, source.Length));

    public override void CopyToHost(ulong source, Span<byte> destination) => new ReadOnlySpan<byte>((void*)source, destination.Length).CopyTo(destination);

    public override void CopyOnDevice(ulong source, ulong destination, long bytes) =>
        Buffer.MemoryCopy((void*)source, (void*)destination, bytes, bytes);

    public override void ClearMemory(ulong destination, long bytes) => NativeMemory.Clear((void*)destination, (nuint)bytes);

    public override void Synchronize()
    {
    }

    public override void Fill(Tensor y, float value) => Run(nameof(Fill), [], [y], h => Cpu.Fill(h[0], value));

    public override void Add(Tensor a, Tensor b, Tensor y) => Run(nameof(Add), [a, b], [y], h => Cpu.Add(h[0], h[1], h[2]));

    public override void AddScaled(Tensor y, Tensor x, float alpha) => Run(nameof(AddScaled), [x], [y], h => Cpu.AddScaled(h[1], h[0], alpha), readOutputs: true);

    public override void Multiply(Tensor a, Tensor b, Tensor y) => Run(nameof(Multiply), [a, b], [y], h => Cpu.Multiply(h[0], h[1], h[2]));

    public override void Scale(Tensor x, float alpha, Tensor y) => Run(nameof(Scale), [x], [y], h => Cpu.Scale(h[0], alpha, h[1]));

    public override void AddRowVector(Tensor y, Tensor v) => Run(nameof(AddRowVector), [v], [y], h => Cpu.AddRowVector(h[1], h[0]), readOutputs: true);

    public override void SumRows(Tensor x, Tensor y) => Run(nameof(SumRows), [x], [y], h => Cpu.SumRows(h[0], h[1]));

    public override void Sum(Tensor x, Tensor y) => Run(nameof(Sum), [x], [y], h => Cpu.Sum(h[0], h[1]));

    public override void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k) =>
        Run(nameof(Gemm), [a, b], [c], h => Cpu.Gemm(h[0], transposeA, h[1], transposeB, h[2], m, n, k));

    public override void PackGreaterOrEqual(Tensor x, float threshold, SpikeTensor spikes)
    {
        Count(nameof(PackGreaterOrEqual));
        using var hx = x.To(Device.Cpu);
        using var hs = SpikeTensor.Zeros(spikes.Shape);
        Cpu.PackGreaterOrEqual(hx, threshold, hs);
        Upload(hs, spikes);
    }

    public override void Unpack(SpikeTensor spikes, Tensor y)
    {
        Count(nameof(Unpack));
        using var hs = spikes.To(Device.Cpu);
        using var hy = Tensor.Empty(y.Shape);
        Cpu.Unpack(hs, hy);
        Upload(hy, y);
    }

    public override void SpikeLinear(SpikeTensor spikes, Tensor weight, Tensor? bias, Tensor y)
    {
        Count(nameof(SpikeLinear));
        using var hs = spikes.To(Device.Cpu);
        using var hw = weight.To(Device.Cpu);
        using var hb = bias?.To(Device.Cpu);
        using var hy = Tensor.Empty(y.Shape);
        Cpu.SpikeLinear(hs, hw, hb, hy);
        Upload(hy, y);
    }

    public override void SpikeWeightGradient(Tensor gradOutput, SpikeTensor spikes, Tensor gradWeight)
    {
        Count(nameof(SpikeWeightGradient));
        using var hg = gradOutput.To(Device.Cpu);
        using var hs = spikes.To(Device.Cpu);
        using var hd = Tensor.Empty(gradWeight.Shape);
        Cpu.SpikeWeightGradient(hg, hs, hd);
        Upload(hd, gradWeight);
    }

    public override void AndPopCount(SpikeTensor a, SpikeTensor b, Tensor c)
    {
        Count(nameof(AndPopCount));
        using var ha = a.To(Device.Cpu);
        using var hb = b.To(Device.Cpu);
        using var hc = Tensor.Empty(c.Shape);
        Cpu.AndPopCount(ha, hb, hc);
        Upload(hc, c);
    }

    public override void Bernoulli(Tensor probabilities, int repeats, uint key0, uint key1, ulong stream, ulong firstBlock, SpikeTensor spikes)
    {
        Count(nameof(Bernoulli));
        using var hp = probabilities.To(Device.Cpu);
        using var hs = SpikeTensor.Zeros(spikes.Shape);
        Cpu.Bernoulli(hp, repeats, key0, key1, stream, firstBlock, hs);
        Upload(hs, spikes);
    }

    public override void TransposeBatched(Tensor x, int batch, int rows, int cols, Tensor y) =>
        Run(nameof(TransposeBatched), [x], [y], h => Cpu.TransposeBatched(h[0], batch, rows, cols, h[1]));

    public override void Im2Col(Tensor x, in SlidingWindow window, Tensor cols)
    {
        var copy = window;
        Run(nameof(Im2Col), [x], [cols], h => Cpu.Im2Col(h[0], copy, h[1]));
    }

    public override void Col2Im(Tensor cols, in SlidingWindow window, Tensor x)
    {
        var copy = window;
        Run(nameof(Col2Im), [cols], [x], h => Cpu.Col2Im(h[0], copy, h[1]));
    }

    public override void MaxPool(Tensor x, in SlidingWindow window, Tensor y)
    {
        var copy = window;
        Run(nameof(MaxPool), [x], [y], h => Cpu.MaxPool(h[0], copy, h[1]));
    }

    public override void MaxPool(SpikeTensor x, in SlidingWindow window, SpikeTensor y)
    {
        Count(nameof(MaxPool) + "Bits");
        using var hx = x.To(Device.Cpu);
        using var hy = SpikeTensor.Zeros(y.Shape);
        Cpu.MaxPool(hx, window, hy);
        Upload(hy, y);
    }

    public override void MaxPoolBackward(Tensor gradOutput, Tensor x, in SlidingWindow window, Tensor gradX)
    {
        var copy = window;
        Run(nameof(MaxPoolBackward), [gradOutput, x], [gradX], h => Cpu.MaxPoolBackward(h[0], h[1], copy, h[2]));
    }

    public override void MaxPoolBackward(Tensor gradOutput, SpikeTensor x, in SlidingWindow window, Tensor gradX)
    {
        Count(nameof(MaxPoolBackward) + "Bits");
        using var hg = gradOutput.To(Device.Cpu);
        using var hx = x.To(Device.Cpu);
        using var hd = Tensor.Empty(gradX.Shape);
        Cpu.MaxPoolBackward(hg, hx, window, hd);
        Upload(hd, gradX);
    }

    public override void BatchNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, in BatchNormSpec spec, Tensor y, Tensor statistics)
    {
        var copy = spec;
        Run(nameof(BatchNormForward), [x, gamma, beta], [runningMean, runningVar, y, statistics],
            h => Cpu.BatchNormForward(h[0], h[1], h[2], h[3], h[4], copy, h[5], h[6]), readOutputs: true);
    }

    public override void BatchNormBackward(Tensor x, Tensor gradOutput, Tensor gamma, Tensor statistics, bool training, Tensor? gradX, Tensor gradGamma, Tensor gradBeta)
    {
        Tensor[] outputs = gradX is null ? [gradGamma, gradBeta] : [gradGamma, gradBeta, gradX];
        Run(nameof(BatchNormBackward), [x, gradOutput, gamma, statistics], outputs,
            h => Cpu.BatchNormBackward(h[0], h[1], h[2], h[3], training, h.Length > 6 ? h[6] : null, h[4], h[5]));
    }

    public override void NeuronForward(Tensor x, int steps, in NeuronKernelSpec spec, SpikeTensor spikes, Tensor? hSeq, Tensor? vSeq)
    {
        Count(nameof(NeuronForward));
        using var hx = x.To(Device.Cpu);
        using var hs = SpikeTensor.Zeros(spikes.Shape);
        using var hh = hSeq is null ? null : Tensor.Empty(hSeq.Shape);
        using var hv = vSeq is null ? null : Tensor.Empty(vSeq.Shape);
        Cpu.NeuronForward(hx, steps, spec, hs, hh, hv);
        Upload(hs, spikes);
        if (hh is not null) Upload(hh, hSeq!);
        if (hv is not null) Upload(hv, vSeq!);
    }

    public override void NeuronBackward(Tensor hSeq, Tensor gradSpikes, int steps, in NeuronKernelSpec spec, Tensor gradX)
    {
        var copy = spec;
        Run(nameof(NeuronBackward), [hSeq, gradSpikes], [gradX], h => Cpu.NeuronBackward(h[0], h[1], steps, copy, h[2]));
    }

    public override void AdamStep(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, in AdamStepSpec spec)
    {
        var copy = spec;
        Run(nameof(AdamStep), [gradient], [parameter, firstMoment, secondMoment], h => Cpu.AdamStep(h[1], h[0], h[2], h[3], copy), readOutputs: true);
    }

    private void Count(string kernel)
    {
        lock (_gate) Launches[kernel] = Launches.GetValueOrDefault(kernel) + 1;
    }

    /// <summary>Copies inputs (and outputs when the kernel reads them) to the host, runs the CPU kernel, copies outputs back.</summary>
    private void Run(string kernel, Tensor[] inputs, Tensor[] outputs, Action<Tensor[]> body, bool readOutputs = false)
    {
        Count(kernel);
        var host = new Tensor[inputs.Length + outputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++) host[i] = inputs[i].To(Device.Cpu);
            for (int i = 0; i < outputs.Length; i++) host[inputs.Length + i] = readOutputs ? outputs[i].To(Device.Cpu) : Tensor.Empty(outputs[i].Shape);
            body(host);
            for (int i = 0; i < outputs.Length; i++) Upload(host[inputs.Length + i], outputs[i]);
        }
        finally
        {
            foreach (var t in host) t?.Dispose();
        }
    }

    private void Upload(Tensor host, Tensor device) => CopyFromHost(MemoryMarshal.AsBytes(host.AsReadOnlySpan()), device.DeviceAddress);

    private void Upload(SpikeTensor host, SpikeTensor device) => CopyFromHost(MemoryMarshal.AsBytes((ReadOnlySpan<ulong>)host.Words), device.DeviceAddress);

    private sealed class Memory : DeviceMemory
    {
        private readonly void* _pointer;

        public Memory(SimulatedDevice backend, long bytes) : base(backend, bytes)
        {
            _pointer = NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 64);
        }

        public override ulong Address => (ulong)_pointer;

        protected override void Free()
        {
            NativeMemory.AlignedFree(_pointer);
            var owner = (SimulatedDevice)Backend;
            lock (owner._gate) owner.LiveAllocations--;
        }
    }
}

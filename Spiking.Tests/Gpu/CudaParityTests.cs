using System;
using System.IO;
using System.Linq;
using FsCheck;
using FsCheck.Fluent;
using Spiking.Gpu;
using Spiking.Gpu.Interop;
using Spiking.Tensors;
using Spiking.Tensors.Backends;
using Spiking.Tests.Neurons;
using Xunit;

namespace Spiking.Tests.Gpu;

/// <summary>
/// The CUDA backend against the CPU reference, one kernel family per test. Without a usable CUDA driver and NVRTC
/// they skip with the reason <see cref="CudaBackend.IsAvailable"/> gives; with <c>SPIKING_CUDA_LIBRARY_PATH</c>
/// pointing at the CPU emulator (tools/cuda-emulator) they run on any machine.
/// </summary>
[Collection("Cuda")]
public sealed class CudaParityTests
{
    private const int Seed = 20261130;

    public static TheoryData<string> Families => [.. CudaSelfTest.Families];

    [Theory]
    [MemberData(nameof(Families))]
    public void Kernel_family_matches_the_cpu(string family)
    {
        var backend = Backend();
        using var log = new StringWriter();
        var results = CudaSelfTest.RunFamily(backend, family, Seed, log);
        Assert.NotEmpty(results);
        Assert.True(results.All(r => r.Passed), log.ToString());
    }

    [Theory]
    [InlineData(1, 1, 1, 0.5)]
    [InlineData(3, 64, 5, 0.1)]
    [InlineData(17, 65, 9, 1.0)]
    [InlineData(40, 200, 70, 0.3)]
    public void Spike_products_match_the_cpu_on_odd_shapes(int m, int k, int n, double rate)
    {
        var backend = Backend();
        var problem = new ProductCase(m, k, n, rate, Seed);
        using var spikes = problem.Spikes(m, k).Create();
        using var weight = Tensor.FromSpan(problem.Normal(n * k, 1), new Shape(n, k));
        using var bias = Tensor.FromSpan(problem.Normal(n, 2), new Shape(n));
        using var grad = Tensor.FromSpan(problem.Normal(m * n, 3), new Shape(m, n));
        var cpu = ComputeBackend.Cpu;

        using var y = Tensor.Zeros(new Shape(m, n));
        cpu.SpikeLinear(spikes, weight, bias, y);
        using var dw = Tensor.Zeros(new Shape(n, k));
        cpu.SpikeWeightGradient(grad, spikes, dw);

        var device = backend.Device;
        using var ds = spikes.To(device);
        using var dWeight = weight.To(device);
        using var dBias = bias.To(device);
        using var dGrad = grad.To(device);
        using var dy = Tensor.Zeros(new Shape(m, n), device);
        backend.SpikeLinear(ds, dWeight, dBias, dy);
        using var ddw = Tensor.Zeros(new Shape(n, k), device);
        backend.SpikeWeightGradient(dGrad, ds, ddw);
        using var dense = Tensor.Zeros(new Shape(m, k), device);
        backend.Unpack(ds, dense);
        using var repacked = SpikeTensor.Zeros(new Shape(m, k), device);
        backend.PackGreaterOrEqual(dense, 0.5f, repacked);

        AssertClose(y.ToArray(), dy.ToArray());
        AssertClose(dw.ToArray(), ddw.ToArray());
        using var back = repacked.To(Device.Cpu);
        Assert.Equal(spikes.Words.ToArray(), back.Words.ToArray());
    }

    /// <summary>Philox problems from the shared generator (counters just below a 32- or 64-bit carry included), sampled with a fixed seed.</summary>
    public static TheoryData<PhiloxCase> PhiloxCases => [.. Generators.PhiloxCases().Generator.Sample(12, new Rnd(Seed), 50)];

    [Theory]
    [MemberData(nameof(PhiloxCases))]
    public void Bernoulli_draws_are_the_cpu_bits(PhiloxCase problem)
    {
        var backend = Backend();
        const int Rows = 3, Repeats = 3;
        int rowLength = Math.Max(1, problem.Length);
        using var probabilities = Tensor.FromSpan(new ProductCase(Rows, rowLength, 1, 0, (int)(problem.Seed % 1000)).Normal(Rows * rowLength, 4), new Shape(Rows, rowLength));
        var shape = new Shape(Repeats, Rows, rowLength);
        uint key0 = (uint)problem.Seed, key1 = (uint)(problem.Seed >> 32);
        using var cpuSpikes = SpikeTensor.Zeros(shape);
        ComputeBackend.Cpu.Bernoulli(probabilities, Repeats, key0, key1, problem.Stream, problem.FirstBlock, cpuSpikes);
        using var dp = probabilities.To(backend.Device);
        using var gpuSpikes = SpikeTensor.Zeros(shape, backend.Device);
        backend.Bernoulli(dp, Repeats, key0, key1, problem.Stream, problem.FirstBlock, gpuSpikes);
        using var back = gpuSpikes.To(Device.Cpu);
        Assert.Equal(cpuSpikes.Words.ToArray(), back.Words.ToArray());
    }

    /// <summary>Neuron problems from the shared generator that a device computes (IF and LIF, ATan and Sigmoid), sampled with a fixed seed.</summary>
    public static TheoryData<NeuronCase> NeuronCases =>
    [
        .. Generators.NeuronCases().Generator
            .Where(c => c.Model != LifKind.ParametricLeakyIntegrateAndFire && c.Surrogate is "ATan" or "Sigmoid")
            .Sample(12, new Rnd(Seed), 50),
    ];

    [Theory]
    [MemberData(nameof(NeuronCases))]
    public void Neuron_forward_and_backward_match_the_cpu(NeuronCase problem)
    {
        var backend = Backend();
        var cpu = ComputeBackend.Cpu;
        var spec = new NeuronKernelSpec(
            problem.Model == LifKind.IntegrateAndFire ? ChargeRule.Integrate
                : problem.DecayInput ? ChargeRule.DecayInputLeak : ChargeRule.Leak,
            problem.Hard, problem.Detach, problem.Threshold, problem.Hard ? problem.Reset : 0f, (float)(1 / problem.Tau),
            problem.Surrogate == "ATan" ? SurrogateKind.ATan : SurrogateKind.Sigmoid, problem.Surrogate == "ATan" ? 2f : 4f);
        var (xs, gs) = problem.Inputs();
        using var x = Tensor.FromSpan(xs, problem.Shape);
        using var g = Tensor.FromSpan(gs, problem.Shape);
        using var spikes = SpikeTensor.Zeros(problem.Shape);
        using var h = Tensor.Zeros(problem.Shape);
        using var v = Tensor.Zeros(problem.Shape);
        cpu.NeuronForward(x, problem.Steps, spec, spikes, h, v);
        using var gx = Tensor.Zeros(problem.Shape);
        cpu.NeuronBackward(h, g, problem.Steps, spec, gx);

        var device = backend.Device;
        using var dx = x.To(device);
        using var dg = g.To(device);
        using var dSpikes = SpikeTensor.Zeros(problem.Shape, device);
        using var dh = Tensor.Zeros(problem.Shape, device);
        using var dv = Tensor.Zeros(problem.Shape, device);
        backend.NeuronForward(dx, problem.Steps, spec, dSpikes, dh, dv);
        using var dgx = Tensor.Zeros(problem.Shape, device);
        backend.NeuronBackward(dh, dg, problem.Steps, spec, dgx);

        using var back = dSpikes.To(Device.Cpu);
        Assert.Equal(spikes.Words.ToArray(), back.Words.ToArray());
        Assert.Equal(h.ToArray(), dh.ToArray());
        Assert.Equal(v.ToArray(), dv.ToArray());
        AssertClose(gx.ToArray(), dgx.ToArray());
    }

    [Fact]
    public void Pool_serves_a_repeated_size_from_its_cache()
    {
        var backend = Backend();
        var shape = new Shape(123, 45);
        using (Tensor.Empty(shape, backend.Device))
        {
        }
        long allocations = backend.Pool.Allocations, hits = backend.Pool.Hits;
        for (int i = 0; i < 3; i++)
        {
            using var again = Tensor.Empty(shape, backend.Device);
        }
        Assert.Equal(allocations, backend.Pool.Allocations);
        Assert.Equal(hits + 3, backend.Pool.Hits);
        Assert.True(backend.Pool.CachedBytes >= CudaMemoryPool.RoundUp(shape.ElementCount * sizeof(float)));
    }

    [Fact]
    public void A_second_backend_copies_both_ways_and_gives_its_cache_back_when_disposed()
    {
        Backend();
        var backend = new CudaBackend(0);
        byte[] sent = [.. Enumerable.Range(0, 1000).Select(i => (byte)(i * 7))];
        var memory = backend.Allocate(sent.Length);
        backend.ClearMemory(memory.Address, sent.Length);
        var received = new byte[sent.Length];
        backend.CopyToHost(memory.Address, received);
        Assert.All(received, b => Assert.Equal(0, b));
        backend.CopyFromHost(sent, memory.Address);
        var copy = backend.Allocate(sent.Length);
        backend.CopyOnDevice(memory.Address, copy.Address, sent.Length);
        backend.CopyToHost(copy.Address, received);
        Assert.Equal(sent, received);
        memory.Release();
        copy.Release();
        Assert.True(backend.Pool.CachedBytes > 0);

        backend.Dispose();
        Assert.Equal(0, backend.Pool.CachedBytes);
        Assert.Throws<ObjectDisposedException>(() => backend.Allocate(16));
        backend.Dispose();
    }

    [Theory]
    [InlineData(0, 512)]
    [InlineData(1, 512)]
    [InlineData(513, 1024)]
    [InlineData(1 << 20, 1 << 20)]
    [InlineData((1 << 20) + 1, 2 << 20)]
    [InlineData((2 << 20) + 1, 4 << 20)]
    public void Pool_rounds_requests_up_to_size_classes(long bytes, long expected) =>
        Assert.Equal(expected, CudaMemoryPool.RoundUp(bytes));

    [Fact]
    public void A_failed_driver_call_names_the_call_and_the_error()
    {
        var backend = Backend();
        var e = Assert.Throws<CudaException>(() => backend.Driver.Device(9999));
        Assert.StartsWith("cuDeviceGet(9999 ordinal) failed: CUDA_ERROR_INVALID_DEVICE (", e.Message, StringComparison.Ordinal);
        Assert.Equal("CUDA_ERROR_INVALID_DEVICE", e.ErrorName);
    }

    [Fact]
    public void A_missing_kernel_names_the_lookup()
    {
        var backend = Backend();
        var e = Assert.Throws<CudaException>(() => backend.Function("elementwise", "no_such_kernel"));
        Assert.Contains("cuModuleGetFunction(no_such_kernel) failed: CUDA_ERROR_NOT_FOUND", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reductions_repeat_to_the_bit()
    {
        var backend = Backend();
        using var host = new TensorCase([300, 347], Seed).Create();
        using var x = host.To(backend.Device);
        using var first = Tensor.Zeros(new Shape(1), backend.Device);
        using var second = Tensor.Zeros(new Shape(1), backend.Device);
        backend.Sum(x, first);
        backend.Sum(x, second);
        Assert.Equal(BitConverter.SingleToInt32Bits(first.ToArray()[0]), BitConverter.SingleToInt32Bits(second.ToArray()[0]));
        using var rows = Tensor.Zeros(new Shape(347), backend.Device);
        backend.SumRows(x, rows);
        using var cpuRows = Tensor.Zeros(new Shape(347));
        ComputeBackend.Cpu.SumRows(host, cpuRows);
        Assert.Equal(cpuRows.ToArray(), rows.ToArray());
    }

    [Fact]
    public void A_launch_allocates_nothing_on_the_managed_heap()
    {
        var backend = Backend();
        using var a = Tensor.Zeros(new Shape(1000), backend.Device);
        using var b = Tensor.Zeros(new Shape(1000), backend.Device);
        backend.Add(a, b, a);
        backend.Synchronize();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            backend.Add(a, b, a);
            backend.AddScaled(a, b, 0.5f);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        backend.Synchronize();
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Out_of_memory_releases_the_cache_and_retries_once()
    {
        var backend = Backend();
        var pool = backend.Pool;
        long large = backend.TotalMemory / 10 * 6;
        backend.Allocate(large).Release();
        Assert.True(pool.CachedBytes >= large);
        long allocations = pool.Allocations;

        // The cached block and the new one do not fit together: the first cuMemAlloc fails, the cache goes back
        // to the driver and the second succeeds.
        var second = backend.Allocate(large + CudaMemoryPool.LargeGranularity);
        Assert.Equal(allocations + 1, pool.Allocations);
        Assert.Equal(0, pool.CachedBytes);
        second.Release();

        var e = Assert.Throws<OutOfMemoryException>(() => backend.Allocate(backend.TotalMemory * 2));
        var inner = Assert.IsType<CudaException>(e.InnerException);
        Assert.StartsWith("cuMemAlloc_v2(", inner.Message, StringComparison.Ordinal);
        Assert.Contains("failed: CUDA_ERROR_OUT_OF_MEMORY (", inner.Message, StringComparison.Ordinal);
        pool.ReleaseCached();
    }

    [Fact]
    public void A_compilation_error_carries_the_program_log()
    {
        var backend = Backend();
        const string Source = "extern \"C\" __global__ void broken(float* y) { y[0] = undeclared_name; }";
        var e = Assert.Throws<CudaException>(() => backend.Compiler.CompileToPtx(Source, "broken.cu", backend.CompileOptions));
        Assert.StartsWith("nvrtcCompileProgram(broken.cu, --gpu-architecture=compute_", e.Message, StringComparison.Ordinal);
        Assert.Contains("NVRTC_ERROR_COMPILATION", e.Message, StringComparison.Ordinal);
        Assert.Contains("undeclared_name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_driver_library_is_named_in_the_reason()
    {
        Assert.Null(CudaDriver.TryLoad(["libcuda-not-installed.so.1"], out var reason));
        Assert.Contains("libcuda-not-installed.so.1 not found (no NVIDIA driver)", reason, StringComparison.Ordinal);
        Assert.Null(Nvrtc.TryLoad(["libnvrtc-not-installed.so"], out reason));
        Assert.Contains("libnvrtc-not-installed.so", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Availability_gives_a_reason_exactly_when_unavailable()
    {
        bool available = CudaBackend.IsAvailable(out var reason);
        Assert.Equal(available, reason.Length == 0);
    }

    [Fact]
    public void Description_names_the_device_and_its_architecture()
    {
        var backend = Backend();
        Assert.StartsWith("cuda:0 ", backend.Description, StringComparison.Ordinal);
        Assert.Contains(", sm_", backend.Description, StringComparison.Ordinal);
        Assert.EndsWith(" GiB", backend.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Self_test_passes_every_kernel()
    {
        var backend = Backend();
        using var log = new StringWriter();
        var report = CudaSelfTest.Run(backend, Seed, log);
        TestContext.Current.TestOutputHelper?.WriteLine($"{backend.Description}\n{log}");
        Assert.True(report.AllPassed, log.ToString());
        Assert.EndsWith($"{report.Passed} passed, 0 failed", log.ToString().TrimEnd(), StringComparison.Ordinal);
    }

    /// <summary>The registered backend of cuda:0, or a skip with the reason CUDA is unavailable.</summary>
    private static CudaBackend Backend()
    {
        if (!CudaBackend.IsAvailable(out var reason)) Assert.Skip(reason);
        return CudaBackend.Open();
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = CudaSelfTest.FloatTolerance * Math.Max(Math.Abs(expected[i]), 1);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}

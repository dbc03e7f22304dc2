using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using Spiking.Gpu.Interop;
using Spiking.Tensors;
using Spiking.Tensors.Backends;

namespace Spiking.Gpu;

/// <summary>
/// The CUDA backend: one NVIDIA GPU reached through the driver API and NVRTC by P/Invoke, with no native library of
/// its own. It works in the device's primary context on one stream, so every kernel and copy runs in the order it
/// was queued; copies to the host wait for that work. Memory comes from a caching pool (<see cref="CudaMemoryPool"/>).
/// Kernels are CUDA C compiled at first use for the device's architecture (<c>Spiking.Gpu/Kernels/*.cu</c>).
/// Calls are serialised by a lock, which is all one training thread needs.
/// </summary>
public sealed partial class CudaBackend : DeviceBackend, IDisposable
{
    private const uint Threads = 256;

    private static readonly Lazy<Libraries> s_libraries = new(Libraries.Load, LazyThreadSafetyMode.ExecutionAndPublication);

    [ThreadStatic]
    private static IntPtr t_currentContext;

    private readonly Lock _gate = new();
    private readonly CudaDriver _driver;
    private readonly Nvrtc _nvrtc;
    private readonly int _device;
    private readonly IntPtr _context;
    private readonly IntPtr _stream;
    private readonly int _major;
    private readonly int _minor;
    private readonly uint _maxBlocks;
    private readonly Dictionary<string, IntPtr> _modules = [];
    private readonly Dictionary<string, IntPtr> _functions = [];
    private bool _disposed;

    /// <summary>Opens CUDA device <paramref name="ordinal"/>: retains its primary context and creates the backend's stream.</summary>
    /// <exception cref="InvalidOperationException">CUDA is not available (<see cref="IsAvailable"/> says why).</exception>
    /// <exception cref="ArgumentOutOfRangeException">There is no device with that ordinal.</exception>
    /// <exception cref="CudaException">A driver call failed.</exception>
    public CudaBackend(int ordinal)
    {
        var libraries = s_libraries.Value;
        if (libraries.Driver is null || libraries.Nvrtc is null) throw new InvalidOperationException($"CUDA is not available: {libraries.Reason}.");
        _driver = libraries.Driver;
        _nvrtc = libraries.Nvrtc;
        int count = _driver.DeviceCount();
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        if (ordinal >= count)
        {
            throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal, $"There are {count} CUDA devices; cuda:{ordinal} does not exist.");
        }
        Device = new Device(DeviceKind.Cuda, ordinal);
        _device = _driver.Device(ordinal);
        Name = _driver.DeviceName(_device);
        _major = _driver.DeviceAttribute(_device, CudaDriver.AttributeComputeCapabilityMajor);
        _minor = _driver.DeviceAttribute(_device, CudaDriver.AttributeComputeCapabilityMinor);
        TotalMemory = _driver.DeviceTotalMemory(_device);
        int multiprocessors = _driver.DeviceAttribute(_device, CudaDriver.AttributeMultiprocessorCount);
        // Grid-stride kernels need no more blocks than fill the machine several times over.
        _maxBlocks = (uint)Math.Max(1, multiprocessors) * 32;
        _context = _driver.PrimaryContextRetain(_device);
        MakeCurrent();
        _stream = _driver.StreamCreate(CudaDriver.StreamNonBlocking);
        // Draining does not take the backend's lock: Dispose holds it while it closes the pool.
        Pool = new CudaMemoryPool(_driver, MakeCurrent, () =>
        {
            MakeCurrent();
            _driver.StreamSynchronize(_stream);
        });
    }

    /// <inheritdoc/>
    public override Device Device { get; }

    /// <summary>The device's name as the driver reports it.</summary>
    public string Name { get; }

    /// <summary>The compute capability as <c>sm_XY</c>.</summary>
    public string Architecture => $"sm_{_major}{_minor}";

    /// <summary>The device's memory in bytes.</summary>
    public long TotalMemory { get; }

    /// <inheritdoc/>
    public override string Description =>
        string.Create(CultureInfo.InvariantCulture, $"{Device} {Name}, {Architecture}, {TotalMemory / (double)(1L << 30):F1} GiB");

    /// <summary>The caching allocator that serves <see cref="Allocate"/>; its counters show how often the driver is asked.</summary>
    public CudaMemoryPool Pool { get; }

    /// <summary>
    /// Whether a CUDA backend can be opened here: the driver library loads and initialises, NVRTC loads, and there
    /// is at least one device. When not, <paramref name="reason"/> says what is missing
    /// (<c>libcuda.so.1 not found (no NVIDIA driver)</c>, <c>no CUDA device</c>, …).
    /// </summary>
    public static bool IsAvailable(out string reason)
    {
        var libraries = s_libraries.Value;
        reason = libraries.Reason;
        return libraries.Driver is not null && libraries.Nvrtc is not null;
    }

    /// <summary>Registers this backend for <see cref="DeviceKind.Cuda"/> devices, so <c>Tensor.To(Device.Parse("cuda"))</c> and <see cref="ComputeBackend.For"/> open it.</summary>
    public static void Register() => ComputeBackend.Register(DeviceKind.Cuda, ordinal => new CudaBackend(ordinal));

    /// <summary>The registered backend of <c>cuda:<paramref name="ordinal"/></c> (registering it first), the one tensors on that device use.</summary>
    public static CudaBackend Open(int ordinal = 0)
    {
        Register();
        return (CudaBackend)For(new Device(DeviceKind.Cuda, ordinal));
    }

    /// <inheritdoc/>
    public override DeviceMemory Allocate(long bytes) => new CudaDeviceMemory(this, Pool, bytes);

    /// <inheritdoc/>
    public override unsafe void CopyFromHost(ReadOnlySpan<byte> source, ulong destination)
    {
        if (source.IsEmpty) return;
        lock (_gate)
        {
            Ready();
            fixed (byte* p = source)
            {
                _driver.MemcpyHtoDAsync(destination, p, source.Length, _stream);
                // The span may be released as soon as this returns, so the copy must have read it.
                _driver.StreamSynchronize(_stream);
            }
        }
    }

    /// <inheritdoc/>
    public override unsafe void CopyToHost(ulong source, Span<byte> destination)
    {
        if (destination.IsEmpty) return;
        lock (_gate)
        {
            Ready();
            fixed (byte* p = destination)
            {
                _driver.MemcpyDtoHAsync(p, source, destination.Length, _stream);
                _driver.StreamSynchronize(_stream);
            }
        }
    }

    /// <inheritdoc/>
    public override void CopyOnDevice(ulong source, ulong destination, long bytes)
    {
        if (bytes == 0) return;
        lock (_gate)
        {
            Ready();
            _driver.MemcpyDtoDAsync(destination, source, bytes, _stream);
        }
    }

    /// <inheritdoc/>
    public override void ClearMemory(ulong destination, long bytes)
    {
        if (bytes == 0) return;
        lock (_gate)
        {
            Ready();
            _driver.MemsetD8Async(destination, 0, bytes, _stream);
        }
    }

    /// <inheritdoc/>
    public override void Synchronize()
    {
        lock (_gate)
        {
            Ready();
            _driver.StreamSynchronize(_stream);
        }
    }

    /// <summary>
    /// Waits for queued work, gives the pool's memory back, unloads the kernels and releases the context. A backend
    /// opened through <see cref="Register"/> serves tensors for the rest of the process and is not disposed.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            MakeCurrent();
            _driver.StreamSynchronize(_stream);
            Pool.Close();
            foreach (var module in _modules.Values) _driver.ModuleUnload(module);
            _modules.Clear();
            _functions.Clear();
            _driver.StreamDestroy(_stream);
            _driver.PrimaryContextRelease(_device);
            t_currentContext = IntPtr.Zero;
        }
    }

    /// <summary>The driver, for tests that provoke its errors.</summary>
    internal CudaDriver Driver => _driver;

    /// <summary>NVRTC, for tests that provoke its errors.</summary>
    internal Nvrtc Compiler => _nvrtc;

    /// <summary>The NVRTC options kernels are compiled with for this device.</summary>
    internal string[] CompileOptions => KernelCompiler.Options(_major, _minor);

    /// <summary>The kernel <paramref name="name"/> of <paramref name="family"/>, compiling and loading the family on first use.</summary>
    internal IntPtr Function(string family, string name)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_functions.TryGetValue(name, out var function)) return function;
            MakeCurrent();
            if (!_modules.TryGetValue(family, out var module))
            {
                var ptx = KernelCompiler.Ptx(_nvrtc, family, _major, _minor);
                module = _driver.ModuleLoadData(ptx, $"{family}.cu");
                _modules[family] = module;
            }
            function = _driver.ModuleGetFunction(module, name);
            _functions[name] = function;
            return function;
        }
    }

    /// <summary>Checks the backend is open and makes its context current; called under the lock before every driver call.</summary>
    private void Ready()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        MakeCurrent();
    }

    /// <summary>Makes the backend's context current on the calling thread (a call to the driver only when it changed).</summary>
    private void MakeCurrent()
    {
        if (t_currentContext == _context) return;
        _driver.ContextSetCurrent(_context);
        t_currentContext = _context;
    }

    /// <summary>Queues kernel <paramref name="name"/> of <paramref name="family"/> on the stream.</summary>
    private void Launch(string family, string name, uint gridX, uint gridY, uint block, ref KernelArguments arguments)
    {
        var function = Function(family, name);
        lock (_gate)
        {
            Ready();
            arguments.Launch(_driver, function, name, gridX, gridY, block, _stream);
        }
    }

    /// <summary>Blocks of <see cref="Threads"/> for a grid-stride loop over <paramref name="count"/> items.</summary>
    private uint GridFor(long count) => (uint)Math.Clamp((count + Threads - 1) / Threads, 1, _maxBlocks);

    /// <summary>The driver and NVRTC, loaded once per process, or why they could not be.</summary>
    private sealed class Libraries
    {
        public CudaDriver? Driver { get; private init; }

        public Nvrtc? Nvrtc { get; private init; }

        public string Reason { get; private init; } = "";

        public static Libraries Load()
        {
            var driver = CudaDriver.TryLoad(CudaDriver.LibraryNames, out string reason);
            if (driver is null) return new Libraries { Reason = reason };
            int count;
            try
            {
                count = driver.DeviceCount();
            }
            catch (CudaException e)
            {
                return new Libraries { Reason = e.Message };
            }
            if (count == 0) return new Libraries { Reason = $"no CUDA device ({driver.Path} loaded, cuDeviceGetCount = 0)" };
            var nvrtc = Nvrtc.TryLoad(Nvrtc.LibraryNames, out reason);
            if (nvrtc is null) return new Libraries { Reason = reason };
            return new Libraries { Driver = driver, Nvrtc = nvrtc };
        }
    }
}

using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Spiking.Gpu.Interop;

/// <summary>
/// The CUDA driver API entry points the backend uses (and no others), as unmanaged function pointers resolved from
/// <c>libcuda.so.1</c> (<c>nvcuda.dll</c> on Windows) at run time: nothing native loads until a backend is asked for,
/// the versioned names (<c>_v2</c>) are chosen here, and no marshalling stub is generated (all signatures are
/// blittable), so trimming and AOT stay clean. Every wrapper checks the <c>CUresult</c> and throws a
/// <see cref="CudaException"/> that names the call.
/// </summary>
internal sealed unsafe class CudaDriver
{
    /// <summary>The driver's file names, tried in order.</summary>
    public static readonly string[] LibraryNames = OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1"];

    /// <summary><c>CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT</c>.</summary>
    public const int AttributeMultiprocessorCount = 16;

    /// <summary><c>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR</c>.</summary>
    public const int AttributeComputeCapabilityMajor = 75;

    /// <summary><c>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR</c>.</summary>
    public const int AttributeComputeCapabilityMinor = 76;

    /// <summary><c>CUDA_ERROR_NO_DEVICE</c>.</summary>
    private const int NoDevice = 100;

    /// <summary><c>CU_STREAM_NON_BLOCKING</c>: the stream does not synchronise with the legacy default stream.</summary>
    public const uint StreamNonBlocking = 1;

    private readonly delegate* unmanaged<uint, int> _init;
    private readonly delegate* unmanaged<int*, int> _deviceGetCount;
    private readonly delegate* unmanaged<int*, int, int> _deviceGet;
    private readonly delegate* unmanaged<byte*, int, int, int> _deviceGetName;
    private readonly delegate* unmanaged<int*, int, int, int> _deviceGetAttribute;
    private readonly delegate* unmanaged<nuint*, int, int> _deviceTotalMem;
    private readonly delegate* unmanaged<IntPtr*, int, int> _primaryCtxRetain;
    private readonly delegate* unmanaged<int, int> _primaryCtxRelease;
    private readonly delegate* unmanaged<IntPtr, int> _ctxSetCurrent;
    private readonly delegate* unmanaged<ulong*, nuint, int> _memAlloc;
    private readonly delegate* unmanaged<ulong, int> _memFree;
    private readonly delegate* unmanaged<nuint*, nuint*, int> _memGetInfo;
    private readonly delegate* unmanaged<ulong, void*, nuint, IntPtr, int> _memcpyHtoDAsync;
    private readonly delegate* unmanaged<void*, ulong, nuint, IntPtr, int> _memcpyDtoHAsync;
    private readonly delegate* unmanaged<ulong, ulong, nuint, IntPtr, int> _memcpyDtoDAsync;
    private readonly delegate* unmanaged<ulong, byte, nuint, IntPtr, int> _memsetD8Async;
    private readonly delegate* unmanaged<ulong, uint, nuint, IntPtr, int> _memsetD32Async;
    private readonly delegate* unmanaged<IntPtr*, uint, int> _streamCreate;
    private readonly delegate* unmanaged<IntPtr, int> _streamDestroy;
    private readonly delegate* unmanaged<IntPtr, int> _streamSynchronize;
    private readonly delegate* unmanaged<IntPtr*, void*, int> _moduleLoadData;
    private readonly delegate* unmanaged<IntPtr, int> _moduleUnload;
    private readonly delegate* unmanaged<IntPtr*, IntPtr, byte*, int> _moduleGetFunction;
    private readonly delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int> _launchKernel;
    private readonly delegate* unmanaged<int, byte**, int> _getErrorName;
    private readonly delegate* unmanaged<int, byte**, int> _getErrorString;

    private CudaDriver(IntPtr library, string path)
    {
        Path = path;
        IntPtr E(string symbol) => NativeLibraryProbe.Export(library, path, symbol);
        _init = (delegate* unmanaged<uint, int>)E("cuInit");
        _deviceGetCount = (delegate* unmanaged<int*, int>)E("cuDeviceGetCount");
        _deviceGet = (delegate* unmanaged<int*, int, int>)E("cuDeviceGet");
        _deviceGetName = (delegate* unmanaged<byte*, int, int, int>)E("cuDeviceGetName");
        _deviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)E("cuDeviceGetAttribute");
        _deviceTotalMem = (delegate* unmanaged<nuint*, int, int>)E("cuDeviceTotalMem_v2");
        _primaryCtxRetain = (delegate* unmanaged<IntPtr*, int, int>)E("cuDevicePrimaryCtxRetain");
        _primaryCtxRelease = (delegate* unmanaged<int, int>)E("cuDevicePrimaryCtxRelease_v2");
        _ctxSetCurrent = (delegate* unmanaged<IntPtr, int>)E("cuCtxSetCurrent");
        _memAlloc = (delegate* unmanaged<ulong*, nuint, int>)E("cuMemAlloc_v2");
        _memFree = (delegate* unmanaged<ulong, int>)E("cuMemFree_v2");
        _memGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)E("cuMemGetInfo_v2");
        _memcpyHtoDAsync = (delegate* unmanaged<ulong, void*, nuint, IntPtr, int>)E("cuMemcpyHtoDAsync_v2");
        _memcpyDtoHAsync = (delegate* unmanaged<void*, ulong, nuint, IntPtr, int>)E("cuMemcpyDtoHAsync_v2");
        _memcpyDtoDAsync = (delegate* unmanaged<ulong, ulong, nuint, IntPtr, int>)E("cuMemcpyDtoDAsync_v2");
        _memsetD8Async = (delegate* unmanaged<ulong, byte, nuint, IntPtr, int>)E("cuMemsetD8Async");
        _memsetD32Async = (delegate* unmanaged<ulong, uint, nuint, IntPtr, int>)E("cuMemsetD32Async");
        _streamCreate = (delegate* unmanaged<IntPtr*, uint, int>)E("cuStreamCreate");
        _streamDestroy = (delegate* unmanaged<IntPtr, int>)E("cuStreamDestroy_v2");
        _streamSynchronize = (delegate* unmanaged<IntPtr, int>)E("cuStreamSynchronize");
        _moduleLoadData = (delegate* unmanaged<IntPtr*, void*, int>)E("cuModuleLoadData");
        _moduleUnload = (delegate* unmanaged<IntPtr, int>)E("cuModuleUnload");
        _moduleGetFunction = (delegate* unmanaged<IntPtr*, IntPtr, byte*, int>)E("cuModuleGetFunction");
        _launchKernel = (delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int>)E("cuLaunchKernel");
        _getErrorName = (delegate* unmanaged<int, byte**, int>)E("cuGetErrorName");
        _getErrorString = (delegate* unmanaged<int, byte**, int>)E("cuGetErrorString");
    }

    /// <summary>The file the driver was loaded from.</summary>
    public string Path { get; }

    /// <summary>
    /// Loads the driver from the first of <paramref name="names"/> that loads and initialises it; null with a
    /// reason that names the library when there is none, or the error when <c>cuInit</c> fails.
    /// </summary>
    public static CudaDriver? TryLoad(string[] names, out string reason)
    {
        if (!NativeLibraryProbe.TryLoad(names, out var handle, out var path))
        {
            reason = $"{string.Join(", ", names)} not found (no NVIDIA driver)";
            return null;
        }
        CudaDriver driver;
        try
        {
            driver = new CudaDriver(handle, path);
        }
        catch (EntryPointNotFoundException e)
        {
            reason = e.Message;
            return null;
        }
        try
        {
            driver.Init();
        }
        catch (CudaException e)
        {
            // A driver installed on a machine without a GPU (or with none visible) fails cuInit this way.
            reason = e.ErrorCode == NoDevice ? $"no CUDA device ({path}: {e.Message})" : $"{path} loaded but {e.Message}";
            return null;
        }
        reason = "";
        return driver;
    }

    /// <summary>CUDA's name and description of <paramref name="result"/>, or placeholders for a code the driver does not know.</summary>
    public (string Name, string Description) Describe(int result)
    {
        byte* name = null, text = null;
        string n = _getErrorName(result, &name) == 0 && name != null ? Marshal.PtrToStringUTF8((IntPtr)name) ?? "" : $"CUresult {result}";
        string s = _getErrorString(result, &text) == 0 && text != null ? Marshal.PtrToStringUTF8((IntPtr)text) ?? "" : "unknown error";
        return (n, s);
    }

    /// <summary>Throws for a non-zero <paramref name="result"/> of <paramref name="call"/>.</summary>
    public void Check(int result, string call)
    {
        if (result == 0) return;
        var (name, description) = Describe(result);
        throw new CudaException(call, result, name, description);
    }

    /// <summary>Throws for a non-zero result; the call's text is built only then, so a successful call formats nothing.</summary>
    private void Check(int result, string call, long argument, string unit)
    {
        if (result != 0) Check(result, $"{call}({argument} {unit})");
    }

    public void Init() => Check(_init(0), "cuInit(0)");

    public int DeviceCount()
    {
        int count;
        Check(_deviceGetCount(&count), "cuDeviceGetCount");
        return count;
    }

    public int Device(int ordinal)
    {
        int device;
        Check(_deviceGet(&device, ordinal), "cuDeviceGet", ordinal, "ordinal");
        return device;
    }

    public string DeviceName(int device)
    {
        const int Capacity = 256;
        byte* name = stackalloc byte[Capacity];
        Check(_deviceGetName(name, Capacity, device), "cuDeviceGetName");
        int length = 0;
        while (length < Capacity && name[length] != 0) length++;
        return Encoding.UTF8.GetString(name, length);
    }

    public int DeviceAttribute(int device, int attribute)
    {
        int value;
        Check(_deviceGetAttribute(&value, attribute, device), "cuDeviceGetAttribute", attribute, "attribute");
        return value;
    }

    public long DeviceTotalMemory(int device)
    {
        nuint bytes;
        Check(_deviceTotalMem(&bytes, device), "cuDeviceTotalMem_v2");
        return (long)bytes;
    }

    public IntPtr PrimaryContextRetain(int device)
    {
        IntPtr context;
        Check(_primaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain", device, "device");
        return context;
    }

    public void PrimaryContextRelease(int device) => Check(_primaryCtxRelease(device), "cuDevicePrimaryCtxRelease_v2", device, "device");

    public void ContextSetCurrent(IntPtr context) => Check(_ctxSetCurrent(context), "cuCtxSetCurrent");

    /// <summary><c>cuMemAlloc_v2</c>; returns the raw result so the pool can retry after out-of-memory.</summary>
    public int TryMemAlloc(long bytes, out ulong address)
    {
        ulong a;
        int result = _memAlloc(&a, (nuint)bytes);
        address = result == 0 ? a : 0;
        return result;
    }

    public void MemFree(ulong address) => Check(_memFree(address), "cuMemFree_v2");

    public (long Free, long Total) MemoryInfo()
    {
        nuint free, total;
        Check(_memGetInfo(&free, &total), "cuMemGetInfo_v2");
        return ((long)free, (long)total);
    }

    public void MemcpyHtoDAsync(ulong destination, void* source, long bytes, IntPtr stream) =>
        Check(_memcpyHtoDAsync(destination, source, (nuint)bytes, stream), "cuMemcpyHtoDAsync_v2", bytes, "bytes");

    public void MemcpyDtoHAsync(void* destination, ulong source, long bytes, IntPtr stream) =>
        Check(_memcpyDtoHAsync(destination, source, (nuint)bytes, stream), "cuMemcpyDtoHAsync_v2", bytes, "bytes");

    public void MemcpyDtoDAsync(ulong destination, ulong source, long bytes, IntPtr stream) =>
        Check(_memcpyDtoDAsync(destination, source, (nuint)bytes, stream), "cuMemcpyDtoDAsync_v2", bytes, "bytes");

    public void MemsetD8Async(ulong destination, byte value, long count, IntPtr stream) =>
        Check(_memsetD8Async(destination, value, (nuint)count, stream), "cuMemsetD8Async", count, "bytes");

    public void MemsetD32Async(ulong destination, uint value, long count, IntPtr stream) =>
        Check(_memsetD32Async(destination, value, (nuint)count, stream), "cuMemsetD32Async", count, "words");

    public IntPtr StreamCreate(uint flags)
    {
        IntPtr stream;
        Check(_streamCreate(&stream, flags), "cuStreamCreate");
        return stream;
    }

    public void StreamDestroy(IntPtr stream) => Check(_streamDestroy(stream), "cuStreamDestroy_v2");

    public void StreamSynchronize(IntPtr stream) => Check(_streamSynchronize(stream), "cuStreamSynchronize");

    /// <summary>Loads a module from a NUL-terminated PTX image.</summary>
    public IntPtr ModuleLoadData(ReadOnlySpan<byte> image, string name)
    {
        IntPtr module;
        int result;
        fixed (byte* p = image) result = _moduleLoadData(&module, p);
        if (result != 0) Check(result, $"cuModuleLoadData({name})");
        return module;
    }

    public void ModuleUnload(IntPtr module) => Check(_moduleUnload(module), "cuModuleUnload");

    public IntPtr ModuleGetFunction(IntPtr module, string name)
    {
        int length = Encoding.UTF8.GetByteCount(name);
        byte* text = stackalloc byte[length + 1];
        Encoding.UTF8.GetBytes(name, new Span<byte>(text, length));
        text[length] = 0;
        IntPtr function;
        int result = _moduleGetFunction(&function, module, text);
        if (result != 0) Check(result, $"cuModuleGetFunction({name})");
        return function;
    }

    /// <summary><c>cuLaunchKernel</c> on a 1-D block and a 2-D grid; <paramref name="name"/> is only formatted on failure.</summary>
    public void LaunchKernel(IntPtr function, string name, uint gridX, uint gridY, uint block, IntPtr stream, void** arguments)
    {
        int result = _launchKernel(function, gridX, gridY, 1, block, 1, 1, 0, stream, arguments, null);
        if (result != 0) Check(result, $"cuLaunchKernel({name}, grid {gridX}x{gridY}, block {block})");
    }
}

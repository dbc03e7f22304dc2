using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace Spiking.Gpu.Interop;

/// <summary>
/// NVRTC, the CUDA runtime compiler, as unmanaged function pointers resolved at run time (the library's file name
/// carries the toolkit's version, so it is probed). Compiles CUDA C source to PTX that the driver loads; a failed
/// compilation throws a <see cref="CudaException"/> carrying the program log.
/// </summary>
internal sealed unsafe class Nvrtc
{
    /// <summary>NVRTC's file names, newest toolkit first.</summary>
    public static readonly string[] LibraryNames = OperatingSystem.IsWindows()
        ? ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"]
        : ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"];

    private readonly delegate* unmanaged<int*, int*, int> _version;
    private readonly delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int> _createProgram;
    private readonly delegate* unmanaged<IntPtr*, int> _destroyProgram;
    private readonly delegate* unmanaged<IntPtr, int, byte**, int> _compileProgram;
    private readonly delegate* unmanaged<IntPtr, nuint*, int> _getPtxSize;
    private readonly delegate* unmanaged<IntPtr, byte*, int> _getPtx;
    private readonly delegate* unmanaged<IntPtr, nuint*, int> _getProgramLogSize;
    private readonly delegate* unmanaged<IntPtr, byte*, int> _getProgramLog;
    private readonly delegate* unmanaged<int, byte*> _getErrorString;

    private Nvrtc(IntPtr library, string path)
    {
        Path = path;
        IntPtr E(string symbol) => NativeLibraryProbe.Export(library, path, symbol);
        _version = (delegate* unmanaged<int*, int*, int>)E("nvrtcVersion");
        _createProgram = (delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int>)E("nvrtcCreateProgram");
        _destroyProgram = (delegate* unmanaged<IntPtr*, int>)E("nvrtcDestroyProgram");
        _compileProgram = (delegate* unmanaged<IntPtr, int, byte**, int>)E("nvrtcCompileProgram");
        _getPtxSize = (delegate* unmanaged<IntPtr, nuint*, int>)E("nvrtcGetPTXSize");
        _getPtx = (delegate* unmanaged<IntPtr, byte*, int>)E("nvrtcGetPTX");
        _getProgramLogSize = (delegate* unmanaged<IntPtr, nuint*, int>)E("nvrtcGetProgramLogSize");
        _getProgramLog = (delegate* unmanaged<IntPtr, byte*, int>)E("nvrtcGetProgramLog");
        _getErrorString = (delegate* unmanaged<int, byte*>)E("nvrtcGetErrorString");
    }

    /// <summary>The file NVRTC was loaded from.</summary>
    public string Path { get; }

    /// <summary>Loads NVRTC from the first of <paramref name="names"/> that loads; null with a reason naming them when none does.</summary>
    public static Nvrtc? TryLoad(string[] names, out string reason)
    {
        if (!NativeLibraryProbe.TryLoad(names, out var handle, out var path))
        {
            reason = $"NVRTC not found (tried {string.Join(", ", names)}; install the CUDA toolkit or set {NativeLibraryProbe.PathVariable})";
            return null;
        }
        try
        {
            reason = "";
            return new Nvrtc(handle, path);
        }
        catch (EntryPointNotFoundException e)
        {
            reason = e.Message;
            return null;
        }
    }

    /// <summary>NVRTC's version as <c>major.minor</c>.</summary>
    public string Version()
    {
        int major, minor;
        Check(_version(&major, &minor), "nvrtcVersion");
        return $"{major}.{minor}";
    }

    /// <summary>Compiles <paramref name="source"/> with <paramref name="options"/> and returns the PTX, NUL-terminated.</summary>
    /// <exception cref="CudaException">The compilation failed; the message holds the program log.</exception>
    public byte[] CompileToPtx(string source, string name, IReadOnlyList<string> options)
    {
        IntPtr program;
        fixed (byte* src = NulTerminated(source))
        fixed (byte* nm = NulTerminated(name))
        {
            Check(_createProgram(&program, src, nm, 0, null, null), $"nvrtcCreateProgram({name})");
        }
        try
        {
            var optionBytes = new byte[options.Count][];
            var handles = new GCHandle[options.Count];
            var pointers = new IntPtr[options.Count];
            try
            {
                for (int i = 0; i < options.Count; i++)
                {
                    optionBytes[i] = NulTerminated(options[i]);
                    handles[i] = GCHandle.Alloc(optionBytes[i], GCHandleType.Pinned);
                    pointers[i] = handles[i].AddrOfPinnedObject();
                }
                int result;
                fixed (IntPtr* p = pointers) result = _compileProgram(program, options.Count, (byte**)p);
                if (result != 0)
                {
                    string log = Log(program);
                    var call = $"nvrtcCompileProgram({name}, {string.Join(' ', options)})";
                    throw new CudaException(call, result, Describe(result), log.Length == 0 ? "no program log" : $"program log:\n{log}");
                }
            }
            finally
            {
                foreach (var handle in handles)
                {
                    if (handle.IsAllocated) handle.Free();
                }
            }
            nuint size;
            Check(_getPtxSize(program, &size), $"nvrtcGetPTXSize({name})");
            var ptx = new byte[(int)size];
            fixed (byte* p = ptx) Check(_getPtx(program, p), $"nvrtcGetPTX({name})");
            return ptx;
        }
        finally
        {
            _destroyProgram(&program);
        }
    }

    private string Log(IntPtr program)
    {
        nuint size;
        if (_getProgramLogSize(program, &size) != 0 || size <= 1) return "";
        var log = new byte[(int)size];
        fixed (byte* p = log)
        {
            if (_getProgramLog(program, p) != 0) return "";
        }
        return Encoding.UTF8.GetString(log, 0, log.Length - 1).TrimEnd();
    }

    private string Describe(int result)
    {
        byte* text = _getErrorString(result);
        return text == null ? $"nvrtcResult {result}" : Marshal.PtrToStringUTF8((IntPtr)text) ?? "";
    }

    private void Check(int result, string call)
    {
        if (result == 0) return;
        string name = Describe(result);
        throw new CudaException(call, result, name, "NVRTC error");
    }

    private static byte[] NulTerminated(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}

using System;

namespace Spiking.Gpu;

/// <summary>
/// A CUDA driver or NVRTC call failed. The message names the call (with its key argument), CUDA's error name and
/// its description, e.g. <c>cuMemAlloc_v2(1048576 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)</c>;
/// a failed compilation carries NVRTC's program log.
/// </summary>
public sealed class CudaException : Exception
{
    /// <summary>Creates an exception for a failed call.</summary>
    /// <param name="call">The call, as written in the message (<c>cuMemAlloc_v2(1048576 bytes)</c>).</param>
    /// <param name="errorCode">The <c>CUresult</c> or <c>nvrtcResult</c> value.</param>
    /// <param name="errorName">CUDA's name of the error (<c>CUDA_ERROR_OUT_OF_MEMORY</c>).</param>
    /// <param name="description">CUDA's description of the error, and for NVRTC compilation the program log.</param>
    public CudaException(string call, int errorCode, string errorName, string description)
        : base($"{call} failed: {errorName} ({description})")
    {
        Call = call;
        ErrorCode = errorCode;
        ErrorName = errorName;
    }

    /// <summary>Creates an exception with a plain message (no CUDA call behind it).</summary>
    public CudaException(string message)
        : base(message)
    {
        Call = "";
        ErrorName = "";
    }

    /// <summary>Creates an exception with a plain message and its cause.</summary>
    public CudaException(string message, Exception innerException)
        : base(message, innerException)
    {
        Call = "";
        ErrorName = "";
    }

    /// <summary>Creates an exception with no message (for serializers and analyzers that need it).</summary>
    public CudaException()
    {
        Call = "";
        ErrorName = "";
    }

    /// <summary>The call that failed, with its key argument; empty when no call is behind the error.</summary>
    public string Call { get; }

    /// <summary>The <c>CUresult</c> (driver) or <c>nvrtcResult</c> (NVRTC) value.</summary>
    public int ErrorCode { get; }

    /// <summary>CUDA's name of the error.</summary>
    public string ErrorName { get; }

    /// <summary>The driver's <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</summary>
    internal const int OutOfMemory = 2;
}

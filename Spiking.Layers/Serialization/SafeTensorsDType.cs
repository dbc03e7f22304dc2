namespace Spiking.Layers.Serialization;

/// <summary>The element types of the safetensors format, named as in its header (<c>"F32"</c>, <c>"I64"</c>, …).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The names are the format's dtype strings.")]
public enum SafeTensorsDType
{
    /// <summary>Booleans, one byte each.</summary>
    BOOL,

    /// <summary>Unsigned 8-bit integers.</summary>
    U8,

    /// <summary>Signed 8-bit integers.</summary>
    I8,

    /// <summary>Unsigned 16-bit integers.</summary>
    U16,

    /// <summary>Signed 16-bit integers.</summary>
    I16,

    /// <summary>IEEE half-precision floats.</summary>
    F16,

    /// <summary>bfloat16: the upper 16 bits of a float32.</summary>
    BF16,

    /// <summary>Unsigned 32-bit integers.</summary>
    U32,

    /// <summary>Signed 32-bit integers.</summary>
    I32,

    /// <summary>IEEE single-precision floats.</summary>
    F32,

    /// <summary>Unsigned 64-bit integers.</summary>
    U64,

    /// <summary>Signed 64-bit integers.</summary>
    I64,

    /// <summary>IEEE double-precision floats.</summary>
    F64,
}

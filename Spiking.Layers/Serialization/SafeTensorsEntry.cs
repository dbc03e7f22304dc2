using System;
using System.Buffers.Binary;
using Spiking.Tensors;

namespace Spiking.Layers.Serialization;

/// <summary>One tensor of a read safetensors file: its name, element type, shape and little-endian bytes.</summary>
public sealed class SafeTensorsEntry
{
    internal SafeTensorsEntry(string source, string name, SafeTensorsDType dtype, Shape shape, ReadOnlyMemory<byte> data)
    {
        Source = source;
        Name = name;
        DType = dtype;
        Shape = shape;
        Data = data;
    }

    /// <summary>The file (or source name) the entry was read from, for messages.</summary>
    public string Source { get; }

    /// <summary>The tensor's name.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public SafeTensorsDType DType { get; }

    /// <summary>The shape (rank 0 for a scalar).</summary>
    public Shape Shape { get; }

    /// <summary>The raw little-endian elements, row-major.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>True for F32, F64, F16 and BF16, the types <see cref="CopyTo(Span{float})"/> converts.</summary>
    public bool IsFloat => DType is SafeTensorsDType.F32 or SafeTensorsDType.F64 or SafeTensorsDType.F16 or SafeTensorsDType.BF16;

    /// <summary>True for the signed and unsigned integer types up to 32 bits and I64, the types <see cref="CopyTo(Span{long})"/> converts.</summary>
    public bool IsInteger => DType is SafeTensorsDType.U8 or SafeTensorsDType.I8 or SafeTensorsDType.U16 or SafeTensorsDType.I16
        or SafeTensorsDType.U32 or SafeTensorsDType.I32 or SafeTensorsDType.I64;

    /// <summary>Converts the elements to float into <paramref name="destination"/> (F64 rounds to nearest).</summary>
    /// <exception cref="InvalidOperationException">The entry is not a float type.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold exactly the entry's elements.</exception>
    public void CopyTo(Span<float> destination)
    {
        if (!IsFloat) throw new InvalidOperationException($"{Source}: tensor '{Name}' is {DType}{Shape}, not a float type (F32, F64, F16, BF16).");
        CheckLength(destination.Length, nameof(destination));
        var bytes = Data.Span;
        switch (DType)
        {
            case SafeTensorsDType.F32:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * i));
                break;
            case SafeTensorsDType.F64:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(8 * i));
                break;
            case SafeTensorsDType.F16:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.Slice(2 * i));
                break;
            default:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * i)) << 16);
                }
                break;
        }
    }

    /// <summary>Converts the elements to int64 into <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidOperationException">The entry is not one of the integer types of <see cref="IsInteger"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold exactly the entry's elements.</exception>
    public void CopyTo(Span<long> destination)
    {
        if (!IsInteger) throw new InvalidOperationException($"{Source}: tensor '{Name}' is {DType}{Shape}, not an integer type convertible to I64.");
        CheckLength(destination.Length, nameof(destination));
        var bytes = Data.Span;
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = DType switch
            {
                SafeTensorsDType.U8 => bytes[i],
                SafeTensorsDType.I8 => (sbyte)bytes[i],
                SafeTensorsDType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * i)),
                SafeTensorsDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(bytes.Slice(2 * i)),
                SafeTensorsDType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(4 * i)),
                SafeTensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(4 * i)),
                _ => BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(8 * i)),
            };
        }
    }

    /// <summary>A new float tensor of the entry's shape holding its converted elements.</summary>
    /// <exception cref="InvalidOperationException">The entry is not a float type.</exception>
    public Tensor ToTensor()
    {
        var t = Tensor.Empty(Shape);
        try
        {
            CopyTo(t.AsSpan());
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    /// <summary>Formats as <c>name: F32[2, 3]</c>.</summary>
    public override string ToString() => $"{Name}: {DType}{Shape}";

    private void CheckLength(int length, string paramName)
    {
        if (length != Shape.ElementCount)
        {
            throw new ArgumentException(
                $"'{paramName}' holds {length} elements; {Source}: tensor '{Name}' ({DType}{Shape}) has {Shape.ElementCount}.", paramName);
        }
    }
}

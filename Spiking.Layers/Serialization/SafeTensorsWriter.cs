using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spiking.Tensors;

namespace Spiking.Layers.Serialization;

/// <summary>
/// Collects tensors and metadata and writes them as one safetensors file (see <see cref="SafeTensors"/>): F32 for
/// float tensors, I64 for integers, U8, I8 or BOOL for bytes (quantized codes), data in the order added, the JSON header (<c>__metadata__</c> first, then the
/// tensors in the order added) padded with spaces to a multiple of 8 bytes so the data starts 8-byte aligned.
/// </summary>
/// <remarks>
/// Added tensors are referenced, not copied: they are read when the file is written, and must still be alive then.
/// </remarks>
public sealed class SafeTensorsWriter
{
    private const int ChunkElements = 8192;

    private readonly List<Item> _items = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    /// <summary>The tensors added so far, in order.</summary>
    public int Count => _items.Count;

    /// <summary>Adds <c>__metadata__</c> entry <paramref name="key"/> (replacing an earlier value).</summary>
    public void AddMetadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        _metadata[key] = value;
    }

    /// <summary>Adds <paramref name="tensor"/> as F32 with its shape; its elements are read when the file is written.</summary>
    /// <exception cref="ArgumentException">The name is empty, reserved or taken, or the tensor is disposed.</exception>
    public void Add(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.IsDisposed) throw new ArgumentException($"Tensor '{name}' (shape {tensor.Shape}) has been disposed.", nameof(tensor));
        AddItem(name, new Item(name, SafeTensorsDType.F32, tensor.Shape, tensor, default, default, default));
    }

    /// <summary>Adds <paramref name="values"/> as F32 with <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty, reserved or taken, or the count differs from the shape's.</exception>
    public void Add(string name, ReadOnlyMemory<float> values, Shape shape)
    {
        CheckCount(values.Length, shape, nameof(values));
        AddItem(name, new Item(name, SafeTensorsDType.F32, shape, null, values, default, default));
    }

    /// <summary>Adds <paramref name="values"/> as I64 with <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty, reserved or taken, or the count differs from the shape's.</exception>
    public void Add(string name, ReadOnlyMemory<long> values, Shape shape)
    {
        CheckCount(values.Length, shape, nameof(values));
        AddItem(name, new Item(name, SafeTensorsDType.I64, shape, null, default, values, default));
    }

    /// <summary>
    /// Adds <paramref name="values"/> as a one-byte dtype (<see cref="SafeTensorsDType.U8"/>, <see cref="SafeTensorsDType.I8"/>
    /// or <see cref="SafeTensorsDType.BOOL"/>) with <paramref name="shape"/>, written as they are.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty, reserved or taken, the count differs from the shape's, or the dtype is not one byte wide.</exception>
    public void Add(string name, ReadOnlyMemory<byte> values, Shape shape, SafeTensorsDType dtype)
    {
        if (dtype is not (SafeTensorsDType.U8 or SafeTensorsDType.I8 or SafeTensorsDType.BOOL))
        {
            throw new ArgumentException($"Tensor '{name}': bytes are written as U8, I8 or BOOL, not {dtype}.", nameof(dtype));
        }
        CheckCount(values.Length, shape, nameof(values));
        AddItem(name, new Item(name, dtype, shape, null, default, default, values));
    }

    /// <summary>Adds an I64 scalar (shape <c>[]</c>), as PyTorch stores <c>num_batches_tracked</c>.</summary>
    public void Add(string name, long value) => Add(name, new long[] { value }, new Shape());

    /// <summary>
    /// Writes the file at <paramref name="path"/> atomically: into a temporary file in the same folder
    /// (<c>.NAME.PID.GUID.tmp</c>), flushed to disk, then renamed over the target, so a failure never leaves a partial
    /// file (the temporary is deleted). A process killed mid-write cannot delete its temporary; the next write to the
    /// same path removes those whose process no longer runs.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        RemoveAbandonedTemporaries(dir, Path.GetFileName(full));
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                WriteTo(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            throw;
        }
    }

    /// <summary>Deletes <c>.NAME.PID.GUID.tmp</c> files of <paramref name="name"/> left by processes that no longer run.</summary>
    private static void RemoveAbandonedTemporaries(string dir, string name)
    {
        if (!Directory.Exists(dir)) return;
        string prefix = "." + name + ".";
        foreach (var file in Directory.EnumerateFiles(dir, prefix + "*.tmp"))
        {
            // The middle is PID.GUID: 32 hex digits after the process id.
            string middle = Path.GetFileName(file.AsSpan())[prefix.Length..^4].ToString();
            int dot = middle.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || middle.Length - dot - 1 != 32 || !int.TryParse(middle.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                || pid == Environment.ProcessId || IsRunning(pid))
            {
                continue;
            }
            try
            {
                File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another writer may be removing it at the same moment, or it is not ours to delete; the write goes on.
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Writes the file's bytes to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = Header();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkElements * 8);
        try
        {
            foreach (var item in _items) WriteData(stream, item, chunk);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private byte[] Header()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (_metadata.Count > 0)
            {
                json.WriteStartObject(SafeTensors.MetadataKey);
                foreach (var (key, value) in _metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var item in _items)
            {
                long size = (long)item.Shape.ElementCount * SafeTensors.ElementSize(item.DType);
                json.WriteStartObject(item.Name);
                json.WriteString("dtype", item.DType.ToString());
                json.WriteStartArray("shape");
                foreach (int d in item.Shape.Dimensions) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + size);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += size;
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) & ~7;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteData(Stream stream, Item item, byte[] chunk)
    {
        if (SafeTensors.ElementSize(item.DType) == 1)
        {
            stream.Write(item.Bytes.Span);
            return;
        }
        if (item.DType == SafeTensorsDType.I64)
        {
            var longs = item.Longs.Span;
            for (int start = 0; start < longs.Length; start += ChunkElements)
            {
                int n = Math.Min(ChunkElements, longs.Length - start);
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteInt64LittleEndian(chunk.AsSpan(8 * i), longs[start + i]);
                stream.Write(chunk, 0, 8 * n);
            }
            return;
        }
        var floats = item.Tensor is null ? item.Floats.Span : item.Tensor.AsReadOnlySpan();
        for (int start = 0; start < floats.Length; start += ChunkElements)
        {
            int n = Math.Min(ChunkElements, floats.Length - start);
            for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(chunk.AsSpan(4 * i), floats[start + i]);
            stream.Write(chunk, 0, 4 * n);
        }
    }

    private void AddItem(string name, Item item)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == SafeTensors.MetadataKey)
        {
            throw new ArgumentException($"'{SafeTensors.MetadataKey}' is reserved for the header's metadata; it cannot name a tensor.", nameof(name));
        }
        if (!_names.Add(name)) throw new ArgumentException($"A tensor named '{name}' was already added.", nameof(name));
        _items.Add(item);
    }

    private static void CheckCount(int count, Shape shape, string paramName)
    {
        if (count != shape.ElementCount)
        {
            throw new ArgumentException($"'{paramName}' holds {count} values; shape {shape} holds {shape.ElementCount}.", paramName);
        }
    }

    private sealed record Item(string Name, SafeTensorsDType DType, Shape Shape, Tensor? Tensor, ReadOnlyMemory<float> Floats, ReadOnlyMemory<long> Longs,
        ReadOnlyMemory<byte> Bytes);
}

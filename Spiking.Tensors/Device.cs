using System;

namespace Spiking.Tensors;

/// <summary>The kind of processor that holds a tensor's storage.</summary>
public enum DeviceKind
{
    /// <summary>Host memory, computed by the managed SIMD kernels.</summary>
    Cpu,

    /// <summary>An NVIDIA GPU reached through the optional CUDA backend.</summary>
    Cuda,
}

/// <summary>Where a tensor lives: a device kind and, for accelerators, the device ordinal.</summary>
/// <param name="Kind">The kind of processor.</param>
/// <param name="Index">The ordinal among devices of that kind (0 for the CPU).</param>
public readonly record struct Device(DeviceKind Kind, int Index = 0)
{
    /// <summary>The host CPU.</summary>
    public static Device Cpu { get; } = new(DeviceKind.Cpu);

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    /// <exception cref="ArgumentException">The text names no known device.</exception>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "cuda") return new Device(DeviceKind.Cuda);
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out int idx) && idx >= 0)
        {
            return new Device(DeviceKind.Cuda, idx);
        }
        throw new ArgumentException($"Unknown device '{text}'; expected 'cpu', 'cuda' or 'cuda:N'.", nameof(text));
    }

    /// <summary>Formats as <c>cpu</c> or <c>cuda:N</c>.</summary>
    public override string ToString() => Kind == DeviceKind.Cpu ? "cpu" : $"cuda:{Index}";
}

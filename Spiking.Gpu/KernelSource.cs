using System.IO;

namespace Spiking.Gpu;

/// <summary>The CUDA C source of a kernel family, embedded in the assembly from <c>Kernels/&lt;family&gt;.cu</c>.</summary>
internal static class KernelSource
{
    /// <summary>The source text of <paramref name="family"/> (the file name without <c>.cu</c>).</summary>
    public static string Load(string family)
    {
        var name = $"Spiking.Gpu.Kernels.{family}.cu";
        using var stream = typeof(KernelSource).Assembly.GetManifestResourceStream(name)
            ?? throw new FileNotFoundException($"The kernel source {name} is not embedded in Spiking.Gpu.", name);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

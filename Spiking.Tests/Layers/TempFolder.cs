using System;
using System.IO;

namespace Spiking.Tests.Layers;

/// <summary>A fresh folder under the system temp folder, deleted with everything in it on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "spiking-tests-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string[] Names()
    {
        var files = Directory.GetFiles(Path);
        for (int i = 0; i < files.Length; i++) files[i] = System.IO.Path.GetFileName(files[i]);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

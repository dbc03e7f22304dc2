using System;
using System.IO;

namespace Spiking.Cli;

/// <summary>
/// Checks the outputs a command will write before it starts working, so a run of minutes or hours never ends in
/// "folder not found": the folder must exist and take a new file, the path must not be a folder, and an existing
/// file must be writable. Nothing is left behind by the check.
/// </summary>
internal static class OutputPaths
{
    /// <summary>The file named by <c>--name</c>, checked writable; null when the option is absent.</summary>
    /// <exception cref="OutputException">The file could not be written.</exception>
    public static string? File(Options options, string name)
    {
        string? path = options.String(name);
        if (path is null) return null;
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new OutputException($"--{name} '{path}' is a folder; give a file name");
        string folder = Path.GetDirectoryName(full) ?? full;
        CheckFolder(name, path, folder);
        if (System.IO.File.Exists(full))
        {
            try
            {
                using var existing = new FileStream(full, FileMode.Append, FileAccess.Write);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new OutputException($"--{name} '{path}' exists and cannot be written: {e.Message}");
            }
        }
        return path;
    }

    /// <summary>The folder named by <c>--name</c>, created if needed (with its parents) and checked writable; null when absent.</summary>
    /// <exception cref="OutputException">The folder could not be created or written.</exception>
    public static string? Folder(Options options, string name)
    {
        string? path = options.String(name);
        if (path is null) return null;
        string full = Path.GetFullPath(path);
        if (System.IO.File.Exists(full)) throw new OutputException($"--{name} '{path}' is a file; give a folder");
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputException($"--{name} '{path}': the folder cannot be created: {e.Message}");
        }
        CheckFolder(name, path, full);
        return path;
    }

    private static void CheckFolder(string name, string path, string folder)
    {
        if (!Directory.Exists(folder)) throw new OutputException($"--{name} '{path}': folder '{folder}' does not exist");
        string probe = Path.Combine(folder, $".spiking-write-check.{Environment.ProcessId}.{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputException($"--{name} '{path}': cannot create files in folder '{folder}': {e.Message}");
        }
    }
}

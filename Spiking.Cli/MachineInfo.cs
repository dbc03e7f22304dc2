using System;
using System.IO;

namespace Spiking.Cli;

/// <summary>Facts about the machine that go into benchmark records, as the peers record them.</summary>
internal static class MachineInfo
{
    public static string CpuName()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? "unknown";
    }

    /// <summary>The widest SIMD width the kernels run at, as benchmark records name it.</summary>
    public static string SimdName() =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "avx512" :
        System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "avx2" : "vector128";

    /// <summary>The process's peak resident set in MiB, from /proc (Linux), or the current working set elsewhere.</summary>
    public static double PeakRssMib() => StatusMib("VmHWM:");

    /// <summary>
    /// Starts the peak resident set (<see cref="PeakRssMib"/>) again from the current one (Linux's
    /// <c>/proc/self/clear_refs</c>), so a phase of the run (training, evaluation) can report its own peak.
    /// </summary>
    /// <returns>Whether the system reset it; elsewhere the peak stays the process's.</returns>
    public static bool ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The process's resident set now in MiB, from /proc (Linux), or the working set elsewhere.</summary>
    public static double CurrentRssMib() => StatusMib("VmRSS:");

    private static double StatusMib(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var kb = line[field.Length..].Trim().Split(' ')[0];
                    return double.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return Environment.WorkingSet / (1024.0 * 1024.0);
    }
}

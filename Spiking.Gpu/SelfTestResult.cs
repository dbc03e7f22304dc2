using System.Globalization;

namespace Spiking.Gpu;

/// <summary>The comparison of one kernel between the device and the CPU.</summary>
/// <param name="Name">The kernel and its variant.</param>
/// <param name="MaxAbsError">The largest absolute difference (for bits: the number of differing words).</param>
/// <param name="MaxRelError">The largest difference relative to <c>max(|cpu|, 1)</c> (for bits: the fraction of differing words).</param>
/// <param name="Passed">Whether the difference is within the kernel's tolerance.</param>
public sealed record SelfTestResult(string Name, double MaxAbsError, double MaxRelError, bool Passed)
{
    /// <summary>The report line: <c>name  max_abs_err=…  max_rel_err=…  PASS|FAIL</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name,-48}  max_abs_err={MaxAbsError:G3}  max_rel_err={MaxRelError:G3}  {(Passed ? "PASS" : "FAIL")}");
}

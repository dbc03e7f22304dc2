using System.Collections.Generic;
using System.Linq;

namespace Spiking.Gpu;

/// <summary>The outcome of <see cref="CudaSelfTest.Run"/>: one result per kernel checked.</summary>
/// <param name="Results">The results, in the order the kernels ran.</param>
public sealed record SelfTestReport(IReadOnlyList<SelfTestResult> Results)
{
    /// <summary>The number of kernels within tolerance.</summary>
    public int Passed => Results.Count(r => r.Passed);

    /// <summary>The number of kernels outside tolerance.</summary>
    public int Failed => Results.Count - Passed;

    /// <summary>True when every kernel passed.</summary>
    public bool AllPassed => Failed == 0;
}

using System;
using System.Linq;
using Spiking.Cli.Conformance;

namespace Spiking.Cli;

/// <summary>
/// <c>spiking conformance &lt;dir&gt; [--family X] [--file F]</c>: recompute the golden SpikingJelly cases and compare.
/// Exits 0 when every case passed, 1 when a case is out of tolerance, 3 when something could not be checked (see
/// <see cref="ConformanceSummary.Errors"/>), so a gate on the exit status never passes having checked nothing.
/// </summary>
internal static class ConformanceCommand
{
    public static int Run(Options options)
    {
        if (options.Positional.Count == 0) throw new UsageException("conformance needs one directory of golden *.json files, e.g. ../shared/golden");
        string? family = options.String("family");
        string? file = options.String("file");
        options.RejectUnknown(positional: 1);
        if (family is not null && !ConformanceRunner.KnownFamilies.Contains(family))
        {
            throw new UsageException($"--family expects one of {string.Join(", ", ConformanceRunner.KnownFamilies)}, got '{family}'");
        }
        string directory = options.Positional[0];
        if (!System.IO.Directory.Exists(directory)) throw new InputException($"conformance: no such directory '{directory}'");
        Console.WriteLine($"# spiking conformance {directory}  (spikes exact; values pass when |a-b| <= 1e-6 + 1e-5*|b|; max_rel over |b| >= 1e-6)");
        Console.WriteLine($"{"# case",-44} {"max_abs",9} {"max_rel",9}  verdict");
        var summary = ConformanceRunner.Run(directory, Console.Out, family, file);
        if (summary.Errors > 0)
        {
            throw new InputException($"conformance: {summary.Errors} case{(summary.Errors == 1 ? "" : "s")} or file{(summary.Errors == 1 ? "" : "s")} in '{directory}' could not be checked (ERROR lines above)");
        }
        return (int)(summary.Failed == 0 ? ExitCode.Success : ExitCode.CheckFailed);
    }
}

using System;
using System.IO;
using Spiking.Cli.Conformance;

namespace Spiking.Cli;

/// <summary><c>spiking conformance &lt;dir&gt; [--family X] [--file F]</c>: recompute the golden SpikingJelly cases and compare.</summary>
internal static class ConformanceCommand
{
    public static int Run(Options options)
    {
        if (options.Positional.Count != 1) throw new UsageException("conformance needs one directory of golden *.json files, e.g. ../shared/golden");
        string? family = options.String("family");
        string? file = options.String("file");
        options.RejectUnknown();
        Console.WriteLine($"# spiking conformance {options.Positional[0]}  (spikes exact; values pass when |a-b| <= 1e-6 + 1e-5*|b|; max_rel over |b| >= 1e-6)");
        Console.WriteLine($"{"# case",-44} {"max_abs",9} {"max_rel",9}  verdict");
        try
        {
            var summary = ConformanceRunner.Run(options.Positional[0], Console.Out, family, file);
            return summary.Failed == 0 ? 0 : 1;
        }
        catch (DirectoryNotFoundException e)
        {
            Console.Error.WriteLine($"spiking: {e.Message}");
            return 2;
        }
    }
}

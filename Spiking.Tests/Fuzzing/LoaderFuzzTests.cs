using System;
using System.IO;
using System.Threading;
using Xunit;

namespace Spiking.Tests.Fuzzing;

/// <summary>
/// A fixed-seed fuzz run per loader: every input ends cleanly within the hang limit, and the mutations reach past
/// the first check (some inputs load, some are refused). <c>scripts/fuzz.sh</c> runs the same campaigns long.
/// </summary>
internal static class FuzzSmoke
{
    public const int Seed = 20261101;

    public static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(20);

    public static FuzzReport Run(IFuzzTarget target, long iterations)
    {
        var report = FuzzCampaign.Run(target, FuzzCampaign.Seed(Seed), FuzzCampaign.Iterations(iterations), HangLimit);
        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
        Assert.True(report.Crashes.Count == 0 && report.Hangs.Count == 0, report.ToString());
        Assert.True(report.Accepted > 0, $"no mutated input loaded, so the fuzzer never got past the checks: {report}");
        Assert.True(report.Rejected + report.RefusedDeep > 0, $"no mutated input was refused: {report}");
        return report;
    }
}

public sealed class SafeTensorsFuzzTests
{
    [Fact]
    public void Mutated_checkpoints_load_or_are_refused_with_InvalidDataException()
    {
        using var target = new SafeTensorsTarget();
        var report = FuzzSmoke.Run(target, 30_000);
        Assert.True(report.RefusedDeep > 0, $"no mutated checkpoint parsed and then failed to match the model: {report}");
    }
}

public sealed class IdxFuzzTests
{
    [Fact]
    public void Mutated_idx_files_raw_and_gzipped_load_or_are_refused_with_InvalidDataException()
    {
        using var target = new IdxTarget();
        FuzzSmoke.Run(target, 8_000);
    }
}

public sealed class GoldenJsonFuzzTests
{
    [Fact]
    public void Mutated_golden_files_give_a_summary_or_InvalidDataException()
    {
        using var target = new GoldenJsonTarget();
        var report = FuzzSmoke.Run(target, 3_000);
        Assert.True(report.RefusedDeep > 0, $"no mutated golden file got as far as a failing case: {report}");
    }
}

/// <summary>Every input that once crashed a loader, kept in <c>Spiking.Tests/Fuzzing/Corpus/&lt;loader&gt;/</c>, now ends cleanly.</summary>
public sealed class FuzzCorpusTests
{
    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        var root = FuzzFiles.Folder("Corpus");
        foreach (var dir in Directory.GetDirectories(root))
        {
            var files = Directory.GetFiles(dir);
            Array.Sort(files, StringComparer.Ordinal);
            foreach (var file in files) data.Add(Path.GetFileName(dir), Path.GetFileName(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Input_that_once_crashed_ends_cleanly(string loader, string file)
    {
        using IFuzzTarget target = loader switch
        {
            "safetensors" => new SafeTensorsTarget(),
            "idx" => new IdxTarget(),
            "golden-json" => new GoldenJsonTarget(),
            _ => throw new InvalidOperationException($"Corpus folder '{loader}' names no fuzz target (safetensors, idx, golden-json)."),
        };
        var input = File.ReadAllBytes(Path.Combine(FuzzFiles.Folder("Corpus"), loader, file));
        Exception? crash = null;
        long allocated = 0;
        var run = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                target.Run(input);
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            catch (Exception e)
            {
                crash = e;
            }
        }, 64 << 20) { IsBackground = true };
        run.Start();
        Assert.True(run.Join(FuzzSmoke.HangLimit), $"{loader}/{file} was still loading after {FuzzSmoke.HangLimit.TotalSeconds} s");
        Assert.True(crash is null, $"{loader}/{file} crashed the loader: {crash}");
        Assert.True(allocated <= FuzzCampaign.AllocationLimit(input.Length), $"{loader}/{file} ({input.Length} bytes) made the loader allocate {allocated} bytes");
    }
}

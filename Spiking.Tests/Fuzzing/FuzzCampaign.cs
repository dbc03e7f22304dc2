using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;

namespace Spiking.Tests.Fuzzing;

/// <summary>How a loader ended on one input, when it ended cleanly.</summary>
internal enum FuzzOutcome
{
    /// <summary>The input loaded.</summary>
    Accepted,

    /// <summary>Refused after the format parsed (a checkpoint that does not match, a case that does not compare).</summary>
    RefusedDeep,

    /// <summary>Refused by the format reader.</summary>
    Rejected,
}

/// <summary>A loader under fuzzing: seeds, format-aware mutations, and one run that ends cleanly or throws.</summary>
internal interface IFuzzTarget : IDisposable
{
    string Name { get; }

    IReadOnlyList<byte[]> Seeds { get; }

    /// <summary>A mutation that knows the format (header fields, JSON tokens, gzip framing).</summary>
    byte[] MutateFormat(byte[] input, Random rng);

    /// <summary>Runs the loader; a clean end returns, anything else (a crash) throws.</summary>
    FuzzOutcome Run(byte[] input);
}

/// <summary>The totals of a campaign; crashes and hangs hold one line per distinct failure.</summary>
internal sealed record FuzzReport(
    string Loader, long Tried, long Accepted, long RefusedDeep, long Rejected, long CrashCount, IReadOnlyList<string> Crashes, IReadOnlyList<string> Hangs, TimeSpan Elapsed)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Loader}: {Tried} inputs in {Elapsed.TotalSeconds:0.0} s ({Tried / Math.Max(Elapsed.TotalSeconds, 1e-3):0} per s): {Accepted} accepted, {RefusedDeep} refused after parsing, {Rejected} rejected; {CrashCount} crashes ({Crashes.Count} distinct), {Hangs.Count} hangs")
        + (Crashes.Count + Hangs.Count > 0 ? "\n  " + string.Join("\n  ", [.. Crashes, .. Hangs]) : "");
}

/// <summary>
/// A seeded, deterministic mutation fuzzer: input <c>i</c> is a stack of 1 to 8 mutations of one seed, drawn from a
/// generator seeded by (seed, i), so any input can be rebuilt from its index. Inputs run on one worker thread while
/// this thread watches: an input that runs past the hang limit is a hang (the campaign stops there), an exception
/// the target does not call clean is a crash, and so is an input that allocates far more than its size can justify.
/// </summary>
internal static class FuzzCampaign
{
    /// <summary>Per-loader input count for the long campaign (<c>scripts/fuzz.sh</c>); tests use their own default when unset.</summary>
    public const string IterationsVariable = "SPIKING_FUZZ_ITERATIONS";

    /// <summary>A folder to save every crashing or hanging input in, under the loader's name.</summary>
    public const string CrashFolderVariable = "SPIKING_FUZZ_CRASHES";

    /// <summary>A file each campaign appends its report line to.</summary>
    public const string ReportVariable = "SPIKING_FUZZ_REPORT";

    private const int MaxInputLength = 1 << 20;

    /// <summary>The campaign's seed, replacing the tests' fixed one to explore further.</summary>
    public const string SeedVariable = "SPIKING_FUZZ_SEED";

    public static int Seed(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : fallback;

    public static long Iterations(long fallback) =>
        long.TryParse(Environment.GetEnvironmentVariable(IterationsVariable), NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 ? n : fallback;

    /// <summary>Input <paramref name="index"/> of the campaign seeded by <paramref name="seed"/>.</summary>
    public static byte[] Input(IFuzzTarget target, int seed, long index)
    {
        var rng = new Random(unchecked((int)(seed * 0x9E3779B1L ^ index * 0x85EBCA77L ^ (index >> 32))));
        var seeds = target.Seeds;
        var input = seeds[rng.Next(seeds.Count)];
        int mutations = 1;
        while (mutations < 8 && rng.Next(2) == 0) mutations++;
        for (int m = 0; m < mutations; m++)
        {
            input = rng.Next(2) == 0 ? target.MutateFormat(input, rng) : Mutator.Mutate(input, rng, seeds);
            if (input.Length > MaxInputLength) input = input[..MaxInputLength];
        }
        return input;
    }

    public static FuzzReport Run(IFuzzTarget target, int seed, long iterations, TimeSpan hangLimit)
    {
        var state = new State();
        var clock = Stopwatch.StartNew();
        // Deeply nested inputs recurse in JSON readers; a big stack lets their depth limits, not the stack, decide.
        var worker = new Thread(() => Work(state, target, seed, iterations), 64 << 20) { IsBackground = true, Name = "fuzz " + target.Name };
        worker.Start();
        var hangs = new List<string>();
        while (!worker.Join(50))
        {
            long started = Volatile.Read(ref state.Started);
            if (started != 0 && Stopwatch.GetElapsedTime(started) > hangLimit && Volatile.Read(ref state.Started) == started)
            {
                // The worker cannot be aborted; it is a background thread, left behind while the campaign reports.
                long index = Volatile.Read(ref state.Index);
                hangs.Add(string.Create(CultureInfo.InvariantCulture, $"input {index} (seed {seed}): still running after {hangLimit.TotalSeconds:0} s"));
                Save(target.Name, $"hang-{seed}-{index}", Input(target, seed, index));
                state.Stop = true;
                break;
            }
        }
        lock (state)
        {
            var report = new FuzzReport(target.Name, Volatile.Read(ref state.Done), state.Accepted, state.RefusedDeep, state.Rejected, state.CrashCount, [.. state.Crashes], hangs, clock.Elapsed);
            var file = Environment.GetEnvironmentVariable(ReportVariable);
            if (!string.IsNullOrEmpty(file)) File.AppendAllText(file, report + Environment.NewLine);
            return report;
        }
    }

    private static void Work(State state, IFuzzTarget target, int seed, long iterations)
    {
        for (long i = 0; i < iterations && !state.Stop; i++)
        {
            byte[] input = Input(target, seed, i);
            Volatile.Write(ref state.Index, i);
            Volatile.Write(ref state.Started, Stopwatch.GetTimestamp());
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            string? crash = null, kind = null;
            try
            {
                var outcome = target.Run(input);
                long used = GC.GetAllocatedBytesForCurrentThread() - allocated;
                if (used > AllocationLimit(input.Length)) (crash, kind) = ($"allocated {used} bytes for a {input.Length}-byte input", "allocation");
                lock (state)
                {
                    if (outcome == FuzzOutcome.Accepted) state.Accepted++;
                    else if (outcome == FuzzOutcome.RefusedDeep) state.RefusedDeep++;
                    else state.Rejected++;
                }
            }
            catch (Exception e)
            {
                kind = $"{e.GetType().Name} at {TopFrame(e)}";
                crash = $"{e.GetType().Name}: {FirstLine(e.Message)} at {TopFrame(e)}";
            }
            Volatile.Write(ref state.Started, 0L);
            if (crash is not null)
            {
                bool first;
                lock (state)
                {
                    state.CrashCount++;
                    first = state.CrashKinds.Add(kind!);
                    if (first) state.Crashes.Add($"input {i} (seed {seed}): {crash}");
                }
                // One line and one saved input per distinct failure (kind and place); the rest are counted.
                if (first) Save(target.Name, $"crash-{seed}-{i}", input);
            }
            Volatile.Write(ref state.Done, i + 1);
        }
    }

    // Loading may hold the input, its parse and the decoded tensors, and gzip expands up to 1032:1; beyond that
    // plus a fixed allowance, an input makes the loader allocate what it does not contain.
    internal static long AllocationLimit(int inputLength) => (64L << 20) + 1100L * inputLength;

    private static string FirstLine(string message)
    {
        int end = message.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }

    private static string TopFrame(Exception e)
    {
        var frames = new StackTrace(e, fNeedFileInfo: false).GetFrames();
        foreach (var frame in frames)
        {
            var method = frame.GetMethod();
            if (method?.DeclaringType is { } type && type.Namespace?.StartsWith("System", StringComparison.Ordinal) != true)
            {
                return $"{type.Name}.{method.Name}";
            }
        }
        return frames.Length > 0 && frames[0].GetMethod() is { } top ? $"{top.DeclaringType?.Name}.{top.Name}" : "(no frame)";
    }

    private static void Save(string loader, string name, byte[] input)
    {
        var folder = Environment.GetEnvironmentVariable(CrashFolderVariable);
        if (string.IsNullOrEmpty(folder)) return;
        var dir = Path.Combine(folder, loader);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, name + ".bin"), input);
    }

    private sealed class State
    {
        public long Index;
        public long Started;
        public long Done;
        public long Accepted;
        public long RefusedDeep;
        public long Rejected;
        public long CrashCount;
        public volatile bool Stop;
        public readonly List<string> Crashes = [];
        public readonly HashSet<string> CrashKinds = new(StringComparer.Ordinal);
    }
}

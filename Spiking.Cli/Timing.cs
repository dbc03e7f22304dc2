using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace Spiking.Cli;

/// <summary>
/// The timing loop of <c>../shared/peers/common.py</c>: warm-up calls, then single calls round robin until every
/// function has at least <c>reps</c> calls and <c>minTime</c> seconds each, or <c>maxTime</c> seconds each have passed.
/// Round robin makes slow drifts of a shared machine hit every function alike, so their ratios stay meaningful.
/// </summary>
internal static class Timing
{
    public static List<double>[] Interleaved(IReadOnlyList<Action> functions, int reps, double minTime, double maxTime, int warmup)
    {
        for (int w = 0; w < warmup; w++)
        {
            foreach (var f in functions) f();
        }
        var times = new List<double>[functions.Count];
        for (int i = 0; i < times.Length; i++) times[i] = [];
        var total = Stopwatch.StartNew();
        int n = functions.Count;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                functions[i]();
                times[i].Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
            double elapsed = total.Elapsed.TotalSeconds;
            int done = times[0].Count;
            if ((done >= reps && elapsed >= minTime * n) || (elapsed >= maxTime * n && done >= 3)) return times;
        }
    }

    /// <summary>Median and minimum of a list of seconds, in milliseconds.</summary>
    public static (double MedianMs, double MinMs) Stats(List<double> seconds)
    {
        var sorted = seconds.ToArray();
        Array.Sort(sorted);
        int m = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[m] : 0.5 * (sorted[m - 1] + sorted[m]);
        return (median * 1e3, sorted[0] * 1e3);
    }
}

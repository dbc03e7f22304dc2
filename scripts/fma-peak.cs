#:property Optimize=true
#:property TieredPGO=false
// The machine's single-precision FMA peak: 12 independent chains of fused multiply-adds per thread, each at the
// widest vector the JIT accelerates, so the figure is the throughput bound of the FMA units, not of any kernel.
// Usage: dotnet run -c Release scripts/fma-peak.cs [THREADS] [REPS]
using System;
using System.Diagnostics;
using System.Threading;
using System.Runtime.Intrinsics;

int threads = args.Length > 0 ? int.Parse(args[0]) : Environment.ProcessorCount;
int reps = args.Length > 1 ? int.Parse(args[1]) : 5;
const long Iterations = 100_000_000;
const int Chains = 12;
if (!Vector256.IsHardwareAccelerated)
{
    Console.Error.WriteLine("fma-peak: needs 256- or 512-bit vectors (AVX2 or AVX-512); this machine accelerates neither");
    return 1;
}
string width = Vector512.IsHardwareAccelerated ? "Vector512" : "Vector256";

Chain(1000);
var results = new double[reps];
for (int r = 0; r < reps; r++)
{
    var workers = new Thread[threads];
    var start = new Barrier(threads + 1);
    for (int k = 0; k < threads; k++)
    {
        workers[k] = new Thread(() => { start.SignalAndWait(); Chain(Iterations); });
        workers[k].Start();
    }
    start.SignalAndWait();
    var clock = Stopwatch.StartNew();
    foreach (var w in workers) w.Join();
    results[r] = threads * Iterations * Chains * VectorLanes() * 2 / clock.Elapsed.TotalSeconds / 1e9;
}
Array.Sort(results);
Console.WriteLine($"fma peak: {results[reps / 2]:F1} GFLOP/s single precision (median of {reps}), {threads} threads, {width}, min {results[0]:F1} max {results[^1]:F1}");
return 0;

static int VectorLanes() => Vector512.IsHardwareAccelerated ? 16 : 8;

static float Chain(long iterations)
{
    if (Vector512.IsHardwareAccelerated) return Chain512(iterations);
    return Chain256(iterations);
}

static float Chain512(long iterations)
{
    var m = Vector512.Create(0.9999999f);
    var c = Vector512.Create(1e-7f);
    var a0 = Vector512.Create(1f); var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0;
    var a6 = a0; var a7 = a0; var a8 = a0; var a9 = a0; var a10 = a0; var a11 = a0;
    for (long i = 0; i < iterations; i++)
    {
        a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c);
        a2 = Vector512.FusedMultiplyAdd(a2, m, c); a3 = Vector512.FusedMultiplyAdd(a3, m, c);
        a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
        a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c);
        a8 = Vector512.FusedMultiplyAdd(a8, m, c); a9 = Vector512.FusedMultiplyAdd(a9, m, c);
        a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
    }
    return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).ToScalar();
}

static float Chain256(long iterations)
{
    var m = Vector256.Create(0.9999999f);
    var c = Vector256.Create(1e-7f);
    var a0 = Vector256.Create(1f); var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0;
    var a6 = a0; var a7 = a0; var a8 = a0; var a9 = a0; var a10 = a0; var a11 = a0;
    for (long i = 0; i < iterations; i++)
    {
        a0 = Vector256.FusedMultiplyAdd(a0, m, c); a1 = Vector256.FusedMultiplyAdd(a1, m, c);
        a2 = Vector256.FusedMultiplyAdd(a2, m, c); a3 = Vector256.FusedMultiplyAdd(a3, m, c);
        a4 = Vector256.FusedMultiplyAdd(a4, m, c); a5 = Vector256.FusedMultiplyAdd(a5, m, c);
        a6 = Vector256.FusedMultiplyAdd(a6, m, c); a7 = Vector256.FusedMultiplyAdd(a7, m, c);
        a8 = Vector256.FusedMultiplyAdd(a8, m, c); a9 = Vector256.FusedMultiplyAdd(a9, m, c);
        a10 = Vector256.FusedMultiplyAdd(a10, m, c); a11 = Vector256.FusedMultiplyAdd(a11, m, c);
    }
    return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).ToScalar();
}

using System;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;

namespace Spiking.Tensors;

/// <summary>
/// How many threads the CPU kernels may use. Kernels split their work into a partition that depends only on
/// the problem's shape, never on the thread count, and every output element is computed by exactly one work
/// item in a fixed order, so a result is bitwise identical for 1 or N threads.
/// </summary>
public static class Parallelism
{
    private static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>The largest number of threads a kernel uses; defaults to the processor count.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int MaxThreads
    {
        get => Volatile.Read(ref s_maxThreads);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(MaxThreads));
            Volatile.Write(ref s_maxThreads, value);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> for each work item in <c>[0, count)</c>, in parallel when it is worth it.
    /// <paramref name="workPerItem"/> is a rough operation count used to skip threading for tiny problems;
    /// it never changes which items exist, only whether they run on one thread. A work item's exception reaches
    /// the caller as itself (the first, when several items throw), not wrapped.
    /// </summary>
    internal static void For<TState>(int count, long workPerItem, TState state, Action<int, TState> body)
    {
        int threads = Math.Min(MaxThreads, count);
        if (threads <= 1 || workPerItem * count < 32_768)
        {
            for (int i = 0; i < count; i++) body(i, state);
            return;
        }
        ForParallel(count, threads, state, body);
    }

    /// <summary>
    /// The threaded loop, apart so that the serial path allocates nothing: the lambda's captures would otherwise be
    /// boxed on entry to <see cref="For{TState}"/> for every call, threaded or not. <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>
    /// still allocates its task machinery (about 1.8 KB a call); a pooled replacement took that to zero but ran W1's
    /// training step 3–10 % slower on two cores, for reasons not found, so it is not used.
    /// </summary>
    private static void ForParallel<TState>(int count, int threads, TState state, Action<int, TState> body)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        try
        {
            Parallel.For(0, count, options, i => body(i, state));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }

    /// <summary>The number of chunks of <paramref name="chunk"/> elements that cover <paramref name="length"/> (the last may be short).</summary>
    internal static int ChunkCount(int length, int chunk) => length == 0 ? 0 : (length + chunk - 1) / chunk;
}

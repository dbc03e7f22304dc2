using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Threading;

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
    /// it never changes which items exist, only whether they run on one thread. A call from inside a work item
    /// runs on its own thread, since the outer call already keeps every thread busy. The first exception a work
    /// item throws is rethrown here once every started item has returned. Nothing is allocated per call: the
    /// calling thread keeps one <see cref="ParallelJob{TState}"/> per state type and the helpers' tickets are
    /// pooled (<see cref="System.Threading.Tasks.Parallel.For(int, int, Action{int})"/> allocates its task machinery
    /// on every call, hundreds of times per training step).
    /// </summary>
    internal static void For<TState>(int count, long workPerItem, TState state, Action<int, TState> body)
    {
        int threads = Math.Min(MaxThreads, count);
        if (threads <= 1 || workPerItem * count < 32_768 || ParallelJob.InsideWorkItem)
        {
            for (int i = 0; i < count; i++) body(i, state);
            return;
        }
        ParallelJob<TState>.ForThisThread.Run(count, threads - 1, state, body);
    }

    /// <summary>The number of chunks of <paramref name="chunk"/> elements that cover <paramref name="length"/> (the last may be short).</summary>
    internal static int ChunkCount(int length, int chunk) => length == 0 ? 0 : (length + chunk - 1) / chunk;
}

/// <summary>
/// One thread's reusable parallel loop. The caller opens a generation, queues helper tickets on the thread pool,
/// and takes items itself; helpers join only while their generation is open. When the caller runs out of items it
/// closes the generation and waits for the helpers that joined, never for tickets still queued: those find a
/// later generation or a closed one and return at once, so a busy pool cannot stall the loop.
/// </summary>
internal abstract class ParallelJob
{
    /// <summary>The gate: generation in the high 32 bits, a closed flag, and the number of joined helpers in the low bits.</summary>
    private long _gate = ClosedBit;
    private const long ClosedBit = 1L << 31;
    private const long ActiveMask = ClosedBit - 1;
    private readonly object _leaving = new();
    private int _next, _count;
    private Exception? _error;

    [ThreadStatic]
    private static bool t_insideWorkItem;

    /// <summary>True on a thread that is running a work item of some loop.</summary>
    public static bool InsideWorkItem => t_insideWorkItem;

    /// <summary>Runs the loop's items on this thread and on up to <paramref name="helpers"/> pool threads.</summary>
    protected void RunItems(int count, int helpers)
    {
        (_count, _next, _error) = (count, -1, null);
        // Generations wrap within 31 bits so that they survive the shift; a ticket 2³¹ generations stale is not a risk.
        long generation = ((Volatile.Read(ref _gate) >> 32) + 1) & int.MaxValue;
        Volatile.Write(ref _gate, generation << 32);
        for (int h = 0; h < helpers; h++) HelperTicket.Queue(this, generation);
        TakeItems();
        if ((Interlocked.Or(ref _gate, ClosedBit) & ActiveMask) != 0) WaitForHelpers();
        if (_error is { } error)
        {
            _error = null;
            ExceptionDispatchInfo.Throw(error);
        }
    }

    /// <summary>A helper's visit: joins if its generation is still open, takes items, and leaves.</summary>
    private void Help(long generation)
    {
        long gate = Volatile.Read(ref _gate);
        while (true)
        {
            if (gate >> 32 != generation || (gate & ClosedBit) != 0) return;
            long seen = Interlocked.CompareExchange(ref _gate, gate + 1, gate);
            if (seen == gate) break;
            gate = seen;
        }
        TakeItems();
        long after = Interlocked.Decrement(ref _gate);
        if ((after & ClosedBit) != 0 && (after & ActiveMask) == 0)
        {
            lock (_leaving) Monitor.PulseAll(_leaving);
        }
    }

    /// <summary>Spins briefly (helpers usually finish their last item within microseconds), then blocks until the last joined helper leaves.</summary>
    private void WaitForHelpers()
    {
        var spin = new SpinWait();
        while ((Volatile.Read(ref _gate) & ActiveMask) != 0)
        {
            if (spin.NextSpinWillYield)
            {
                lock (_leaving)
                {
                    while ((Volatile.Read(ref _gate) & ActiveMask) != 0) Monitor.Wait(_leaving);
                }
                return;
            }
            spin.SpinOnce();
        }
    }

    private void TakeItems()
    {
        bool outer = t_insideWorkItem;
        t_insideWorkItem = true;
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref _next)) < _count)
            {
                try
                {
                    Execute(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, e, null);
                    Volatile.Write(ref _next, _count);
                }
            }
        }
        finally
        {
            t_insideWorkItem = outer;
        }
    }

    /// <summary>Runs work item <paramref name="item"/>.</summary>
    protected abstract void Execute(int item);

    /// <summary>A queued invitation to help one generation of one loop; returns itself to the pool when it has run.</summary>
    private sealed class HelperTicket : IThreadPoolWorkItem
    {
        private static readonly Stack<HelperTicket> s_pool = new();
        private ParallelJob? _job;
        private long _generation;

        public static void Queue(ParallelJob job, long generation)
        {
            HelperTicket? ticket;
            lock (s_pool)
            {
                s_pool.TryPop(out ticket);
            }
            ticket ??= new HelperTicket();
            (ticket._job, ticket._generation) = (job, generation);
            ThreadPool.UnsafeQueueUserWorkItem(ticket, preferLocal: false);
        }

        void IThreadPoolWorkItem.Execute()
        {
            var (job, generation) = (_job!, _generation);
            _job = null;
            try
            {
                job.Help(generation);
            }
            finally
            {
                lock (s_pool) s_pool.Push(this);
            }
        }
    }
}

/// <summary>The loop state and body of <see cref="Parallelism.For{TState}"/>, one per calling thread and state type.</summary>
internal sealed class ParallelJob<TState> : ParallelJob
{
    [ThreadStatic]
    private static ParallelJob<TState>? t_job;

    private TState _state = default!;
    private Action<int, TState>? _body;

    public static ParallelJob<TState> ForThisThread => t_job ??= new ParallelJob<TState>();

    public void Run(int count, int helpers, TState state, Action<int, TState> body)
    {
        (_state, _body) = (state, body);
        try
        {
            RunItems(count, helpers);
        }
        finally
        {
            (_state, _body) = (default!, null);
        }
    }

    protected override void Execute(int item) => _body!(item, _state);
}

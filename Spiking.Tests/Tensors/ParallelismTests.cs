using System;
using System.Threading;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Tensors;

/// <summary>
/// The kernels' parallel loop: every item runs exactly once whatever the thread count, a work item's exception
/// reaches the caller unwrapped and leaves the loop usable, loops nest, and a loop on one thread allocates nothing.
/// </summary>
[Collection("Parallelism")]
public sealed class ParallelismTests
{
    private const long Heavy = 1 << 20;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(16)]
    public void Every_item_runs_exactly_once(int threads)
    {
        using var _ = new ThreadCount(threads);
        foreach (int count in new[] { 1, 2, 3, 7, 64, 1000 })
        {
            for (int repeat = 0; repeat < 20; repeat++)
            {
                var runs = new int[count];
                Parallelism.For(count, Heavy, runs, static (i, r) => Interlocked.Increment(ref r[i]));
                for (int i = 0; i < count; i++) Assert.True(runs[i] == 1, $"{threads} threads, {count} items: item {i} ran {runs[i]} times");
            }
        }
    }

    [Fact]
    public void A_work_items_exception_reaches_the_caller_and_the_loop_stays_usable()
    {
        using var _ = new ThreadCount(4);
        var error = Assert.Throws<InvalidOperationException>(() =>
            Parallelism.For(100, Heavy, 37, static (i, bad) =>
            {
                if (i == bad) throw new InvalidOperationException($"item {i} failed");
            }));
        Assert.Equal("item 37 failed", error.Message);
        var runs = new int[100];
        Parallelism.For(100, Heavy, runs, static (i, r) => Interlocked.Increment(ref r[i]));
        Assert.All(runs, n => Assert.Equal(1, n));
    }

    [Fact]
    public void A_loop_inside_a_work_item_runs_all_its_items()
    {
        using var _ = new ThreadCount(4);
        var runs = new int[8 * 50];
        Parallelism.For(8, Heavy, runs, static (outer, r) =>
            Parallelism.For(50, Heavy, (outer, r), static (inner, s) => Interlocked.Increment(ref s.r[s.outer * 50 + inner])));
        Assert.All(runs, n => Assert.Equal(1, n));
    }

    [Theory]
    [InlineData(1, Heavy)]
    [InlineData(2, 1)]
    public void A_loop_on_one_thread_allocates_nothing(int threads, long workPerItem)
    {
        using var _ = new ThreadCount(threads);
        var sums = new long[64];
        for (int i = 0; i < 10; i++) Parallelism.For(sums.Length, workPerItem, sums, static (item, s) => s[item] += item);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) Parallelism.For(sums.Length, workPerItem, sums, static (item, s) => s[item] += item);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // The runtime may allocate a few bytes once (tiered compilation); a closure per call came to 32 KB here.
        Assert.True(allocated < 1000, $"1000 serial loops allocated {allocated} bytes");
        Assert.Equal(1010L * 63, sums[63]);
    }

    /// <summary>Sets <see cref="Parallelism.MaxThreads"/> for one test and restores it.</summary>
    private readonly struct ThreadCount : IDisposable
    {
        private readonly int _saved;

        public ThreadCount(int threads)
        {
            _saved = Parallelism.MaxThreads;
            Parallelism.MaxThreads = threads;
        }

        public void Dispose() => Parallelism.MaxThreads = _saved;
    }
}

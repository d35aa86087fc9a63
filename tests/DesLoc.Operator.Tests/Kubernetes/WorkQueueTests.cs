using DesLoc.Operator.Kubernetes;
using Microsoft.Extensions.Time.Testing;

namespace DesLoc.Operator.Tests.Kubernetes;

public sealed class WorkQueueTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_key_added_twice_is_queued_once()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        queue.Add("b");
        queue.Add("a");

        Assert.Equal(2, queue.Depth);
        Assert.Equal("a", await queue.TakeAsync(CancellationToken.None));
        Assert.Equal("b", await queue.TakeAsync(CancellationToken.None));
        Assert.Equal(0, queue.Depth);
    }

    [Fact]
    public async Task A_key_being_processed_is_not_handed_to_a_second_worker_and_comes_back_on_done()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        var first = await queue.TakeAsync(CancellationToken.None);

        // Added while processed: marked dirty, not queued, so a second worker waits.
        queue.Add("a");
        Assert.Equal(0, queue.Depth);
        var second = queue.TakeAsync(CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(second.IsCompleted);

        queue.Done(first);
        Assert.Equal("a", await second.WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Done_without_a_new_add_does_not_queue_the_key_again()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        queue.Done(await queue.TakeAsync(CancellationToken.None));

        Assert.Equal(0, queue.Depth);
    }

    [Fact]
    public async Task Many_workers_never_hold_one_key_at_once()
    {
        using var queue = new WorkQueue<int>();
        var holding = new int[4];
        var overlaps = 0;
        var processed = 0;
        using var stop = new CancellationTokenSource();

        async Task WorkerAsync()
        {
            while (true)
            {
                int key;
                try
                {
                    key = await queue.TakeAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                if (Interlocked.Increment(ref holding[key]) > 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                await Task.Yield();
                Interlocked.Decrement(ref holding[key]);
                Interlocked.Increment(ref processed);
                queue.Done(key);
            }
        }

        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(WorkerAsync)).ToArray();
        for (var i = 0; i < 2000; i++)
        {
            queue.Add(i % holding.Length);
            if (i % 50 == 0)
            {
                await Task.Yield();
            }
        }

        while (queue.Depth > 0)
        {
            await Task.Delay(5);
        }

        queue.ShutDown();
        await Task.WhenAll(workers).WaitAsync(s_timeout);
        Assert.Equal(0, overlaps);
        Assert.InRange(processed, holding.Length, 2000);
    }

    [Fact]
    public async Task Rate_limited_adds_back_off_exponentially_up_to_the_cap_and_forget_resets()
    {
        var time = new FakeTimeProvider();
        using var queue = new WorkQueue<string>(time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));

        var delays = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            queue.AddRateLimited("a");
            delays.Add(await TimeUntilQueuedAsync(queue, time, "a"));
        }

        Assert.Equal([1, 2, 4, 5, 5], delays.Select(d => d.TotalSeconds));
        Assert.Equal(5, queue.Failures("a"));
        Assert.Equal(0, queue.Failures("b"));

        queue.Forget("a");
        Assert.Equal(0, queue.Failures("a"));
        queue.AddRateLimited("a");
        Assert.Equal(TimeSpan.FromSeconds(1), await TimeUntilQueuedAsync(queue, time, "a"));
    }

    [Fact]
    public async Task Add_after_queues_the_key_only_when_its_delay_has_passed()
    {
        var time = new FakeTimeProvider();
        using var queue = new WorkQueue<string>(time);
        queue.AddAfter("a", TimeSpan.FromSeconds(30));

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, queue.Depth);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, queue.Depth);
        Assert.Equal("a", await queue.TakeAsync(CancellationToken.None));
    }

    [Fact]
    public void An_earlier_add_after_replaces_a_later_one_and_a_later_one_is_ignored()
    {
        var time = new FakeTimeProvider();
        using var queue = new WorkQueue<string>(time);
        queue.AddAfter("a", TimeSpan.FromSeconds(30));
        queue.AddAfter("a", TimeSpan.FromSeconds(10));
        queue.AddAfter("a", TimeSpan.FromSeconds(20));

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, queue.Depth);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, queue.Depth);
    }

    [Fact]
    public async Task Shut_down_drains_what_is_queued_then_stops_takers_and_ignores_adds()
    {
        var time = new FakeTimeProvider();
        using var queue = new WorkQueue<string>(time);
        queue.Add("a");
        queue.AddAfter("b", TimeSpan.FromSeconds(1));
        queue.ShutDown();
        queue.Add("c");
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal("a", await queue.TakeAsync(CancellationToken.None));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.TakeAsync(CancellationToken.None).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.TakeAsync(CancellationToken.None).AsTask());
        Assert.True(queue.IsShuttingDown);
    }

    [Fact]
    public async Task A_waiting_taker_is_woken_by_an_add_and_stopped_by_its_token()
    {
        using var queue = new WorkQueue<string>();
        var waiting = queue.TakeAsync(CancellationToken.None).AsTask();
        queue.Add("a");
        Assert.Equal("a", await waiting.WaitAsync(s_timeout));

        using var cancel = new CancellationTokenSource();
        var cancelled = queue.TakeAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }

    /// <summary>Advances the fake clock one second at a time until the key is queued; takes it and marks it done.</summary>
    private static async Task<TimeSpan> TimeUntilQueuedAsync(WorkQueue<string> queue, FakeTimeProvider time, string key)
    {
        var waited = TimeSpan.Zero;
        while (queue.Depth == 0)
        {
            Assert.True(waited < TimeSpan.FromMinutes(10), "the key was never queued");
            time.Advance(TimeSpan.FromSeconds(1));
            waited += TimeSpan.FromSeconds(1);
        }

        var taken = await queue.TakeAsync(CancellationToken.None);
        queue.Done(taken);
        Assert.Equal(key, taken);
        return waited;
    }
}

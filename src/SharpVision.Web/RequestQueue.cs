using System.Diagnostics;

namespace SharpVision.Web;

/// <summary>
/// One request's images waiting for the engine. The handler awaits <see cref="Completion"/>; the batch worker claims
/// it with <see cref="TryClaim"/>, and a handler whose deadline passed first gives it up with <see cref="TryAbandon"/>,
/// so exactly one of them decides what happens to it.
/// </summary>
internal sealed class PendingPrediction(ServedModel model, byte[] images, int count)
{
    private const int Waiting = 0, Claimed = 1, Abandoned = 2;
    private int _state;

    /// <summary>The model version the images were prepared for (a reload does not change it).</summary>
    public ServedModel Model { get; } = model;

    /// <summary>count×C×H×W prepared bytes.</summary>
    public byte[] Images { get; } = images;

    public int Count { get; } = count;

    /// <summary>When it entered the queue (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long EnqueuedAt { get; set; }

    /// <summary>The size of the batch it ran in, and its time in the queue (set before completion).</summary>
    public int BatchImages { get; set; }

    public TimeSpan QueueTime { get; set; }

    /// <summary>Its rows of the batch's predictions; continuations run off the worker thread.</summary>
    public TaskCompletionSource<Predictions> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The worker takes it; false when the handler gave up first.</summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref _state, Claimed, Waiting) == Waiting;

    /// <summary>The handler gives up; false when the worker already took it (its answer is moments away).</summary>
    public bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Waiting) == Waiting;
}

/// <summary>
/// The bounded queue in front of one model's batch worker. A request reserves its place on arrival, before its body
/// is read, so a full queue is answered at once; the reservation becomes an entry when its images are decoded (or is
/// released when they are not). The worker gathers entries into batches, waiting a little for more only while
/// reservations promise them.
/// </summary>
internal sealed class RequestQueue(int capacity)
{
    private readonly Queue<PendingPrediction> _items = new();
    private readonly object _lock = new(); // Monitor: the worker waits on it
    private int _reserved;
    private long _taken;
    private bool _closed;

    public int Capacity { get; } = capacity;

    /// <summary>Entries waiting plus reservations still being decoded.</summary>
    public int Depth
    {
        get
        {
            lock (_lock) return _items.Count + _reserved;
        }
    }

    /// <summary>Entries handed to the worker so far.</summary>
    public long Taken
    {
        get
        {
            lock (_lock) return _taken;
        }
    }

    /// <summary>Takes a place for a request that is about to be read; false when the queue is full or closed.</summary>
    public bool TryReserve()
    {
        lock (_lock)
        {
            if (_closed || _items.Count + _reserved >= Capacity) return false;
            _reserved++;
            return true;
        }
    }

    /// <summary>Gives a reservation back (the request was refused or failed before its images were ready).</summary>
    public void Release()
    {
        lock (_lock)
        {
            _reserved--;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Turns a reservation into an entry.</summary>
    public void Enqueue(PendingPrediction item)
    {
        lock (_lock)
        {
            _reserved--;
            item.EnqueuedAt = Stopwatch.GetTimestamp();
            _items.Enqueue(item);
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>No new reservations; the worker drains what is queued and then stops.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>
    /// Blocks until at least one entry is queued, then fills <paramref name="batch"/> with entries for the same model
    /// version up to <paramref name="maxImages"/> images (a single larger request runs alone). While reservations
    /// are being decoded it waits for them, up to <paramref name="maxWait"/> after the first entry was queued.
    /// Returns false once the queue is closed and empty (no reservation left either).
    /// </summary>
    public bool TryTakeBatch(List<PendingPrediction> batch, int maxImages, TimeSpan maxWait)
    {
        batch.Clear();
        lock (_lock)
        {
            while (_items.Count == 0)
            {
                if (_closed && _reserved == 0) return false;
                Monitor.Wait(_lock);
            }
            long waitUntil = _items.Peek().EnqueuedAt + (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
            int images = 0;
            while (true)
            {
                while (_items.Count > 0 && (batch.Count == 0 || (ReferenceEquals(_items.Peek().Model, batch[0].Model) && images + _items.Peek().Count <= maxImages)))
                {
                    var item = _items.Dequeue();
                    batch.Add(item);
                    images += item.Count;
                    _taken++;
                }
                bool blocked = _items.Count > 0; // full, or the next entry belongs to another model version
                long now = Stopwatch.GetTimestamp();
                if (blocked || images >= maxImages || _reserved == 0 || now >= waitUntil) return true;
                Monitor.Wait(_lock, TimeSpan.FromSeconds((double)(waitUntil - now) / Stopwatch.Frequency));
            }
        }
    }
}

namespace SharpVision.Tensors.Kernels;

/// <summary>Splits independent items (planes, channels) into one contiguous range per worker.</summary>
internal static class WorkSplit
{
    // Below this much work (items × cost) a call stays on the calling thread: waking a worker costs more.
    private const long ParallelThreshold = 1 << 16;

    /// <summary>
    /// Runs body(first, end) over [0, count) in at most <paramref name="threads"/> contiguous ranges. Use it only where
    /// items are independent, so that the split cannot change any result.
    /// </summary>
    public static void ForRanges(int count, long costPerItem, int threads, Action<int, int> body)
    {
        if (count == 0) return;
        int workers = count * costPerItem < ParallelThreshold ? 1 : Math.Min(threads, count);
        if (workers <= 1)
        {
            body(0, count);
            return;
        }
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers },
            w => body((int)((long)count * w / workers), (int)((long)count * (w + 1) / workers)));
    }
}

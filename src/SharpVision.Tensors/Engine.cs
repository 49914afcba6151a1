namespace SharpVision.Tensors;

/// <summary>
/// How many threads the engine's kernels may use. A library call that takes a thread count runs its work inside
/// <see cref="UseThreads"/>, so the count travels with the call (and with the tasks it starts) instead of being a
/// process-wide setting that callers change under each other. Results are deterministic for a given count.
/// </summary>
public static class Engine
{
    private static readonly AsyncLocal<int> Scoped = new();
    private static int _default = Environment.ProcessorCount;

    /// <summary>
    /// Worker threads for kernels: the innermost <see cref="UseThreads"/> scope's count, else the process default
    /// (all cores unless set).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set below 1.</exception>
    public static int Threads
    {
        get => Scoped.Value > 0 ? Scoped.Value : _default;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _default = value;
        }
    }

    /// <summary>
    /// Kernels called on this flow of execution (and tasks it starts) use <paramref name="threads"/> threads until the
    /// returned scope is disposed; 0 keeps the current count.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is negative.</exception>
    public static ThreadScope UseThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        var previous = Scoped.Value;
        if (threads > 0) Scoped.Value = threads;
        return new ThreadScope(previous);
    }

    /// <summary>Restores the previous thread count when disposed.</summary>
    public readonly struct ThreadScope : IDisposable
    {
        private readonly int _previous;

        internal ThreadScope(int previous) => _previous = previous;

        /// <summary>Restores the thread count that was in force before the scope.</summary>
        public void Dispose() => Scoped.Value = _previous;
    }
}

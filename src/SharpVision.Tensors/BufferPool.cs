using System.Collections.Concurrent;

namespace SharpVision.Tensors;

/// <summary>
/// Recycles the large arrays of a training step. A step of a CNN allocates hundreds of megabytes of activations and
/// gradients; allocating them fresh costs a memset each and steady large-object-heap collections. Inside a
/// <see cref="Step"/> scope, operations rent exact-length arrays that go back to the pool when the scope ends, so the
/// next step reuses them. Outside a scope, renting is plain allocation.
/// </summary>
/// <remarks>
/// Nothing allocated inside a scope may be read after it: the training loop reads the loss and the predictions before
/// disposing. Parameters and their gradients are never pooled (leaf gradients are allocated normally). Arrays below
/// <see cref="MinimumLength"/> elements are not worth pooling.
/// </remarks>
public static class BufferPool
{
    /// <summary>Smaller arrays are allocated normally.</summary>
    public const int MinimumLength = 4096;

    [ThreadStatic] private static ScopeState? _current;

    /// <summary>Starts pooling on this thread until the returned scope is disposed.</summary>
    /// <exception cref="InvalidOperationException">A scope is already active on this thread.</exception>
    public static Scope Step()
    {
        if (_current is not null) throw new InvalidOperationException("BufferPool scopes do not nest.");
        _current = new ScopeState();
        return new Scope(_current);
    }

    /// <summary>True while a <see cref="Step"/> scope is active on this thread (a new one would throw).</summary>
    public static bool InScope => _current is not null;

    /// <summary>An array whose contents are unspecified (for outputs that are fully written).</summary>
    public static T[] Uninitialized<T>(int length) where T : unmanaged => Rent<T>(length, zeroed: false);

    /// <summary>An array of zeros (for accumulation).</summary>
    public static T[] Zeroed<T>(int length) where T : unmanaged => Rent<T>(length, zeroed: true);

    private static T[] Rent<T>(int length, bool zeroed) where T : unmanaged
    {
        var scope = _current;
        if (scope is null || length < MinimumLength) return zeroed ? new T[length] : GC.AllocateUninitializedArray<T>(length);
        var array = Free<T>.Take(length);
        if (array is null) array = zeroed ? new T[length] : GC.AllocateUninitializedArray<T>(length);
        else if (zeroed) Array.Clear(array);
        scope.Rented.Add(array);
        return array;
    }

    private sealed class ScopeState
    {
        public readonly List<Array> Rented = [];
    }

    private static class Free<T>
    {
        private static readonly ConcurrentDictionary<int, ConcurrentStack<T[]>> ByLength = new();

        public static T[]? Take(int length) => ByLength.TryGetValue(length, out var stack) && stack.TryPop(out var array) ? array : null;

        public static void Give(T[] array) => ByLength.GetOrAdd(array.Length, _ => new ConcurrentStack<T[]>()).Push(array);
    }

    /// <summary>Returns every array rented in the scope to the pool.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly ScopeState _state;

        internal Scope(object state) => _state = (ScopeState)state;

        public void Dispose()
        {
            if (_state is null || !ReferenceEquals(_current, _state)) return;
            foreach (var array in _state.Rented)
            {
                switch (array)
                {
                    case float[] f: Free<float>.Give(f); break;
                    case int[] i: Free<int>.Give(i); break;
                    case double[] d: Free<double>.Give(d); break;
                }
            }
            _current = null;
        }
    }
}

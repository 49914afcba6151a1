namespace SharpVision.Tensors;

/// <summary>Process-wide settings of the engine: how many threads kernels may use.</summary>
public static class Engine
{
    private static int _threads = Environment.ProcessorCount;

    /// <summary>Worker threads for kernels (default: all cores). Results are deterministic for a given value.</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _threads = value;
        }
    }
}

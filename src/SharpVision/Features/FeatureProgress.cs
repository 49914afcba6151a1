namespace SharpVision.Features;

/// <summary>
/// Where feature extraction reports how far it is: an ambient listener, like <c>Engine.UseThreads</c>, so that a
/// trainer can forward the progress of a long extraction (a pretrained backbone: tens of milliseconds per image)
/// without every layer between it and <see cref="FeaturePipeline.Extract(Data.ImageDataset, int, out int, CancellationToken)"/>
/// passing a callback along. The listener travels with the call and the tasks it starts (an <see cref="AsyncLocal{T}"/>).
/// </summary>
public static class FeatureProgress
{
    private static readonly AsyncLocal<Action<string, long, long>?> Listener = new();

    /// <summary>
    /// Sends extraction progress (stage such as "features resnet18", images done, images in all) to
    /// <paramref name="listener"/> until the returned scope is disposed; the previous listener is restored then.
    /// The listener may be called from several threads, with counts that only grow.
    /// </summary>
    public static IDisposable Listen(Action<string, long, long> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        var previous = Listener.Value;
        Listener.Value = listener;
        return new Scope(previous);
    }

    /// <summary>Reports progress to the current listener, if any.</summary>
    internal static void Report(string stage, long done, long total) => Listener.Value?.Invoke(stage, done, total);

    /// <summary>True when someone listens (so callers can skip building stage strings).</summary>
    internal static bool Listening => Listener.Value is not null;

    private sealed class Scope(Action<string, long, long>? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Listener.Value = previous;
        }
    }
}

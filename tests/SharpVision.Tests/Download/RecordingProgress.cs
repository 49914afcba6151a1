using SharpVision.Data.Download;

using SharpVision.Tests.Support;

namespace SharpVision.Tests.Download;

/// <summary>Records reports synchronously, in order (Progress&lt;T&gt; would post them to the thread pool, unordered).</summary>
internal sealed class RecordingProgress : IProgress<DownloadProgress>
{
    private readonly List<DownloadProgress> _reports = [];

    public IReadOnlyList<DownloadProgress> Reports
    {
        get
        {
            lock (_reports)
                return [.. _reports];
        }
    }

    public void Report(DownloadProgress value)
    {
        lock (_reports)
            _reports.Add(value);
    }
}

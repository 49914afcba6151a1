using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SharpVision.Web;

/// <summary>
/// The service's counters, written as Prometheus text (exposition format 0.0.4): requests by route and status, a
/// latency histogram per route, batch sizes, queue depth, images and images/s per model, reloads. Updates are
/// lock-free increments, so recording costs the request path next to nothing.
/// </summary>
public sealed class ServiceMetrics
{
    /// <summary>Latency bucket bounds in seconds.</summary>
    public static readonly double[] LatencyBounds = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

    private readonly ConcurrentDictionary<(string Route, int Status), StrongBox> _requests = new();
    private readonly ConcurrentDictionary<string, Histogram> _latency = new();
    private readonly ConcurrentDictionary<string, ModelCounters> _models = new();
    private readonly long _started = Stopwatch.GetTimestamp();

    /// <summary>Counts one answered request and its latency.</summary>
    public void RecordRequest(string route, int status, TimeSpan elapsed)
    {
        Interlocked.Increment(ref _requests.GetOrAdd((route, status), _ => new StrongBox()).Value);
        _latency.GetOrAdd(route, _ => new Histogram(LatencyBounds)).Observe(elapsed.TotalSeconds);
    }

    /// <summary>Counts one forward pass of <paramref name="images"/> images.</summary>
    public void RecordBatch(string model, int images) => Model(model).RecordBatch(images);

    /// <summary>Counts a reload attempt.</summary>
    public void RecordReload(string model, bool succeeded)
    {
        var counters = Model(model);
        if (succeeded) Interlocked.Increment(ref counters.ReloadsSucceeded);
        else Interlocked.Increment(ref counters.ReloadsFailed);
    }

    /// <summary>Counts a request refused because the queue was full.</summary>
    public void RecordRejected(string model) => Interlocked.Increment(ref Model(model).Rejected);

    private ModelCounters Model(string name) => _models.GetOrAdd(name, _ => new ModelCounters());

    /// <summary>The Prometheus text of everything counted, with each model's current queue depth and capacity.</summary>
    public string Render(IEnumerable<(string Model, int Depth, int Capacity, string Kind, string Sha256)> models)
    {
        var text = new StringBuilder(4096);
        var c = CultureInfo.InvariantCulture;
        Header(text, "sharpvision_requests_total", "counter", "HTTP requests answered, by route and status.");
        foreach (var ((route, status), count) in _requests.OrderBy(p => p.Key.Route, StringComparer.Ordinal).ThenBy(p => p.Key.Status))
            text.Append(c, $"sharpvision_requests_total{{route=\"{Escape(route)}\",status=\"{status}\"}} {Volatile.Read(ref count.Value)}\n");
        Header(text, "sharpvision_request_duration_seconds", "histogram", "Time from a request's arrival to its answer.");
        foreach (var (route, histogram) in _latency.OrderBy(p => p.Key, StringComparer.Ordinal))
            histogram.Render(text, "sharpvision_request_duration_seconds", $"route=\"{Escape(route)}\"");
        var listed = models.ToList();
        Header(text, "sharpvision_model_info", "gauge", "The models served (value 1), with their kind and file hash.");
        foreach (var m in listed) text.Append(c, $"sharpvision_model_info{{model=\"{Escape(m.Model)}\",kind=\"{Escape(m.Kind)}\",sha256=\"{m.Sha256}\"}} 1\n");
        Header(text, "sharpvision_queue_depth", "gauge", "Requests waiting for the engine (or being decoded for it).");
        foreach (var m in listed) text.Append(c, $"sharpvision_queue_depth{{model=\"{Escape(m.Model)}\"}} {m.Depth}\n");
        Header(text, "sharpvision_queue_capacity", "gauge", "Requests the queue holds before answering 503.");
        foreach (var m in listed) text.Append(c, $"sharpvision_queue_capacity{{model=\"{Escape(m.Model)}\"}} {m.Capacity}\n");
        Header(text, "sharpvision_batch_size", "histogram", "Images per forward pass.");
        foreach (var m in listed) Model(m.Model).Batches.Render(text, "sharpvision_batch_size", $"model=\"{Escape(m.Model)}\"");
        Header(text, "sharpvision_images_total", "counter", "Images predicted.");
        foreach (var m in listed) text.Append(c, $"sharpvision_images_total{{model=\"{Escape(m.Model)}\"}} {Volatile.Read(ref Model(m.Model).Images)}\n");
        Header(text, "sharpvision_images_per_second", "gauge", "Images predicted per second over the last 10 seconds.");
        foreach (var m in listed) text.Append(c, $"sharpvision_images_per_second{{model=\"{Escape(m.Model)}\"}} {Model(m.Model).Rate():0.###}\n");
        Header(text, "sharpvision_rejected_total", "counter", "Requests answered 503 at once because the queue was full.");
        foreach (var m in listed) text.Append(c, $"sharpvision_rejected_total{{model=\"{Escape(m.Model)}\"}} {Volatile.Read(ref Model(m.Model).Rejected)}\n");
        Header(text, "sharpvision_model_reloads_total", "counter", "Model file reloads, by result (a failed one keeps the old model).");
        foreach (var m in listed)
        {
            var counters = Model(m.Model);
            text.Append(c, $"sharpvision_model_reloads_total{{model=\"{Escape(m.Model)}\",result=\"ok\"}} {Volatile.Read(ref counters.ReloadsSucceeded)}\n");
            text.Append(c, $"sharpvision_model_reloads_total{{model=\"{Escape(m.Model)}\",result=\"failed\"}} {Volatile.Read(ref counters.ReloadsFailed)}\n");
        }
        using var process = Process.GetCurrentProcess();
        Header(text, "process_resident_memory_bytes", "gauge", "Resident memory of the service process.");
        text.Append(c, $"process_resident_memory_bytes {process.WorkingSet64}\n");
        Header(text, "process_cpu_seconds_total", "counter", "CPU time used by the service process.");
        text.Append(c, $"process_cpu_seconds_total {process.TotalProcessorTime.TotalSeconds:0.###}\n");
        Header(text, "process_uptime_seconds", "gauge", "Seconds since the service started.");
        text.Append(c, $"process_uptime_seconds {Stopwatch.GetElapsedTime(_started).TotalSeconds:0.###}\n");
        return text.ToString();
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    // Label values escape backslash, quote and newline (the exposition format's rule).
    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private sealed class StrongBox
    {
        public long Value;
    }

    private sealed class ModelCounters
    {
        public long Images, Rejected, ReloadsSucceeded, ReloadsFailed;
        public readonly Histogram Batches = new([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
        private readonly long[] _perSecond = new long[12];
        private readonly long[] _secondOf = new long[12];

        public void RecordBatch(int images)
        {
            Interlocked.Add(ref Images, images);
            Batches.Observe(images);
            long second = Stopwatch.GetTimestamp() / Stopwatch.Frequency;
            int slot = (int)(second % _perSecond.Length);
            lock (_perSecond)
            {
                if (_secondOf[slot] != second)
                {
                    _secondOf[slot] = second;
                    _perSecond[slot] = 0;
                }
                _perSecond[slot] += images;
            }
        }

        // Images in the 10 whole seconds before the current one, per second.
        public double Rate()
        {
            long now = Stopwatch.GetTimestamp() / Stopwatch.Frequency;
            long sum = 0;
            lock (_perSecond)
                for (int i = 0; i < _perSecond.Length; i++)
                    if (_secondOf[i] < now && _secondOf[i] >= now - 10) sum += _perSecond[i];
            return sum / 10.0;
        }
    }

    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length + 1];
        private long _sumMicros;

        public void Observe(double value)
        {
            int i = 0;
            while (i < bounds.Length && value > bounds[i]) i++;
            Interlocked.Increment(ref _counts[i]);
            Interlocked.Add(ref _sumMicros, (long)Math.Round(value * 1e6));
        }

        public void Render(StringBuilder text, string name, string labels)
        {
            var c = CultureInfo.InvariantCulture;
            long cumulative = 0;
            for (int i = 0; i <= bounds.Length; i++)
            {
                cumulative += Volatile.Read(ref _counts[i]);
                string le = i < bounds.Length ? bounds[i].ToString("R", c) : "+Inf";
                text.Append(c, $"{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}\n");
            }
            text.Append(c, $"{name}_sum{{{labels}}} {Volatile.Read(ref _sumMicros) / 1e6:0.######}\n");
            text.Append(c, $"{name}_count{{{labels}}} {cumulative}\n");
        }
    }
}

using System.Buffers;
using System.Diagnostics;
using SharpVision.IO;

namespace SharpVision.Web;

/// <summary>
/// Serves one model: its current version, the bounded queue in front of it, the batch worker (a dedicated thread
/// that gathers queued requests into forward passes), and the watcher that reloads the file when it is replaced.
/// </summary>
internal sealed class ModelHost : IDisposable
{
    private readonly ServeOptions _options;
    private readonly ServiceMetrics _metrics;
    private readonly ServiceLog _log;
    private readonly Lock _engine;
    private readonly Thread _worker;
    private readonly Timer? _watcher;
    private ServedModel _current;
    private (long Length, DateTime Written) _seen;
    private int _reloading;
    private volatile bool _ready;

    /// <param name="model">The loaded model.</param>
    /// <param name="options">Batching, queue and reload settings.</param>
    /// <param name="metrics">Where batches and reloads are counted.</param>
    /// <param name="log">Where reloads are logged.</param>
    /// <param name="engine">Held during every forward pass, so models share the cores one batch at a time.</param>
    public ModelHost(ServedModel model, ServeOptions options, ServiceMetrics metrics, ServiceLog log, Lock engine)
    {
        _current = model;
        _options = options;
        _metrics = metrics;
        _log = log;
        _engine = engine;
        Name = model.Name;
        Queue = new RequestQueue(options.QueueLength);
        _seen = Stat(model.Path);
        _worker = new Thread(Work) { IsBackground = true, Name = $"sharpvision-batch-{Name}" };
        _worker.Start();
        if (options.ReloadInterval > TimeSpan.Zero) _watcher = new Timer(_ => CheckForReplacement(), null, options.ReloadInterval, options.ReloadInterval);
    }

    public string Name { get; }

    /// <summary>The version new requests are prepared for and predicted by.</summary>
    public ServedModel Current => Volatile.Read(ref _current);

    public RequestQueue Queue { get; }

    /// <summary>True once the worker has run its warm-up pass (JIT, buffers) and takes requests.</summary>
    public bool Ready => _ready;

    // The batch worker: warm up, then take batches until the queue is closed and drained.
    private void Work()
    {
        Warm(Current);
        _ready = true;
        var batch = new List<PendingPrediction>(_options.MaxBatchSize);
        var maxWait = TimeSpan.FromMilliseconds(_options.MaxBatchWaitMs);
        while (Queue.TryTakeBatch(batch, _options.MaxBatchSize, maxWait))
        {
            batch.RemoveAll(item => !item.TryClaim()); // requests whose deadline passed in the queue are already answered
            if (batch.Count > 0) Run(batch);
        }
    }

    private void Run(List<PendingPrediction> batch)
    {
        var model = batch[0].Model;
        int size = model.Preparation.Channels * model.Preparation.Height * model.Preparation.Width;
        int images = batch.Sum(item => item.Count);
        long started = Stopwatch.GetTimestamp();
        byte[]? rented = null;
        try
        {
            ReadOnlySpan<byte> input;
            if (batch.Count == 1)
            {
                input = batch[0].Images;
            }
            else
            {
                rented = ArrayPool<byte>.Shared.Rent(images * size);
                int offset = 0;
                foreach (var item in batch)
                {
                    item.Images.CopyTo(rented, offset);
                    offset += item.Images.Length;
                }
                input = rented.AsSpan(0, offset);
            }
            Predictions predictions;
            lock (_engine) predictions = model.Classifier.Predict(input, _options.Threads);
            _metrics.RecordBatch(Name, images);
            int first = 0, classes = predictions.Classes;
            foreach (var item in batch)
            {
                item.BatchImages = images;
                item.QueueTime = Stopwatch.GetElapsedTime(item.EnqueuedAt, started);
                item.Completion.TrySetResult(new Predictions(item.Count, classes,
                    predictions.Probabilities.AsSpan(first * classes, item.Count * classes).ToArray(),
                    predictions.Ranking.AsSpan(first * classes, item.Count * classes).ToArray()));
                first += item.Count;
            }
        }
        catch (Exception e)
        {
            // A model that throws is a bug, not bad input: every request of the batch gets the error, the worker goes on.
            _log.Write("batch_failed", json =>
            {
                json.WriteString("model", Name);
                json.WriteNumber("images", images);
                json.WriteString("error", e.ToString());
            });
            foreach (var item in batch) item.Completion.TrySetException(e);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // Batches of 1 and of the largest size, each 30 times or for about a second: the tiered JIT compiles a method's
    // optimized code only after some calls, so a single warm-up pass left the first seconds of traffic on quick-JIT code
    // (measured: half the CPU of a loaded service went to the JIT and unoptimized kernels in its first 10 s). The engine
    // lock is taken per pass, so a reload's warm-up lets the serving version's batches run between its passes.
    private void Warm(ServedModel model)
    {
        var p = model.Preparation;
        int size = p.Channels * p.Height * p.Width;
        var images = new byte[size * _options.MaxBatchSize];
        var clock = Stopwatch.StartNew();
        for (int round = 0; round < 30 && (round == 0 || clock.Elapsed < TimeSpan.FromSeconds(1)); round++)
            foreach (int batch in new[] { 1, _options.MaxBatchSize })
                lock (_engine) model.Classifier.Predict(images.AsSpan(0, batch * size), _options.Threads);
    }

    /// <summary>
    /// Reloads the file when its size or time stamp changed: the new version is loaded, validated and warmed up while
    /// the old one serves, then swapped in. A file that does not load keeps the old version and is logged; it is tried
    /// again when it changes again.
    /// </summary>
    internal void CheckForReplacement()
    {
        if (Interlocked.Exchange(ref _reloading, 1) == 1) return;
        try
        {
            var path = Current.Path;
            var stat = Stat(path);
            if (stat == _seen) return;
            _seen = stat;
            var clock = Stopwatch.StartNew();
            try
            {
                var fresh = ServedModel.Load(Name, path);
                if (fresh.Card.Sha256 == Current.Card.Sha256) return; // touched, not changed
                Warm(fresh);
                var previous = Interlocked.Exchange(ref _current, fresh);
                _metrics.RecordReload(Name, succeeded: true);
                _log.Write("model_reloaded", json =>
                {
                    json.WriteString("model", Name);
                    json.WriteString("path", path);
                    json.WriteString("kind", fresh.Kind);
                    json.WriteString("sha256", fresh.Card.Sha256);
                    json.WriteString("previous_sha256", previous.Card.Sha256);
                    json.WriteNumber("ms", Math.Round(clock.Elapsed.TotalMilliseconds, 1));
                });
            }
            catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
            {
                _metrics.RecordReload(Name, succeeded: false);
                _log.Write("model_reload_failed", json =>
                {
                    json.WriteString("model", Name);
                    json.WriteString("path", path);
                    json.WriteString("error", e.Message);
                    json.WriteString("serving_sha256", Current.Card.Sha256);
                });
            }
        }
        finally
        {
            Volatile.Write(ref _reloading, 0);
        }
    }

    // Size and last write time; a missing file reads as (-1, MinValue) so its return is noticed.
    private static (long, DateTime) Stat(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, DateTime.MinValue);
    }

    /// <summary>Stops the watcher, lets the worker finish every queued request, and waits for it.</summary>
    public void Dispose()
    {
        _watcher?.Dispose();
        Queue.Close();
        _worker.Join();
    }
}

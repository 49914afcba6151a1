using System.Buffers;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace SharpVision.Web;

/// <summary>What a request's log line says beyond method, path and status (filled in by the handler).</summary>
internal sealed class RequestDetails
{
    public string? Model;
    public int Images;
    public int Batch;
    public double QueueMs;
    public string? Error;
}

/// <summary>
/// The served models and the way a prediction request goes through them: admission (a place in the bounded queue, or
/// 503 at once), reading and decoding the upload, waiting for its batch under the request's deadline, and the answer.
/// </summary>
public sealed class PredictionService : IAsyncDisposable
{
    private readonly Dictionary<string, ModelHost> _hosts;
    private readonly List<ModelHost> _ordered;
    private readonly ServeOptions _options;
    private readonly Stopwatch _stopClock = new();
    private volatile bool _stopping;

    /// <summary>Loads every model (a file that does not load stops here, naming it) and starts their batch workers.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    /// <exception cref="FileNotFoundException">A model file is missing.</exception>
    /// <exception cref="SharpVision.IO.DataFormatException">A model file is invalid.</exception>
    public PredictionService(ServeOptions options, ServiceMetrics metrics, ServiceLog log)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        Metrics = metrics;
        Log = log;
        var loaded = options.Models.Select(m => ServedModel.Load(m.Name, m.Path)).ToList();
        _ordered = loaded.Select(m => new ModelHost(m, options, metrics, log, Engine)).ToList();
        _hosts = _ordered.ToDictionary(h => h.Name, StringComparer.Ordinal);
    }

    public ServiceMetrics Metrics { get; }

    /// <summary>Held during every forward pass (and warm-up), so the models share the cores one batch at a time.</summary>
    internal Lock Engine { get; } = new();

    /// <summary>The queue in front of model <paramref name="name"/>.</summary>
    internal RequestQueue QueueOf(string name) => Host(name).Queue;

    public ServiceLog Log { get; }

    public ServeOptions Options => _options;

    /// <summary>The models in order, current versions.</summary>
    public IReadOnlyList<ServedModel> Models => _ordered.Select(h => h.Current).ToList();

    /// <summary>The model <c>POST /predict</c> uses.</summary>
    public string DefaultModel => _ordered[0].Name;

    /// <summary>True when every model has warmed up and the service is not stopping.</summary>
    public bool Ready => !_stopping && _ordered.All(h => h.Ready);

    /// <summary>Per model: loaded and warmed up.</summary>
    public IReadOnlyDictionary<string, bool> Readiness => _ordered.ToDictionary(h => h.Name, h => h.Ready);

    public bool Stopping => _stopping;

    /// <summary>Stops admitting predictions (they get 503); what is queued still runs.</summary>
    public void BeginStopping()
    {
        if (_stopping) return;
        _stopping = true;
        _stopClock.Start();
        Log.Write("stopping", json => json.WriteNumber("queued", _ordered.Sum(h => h.Queue.Depth)));
    }

    /// <summary>The current version of model <paramref name="name"/>.</summary>
    /// <exception cref="RequestRejectedException">404: no such model.</exception>
    public ServedModel Find(string name) => Host(name).Current;

    private ModelHost Host(string name) => _hosts.TryGetValue(name, out var host) ? host
        : throw new RequestRejectedException(StatusCodes.Status404NotFound, "unknown_model",
            $"no model named '{name}' (served: {string.Join(", ", _hosts.Keys)})");

    /// <summary>Prometheus text of the counters and the queues.</summary>
    public string RenderMetrics() => Metrics.Render(_ordered.Select(h => (h.Name, h.Queue.Depth, h.Queue.Capacity, h.Current.Kind, h.Current.Card.Sha256)));

    /// <summary>Checks a model file for replacement now (the watcher does this on its interval).</summary>
    internal void CheckForReplacement(string name) => Host(name).CheckForReplacement();

    /// <summary>Answers one prediction request for model <paramref name="name"/>, top <paramref name="top"/> classes per image.</summary>
    /// <exception cref="RequestRejectedException">Any refusal, with its status: 400, 404, 413, 415, 503.</exception>
    internal async Task<PredictResponse> PredictAsync(HttpContext context, string name, int top, RequestDetails details)
    {
        long arrived = Stopwatch.GetTimestamp();
        var host = Host(name);
        details.Model = host.Name;
        if (top < 1) throw new RequestRejectedException(StatusCodes.Status400BadRequest, "bad_top", $"top must be at least 1, got {top}");
        bool multipart = Uploads.IsMultipart(context.Request);
        if (_stopping) throw Unavailable("stopping", "the service is stopping");
        if (!host.Queue.TryReserve())
        {
            Metrics.RecordRejected(host.Name);
            throw Unavailable("queue_full", $"the queue of model '{host.Name}' is full ({host.Queue.Capacity} requests); retry shortly");
        }
        PendingPrediction pending;
        List<UploadedFile> files;
        var model = host.Current;
        byte[]? body = null;
        try
        {
            (body, int length) = await Uploads.ReadBodyAsync(context.Request, _options.MaxBodyBytes, context.RequestAborted);
            files = multipart
                ? await Uploads.ReadMultipartAsync(context.Request, body, length, _options.MaxImagesPerRequest, context.RequestAborted)
                : [new UploadedFile(Uploads.RawName(context.Request), body.AsMemory(0, length))];
            var p = model.Preparation;
            int size = p.Channels * p.Height * p.Width;
            var images = new byte[files.Count * size];
            for (int i = 0; i < files.Count; i++)
                await Uploads.PrepareAsync(files[i], p, images.AsMemory(i * size, size), context.RequestAborted);
            pending = new PendingPrediction(model, images, files.Count);
            details.Images = files.Count;
            host.Queue.Enqueue(pending);
        }
        catch
        {
            host.Queue.Release();
            throw;
        }
        finally
        {
            if (body is not null) ArrayPool<byte>.Shared.Return(body); // the images are prepared: nothing refers to it now
        }
        var predictions = await AwaitBatch(pending, arrived, context.RequestAborted);
        details.Batch = pending.BatchImages;
        details.QueueMs = pending.QueueTime.TotalMilliseconds;
        return Document(model, files, predictions, top);
    }

    // Waits for the batch until the request's deadline; a request still queued then is given up and answered 503.
    private async Task<Predictions> AwaitBatch(PendingPrediction pending, long arrived, CancellationToken aborted)
    {
        var remaining = _options.Timeout - Stopwatch.GetElapsedTime(arrived);
        try
        {
            return await pending.Completion.Task.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, aborted);
        }
        catch (TimeoutException) when (pending.TryAbandon())
        {
            throw Unavailable("deadline_exceeded", $"no prediction within the request timeout of {_options.Timeout.TotalMilliseconds:0} ms (the service is overloaded)");
        }
        catch (TimeoutException)
        {
            return await pending.Completion.Task; // the worker took it just now: its answer is moments away
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            pending.TryAbandon(); // the client left; the worker skips it if it is still queued
            throw;
        }
    }

    private static RequestRejectedException Unavailable(string code, string message) => new(StatusCodes.Status503ServiceUnavailable, code, message);

    private static PredictResponse Document(ServedModel model, List<UploadedFile> files, Predictions predictions, int top)
    {
        var names = model.ClassNames;
        var list = new ImagePrediction[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            var probabilities = predictions.ProbabilitiesOf(i);
            var ranked = predictions.Top(i, top);
            var scores = new ClassScore[ranked.Length];
            for (int j = 0; j < ranked.Length; j++) scores[j] = new ClassScore(names[ranked[j]], ranked[j], Math.Round(probabilities[ranked[j]], 6));
            list[i] = new ImagePrediction(files[i].Name, scores);
        }
        return new PredictResponse("predict", model.Name, model.Path, model.Card.Sha256, list);
    }

    /// <summary>Stops admitting, lets every worker finish its queue, and flushes the log.</summary>
    public async ValueTask DisposeAsync()
    {
        BeginStopping();
        foreach (var host in _ordered) host.Dispose();
        Log.Write("stopped", json => json.WriteNumber("drain_ms", Math.Round(_stopClock.Elapsed.TotalMilliseconds, 1)));
        await Log.DisposeAsync();
    }
}

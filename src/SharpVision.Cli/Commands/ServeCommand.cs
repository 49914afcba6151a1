using System.CommandLine;
using System.Globalization;
using SharpVision.Web;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision serve`: the prediction service (SharpVision.Web) with the command line's options.</summary>
internal static class ServeCommand
{
    private const string Help = """
        Serve models over HTTP: a page to try them (GET /), a JSON API, health, readiness and Prometheus metrics.

        Endpoints:
          POST /predict                    classify with the first model: the image as the raw body (image/png, image/jpeg,
                                           image/gif, image/bmp, image/webp, application/octet-stream; name it with
                                           X-File-Name) or multipart/form-data files
          POST /v1/models/NAME/predict     the same with a named model; ?top=K classes per image (default 3)
          GET  /v1/models                  each model's card: kind, classes, input, parameters, test accuracy, SHA-256, backend
          GET  /healthz  /readyz  /metrics /openapi/v1.json

        Concurrent requests are gathered into batches (up to --max-batch-size images, waiting at most --max-batch-wait-ms
        while more requests are on their way). At most --queue-length requests wait per model; one more is answered
        503 with Retry-After at once, and so is a request still waiting after --timeout-ms. Bad input is 400, 413 or 415
        with a JSON error naming the problem; an unknown model is 404. A model file replaced on disk is reloaded (the old
        version serves until the new one is ready; a broken file is logged and the old one kept). One JSON line per
        request goes to stderr. Ctrl-C or SIGTERM stops accepting, finishes what is in flight, and exits 0.

        Examples:
          sharpvision serve --model runs/cnn2/model.safetensors
          sharpvision serve --model shoes=runs/cnn2/model.safetensors --model knn=runs/knn/model.safetensors --port 9000
          curl -H 'Content-Type: image/png' --data-binary @shirt.png 'http://127.0.0.1:8080/predict?top=3'
          curl -F image=@shirt.png http://127.0.0.1:8080/v1/models/shoes/predict
        """;

    public static Command Create(CliConsole console)
    {
        var models = new Option<string[]>("--model")
        {
            Description = "A model file, or NAME=PATH; repeat for several (the first answers POST /predict). " +
                          "The default name is the run folder's (runs/NAME/model.safetensors) or the file's stem",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var host = new Option<string>("--host") { Description = "Address to listen on (0.0.0.0 or :: to accept other machines)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0: any free port, printed at start)", DefaultValueFactory = _ => 8080 };
        var batch = new Option<int>("--max-batch-size") { Description = "Most images in one forward pass", DefaultValueFactory = _ => 64 };
        var wait = new Option<double>("--max-batch-wait-ms") { Description = "Longest a request waits for others to join its batch", DefaultValueFactory = _ => 2 };
        var queue = new Option<int>("--queue-length") { Description = "Requests that may wait per model before 503", DefaultValueFactory = _ => 256 };
        var body = new Option<string>("--max-body-size") { Description = "Largest request body: bytes, or with KB/MB/GB (413 beyond)", DefaultValueFactory = _ => "10MB" };
        var images = new Option<int>("--max-images") { Description = "Most files in one multipart request", DefaultValueFactory = _ => 64 };
        var timeout = new Option<int>("--timeout-ms") { Description = "Each request's deadline from arrival to prediction (503 past it)", DefaultValueFactory = _ => 5000 };
        var reload = new Option<int>("--reload-interval-ms") { Description = "How often model files are checked for replacement (0: never)", DefaultValueFactory = _ => 1000 };
        var threads = new Option<int>("--threads") { Description = "Engine threads for predictions (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var log = new Option<string>("--request-log") { Description = "Where the JSON lines go: stderr, none, or a file (appended)", DefaultValueFactory = _ => "stderr" };
        var command = new Command("serve", Help);
        foreach (var option in new Option[] { models, host, port, batch, wait, queue, body, images, timeout, reload, threads, log }) command.Options.Add(option);
        command.SetAction(async (parse, token) =>
        {
            int threadCount = parse.GetValue(threads);
            if (threadCount is < 1 or > 1024) throw new UsageException($"--threads must be between 1 and 1024, got {threadCount}.");
            var logTarget = parse.GetValue(log)!;
            using var logFile = logTarget is "stderr" or "none" ? null : new StreamWriter(logTarget, append: true);
            var options = new ServeOptions
            {
                Models = parse.GetValue(models)!.Select(ParseModel).ToList(),
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                MaxBatchSize = parse.GetValue(batch),
                MaxBatchWaitMs = parse.GetValue(wait),
                QueueLength = parse.GetValue(queue),
                MaxBodyBytes = ParseSize(parse.GetValue(body)!),
                MaxImagesPerRequest = parse.GetValue(images),
                Timeout = TimeSpan.FromMilliseconds(parse.GetValue(timeout)),
                ReloadInterval = TimeSpan.FromMilliseconds(Math.Max(0, parse.GetValue(reload))),
                Threads = threadCount,
                Log = logTarget switch { "stderr" => console.Error, "none" => null, _ => logFile },
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UsageException(OptionMessage(e));
            }
            SharpVision.Tensors.Engine.Threads = threadCount;
            var app = ServeApp.Build(options);
            await ServeApp.RunAsync(app, addresses =>
            {
                var url = addresses.Count > 0 ? addresses[0] : $"http://{options.Host}:{options.Port}";
                console.Log($"serving {string.Join(", ", options.Models.Select(m => m.Name))} at {url} (page {url}/, API {url}/openapi/v1.json); Ctrl-C to stop");
                if (options.Host is not ("127.0.0.1" or "::1" or "localhost"))
                    console.Log($"warning: listening on {options.Host}: other machines can reach this service; it has no authentication");
            }, token);
            return CliApp.Success;
        });
        return command;
    }

    // "PATH" or "NAME=PATH" (a path holding '=' keeps working when no valid name precedes it).
    private static ModelSource ParseModel(string value)
    {
        int equals = value.IndexOf('=', StringComparison.Ordinal);
        if (equals > 0 && ModelSource.IsValidName(value[..equals])) return new ModelSource(value[..equals], value[(equals + 1)..]);
        if (equals == 0) throw new UsageException($"--model '{value}': the name before '=' is empty.");
        return new ModelSource(ModelSource.DefaultName(value), value);
    }

    /// <summary>"10MB", "512KB", "1GB" or plain bytes (powers of 1024).</summary>
    internal static long ParseSize(string text)
    {
        var t = text.Trim().ToUpperInvariant();
        (string digits, long unit) = t.EndsWith("GB", StringComparison.Ordinal) ? (t[..^2], 1L << 30)
            : t.EndsWith("MB", StringComparison.Ordinal) ? (t[..^2], 1L << 20)
            : t.EndsWith("KB", StringComparison.Ordinal) ? (t[..^2], 1L << 10)
            : t.EndsWith('B') ? (t[..^1], 1L) : (t, 1L);
        if (!double.TryParse(digits.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0 || value * unit > long.MaxValue / 2)
            throw new UsageException($"--max-body-size must be a size like 10MB, 512KB or 1048576, got '{text}'.");
        return (long)(value * unit);
    }

    // ServeOptions names the property; the user knows the flag.
    private static string OptionMessage(ArgumentException e)
    {
        var flag = e.ParamName switch
        {
            nameof(ServeOptions.Models) => "--model",
            nameof(ServeOptions.Host) => "--host",
            nameof(ServeOptions.Port) => "--port",
            nameof(ServeOptions.MaxBatchSize) => "--max-batch-size",
            nameof(ServeOptions.MaxBatchWaitMs) => "--max-batch-wait-ms",
            nameof(ServeOptions.QueueLength) => "--queue-length",
            nameof(ServeOptions.MaxBodyBytes) => "--max-body-size",
            nameof(ServeOptions.MaxImagesPerRequest) => "--max-images",
            nameof(ServeOptions.Timeout) => "--timeout-ms",
            nameof(ServeOptions.ReloadInterval) => "--reload-interval-ms",
            _ => "--threads",
        };
        var message = e.Message;
        int cut = message.IndexOf(" (Parameter", StringComparison.Ordinal);
        return $"{flag}: {(cut > 0 ? message[..cut] : message)}";
    }
}

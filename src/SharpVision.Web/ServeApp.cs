using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SharpVision.Web;

/// <summary>
/// The prediction service as an ASP.NET Core minimal API on Kestrel: <see cref="Build"/> makes the application
/// (tests swap the server for an in-process one), <see cref="RunAsync"/> runs it until Ctrl-C, SIGTERM or the token,
/// then drains: no new connections, the requests in flight answered, every queued batch run.
/// </summary>
public static class ServeApp
{
    /// <summary>JSON on the wire: snake_case names, nulls written.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // messages stay readable: quotes are not \u0027
    };

    private const string DetailsKey = "sharpvision.details";

    /// <summary>Builds the service: loads the models, maps the endpoints. Nothing listens until it runs.</summary>
    /// <param name="options">Models, address, batching and limits.</param>
    /// <param name="configure">Changes to the builder before it is built (tests: <c>b.WebHost.UseTestServer()</c>).</param>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    /// <exception cref="FileNotFoundException">A model file is missing.</exception>
    /// <exception cref="SharpVision.IO.DataFormatException">A model file is invalid.</exception>
    public static WebApplication Build(ServeOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = "SharpVision.Web" });
        builder.Logging.ClearProviders(); // the service writes its own structured lines (ServiceLog)
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.Timeout + TimeSpan.FromSeconds(5));
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.Configure<JsonOptions>(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        builder.Services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "SharpVision prediction service";
                document.Info.Description = "Image classification with models trained by SharpVision: upload an image, get the top classes.";
                return Task.CompletedTask;
            });
            o.AddOperationTransformer(ImageBody.Describe);
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            kestrel.Listen(Address(options.Host), options.Port);
        });
        var log = new ServiceLog(options.Log);
        var service = new PredictionService(options, new ServiceMetrics(), log);
        builder.Services.AddSingleton(_ => service); // made by a factory, so the container disposes it: queues drained, log flushed
        configure?.Invoke(builder);

        var app = builder.Build();
        app.Lifetime.ApplicationStopping.Register(service.BeginStopping);
        app.Use(RecordAsync);
        MapEndpoints(app, service);
        return app;
    }

    private static IPAddress Address(string host) =>
        host == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(host, out var address) ? address
        : throw new ArgumentException($"--host must be an IP address (127.0.0.1, ::1, 0.0.0.0) or localhost, got '{host}'.", nameof(host));

    /// <summary>
    /// Runs until <paramref name="stop"/>, Ctrl-C or SIGTERM, then stops accepting, answers what is in flight, runs
    /// every queued batch and returns. <paramref name="started"/> gets the listening addresses.
    /// </summary>
    public static async Task RunAsync(WebApplication app, Action<IReadOnlyList<string>>? started = null, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var service = app.Services.GetRequiredService<PredictionService>();
        await app.StartAsync(stop);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        service.Log.Write("started", json =>
        {
            json.WriteStartArray("addresses");
            foreach (var a in addresses) json.WriteStringValue(a);
            json.WriteEndArray();
            json.WriteStartArray("models");
            foreach (var m in service.Models) json.WriteStringValue($"{m.Name}={m.Path} ({m.Kind}, sha256 {m.Card.Sha256[..12]})");
            json.WriteEndArray();
        });
        started?.Invoke(addresses);
        await app.WaitForShutdownAsync(stop); // stops accepting and waits for the requests in flight
        await app.DisposeAsync(); // the container disposes the service: queues drained, log flushed
    }

    // Every request: its latency and status into the metrics, one log line; refusals and framework errors as JSON.
    private static async Task RecordAsync(HttpContext context, RequestDelegate next)
    {
        long started = Stopwatch.GetTimestamp();
        var details = new RequestDetails();
        context.Items[DetailsKey] = details;
        var service = context.RequestServices.GetRequiredService<PredictionService>();
        try
        {
            await next(context);
            if (!context.Response.HasStarted && context.Response.StatusCode >= 400 && context.Response.ContentType is null)
                await WriteFrameworkErrorAsync(context, details); // routing's empty 404 and 405 get a JSON body too
        }
        catch (RequestRejectedException e)
        {
            await WriteErrorAsync(context, e.Status, e.Code, e.Message, details);
        }
        catch (BadHttpRequestException e)
        {
            int status = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? e.StatusCode : StatusCodes.Status400BadRequest;
            await WriteErrorAsync(context, status, status == 413 ? "body_too_large" : "bad_request", e.Message, details);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            details.Error = "client_closed";
            context.Response.StatusCode = 499; // nginx's "client closed request": counted, never sent
        }
        catch (Exception e)
        {
            service.Log.Write("error", json =>
            {
                json.WriteString("path", context.Request.Path);
                json.WriteString("error", e.ToString());
            });
            await WriteErrorAsync(context, StatusCodes.Status500InternalServerError, "internal_error", $"internal error: {e.Message}", details);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            int status = context.Response.StatusCode;
            service.Metrics.RecordRequest(route, status, elapsed);
            service.Log.Write("request", json =>
            {
                json.WriteString("method", context.Request.Method);
                json.WriteString("path", context.Request.Path);
                json.WriteString("route", route);
                json.WriteNumber("status", status);
                json.WriteNumber("ms", Math.Round(elapsed.TotalMilliseconds, 3));
                if (context.Request.ContentLength is long bytes) json.WriteNumber("bytes", bytes);
                if (details.Model is not null) json.WriteString("model", details.Model);
                if (details.Images > 0) json.WriteNumber("images", details.Images);
                if (details.Batch > 0)
                {
                    json.WriteNumber("batch", details.Batch);
                    json.WriteNumber("queue_ms", Math.Round(details.QueueMs, 3));
                }
                if (details.Error is not null) json.WriteString("error", details.Error);
            });
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string code, string message, RequestDetails details)
    {
        details.Error = code;
        if (context.Response.HasStarted) return;
        context.Response.Clear();
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable) context.Response.Headers.RetryAfter = "1";
        await context.Response.WriteAsJsonAsync(new ErrorResponse(message, code, status), Json);
    }

    private static Task WriteFrameworkErrorAsync(HttpContext context, RequestDetails details)
    {
        var request = $"{context.Request.Method} {context.Request.Path}";
        return context.Response.StatusCode switch
        {
            404 => WriteErrorAsync(context, 404, "not_found", $"nothing at {request} (the API is described at /openapi/v1.json)", details),
            405 => WriteErrorAsync(context, 405, "method_not_allowed", $"{request}: method not allowed here", details),
            int status => WriteErrorAsync(context, status, "error", $"{request}: status {status}", details),
        };
    }

    private static RequestDetails Details(HttpContext context) => (RequestDetails)context.Items[DetailsKey]!;

    private static void MapEndpoints(WebApplication app, PredictionService service)
    {
        app.MapOpenApi();
        app.MapPost("/predict", (HttpContext context, int? top) => PredictAsync(context, service, service.DefaultModel, top))
            .WithName("PredictDefault").WithTags("predict")
            .WithSummary("Classify images with the first model")
            .WithDescription("The image as the raw body (image/png, image/jpeg, image/gif, image/bmp, image/webp, " +
                             "application/octet-stream; its name in X-File-Name) " +
                             "or as multipart/form-data files. top: classes per image (default 3).")
            .WithMetadata(ImageBody.Instance).Produces<PredictResponse>().ProducesErrors();
        app.MapPost("/v1/models/{name}/predict", (HttpContext context, string name, int? top) => PredictAsync(context, service, name, top))
            .WithName("Predict").WithTags("predict")
            .WithSummary("Classify images with a named model")
            .WithDescription("As POST /predict, with the model named in the path (404 when there is none).")
            .WithMetadata(ImageBody.Instance).Produces<PredictResponse>().ProducesErrors();
        app.MapGet("/v1/models", () => TypedResults.Json(new ModelList(service.Models.Select(m => m.Card).ToList()), Json))
            .WithName("Models").WithTags("models").WithSummary("Every served model's card").Produces<ModelList>();
        app.MapGet("/v1/models/{name}", (string name) => TypedResults.Json(service.Find(name).Card, Json))
            .WithName("Model").WithTags("models").WithSummary("One model's card").Produces<ModelCard>().Produces<ErrorResponse>(404);
        app.MapGet("/v1/models/{name}/report", (string name) => service.Find(name).ReportPath is { } report && File.Exists(report)
                ? TypedResults.PhysicalFile(report, "text/html; charset=utf-8")
                : throw new RequestRejectedException(404, "no_report", $"model '{name}' has no report.html beside its file"))
            .WithName("Report").WithTags("models").WithSummary("The training run's report.html, when it sits beside the model file");
        app.MapGet("/healthz", () => TypedResults.Json(new HealthResponse("ok"), Json))
            .WithName("Health").WithTags("operations").WithSummary("Alive").Produces<HealthResponse>();
        app.MapGet("/readyz", () => service.Ready
                ? Results.Json(new HealthResponse("ready", service.Readiness), Json)
                : Results.Json(new HealthResponse(service.Stopping ? "stopping" : "warming-up", service.Readiness), Json, statusCode: 503))
            .WithName("Ready").WithTags("operations").WithSummary("Models loaded and warmed up (503 while warming up or stopping)")
            .Produces<HealthResponse>().Produces<HealthResponse>(503);
        app.MapGet("/metrics", () => Results.Text(service.RenderMetrics(), "text/plain; version=0.0.4; charset=utf-8"))
            .WithName("Metrics").WithTags("operations").WithSummary("Prometheus text: requests, latency, batches, queue depth, images/s");
        MapPage(app);
    }

    private static RouteHandlerBuilder ProducesErrors(this RouteHandlerBuilder endpoint) => endpoint
        .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound)
        .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge).Produces<ErrorResponse>(StatusCodes.Status415UnsupportedMediaType)
        .Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable);

    private static async Task<IResult> PredictAsync(HttpContext context, PredictionService service, string name, int? top) =>
        TypedResults.Json(await service.PredictAsync(context, name, top ?? 3, Details(context)), Json);

    // The page: HTML, script and style from the assembly's resources, under a policy that allows nothing from elsewhere.
    private static void MapPage(WebApplication app)
    {
        const string policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; " +
                              "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        foreach (var (route, resource, type) in new[]
                 {
                     ("/", "index.html", "text/html; charset=utf-8"), ("/page.js", "page.js", "text/javascript; charset=utf-8"),
                     ("/page.css", "page.css", "text/css; charset=utf-8"),
                 })
        {
            var content = Resource(resource);
            app.MapGet(route, (HttpContext context) =>
            {
                context.Response.Headers.ContentSecurityPolicy = policy;
                context.Response.Headers.XContentTypeOptions = "nosniff";
                return Results.Bytes(content, type);
            }).ExcludeFromDescription();
        }
    }

    private static byte[] Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"SharpVision.Web.Page.{name}")
                           ?? throw new InvalidOperationException($"The page resource {name} is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}

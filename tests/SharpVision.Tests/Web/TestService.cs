using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Nn;
using SharpVision.Web;

namespace SharpVision.Tests.Web;

/// <summary>
/// A model file for the service tests: a cnn2 on 1×28×28 with 10 Fashion-MNIST class names and seeded random weights
/// (what is tested is the service, so the weights need only be fixed), in its own run-like folder.
/// </summary>
internal sealed class TestModelFolder : IDisposable
{
    public static readonly string[] Classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private readonly TempFolder _temp = new();

    public TestModelFolder(int seed = 1, bool runFiles = false)
    {
        Directory.CreateDirectory(_temp.Combine("run"));
        Path = _temp.Combine("run", "model.safetensors");
        Model = Cnn2(seed);
        Model.Save(Path);
        if (runFiles)
        {
            File.WriteAllText(_temp.Combine("run", "metrics.json"), """{"metrics": {"test": {"accuracy": 0.9051}}}""");
            File.WriteAllText(_temp.Combine("run", "report.html"), "<!DOCTYPE html><title>run report</title><h1>the run's report</h1>");
        }
    }

    public string Path { get; }

    public string Folder => System.IO.Path.GetDirectoryName(Path)!;

    public NetworkClassifier Model { get; }

    public string Combine(string name) => _temp.Combine(name);

    public static NetworkClassifier Cnn2(int seed)
    {
        var network = Networks.Cnn2(1, 28, 28, 10);
        network.ResetParameters(new SharpVision.Tensors.Rng(seed));
        var pixels = new byte[8 * 784];
        new Random(seed).NextBytes(pixels);
        var images = new ImageDataset("fit", 1, 28, 28, pixels, Enumerable.Range(0, 8).Select(i => i % 10).ToArray(), Classes);
        return new NetworkClassifier("cnn2", network, ClassifierLoss.Softmax, Normalizer.Fit(images, NormalizationMode.PerChannel),
            new ImagePreparation(1, 28, 28), Classes);
    }

    /// <summary>A 28×28 gray PNG of seeded noise.</summary>
    public static byte[] Png(int seed, int width = 28, int height = 28) => PngEncoder.Encode(TestImages.RandomGray(width, height, seed));

    /// <summary>What the model itself says about <paramref name="png"/> (decoded and prepared as the service does).</summary>
    public static Predictions Expected(IImageClassifier model, byte[] png) =>
        model.Predict(model.Preparation.Prepare(ImageDecoder.Decode(png, "expected.png")));

    public void Dispose() => _temp.Dispose();
}

/// <summary>The service in process (ASP.NET Core's TestServer), with a captured log.</summary>
internal sealed class TestService : IAsyncDisposable
{
    private readonly WebApplication _app;

    public TestService(ServeOptions options)
    {
        Log = new StringWriter();
        _app = ServeApp.Build(options with { Log = TextWriter.Synchronized(Log) }, b => b.WebHost.UseTestServer());
        _app.StartAsync().GetAwaiter().GetResult();
        Client = _app.GetTestClient();
        Service = _app.Services.GetRequiredService<PredictionService>();
    }

    public static TestService For(string modelPath, Func<ServeOptions, ServeOptions>? change = null, string name = "cnn")
    {
        var options = new ServeOptions { Models = [new ModelSource(name, modelPath)], ReloadInterval = TimeSpan.Zero };
        return new TestService(change is null ? options : change(options));
    }

    public HttpClient Client { get; }

    public PredictionService Service { get; }

    public StringWriter Log { get; }

    /// <summary>Waits (bounded) until every model has run its warm-up pass.</summary>
    public void WaitUntilReady()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!Service.Ready)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("the service did not warm up in 30 s");
            Thread.Sleep(10);
        }
    }

    /// <summary>The log so far, once the line satisfying <paramref name="until"/> has been written (bounded wait).</summary>
    public string LogText(Func<string, bool> until)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var text = Log.ToString();
            if (until(text) || clock.Elapsed > TimeSpan.FromSeconds(10)) return text;
            Thread.Sleep(10);
        }
    }

    public static HttpContent Raw(byte[] body, string type = "image/png", string? name = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        if (name is not null) content.Headers.Add("X-File-Name", name);
        return content;
    }

    public static MultipartFormDataContent Files(params (string Name, byte[] Body)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, body) in files)
        {
            var part = new ByteArrayContent(body);
            part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(part, "image", name);
        }
        return form;
    }

    /// <summary>Holds the engine (as a forward pass would) on its own thread until the returned handle is disposed.</summary>
    public IDisposable HoldEngine()
    {
        var held = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            lock (Service.Engine)
            {
                held.Set();
                release.Wait();
            }
        }) { IsBackground = true };
        thread.Start();
        held.Wait();
        return new Release(() =>
        {
            release.Set();
            thread.Join();
        });
    }

    private sealed class Release(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

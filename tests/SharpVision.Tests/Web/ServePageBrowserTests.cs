using System.Text.Json.Nodes;
using SharpVision.Imaging;
using SharpVision.Web;
using Xunit.Abstractions;

namespace SharpVision.Tests.Web;

/// <summary>
/// The try-a-model page in Debian's headless Chromium against the real service on Kestrel (loopback, a free port):
/// an image chosen through the page's file input comes back as bars with the model's top class first, the card
/// shows, and the page asks nothing of any other host. A screenshot goes to bin/.../screenshots/serve-page.png.
/// Set SHARPVISION_SERVE_MODEL (a model file) and SHARPVISION_SERVE_IMAGE (a PNG) to take it with a trained model.
/// </summary>
public class ServePageBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Page_UploadThroughTheFileInput_ShowsTheTopClassAsBars()
    {
        if (HeadlessChromium.MissingReason is { } missing)
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail($"chromium is required under CI=true: {missing}.");
            output.WriteLine($"skipped: {missing}");
            return;
        }
        using var folder = new TestModelFolder(seed: 3, runFiles: true);
        var modelPath = Environment.GetEnvironmentVariable("SHARPVISION_SERVE_MODEL") ?? folder.Path;
        var imagePath = Environment.GetEnvironmentVariable("SHARPVISION_SERVE_IMAGE") ?? folder.Combine("sneaker.png");
        if (!File.Exists(imagePath)) File.WriteAllBytes(imagePath, TestModelFolder.Png(seed: 21));
        var model = SharpVision.Models.ModelFile.Load(modelPath);
        var expected = TestModelFolder.Expected(model, File.ReadAllBytes(imagePath));
        string expectedLabel = model.ClassNames[expected.Label(0)];

        var app = ServeApp.Build(new ServeOptions { Models = [new ModelSource("fashion", modelPath)], Port = 0, ReloadInterval = TimeSpan.Zero });
        using var stop = new CancellationTokenSource();
        var addresses = new TaskCompletionSource<IReadOnlyList<string>>();
        var running = ServeApp.RunAsync(app, a => addresses.TrySetResult(a), stop.Token);
        try
        {
            var url = (await addresses.Task.WaitAsync(TimeSpan.FromSeconds(30))).Single();
            var hostPort = new Uri(url).Authority;
            using var proxy = new RequestRecorder();
            using var browser = new HeadlessChromium(proxy, 1100, 760, direct: [hostPort]);
            browser.Navigate(url + "/");
            await WaitFor(browser, "return document.querySelectorAll('#card dt').length > 0;");
            browser.SendKeys("#file", imagePath);
            await WaitFor(browser, "return document.querySelectorAll('#results li').length > 0 || !document.getElementById('error').hidden;");

            var state = browser.Execute("""
                const bars = [...document.querySelectorAll('#results li')];
                const preview = document.getElementById('preview');
                return {
                  error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
                  labels: bars.map(b => b.dataset.label),
                  widths: bars.map(b => b.querySelector('.fill').getBoundingClientRect().width),
                  preview: preview.naturalWidth, previewShown: !preview.hidden,
                  card: document.getElementById('card').textContent,
                  report: document.getElementById('report-link').hidden ? null : document.getElementById('report-link').getAttribute('href'),
                };
                """)!;
            Assert.Null((string?)state["error"]);
            var labels = state["labels"]!.AsArray().Select(l => (string)l!).ToList();
            Assert.Equal(5, labels.Count);
            Assert.Equal(expectedLabel, labels[0]);
            var widths = state["widths"]!.AsArray().Select(w => (double)w!).ToList();
            Assert.True(widths[0] > 0 && widths.SequenceEqual(widths.OrderDescending()), $"bar widths {string.Join(", ", widths)}");
            Assert.True((bool)state["previewShown"]! && (int)state["preview"]! > 0, "the chosen image is not shown");
            Assert.Contains(model.ClassNames.Count + ":", (string)state["card"]!);
            if (modelPath == folder.Path) Assert.Equal("/v1/models/fashion/report", (string?)state["report"]);

            var screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
            Directory.CreateDirectory(screenshots);
            var png = browser.FullPageScreenshot();
            var shot = PngDecoder.Decode(png, "serve page screenshot", 50_000_000);
            Assert.True(shot.Pixels.Distinct().Count() > 50, "the screenshot is nearly blank");
            File.WriteAllBytes(Path.Combine(screenshots, "serve-page.png"), png);
            output.WriteLine($"top class {labels[0]}; screenshot {Path.Combine(screenshots, "serve-page.png")}");

            // The page's own requests (DevTools sees them all) go to the service only. The proxy is not asserted on: Chromium's
            // background services (network time, component updates) reach for it by themselves, whatever the page does.
            var requested = browser.RequestedUrls();
            Assert.Contains(requested, u => u.StartsWith(url + "/v1/models/fashion/predict", StringComparison.Ordinal));
            Assert.All(requested, u => Assert.True(u.StartsWith(url, StringComparison.Ordinal) || u.StartsWith("blob:", StringComparison.Ordinal), $"requested {u}"));
            Assert.Empty(browser.ConsoleMessages()); // nothing blocked by the page's Content-Security-Policy, no errors
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    private static async Task WaitFor(HeadlessChromium browser, string condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(bool)browser.Execute(condition)!)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"the page never satisfied: {condition}");
            await Task.Delay(50);
        }
    }
}

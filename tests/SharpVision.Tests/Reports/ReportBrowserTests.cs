using System.Text.Json.Nodes;
using SharpVision.Imaging;
using Xunit.Abstractions;

namespace SharpVision.Tests.Reports;

/// <summary>
/// The generated reports in a real browser: Debian's headless chromium, driven through chromedriver. Every figure the
/// report should have is there, visible and drawn; the page asks nothing of the network; screenshots go to
/// bin/.../screenshots/ for people to look at.
/// </summary>
[Collection(SampleRunsCollection.Name)]
public class ReportBrowserTests(SampleRuns runs, ITestOutputHelper output)
{
    // Per figure: its box and style, each svg's size and drawn elements (with a non-empty bounding box) in total and
    // per series, each image's rendered and natural size.
    private const string MeasureFigures = """
        const drawn = (root, selector) => [...root.querySelectorAll(selector)].filter(e => { const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length;
        return [...document.querySelectorAll('[data-figure]')].map(f => {
          const r = f.getBoundingClientRect(), style = getComputedStyle(f);
          return {
            id: f.dataset.figure, width: r.width, height: r.height, display: style.display, visibility: style.visibility,
            svgs: [...f.querySelectorAll('svg')].map(s => {
              const b = s.getBoundingClientRect();
              return { width: b.width, height: b.height, drawn: drawn(s, 'polyline, rect, circle, line, path, text'),
                       series: [...s.querySelectorAll('g.series')].map(g => ({ name: g.dataset.series, drawn: drawn(g, 'polyline, circle, line') })) };
            }),
            images: [...f.querySelectorAll('img')].map(i => { const b = i.getBoundingClientRect(); return { width: b.width, height: b.height, natural: i.naturalWidth, complete: i.complete }; }),
          };
        });
        """;

    [RequiresFact(SystemComponent.Chromium)]
    public void Reports_InHeadlessChromium_ShowEveryFigureDrawn_AndMakeNoNetworkRequest()
    {
        SystemComponents.Require(SystemComponent.Chromium);
        using var proxy = new RequestRecorder();
        using var browser = new HeadlessChromium(proxy);
        var screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(screenshots);

        // Control: a page that does reach out is caught by both detectors (so their silence below means something).
        using (var temp = new TempFolder())
        {
            var control = temp.Combine("control.html");
            File.WriteAllText(control, "<!DOCTYPE html><html><body><img src=\"http://sharpvision.invalid/pixel.png\"></body></html>");
            browser.Navigate(new Uri(control).AbsoluteUri);
            Assert.Contains(browser.RequestedUrls(), u => u.StartsWith("http://sharpvision.invalid/", StringComparison.Ordinal));
            Assert.Contains(proxy.Requests, r => r.Contains("sharpvision.invalid", StringComparison.Ordinal));
            Assert.NotEmpty(browser.ConsoleMessages()); // the failed image load is reported
        }
        proxy.Clear();

        foreach (var kind in SampleRuns.AllKinds)
        {
            var page = new Uri(Path.Combine(runs[kind], "report.html")).AbsoluteUri;
            browser.Navigate(page);
            var figures = browser.Execute(MeasureFigures)!.AsArray();
            Assert.Equal(SampleRuns.ExpectedFigures(kind).Order(), figures.Select(f => (string)f!["id"]!).Order());
            foreach (var figure in figures)
            {
                string id = $"{kind}/{figure!["id"]}";
                Assert.True((double)figure["width"]! > 0 && (double)figure["height"]! > 0, $"{id}: empty box");
                Assert.True((string)figure["display"]! != "none" && (string)figure["visibility"]! == "visible", $"{id}: hidden");
                var svgs = figure["svgs"]!.AsArray();
                var images = figure["images"]!.AsArray();
                Assert.True(svgs.Count + images.Count > 0, $"{id}: neither svg nor img");
                foreach (var svg in svgs)
                {
                    Assert.True((double)svg!["width"]! > 100 && (double)svg["height"]! > 100, $"{id}: svg {svg["width"]}×{svg["height"]}");
                    Assert.True((int)svg["drawn"]! >= 20, $"{id}: only {svg["drawn"]} drawn elements");
                    foreach (var series in svg["series"]!.AsArray())
                        Assert.True((int)series!["drawn"]! > 0, $"{id}: series '{series["name"]}' draws nothing");
                }
                foreach (var image in images)
                {
                    Assert.True((bool)image!["complete"]! && (int)image["natural"]! > 0, $"{id}: an image did not decode");
                    Assert.True((double)image["width"]! > 0 && (double)image["height"]! > 0, $"{id}: an image is not rendered");
                }
            }
            // Line charts have their series; the training charts of network runs have two (train and validation) or one.
            var png = browser.FullPageScreenshot();
            var shot = PngDecoder.Decode(png, $"{kind} screenshot", 50_000_000);
            Assert.True(shot.Width >= 1000 && shot.Height > 900, $"{kind}: screenshot {shot.Width}×{shot.Height}");
            Assert.True(shot.Pixels.Distinct().Count() > 50, $"{kind}: the screenshot is nearly blank");
            File.WriteAllBytes(Path.Combine(screenshots, $"{kind}.png"), png);
            File.WriteAllBytes(Path.Combine(screenshots, $"{kind}-first-screen.png"), browser.WindowScreenshot());
            var section = kind is "knn" or "cv" ? "neighbors" : kind == "cnn2" ? "filters" : "evaluation";
            File.WriteAllBytes(Path.Combine(screenshots, $"{kind}-{section}.png"), browser.ElementScreenshot($"#{section}"));
            output.WriteLine($"{kind}: {figures.Count} figures, screenshot {shot.Width}×{shot.Height} → {Path.Combine(screenshots, kind + ".png")}");

            var urls = browser.RequestedUrls();
            Assert.Contains(page, urls);
            Assert.All(urls, u => Assert.True(u.StartsWith("file:", StringComparison.Ordinal) || u.StartsWith("data:", StringComparison.Ordinal), $"{kind}: requested {u}"));
            Assert.Empty(browser.ConsoleMessages()); // nothing blocked by the page's Content-Security-Policy, no errors
        }
        Assert.DoesNotContain(proxy.Requests, r => !r.Contains(HeadlessChromium.BrowserServiceHost, StringComparison.Ordinal));
    }
}

using System.Globalization;
using System.Xml.Linq;
using SharpVision.Imaging;
using SharpVision.Reports;
using SharpVision.Reports.Charts;

namespace SharpVision.Tests.Reports;

/// <summary>The chart and HTML builders: escaping, axes from the data, every series drawn, image grids.</summary>
public class ChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private const string Nasty = "a<b>&c\"d'e</title><script>x</script>";

    [Fact]
    public void Escape_SpecialCharacters_BecomeEntities_AndAnXmlParserReadsTheOriginalBack()
    {
        Assert.Equal("&lt;b&gt; &amp; &quot;q&quot; &#39;s&#39;", Markup.Escape("<b> & \"q\" 's'"));
        Assert.Equal("plain text, ünïcödé", Markup.Escape("plain text, ünïcödé"));
        Assert.Equal("ab", Markup.Escape("a\u0001b")); // XML forbids most control characters
        Assert.Equal("", Markup.Escape(null));
        foreach (var text in new[] { Nasty, "T-shirt/top", "x & y < z" })
        {
            var element = XElement.Parse($"<p title=\"{Markup.Escape(text)}\">{Markup.Escape(text)}</p>");
            Assert.Equal(text, element.Value);
            Assert.Equal(text, (string)element.Attribute("title")!);
        }
    }

    [Fact]
    public void LinearScale_TicksAreNiceAndCoverTheData_WithinOneStep()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 500; trial++)
        {
            double a = (random.NextDouble() - 0.3) * Math.Pow(10, random.Next(-4, 5)), b = a + random.NextDouble() * Math.Pow(10, random.Next(-4, 5));
            var scale = new LinearScale(a, b, 10, 510);
            var ticks = scale.Ticks();
            Assert.True(scale.Min <= a + 1e-12 * Math.Abs(a) && scale.Max >= b - 1e-12 * Math.Abs(b), $"[{scale.Min}, {scale.Max}] does not cover [{a}, {b}]");
            Assert.True(scale.Min > a - scale.Step * (1 + 1e-9) && scale.Max < b + scale.Step * (1 + 1e-9), $"[{scale.Min}, {scale.Max}] is wider than needed for [{a}, {b}]");
            double mantissa = scale.Step / Math.Pow(10, Math.Floor(Math.Log10(scale.Step)));
            Assert.Contains(Math.Round(mantissa, 6), new[] { 1.0, 2.0, 5.0, 10.0 });
            Assert.InRange(ticks.Count, 3, 14);
            Assert.Equal(scale.Min, ticks[0], tolerance: 1e-9 * scale.Step);
            Assert.Equal(scale.Max, ticks[^1], tolerance: 1e-9 * scale.Step);
            Assert.Equal(10, scale.Map(scale.Min), tolerance: 1e-9);
            Assert.Equal(510, scale.Map(scale.Max), tolerance: 1e-9);
        }
        var epochs = new LinearScale(1, 3, 0, 100, integerTicks: true);
        Assert.Equal([1.0, 2.0, 3.0], epochs.Ticks());
        Assert.Equal(["1", "2", "3"], epochs.Ticks().Select(epochs.Format));
        var rates = new LinearScale(0, 0.0004, 0, 100);
        Assert.Equal("4e-4", rates.Format(0.0004));
        Assert.Throws<ArgumentException>(() => new LinearScale(double.NaN, 1, 0, 1));
        Assert.Throws<ArgumentException>(() => new LinearScale(2, 1, 0, 1));
    }

    [Fact]
    public void LineChart_DrawsEverySeries_AtPositionsMatchingItsAxisTicks()
    {
        var train = new ChartSeries("train loss", Enumerable.Range(1, 40).Select(s => ((double)s, 2.0 / Math.Sqrt(s))).ToList());
        var validation = new ChartSeries("validation <loss> & more", [(10.0, 0.9), (20.0, 0.7), (30.0, double.NaN), (40.0, 0.5)], SeriesStyle.LineAndMarkers);
        var markers = new ChartSeries("markers", [(5.0, 1.5), (25.0, 1.2)], SeriesStyle.Markers);
        var doc = XDocument.Parse(new LineChart { Title = "Loss " + Nasty, XLabel = "step", YLabel = "loss", Series = [train, validation, markers] }.ToSvg());
        Assert.Equal("Loss " + Nasty, doc.Root!.Element(Svg + "title")!.Value);

        var groups = doc.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "series").ToList();
        Assert.Equal(["train loss", "validation <loss> & more", "markers"], groups.Select(g => (string)g.Attribute("data-series")!));
        var legend = doc.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "legend-item").Select(g => g.Element(Svg + "text")!.Value);
        Assert.Equal(["train loss", "validation <loss> & more", "markers"], legend);

        // The polyline of "train loss" has one vertex per point; the NaN splits "validation" into two lines.
        Assert.Equal(40, Points(groups[0].Element(Svg + "polyline")!).Count);
        Assert.Equal([2, 1], groups[1].Elements(Svg + "polyline").Select(p => Points(p).Count));
        Assert.Equal(3, groups[1].Elements(Svg + "circle").Count());
        Assert.Empty(groups[2].Elements(Svg + "polyline"));
        Assert.Equal(2, groups[2].Elements(Svg + "circle").Count());

        // Axis ticks: x labels are at their pixel positions; a data point lies where the ticks say it should.
        var (xTicks, yTicks) = Ticks(doc);
        Assert.True(xTicks.Min(t => t.Value) <= 1 && xTicks.Max(t => t.Value) >= 40);
        Assert.True(yTicks.Min(t => t.Value) <= 2.0 / Math.Sqrt(40) && yTicks.Max(t => t.Value) >= 2.0);
        double PixelX(double x) => Interpolate(xTicks, x);
        double PixelY(double y) => Interpolate(yTicks, y);
        var first = Points(groups[0].Element(Svg + "polyline")!)[0];
        Assert.Equal(PixelX(1), first.X, tolerance: 0.02);
        Assert.Equal(PixelY(2.0), first.Y, tolerance: 0.02);
        var circle = groups[2].Elements(Svg + "circle").Last();
        Assert.Equal(PixelX(25), double.Parse((string)circle.Attribute("cx")!, CultureInfo.InvariantCulture), tolerance: 0.02);
        Assert.Equal(PixelY(1.2), double.Parse((string)circle.Attribute("cy")!, CultureInfo.InvariantCulture), tolerance: 0.02);
    }

    [Fact]
    public void LineChart_IncludeY_ExtendsTheAxisToZero_AndNoSeriesIsAnError()
    {
        var series = new ChartSeries("lr", [(1.0, 0.5), (2.0, 0.6)]);
        var (_, without) = Ticks(XDocument.Parse(new LineChart { Title = "t", Series = [series] }.ToSvg()));
        var (_, with) = Ticks(XDocument.Parse(new LineChart { Title = "t", Series = [series], IncludeY = [0] }.ToSvg()));
        Assert.True(without.Min(t => t.Value) > 0.3);
        Assert.Equal(0, with.Min(t => t.Value));
        Assert.Throws<ArgumentException>(() => new LineChart { Title = "t", Series = [] }.ToSvg());
    }

    [Fact]
    public void Downsample_KeepsShapeAndMean_InAtMostTheAskedPoints()
    {
        var points = Enumerable.Range(0, 10_000).Select(i => ((double)i, Math.Sin(i / 800.0) + (i % 2 == 0 ? 0.3 : -0.3))).ToList();
        var reduced = new ChartSeries("s", points).Downsample(600).Points;
        Assert.Equal(600, reduced.Count);
        Assert.True(reduced.Zip(reduced.Skip(1)).All(p => p.First.X < p.Second.X));
        // Buckets of 16 or 17 consecutive points: the alternating ±0.3 noise cancels (to within one point's worth) and the sine stays.
        foreach (var (x, y) in reduced) Assert.Equal(Math.Sin(x / 800.0), y, tolerance: 0.3 / 16 + 1e-3);
        Assert.Equal(points.Average(p => p.Item2), reduced.Average(p => p.Y), tolerance: 1e-3);
        var small = new ChartSeries("s", points.Take(10).ToList());
        Assert.Same(small, small.Downsample(600));
    }

    [Fact]
    public void ErrorBarChart_BarLengthsAreProportionalToTheErrors_AndTheAxisCoversThem()
    {
        var l1 = new ErrorBarSeries("l1, uniform", [(1, 0.80, 0.01), (3, 0.82, 0.02), (5, 0.83, 0.04)]);
        var l2 = new ErrorBarSeries("l2, uniform", [(1, 0.78, 0.03), (3, 0.79, 0.0), (5, 0.81, 0.02)]);
        var doc = XDocument.Parse(new ErrorBarChart { Title = "cv", Series = [l1, l2], IntegerX = true }.ToSvg());
        var groups = doc.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "series").ToList();
        Assert.Equal(["l1, uniform", "l2, uniform"], groups.Select(g => (string)g.Attribute("data-series")!));
        var (_, yTicks) = Ticks(doc);
        Assert.True(yTicks.Min(t => t.Value) <= 0.76 && yTicks.Max(t => t.Value) >= 0.87);
        double pixelsPerUnit = Math.Abs(Interpolate(yTicks, 1) - Interpolate(yTicks, 0));
        foreach (var (group, series) in groups.Zip([l1, l2]))
        {
            var bars = group.Elements(Svg + "g").Select(g => g.Elements(Svg + "line").First()).ToList();
            Assert.Equal(3, bars.Count);
            foreach (var (bar, point) in bars.Zip(series.Points))
            {
                double length = Math.Abs(double.Parse((string)bar.Attribute("y2")!, CultureInfo.InvariantCulture) - double.Parse((string)bar.Attribute("y1")!, CultureInfo.InvariantCulture));
                Assert.Equal(2 * point.Error * pixelsPerUnit, length, tolerance: 0.02);
            }
        }
        Assert.Throws<ArgumentException>(() => new ErrorBarChart { Title = "x", Series = [new("s", [(1, 0.5, -0.1)])] }.ToSvg());
    }

    [Fact]
    public void HeatMap_OneCellPerEntry_ColoredByRowShare_WithCountsAndEscapedLabels()
    {
        int[][] counts = [[8, 2, 0], [1, 1, 0], [0, 5, 45]];
        string[] names = ["T-shirt/top", "<Shirt>", "Bag & co"];
        var doc = XDocument.Parse(new HeatMap { Title = "Confusion", RowLabels = names, ColumnLabels = names, Values = counts, RowTitle = "true", ColumnTitle = "predicted" }.ToSvg());
        var cells = doc.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "cells");
        var rects = cells.Elements(Svg + "rect").ToList();
        Assert.Equal(9, rects.Count);
        // Colors depend on the share of the row: 45/50 (0.9) is darker than 8/10 (0.8), 1/2 and 1/2 are equal.
        string Fill(int r, int c) => (string)rects[r * 3 + c].Attribute("fill")!;
        Assert.Equal(HeatMap.Color(0.9), Fill(2, 2));
        Assert.Equal(HeatMap.Color(0.8), Fill(0, 0));
        Assert.Equal(Fill(1, 0), Fill(1, 1));
        Assert.True(Luminance(Fill(2, 2)) < Luminance(Fill(0, 0)) && Luminance(Fill(0, 0)) < Luminance(Fill(0, 1)) && Luminance(Fill(0, 1)) < Luminance(Fill(0, 2)));
        Assert.Equal("#f7fbff", HeatMap.Color(0));
        Assert.Equal("#08306b", HeatMap.Color(1));
        // Zero cells carry no number; the others show their count.
        Assert.Equal(counts.SelectMany(r => r).Where(v => v != 0).Select(v => v.ToString(CultureInfo.InvariantCulture)), cells.Elements(Svg + "text").Select(t => t.Value));
        Assert.Contains("true <Shirt>, predicted T-shirt/top: 1 (50.0 % of the row)", rects[3].Element(Svg + "title")!.Value);
        var labels = doc.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "labels").Elements(Svg + "text").Select(t => t.Value).ToList();
        Assert.Equal([.. names, .. names], labels);
        Assert.Throws<ArgumentException>(() => new HeatMap { Title = "x", RowLabels = names, ColumnLabels = names, Values = [[1, 2]] }.ToSvg());
    }

    [Fact]
    public void ImageGrid_EmbedsEachImageAsAPngDataUri_ThatDecodesToItsPixels()
    {
        var gray = TestImages.RandomGray(7, 5, 1);
        var rgb = new Image(2, 1, 3, [255, 0, 0, 0, 0, 255]);
        var html = ImageGrid.Render([new ImageTile(gray, ["true: " + Nasty], "alt " + Nasty, TileMark.Wrong), new ImageTile(rgb, ["red, blue"], "rgb", TileMark.Right)], scale: 3);
        var root = XElement.Parse(Xhtml(html));
        var images = root.Descendants("img").ToList();
        Assert.Equal(2, images.Count);
        foreach (var (img, expected) in images.Zip([gray, rgb]))
        {
            var src = (string)img.Attribute("src")!;
            Assert.StartsWith("data:image/png;base64,", src);
            var decoded = PngDecoder.Decode(Convert.FromBase64String(src["data:image/png;base64,".Length..]), "tile", 1000);
            Assert.Equal(expected.Pixels, decoded.Pixels);
            Assert.Equal(expected.Width * 3, (int)img.Attribute("width")!);
        }
        Assert.Equal("alt " + Nasty, (string)images[0].Attribute("alt")!);
        Assert.Equal("true: " + Nasty, root.Descendants("figcaption").First().Value);
        Assert.Equal(["tile wrong", "tile right"], root.Descendants("figure").Select(f => (string)f.Attribute("class")!));
    }

    [Fact]
    public void FromPlanes_InterleavesChannels_AndFromFloatsMapsTheRangeLinearly()
    {
        // Planes R = [10, 20], G = [30, 40], B = [50, 60] → pixels (10, 30, 50), (20, 40, 60).
        Assert.Equal([10, 30, 50, 20, 40, 60], ReportImages.FromPlanes([10, 20, 30, 40, 50, 60], 3, 1, 2).Pixels);
        Assert.Equal([0, 128, 255, 255, 0], ReportImages.FromFloats([-1f, 0f, 1f, 5f, -7f], 1, 1, 5, -1, 1).Pixels);
        Assert.Equal((-7f, 5f), ReportImages.Range([float.NaN, -7f, 5f, float.PositiveInfinity]));
    }

    [Fact]
    public void HtmlReport_IsOnePageWithARequestBlockingPolicy_NoScripts_AndEscapedText()
    {
        var page = new HtmlReport("Run " + Nasty, "folder " + Nasty);
        page.AddSection("training", "Training " + Nasty, HtmlReport.Paragraph(Nasty) + HtmlReport.Table(["a", "b"], [["1", Nasty]], new HashSet<int> { 0 }));
        page.AddSection("summary", "Summary", HtmlReport.KeyValueTable([("model", Nasty)]));
        Assert.Throws<ArgumentException>(() => page.AddSection("training", "again", ""));
        Assert.Throws<ArgumentException>(() => page.AddSection("bad id", "x", ""));
        var html = page.ToHtml();
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains($"<meta http-equiv=\"Content-Security-Policy\" content=\"{HtmlReport.ContentSecurityPolicy.Replace("'", "&#39;", StringComparison.Ordinal)}\">", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(["training", "summary"], page.SectionIds);
        Assert.Contains("<a href=\"#training\">Training a&lt;b&gt;&amp;c&quot;d&#39;e&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;</a>", html);
        Assert.Contains("<td class=\"num\">1</td>", html);
    }

    // ---- helpers: read the SVG back ----

    private static List<(double X, double Y)> Points(XElement polyline) =>
        ((string)polyline.Attribute("points")!).Split(' ').Select(p => p.Split(',')).Select(p => (double.Parse(p[0], CultureInfo.InvariantCulture), double.Parse(p[1], CultureInfo.InvariantCulture))).ToList();

    // Tick labels of the axes group: x labels are centred under the plot (text-anchor middle), y labels end left of it.
    private static (List<(double Value, double Pixel)> X, List<(double Value, double Pixel)> Y) Ticks(XDocument doc)
    {
        var axes = doc.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "axes");
        var labels = axes.Elements(Svg + "text").Where(t => double.TryParse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)).ToList();
        double Attr(XElement e, string name) => double.Parse((string)e.Attribute(name)!, CultureInfo.InvariantCulture);
        var x = labels.Where(t => (string?)t.Attribute("text-anchor") == "middle").Select(t => (double.Parse(t.Value, CultureInfo.InvariantCulture), Attr(t, "x"))).ToList();
        var y = labels.Where(t => (string?)t.Attribute("text-anchor") == "end").Select(t => (double.Parse(t.Value, CultureInfo.InvariantCulture), Attr(t, "y"))).ToList();
        return (x, y);
    }

    // Linear interpolation between the outermost ticks (the axis is linear).
    private static double Interpolate(List<(double Value, double Pixel)> ticks, double value)
    {
        var (a, b) = (ticks.MinBy(t => t.Value), ticks.MaxBy(t => t.Value));
        return a.Pixel + (value - a.Value) / (b.Value - a.Value) * (b.Pixel - a.Pixel);
    }

    private static double Luminance(string hex) =>
        0.2126 * Convert.ToInt32(hex[1..3], 16) + 0.7152 * Convert.ToInt32(hex[3..5], 16) + 0.0722 * Convert.ToInt32(hex[5..7], 16);

    // The grid's HTML as XML: void elements closed, so XElement can read it.
    private static string Xhtml(string html) =>
        System.Text.RegularExpressions.Regex.Replace(html.Replace("<br>", "<br/>", StringComparison.Ordinal), "(<img [^>]*?)>", "$1/>");
}

using System.Globalization;
using System.Xml.Linq;
using SharpVision.Analysis;

namespace SharpVision.Tests.Analysis;

public class EmbeddingMapTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    // Every dot of the map as (class, x, y), read back from the path data.
    private static List<(int Class, double X, double Y)> Dots(XDocument document)
    {
        var dots = new List<(int, double, double)>();
        foreach (var path in document.Descendants(Svg + "path"))
        {
            int c = int.Parse(((string)path.Attribute("class")!)[1..], CultureInfo.InvariantCulture);
            foreach (var segment in ((string)path.Attribute("d")!).Split('M', StringSplitOptions.RemoveEmptyEntries))
            {
                Assert.EndsWith("h0", segment);
                var xy = segment[..^2].Split(' ');
                dots.Add((c, double.Parse(xy[0], CultureInfo.InvariantCulture), double.Parse(xy[1], CultureInfo.InvariantCulture)));
            }
        }
        return dots;
    }

    [Fact]
    public void ToSvg_IsWellFormed_WithOneDotPerPointInItsClassColour_AndALegend()
    {
        // Class 0 on the left, class 1 top right, class 2 bottom right.
        float[] coordinates = [0, 0, 0, 1, 10, 10, 10, 9, 10, -10, 9, -10, 8, -10];
        int[] labels = [0, 0, 1, 1, 2, 2, 2];
        string[] names = ["left", "top <right> & \"more\"", "bottom 'right'"];
        var svg = EmbeddingMap.ToSvg(coordinates, labels, names, new EmbeddingMapOptions { Title = "A & B" });
        var document = XDocument.Parse(svg);

        Assert.Equal(Svg + "svg", document.Root!.Name);
        var dots = Dots(document);
        Assert.Equal(7, dots.Count);
        Assert.Equal([2, 2, 3], Enumerable.Range(0, 3).Select(c => dots.Count(d => d.Class == c)));
        // Screen positions keep the map's arrangement: x grows to the right, y upwards on the map is up on screen.
        double Mean(int c, Func<(int Class, double X, double Y), double> f) => dots.Where(d => d.Class == c).Average(f);
        Assert.True(Mean(0, d => d.X) < Mean(1, d => d.X) && Mean(0, d => d.X) < Mean(2, d => d.X));
        Assert.True(Mean(1, d => d.Y) < Mean(2, d => d.Y));
        // Equal scales: the map is 10 wide and 20 tall, so the dots span twice as much vertically.
        double width = dots.Max(d => d.X) - dots.Min(d => d.X), height = dots.Max(d => d.Y) - dots.Min(d => d.Y);
        Assert.Equal(2, height / width, 0.02);

        // Colours: each class's style names its palette colour, all different.
        var style = document.Descendants(Svg + "style").Single().Value;
        for (int c = 0; c < 3; c++) Assert.Contains($".c{c}{{stroke:{EmbeddingMap.ColorOf(c)}}}", style);
        // Legend and title: the names come back intact once the XML is parsed (so they were escaped).
        var texts = document.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("A & B", texts);
        Assert.Contains("top <right> & \"more\" (2)", texts);
        Assert.Contains("bottom 'right' (3)", texts);
        Assert.DoesNotContain("<right>", svg);
    }

    [Fact]
    public void ColorOf_GivesDistinctColoursForManyClasses()
    {
        var colours = Enumerable.Range(0, 100).Select(EmbeddingMap.ColorOf).ToList();
        Assert.Equal(100, colours.Distinct().Count());
        Assert.All(colours, c => Assert.Matches("^#[0-9a-f]{6}$", c));
    }

    [Fact]
    public void ToSvg_SameSeed_SameDocument_OtherSeed_OtherDrawingOrder()
    {
        var rng = new SharpVision.Tensors.Rng(1);
        var coordinates = Enumerable.Range(0, 400).Select(_ => rng.NextNormal()).ToArray();
        var labels = Enumerable.Range(0, 200).Select(i => i % 4).ToArray();
        string[] names = ["a", "b", "c", "d"];
        var first = EmbeddingMap.ToSvg(coordinates, labels, names, new EmbeddingMapOptions { Seed = 3 });
        Assert.Equal(first, EmbeddingMap.ToSvg(coordinates, labels, names, new EmbeddingMapOptions { Seed = 3 }));
        var other = EmbeddingMap.ToSvg(coordinates, labels, names, new EmbeddingMapOptions { Seed = 4 });
        Assert.NotEqual(first, other);
        Assert.Equal(Dots(XDocument.Parse(first)).OrderBy(d => d).ToList(), Dots(XDocument.Parse(other)).OrderBy(d => d).ToList());
    }

    [Fact]
    public void ToSvg_BadInput_GivesClearErrors()
    {
        string[] names = ["a", "b"];
        Assert.Contains("need 4 coordinates; got 3", Assert.Throws<ArgumentException>(() => EmbeddingMap.ToSvg([0, 0, 1], [0, 1], names)).Message);
        Assert.Contains("outside 0..1", Assert.Throws<ArgumentException>(() => EmbeddingMap.ToSvg([0, 0, 1, 1], [0, 2], names)).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => EmbeddingMap.ToSvg([0, 0, float.PositiveInfinity, 1], [0, 1], names)).Message);
        Assert.Contains("no points", Assert.Throws<ArgumentException>(() => EmbeddingMap.ToSvg([], [], names)).Message);
    }
}

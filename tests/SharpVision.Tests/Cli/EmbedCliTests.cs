using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using SharpVision.Data;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>`sharpvision embed` end to end on the shipped sample.</summary>
public class EmbedCliTests
{
    [Fact]
    public void Embed_Pixels_WritesSvgAndCoordinates_OfAStratifiedTestSample()
    {
        using var temp = new TempFolder();
        var svg = temp.Combine("map.svg");
        var csv = temp.Combine("map.csv");
        var (code, output, err) = Run("embed", "--data", SampleDir, "--count", "200", "--perplexity", "10", "--iterations", "300", "--threads", "2",
            "--out", svg, "--coordinates", csv, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        Assert.Equal(200, (int)doc["count"]!);
        Assert.Equal("pixels", (string)doc["input"]!["source"]!);
        Assert.Equal(784, (int)doc["input"]!["dimension"]!);
        Assert.Equal(50, (int)doc["input"]!["pca_components"]!);
        Assert.Equal("exact", (string)doc["tsne"]!["method"]!); // auto, 200 points
        Assert.Equal(31, (int)doc["tsne"]!["neighbors"]!);
        Assert.True((double)doc["tsne"]!["kl_divergence"]! > 0);
        foreach (var key in new[] { "pca", "knn", "affinities", "optimization", "total" }) Assert.NotNull(doc["timings_s"]![key]);
        Assert.Equal(10, doc["separation"]!["per_class"]!.AsArray().Count);

        // The CSV lists 200 distinct test images, 20 per class, with their true labels.
        var test = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist")).Test;
        var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(200, rows.Count);
        var indices = rows.Select(r => int.Parse(r[0], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(200, indices.Distinct().Count());
        Assert.All(rows, r => Assert.Equal(test.Labels[int.Parse(r[0], CultureInfo.InvariantCulture)], int.Parse(r[3], CultureInfo.InvariantCulture)));
        Assert.All(rows, r => Assert.Equal(test.ClassNames[int.Parse(r[3], CultureInfo.InvariantCulture)], r[4]));
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(20, rows.Count(r => r[3] == c.ToString(CultureInfo.InvariantCulture))));

        // The separation the JSON reports is that of the coordinates written.
        var coordinates = rows.SelectMany(r => new[] { float.Parse(r[1], CultureInfo.InvariantCulture), float.Parse(r[2], CultureInfo.InvariantCulture) }).ToArray();
        var quality = SharpVision.Analysis.EmbeddingQuality.Measure(coordinates, rows.Select(r => int.Parse(r[3], CultureInfo.InvariantCulture)).ToArray(), 10, 10);
        Assert.Equal(Math.Round(quality.OverallNeighborAccuracy, 4), (double)doc["separation"]!["neighbor_accuracy"]!);

        var map = XDocument.Parse(File.ReadAllText(svg));
        Assert.Equal(10, map.Descendants(XName.Get("text", "http://www.w3.org/2000/svg")).Count(t => t.Value.EndsWith("(20)", StringComparison.Ordinal)));
    }

    [Fact]
    public void Embed_ModelPenultimateLayer_AndFeatures_Run()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "mlp", "--hidden", "32", "--epochs", "1", "--train-limit", "300", "--out", run, "--json").Code);
        var (code, output, err) = Run("embed", "--data", SampleDir, "--model", Path.Combine(run, "model.safetensors"), "--count", "100", "--perplexity", "5",
            "--iterations", "100", "--out", temp.Combine("m.svg"), "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        Assert.Equal("model", (string)doc["input"]!["source"]!);
        Assert.Equal(32, (int)doc["input"]!["dimension"]!);
        Assert.Equal(0, (int)doc["input"]!["pca_components"]!); // 32 ≤ 50: no PCA

        var features = Run("embed", "--data", SampleDir, "--features", "hog:cell=7", "--count", "100", "--perplexity", "5", "--iterations", "100", "--out", temp.Combine("f.svg"));
        Assert.True(features.Code == 0, features.Err);
        Assert.Contains("features hog", features.Out);
        Assert.Contains("Trouser", features.Out);
    }

    [Fact]
    public void Embed_BadArguments_AreUsageErrors()
    {
        using var temp = new TempFolder();
        var svg = temp.Combine("map.svg");
        var tooPerplexed = Run("embed", "--data", SampleDir, "--count", "30", "--perplexity", "30", "--out", svg);
        Assert.Equal(2, tooPerplexed.Code);
        Assert.Contains("--perplexity (30) must be less than the number of points (30)", tooPerplexed.Err);
        var both = Run("embed", "--data", SampleDir, "--model", "x.safetensors", "--features", "hog", "--out", svg);
        Assert.Equal(2, both.Code);
        Assert.Contains("alternatives", both.Err);
        var method = Run("embed", "--data", SampleDir, "--method", "fast", "--out", svg);
        Assert.Equal(2, method.Code);
        Assert.Contains("--method", method.Err);
        var theta = Run("embed", "--data", SampleDir, "--theta", "-1", "--out", svg);
        Assert.Equal(2, theta.Code);
        Assert.Contains("Theta", theta.Err);
        Assert.False(File.Exists(svg));

        var run = temp.Combine("knn");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "knn", "--k", "1", "--train-limit", "100", "--out", run, "--json").Code);
        var knn = Run("embed", "--data", SampleDir, "--model", Path.Combine(run, "model.safetensors"), "--count", "50", "--perplexity", "5", "--out", svg);
        Assert.Equal(2, knn.Code);
        Assert.Contains("needs a network", knn.Err);
    }
}

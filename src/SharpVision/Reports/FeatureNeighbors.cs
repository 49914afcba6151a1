using System.Globalization;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Tensors;

namespace SharpVision.Reports;

/// <summary>
/// The report section of a model on a pretrained network's features: for the first test image of each class, the test
/// images nearest to it in the standardized feature space the head reads (L2), so a reader sees what the backbone
/// considers alike. Neighbours come from the test images (the report has no training split), excluding the query.
/// </summary>
internal static class FeatureNeighbors
{
    /// <summary>The section's HTML: one row per query, its neighbours nearest first, marked by whether they share its class.</summary>
    /// <param name="features">The model's fitted pipeline and standardization.</param>
    /// <param name="test">The test images (the first <paramref name="sample"/> are searched).</param>
    /// <param name="predictions">The model's predictions of <paramref name="test"/>.</param>
    /// <param name="sample">How many test images to search (the embedding map's sample: its features are computed already).</param>
    /// <param name="queries">Queries at most (one per class).</param>
    /// <param name="neighbors">Neighbours per query at most.</param>
    public static string Section(FeatureStandardizer features, ImageDataset test, Predictions predictions, int sample, int queries, int neighbors)
    {
        int n = Math.Min(sample, test.Count), d = features.Length;
        var rows = features.Apply(test.Pixels.AsSpan(0, n * test.SampleSize), Math.Max(1, Engine.Threads));
        var chosen = new List<int>();
        for (int c = 0; c < test.ClassNames.Count && chosen.Count < queries; c++)
        {
            int first = Array.IndexOf(test.Labels, c, 0, n);
            if (first >= 0) chosen.Add(first);
        }
        int k = Math.Min(neighbors, n - 1);
        var lines = chosen.Select(query =>
        {
            var distances = new double[n];
            var q = rows.AsSpan(query * d, d);
            for (int i = 0; i < n; i++)
                distances[i] = i == query ? double.PositiveInfinity : System.Numerics.Tensors.TensorPrimitives.Distance(q, rows.AsSpan(i * d, d));
            var nearest = Enumerable.Range(0, n).OrderBy(i => distances[i]).ThenBy(i => i).Take(k).ToList();
            int truth = test.Labels[query];
            var tiles = new List<ImageTile>
            {
                new(ReportImages.FromPlanes(test.Image(query), test.Channels, test.Height, test.Width), ["query", "true: " + test.ClassNames[truth]],
                    $"query: test image {query}, {test.ClassNames[truth]}"),
            };
            foreach (var (index, rank) in nearest.Select((index, rank) => (index, rank)))
            {
                int label = test.Labels[index];
                tiles.Add(new ImageTile(ReportImages.FromPlanes(test.Image(index), test.Channels, test.Height, test.Width),
                    [$"#{rank + 1} {test.ClassNames[label]}", "d = " + distances[index].ToString("N1", CultureInfo.InvariantCulture)],
                    string.Create(CultureInfo.InvariantCulture,
                        $"neighbour {rank + 1}: test image {index}, {test.ClassNames[label]}, distance {distances[index]:G6}"),
                    label == truth ? TileMark.Right : TileMark.Wrong));
            }
            return ($"{test.ClassNames[truth]} → predicted {test.ClassNames[predictions.Label(query)]}", (IReadOnlyList<ImageTile>)tiles);
        }).ToList();
        return HtmlReport.Figure(RunReport.Figures.FeatureNeighbors, ImageGrid.RenderRows(lines),
            $"The first test image of each class and the {k} test images nearest to it among the first " +
            $"{n.ToString("N0", CultureInfo.InvariantCulture)} " +
            $"(L2 distance between the standardized {features.Pipeline.CanonicalConfig} features, nearest first); green: same class as the query, " +
            "red: another class.");
    }
}

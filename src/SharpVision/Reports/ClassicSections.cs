using System.Globalization;
using SharpVision.Classic;
using SharpVision.Classic.Svm;
using SharpVision.Classic.Trees;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Reports.Charts;

namespace SharpVision.Reports;

/// <summary>
/// The report sections of the classic families: what a forest or boosted ensemble looks at (feature importance, for
/// pixels an image), one tree's top levels, the boosting curve, and a kernel SVM's support vectors per class.
/// </summary>
internal static class ClassicSections
{
    /// <summary>Figure ids, as <c>data-figure</c> attributes on the page.</summary>
    public const string ImportanceFigure = "feature-importance";
    public const string TreeFigure = "tree-diagram";
    public const string BoostingFigure = "boosting-curve";
    public const string BoostingAccuracyFigure = "boosting-accuracy";
    public const string SupportVectorsFigure = "support-vectors";

    /// <summary>Importance and the first tree of a tree or forest.</summary>
    public static string Forest(ForestModel model) =>
        "<div class=\"figures\">" + Importance(model.Forest.FeatureImportances, model.Input, model.Kind == TreeModelFile.TreeKind
            ? "the tree's weighted impurity decrease per feature, normalized to 1" : "the mean decrease in impurity per feature over the trees " +
                "(scikit-learn's feature_importances_)")
        + HtmlReport.Figure(TreeFigure, new TreeDiagram
        {
            Title = model.Kind == TreeModelFile.TreeKind ? "The tree's top levels" : "The first tree's top levels",
            Tree = model.Forest.Trees[0],
            ClassNames = model.ClassNames,
            FeatureName = FeatureNamer(model.Input),
        }.ToSvg(), "Each box: the test sending rows left (yes) or right (no), the majority class of the training rows reaching it with its share, " +
            "and how many rows (weighted by the bootstrap) reached it.")
        + "</div>";

    /// <summary>Importance, the boosting curve and the first round's first tree of a boosted ensemble.</summary>
    public static string Boosted(BoostedTreesModel model, IReadOnlyList<BoostingRound> rounds)
    {
        var figures = new List<string>();
        if (rounds.Count > 0)
        {
            bool validation = rounds.Any(r => r.ValidationLoss is not null);
            var loss = new List<ChartSeries> { new("train loss", rounds.Select(r => ((double)r.Round, r.TrainLoss)).ToList()) };
            if (validation) loss.Add(new ChartSeries("validation loss", rounds.Select(r => ((double)r.Round,
                r.ValidationLoss ?? double.NaN)).ToList(), Dashed: true));
            string kept = model.Boosted.Rounds < rounds.Count ? $" Early stopping kept the first {model.Boosted.Rounds} rounds (the best " +
                $"validation loss)." : "";
            figures.Add(HtmlReport.Figure(BoostingFigure, new LineChart
            {
                Title = "Boosting curve", XLabel = "round", IntegerX = true, YLabel = "multiclass log-loss", Series = loss, IncludeY = [0],
            }.ToSvg(), $"Mean softmax log-loss of the training rows{(validation ? " and of the validation rows" : "")} after each round (one tree " +
                $"per class).{kept}"));
            if (validation)
                figures.Add(HtmlReport.Figure(BoostingAccuracyFigure, new LineChart
                {
                    Title = "Validation accuracy", XLabel = "round", IntegerX = true, YLabel = "accuracy",
                    Series = [new ChartSeries("validation accuracy", rounds.Select(r => ((double)r.Round,
                        r.ValidationAccuracy ?? double.NaN)).ToList())],
                }.ToSvg(), "Share of the validation rows whose highest score is their class, after each round."));
        }
        figures.Add(Importance(model.Boosted.FeatureImportances, model.Input,
            "each feature's share of the total split gain (LightGBM's importance_type=\"gain\")"));
        figures.Add(HtmlReport.Figure(TreeFigure, new TreeDiagram
        {
            Title = $"Round 1, class {model.ClassNames[0]}: top levels",
            Tree = model.Boosted.Trees[0],
            FeatureName = FeatureNamer(model.Input),
        }.ToSvg(), "The first tree's tests (yes: x ≤ threshold) and its leaves' scores, which add to the class's log-odds " +
            "(learning rate included)."));
        return "<div class=\"figures\">" + string.Concat(figures) + "</div>";
    }

    /// <summary>Support vectors per class: counts, and the most influential ones (largest Σ|αy| over the pairs) as images.</summary>
    public static string SupportVectors(KernelSvmModel model, int perClass = 12)
    {
        var svm = model.Svm;
        var p = model.Preparation;
        int size = p.Channels * p.Height * p.Width, total = svm.SupportVectorCount, start = 0;
        var rows = new List<(string Label, IReadOnlyList<ImageTile> Tiles)>();
        for (int c = 0; c < svm.Classes; c++)
        {
            var weight = new double[svm.SupportCounts[c]];
            for (int s = 0; s < weight.Length; s++)
                for (int r = 0; r < svm.Classes - 1; r++) weight[s] += Math.Abs(svm.Coefficients[r * total + start + s]);
            var shown = Enumerable.Range(0, weight.Length).OrderByDescending(s => weight[s]).ThenBy(s => s).Take(perClass);
            var tiles = shown.Select(s => new ImageTile(ReportImages.FromPlanes(model.SupportImages.AsSpan((start + s) * size, size), p.Channels,
                p.Height, p.Width),
                [string.Create(CultureInfo.InvariantCulture, $"Σ|αy| {weight[s]:G3}")],
                    $"support vector of {model.ClassNames[model.Classes[c]]}")).ToList();
            rows.Add(($"{model.ClassNames[model.Classes[c]]} ({svm.SupportCounts[c]:N0})", tiles));
            start += svm.SupportCounts[c];
        }
        string text = string.Create(CultureInfo.InvariantCulture,
            $"{total:N0} support vectors, kernel {KernelSvmModelFile.KernelName(svm.Kernel.Kind)}, γ = {svm.Kernel.Gamma:G4}; at most {perClass} " +
                $"shown per class.");
        return HtmlReport.Paragraph(text) + HtmlReport.Figure(SupportVectorsFigure, ImageGrid.RenderRows(rows),
            "Per class (with its number of support vectors), the training images with the largest total weight Σ|αy| in the one-vs-one decision " +
                "functions: " +
            "the hardest, most ambiguous examples the classifier leans on.");
    }

    // For pixels: an image of the importance of each pixel (summed over channels); for features: a curve over the vector.
    private static string Importance(float[] importances, ModelInput input, string what)
    {
        var p = input.Preparation;
        if (input.Features is not null)
            return HtmlReport.Figure(ImportanceFigure, new LineChart
            {
                Title = "Feature importance", XLabel = $"feature index ({input.Features.Pipeline.CanonicalConfig})", IntegerX = true,
                    YLabel = "importance",
                Series = [new ChartSeries("importance", importances.Select((v, i) => ((double)i, (double)v)).ToList()).Downsample(600)],
                    IncludeY = [0],
            }.ToSvg(), $"Importance: {what}.");
        int plane = p.Height * p.Width;
        var map = new float[plane];
        for (int i = 0; i < importances.Length; i++) map[i % plane] += importances[i];
        var tile = new ImageTile(HeatImage(map, p.Height, p.Width), ["importance per pixel"], "feature importance of each pixel");
        return HtmlReport.Figure(ImportanceFigure, ImageGrid.Render([tile], scale: 8),
            $"Which pixels the model looks at: {what}{(p.Channels > 1 ? ", summed over the channels" : "")}; " +
            "black: never used, white: the most important.");
    }

    // Values scaled to the largest, through a black-red-yellow-white ramp.
    private static Image HeatImage(float[] values, int height, int width)
    {
        float max = values.Length == 0 ? 0 : values.Max();
        var pixels = new byte[values.Length * 3];
        for (int i = 0; i < values.Length; i++)
        {
            double t = max > 0 ? Math.Clamp(values[i] / max, 0, 1) : 0;
            pixels[i * 3] = (byte)Math.Round(255 * Math.Clamp(3 * t, 0, 1));
            pixels[i * 3 + 1] = (byte)Math.Round(255 * Math.Clamp(3 * t - 1, 0, 1));
            pixels[i * 3 + 2] = (byte)Math.Round(255 * Math.Clamp(3 * t - 2, 0, 1));
        }
        return new Image(width, height, 3, pixels);
    }

    // "pixel (row, column)" (with the channel for color images) for pixel models; "feature f" for feature vectors.
    private static Func<int, string> FeatureNamer(ModelInput input)
    {
        var p = input.Preparation;
        if (input.Features is not null) return f => $"feature {f}";
        int plane = p.Height * p.Width;
        return p.Channels == 1 ? f => $"pixel ({f / p.Width}, {f % p.Width})" : f => $"pixel c{f / plane} ({f % plane / p.Width}, {f % p.Width})";
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Runs;

namespace SharpVision.Cli.Commands;

/// <summary>Turns results into the stable JSON keys and into readable tables.</summary>
internal static class Reporting
{
    // The JSON shapes live in the library (run folders are written there); these keep the commands' spelling.
    public static JsonObject MetricsJson(ClassificationMetrics m) => RunJson.Metrics(m);

    public static JsonObject DatasetJson(DatasetSplits splits, DatasetLocation location) => RunJson.Dataset(splits, location);

    public static double Round(double value) => RunJson.Round(value);

    /// <summary>A model in one line, from its <see cref="IImageClassifier.Describe"/>: "k-NN k=5 metric=l1 weights=uniform", "cnn2 (softmax loss, 421,834 parameters, ...)".</summary>
    public static string ModelText(JsonObject d)
    {
        string Text(string key) => d[key]?.ToString() ?? "?";
        long parameters = (long?)d["parameters"] ?? 0;
        return Text("type") switch
        {
            "knn" => $"k-NN k={Text("k")} metric={Text("metric")} weights={Text("weights")}",
            _ when Classic.ClassicModelText.Of(d) is string classic => classic,
            _ when d["loss"] is not null => string.Create(CultureInfo.InvariantCulture,
                $"{Text("type")} ({Text("loss")} loss, {parameters:N0} parameters, preprocess {Text("preprocess")}{(d["tta"]?.ToString() == "flip" ? ", flip averaging" : "")})"),
            var type => string.Create(CultureInfo.InvariantCulture, $"{type} ({parameters:N0} parameters)"),
        };
    }

    /// <summary>Accuracy line, per-class table and confusion matrix with class names.</summary>
    public static string MetricsText(string split, ClassificationMetrics m)
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{split}: accuracy {m.Accuracy:P2} ({m.Count:N0} images)")
            + (double.IsNaN(m.Top5Accuracy) ? "" : string.Create(CultureInfo.InvariantCulture, $", top-5 {m.Top5Accuracy:P2}"))
            + string.Create(CultureInfo.InvariantCulture, $", macro F1 {m.MacroF1:F4}"));
        int nameWidth = Math.Max(5, m.ClassNames.Max(n => n.Length));
        sb.AppendLine();
        sb.AppendLine($"{"class".PadRight(nameWidth)}  precision  recall  f1      support");
        foreach (var c in m.PerClass)
            sb.AppendLine(CultureInfo.InvariantCulture, $"{c.Name.PadRight(nameWidth)}  {c.Precision,9:F4}  {c.Recall,6:F4}  {c.F1,6:F4}  {c.Support,7}");
        sb.AppendLine();
        sb.AppendLine("confusion matrix (rows: true class, columns: predicted class, numbered as the rows)");
        int cell = Math.Max(5, m.ConfusionMatrix.SelectMany(r => r).DefaultIfEmpty(0).Max().ToString(CultureInfo.InvariantCulture).Length + 1);
        // Each row starts with its class number, which the column headers use: one column per class, nothing after.
        int indexWidth = (m.ClassNames.Count - 1).ToString(CultureInfo.InvariantCulture).Length;
        sb.Append(new string(' ', indexWidth + 1 + nameWidth));
        for (int j = 0; j < m.ClassNames.Count; j++) sb.Append(j.ToString(CultureInfo.InvariantCulture).PadLeft(cell));
        sb.AppendLine();
        for (int i = 0; i < m.ClassNames.Count; i++)
        {
            sb.Append(i.ToString(CultureInfo.InvariantCulture).PadLeft(indexWidth)).Append(' ').Append(m.ClassNames[i].PadRight(nameWidth));
            foreach (int v in m.ConfusionMatrix[i]) sb.Append(v.ToString(CultureInfo.InvariantCulture).PadLeft(cell));
            sb.AppendLine();
        }
        return sb.ToString();
    }
}

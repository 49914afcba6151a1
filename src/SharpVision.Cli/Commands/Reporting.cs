using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Nn;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Cli.Commands;

/// <summary>Turns results into the stable JSON keys and into readable tables.</summary>
internal static class Reporting
{
    /// <summary>
    /// The engine backends a network ran on: "gemm-managed-avx512", plus "+conv-onednn" (or -managed,
    /// -onednn+managed when auto mixed them) when it has convolutions.
    /// </summary>
    public static string NetworkBackend(Module network) =>
        $"gemm-{Gemm.Provider.Name}" + (HasConvolution(network) ? $"+conv-{Conv2dBackend.Used}" : "");

    /// <summary>The GEMM provider and, for networks with convolutions, the convolution mode, for log lines.</summary>
    public static string NetworkBackendDescription(Module network) =>
        $"GEMM {Gemm.Provider.Name}" + (HasConvolution(network) ? $", conv {Conv2dBackend.Describe()}" : "");

    private static bool HasConvolution(Module module) => module is Conv2d || module.Children.Any(c => HasConvolution(c.Module));

    public static JsonObject MetricsJson(ClassificationMetrics m)
    {
        var confusion = new JsonArray();
        foreach (var row in m.ConfusionMatrix) confusion.Add(new JsonArray(row.Select(v => (JsonNode)v).ToArray()));
        var perClass = new JsonArray();
        foreach (var c in m.PerClass)
            perClass.Add(new JsonObject { ["class"] = c.Name, ["precision"] = Round(c.Precision), ["recall"] = Round(c.Recall), ["f1"] = Round(c.F1), ["support"] = c.Support });
        return new JsonObject
        {
            ["accuracy"] = Round(m.Accuracy),
            ["top5_accuracy"] = double.IsNaN(m.Top5Accuracy) ? null : Round(m.Top5Accuracy),
            ["count"] = m.Count,
            ["macro_f1"] = Round(m.MacroF1),
            ["class_names"] = new JsonArray(m.ClassNames.Select(n => (JsonNode)n).ToArray()),
            ["confusion_matrix"] = confusion,
            ["per_class"] = perClass,
        };
    }

    public static JsonObject DatasetJson(DatasetSplits splits, DatasetLocation location) => new()
    {
        ["name"] = location.Name,
        ["format"] = location.Format,
        ["source"] = location.Directory,
        ["origin"] = location.Origin,
        ["is_sample"] = location.IsSample,
        ["train_count"] = splits.Train.Count,
        ["test_count"] = splits.Test.Count,
        ["shape"] = new JsonArray(splits.Train.Channels, splits.Train.Height, splits.Train.Width),
    };

    public static double Round(double value) => Math.Round(value, 6);

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
        sb.AppendLine("confusion matrix (rows: true class, columns: predicted class)");
        int cell = Math.Max(5, m.ConfusionMatrix.SelectMany(r => r).DefaultIfEmpty(0).Max().ToString(CultureInfo.InvariantCulture).Length + 1);
        sb.Append(new string(' ', nameWidth));
        for (int j = 0; j < m.ClassNames.Count; j++) sb.Append(j.ToString(CultureInfo.InvariantCulture).PadLeft(cell));
        sb.AppendLine();
        for (int i = 0; i < m.ClassNames.Count; i++)
        {
            sb.Append(m.ClassNames[i].PadRight(nameWidth));
            foreach (int v in m.ConfusionMatrix[i]) sb.Append(v.ToString(CultureInfo.InvariantCulture).PadLeft(cell));
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {i}");
        }
        return sb.ToString();
    }
}

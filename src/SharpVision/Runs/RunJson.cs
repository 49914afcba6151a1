using SharpVision.Tensors.Kernels;
using SharpVision.Nn;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Evaluation;

namespace SharpVision.Runs;

/// <summary>The stable JSON shapes of run folders and <c>--json</c> documents (metrics, dataset).</summary>
public static class RunJson
{
    /// <summary>Accuracy, top-5, macro F1, per-class figures and the confusion matrix under their stable keys.</summary>
    public static JsonObject Metrics(ClassificationMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
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

    /// <summary>Which dataset, where it was found, split sizes and image shape.</summary>
    public static JsonObject Dataset(DatasetSplits splits, DatasetLocation location)
    {
        ArgumentNullException.ThrowIfNull(splits);
        ArgumentNullException.ThrowIfNull(location);
        return new JsonObject
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
    }

    /// <summary>Indented JSON, as run folders write it.</summary>
    public static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Six decimals: what every reported fraction is rounded to.</summary>
    public static double Round(double value) => Math.Round(value, 6);

    /// <summary>Seconds rounded to milliseconds, as timings_s reports them.</summary>
    public static double Seconds(TimeSpan time) => Math.Round(time.TotalSeconds, 3);

    /// <summary>
    /// The SIMD level in force and the CPU it runs on: {"level": "avx2", "cpu": "AMD EPYC", "features": "avx2+fma",
    /// "variable": null} (the value of SHARPVISION_SIMD, null when unset). Kernel families name their own paths.
    /// </summary>
    public static JsonObject Simd() => new()
    {
        ["level"] = SimdDispatch.Name(SimdPaths.Level),
        ["cpu"] = SimdPaths.CpuModel,
        ["features"] = SimdDispatch.Names(SimdPaths.Machine),
        ["variable"] = Environment.GetEnvironmentVariable(SimdPaths.Variable),
    };
}

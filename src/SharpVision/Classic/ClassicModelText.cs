using System.Globalization;
using System.Text.Json.Nodes;

namespace SharpVision.Classic;

/// <summary>One line about a tree, forest, boosted or kernel SVM model, from its <see cref="IImageClassifier.Describe"/>.</summary>
public static class ClassicModelText
{
    /// <summary>
    /// "random forest of 100 trees (1,000,980 nodes, out-of-bag accuracy 87.97 %), gini, sqrt features per split",
    /// "kernel SVM, rbf kernel, C 10, γ 0.0102 (18,802 support vectors)", ...; null for other model types.
    /// </summary>
    public static string? Of(JsonObject d)
    {
        ArgumentNullException.ThrowIfNull(d);
        string Text(string key) => d[key] is JsonNode n ? (n is JsonValue v && v.TryGetValue<string>(out var s) ? s : n.ToJsonString()) : "?";
        string Count(string key) => d[key] is JsonNode n && double.TryParse(n.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture,
            out double v)
            ? v.ToString("N0", CultureInfo.InvariantCulture) : "?";
        double Number(string key) => d[key] is JsonNode n && double.TryParse(n.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture,
            out double v) ? v : 0;
        string features = d["features"] is JsonNode f ? $", on {f.GetValue<string>()}" : ", on pixels";
        return Text("type") switch
        {
            "tree" => $"decision tree ({Count("nodes")} nodes, depth {Text("max_depth_reached")}), {Text("criterion")}{features}",
            "forest" => $"random forest of {Text("trees")} trees ({Count("nodes")} nodes" +
                (d["oob_accuracy"] is JsonNode ? string.Create(CultureInfo.InvariantCulture,
                    $", out-of-bag accuracy {Number("oob_accuracy"):P2}") : "") +
                $"), {Text("criterion")}, {Text("max_features")} features per split{features}",
            "boost" => $"gradient-boosted trees, {Text("rounds_kept")} rounds × {Text("classes")} classes, ≤ {Text("num_leaves")} leaves, " +
                $"learning rate {Text("learning_rate")}{features}",
            "kernel-svm" => string.Create(CultureInfo.InvariantCulture,
                $"kernel SVM, {Text("kernel")} kernel, C {Text("c")}, γ {Number("gamma_value"):G4} ({Count("support_vectors")} support " +
                    $"vectors){features}"),
            _ => null,
        };
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Serialization;

namespace SharpVision.Classic.Trees;

/// <summary>
/// Model files of the tree families ("tree", "forest", "boost"): every tree as arrays, nothing else that could run.
/// </summary>
/// <remarks>
/// <para>Metadata: the shared keys (<see cref="ModelMetadata"/>), "config" (the options as JSON, recorded), the feature
/// pipeline's "features" when there is one, and "oob_accuracy" for a forest that computed it.</para>
/// <para>Tensors: trees.offsets I32 [T + 1] (tree t owns nodes offsets[t] ≤ n &lt; offsets[t + 1]); per node, in each
/// tree's preorder, nodes.feature I32, nodes.threshold F32, nodes.left I32 and nodes.right I32 (indices within the
/// tree, −1 at leaves), nodes.value F32 [N, W] (W = classes for "tree"/"forest", 1 for "boost"), nodes.samples F32 and
/// nodes.gain F32; importances F32 [D]; for "boost", initial_scores F32 [K] (tree t belongs to class t mod K); and the
/// feature pipeline's tensors. The loader checks every size, that offsets rise from 0 to N, and each tree's structure
/// (<see cref="DecisionTree"/>: children after parents, one parent each, features in range, finite values).</para>
/// </remarks>
public static class TreeModelFile
{
    public const string TreeKind = "tree";
    public const string ForestKind = "forest";
    public const string BoostKind = "boost";

    /// <summary>Saves a tree or forest atomically.</summary>
    public static void Save(string path, ForestModel model, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var metadata = Metadata(model.Kind, model.ClassNames, model.Input, model.Options, extra);
        if (model.Forest.OutOfBagAccuracy is double oob) metadata["oob_accuracy"] = oob.ToString("R", CultureInfo.InvariantCulture);
        var entries = TreeEntries(model.Forest.Trees);
        entries.Add(TensorEntry.FromSingle("importances", model.Forest.FeatureImportances, model.Forest.Dimension));
        Write(path, metadata, entries, model.Input);
    }

    /// <summary>Saves a boosted ensemble atomically.</summary>
    public static void Save(string path, BoostedTreesModel model, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var metadata = Metadata(model.Kind, model.ClassNames, model.Input, model.Options, extra);
        var entries = TreeEntries(model.Boosted.Trees);
        entries.Add(TensorEntry.FromSingle("importances", model.Boosted.FeatureImportances, model.Boosted.Dimension));
        entries.Add(TensorEntry.FromSingle("initial_scores", model.Boosted.InitialScores, model.Boosted.Classes));
        Write(path, metadata, entries, model.Input);
    }

    /// <summary>Learned numbers: a split's feature and threshold, a leaf's values.</summary>
    public static long ParameterCount(IEnumerable<DecisionTree> trees) =>
        trees.Sum(t => Enumerable.Range(0, t.NodeCount).Sum(n => t.Left[n] < 0 ? (long)t.Width : 2L));

    /// <summary>Reads a tree, forest or boosted model from a file already parsed and identified as one of them.</summary>
    /// <exception cref="DataFormatException">Malformed config, tensors of the wrong type or shape, a tree that is not a tree, unknown
    /// tensors.</exception>
    public static IImageClassifier Load(string path, SafeTensorsFile file, string kind)
    {
        ArgumentNullException.ThrowIfNull(file);
        var meta = file.Metadata;
        var classNames = ModelMetadata.ClassNames(path, meta);
        var preparation = ModelMetadata.Preparation(path, meta);
        var options = ReadConfig(path, ModelMetadata.Require(path, meta, "config"));
        var standardizer = FeatureStandardizerFile.Load(path, file, preparation);
        ModelInput input;
        try
        {
            input = new ModelInput(preparation, standardizer);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(path, $"inconsistent features: {e.Message}", e);
        }
        int classes = classNames.Length, width = kind == BoostKind ? 1 : classes;
        var trees = ReadTrees(path, file, width, input.Dimension);
        var importances = Vector(path, file, "importances", input.Dimension);
        var known = new HashSet<string>(["trees.offsets", "nodes.feature", "nodes.threshold", "nodes.left", "nodes.right", "nodes.value",
            "nodes.samples",
            "nodes.gain", "importances"], StringComparer.Ordinal);
        if (standardizer is not null) known.UnionWith(FeatureStandardizerFile.TensorNames(standardizer));
        try
        {
            if (kind == BoostKind)
            {
                known.Add("initial_scores");
                ModelMetadata.RejectUnknownTensors(path, file, known, "a boosted tree model");
                if (trees.Length % classes != 0)
                    throw new DataFormatException(path, $"{trees.Length} trees are not whole rounds of {classes} classes");
                var boosted = new BoostedTreesClassifier(trees, classes, input.Dimension, Vector(path, file, "initial_scores", classes), importances);
                return new BoostedTreesModel(boosted, input, classNames, options);
            }
            ModelMetadata.RejectUnknownTensors(path, file, known, $"a {kind} model");
            if (kind == TreeKind && trees.Length != 1) throw new DataFormatException(path, $"a tree model holds one tree, not {trees.Length}");
            double? oob = meta.TryGetValue("oob_accuracy", out var text)
                ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v is >= 0 and <= 1 ? v
                    : throw new DataFormatException(path, $"oob_accuracy '{text}' is not a number in [0, 1]")
                : null;
            return new ForestModel(kind, new ForestClassifier(trees, classes, input.Dimension, importances, oob), input, classNames, options);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(path, $"inconsistent {kind} model: {e.Message}", e);
        }
    }

    private static Dictionary<string, string> Metadata(string kind, IReadOnlyList<string> classNames, ModelInput input, JsonObject options,
        IReadOnlyDictionary<string, string>? extra)
    {
        var metadata = ModelMetadata.Create(kind, classNames, input.Preparation);
        metadata["config"] = options.ToJsonString();
        ModelMetadata.AddExtra(metadata, extra);
        return metadata;
    }

    private static void Write(string path, Dictionary<string, string> metadata, List<TensorEntry> entries, ModelInput input)
    {
        if (input.Features is { } features) FeatureStandardizerFile.Add(features, metadata, entries);
        SafeTensorsFile.Write(path, metadata, entries);
    }

    private static List<TensorEntry> TreeEntries(IReadOnlyList<DecisionTree> trees)
    {
        int total = trees.Sum(t => t.NodeCount), width = trees[0].Width;
        var offsets = new int[trees.Count + 1];
        var feature = new int[total];
        var left = new int[total];
        var right = new int[total];
        var threshold = new float[total];
        var samples = new float[total];
        var gain = new float[total];
        var values = new float[(long)total * width];
        for (int t = 0, at = 0; t < trees.Count; t++)
        {
            var tree = trees[t];
            offsets[t] = at;
            tree.Feature.CopyTo(feature, at);
            tree.Left.CopyTo(left, at);
            tree.Right.CopyTo(right, at);
            tree.Threshold.CopyTo(threshold, at);
            tree.Samples.CopyTo(samples, at);
            tree.Gain.CopyTo(gain, at);
            tree.Values.CopyTo(values, (long)at * width);
            at += tree.NodeCount;
            offsets[t + 1] = at;
        }
        return
        [
            TensorEntry.FromInt32("trees.offsets", offsets, offsets.Length),
            TensorEntry.FromInt32("nodes.feature", feature, total),
            TensorEntry.FromSingle("nodes.threshold", threshold, total),
            TensorEntry.FromInt32("nodes.left", left, total),
            TensorEntry.FromInt32("nodes.right", right, total),
            TensorEntry.FromSingle("nodes.value", values, total, width),
            TensorEntry.FromSingle("nodes.samples", samples, total),
            TensorEntry.FromSingle("nodes.gain", gain, total),
        ];
    }

    private static DecisionTree[] ReadTrees(string path, SafeTensorsFile file, int width, int dimension)
    {
        var offsets = Ints(path, file, "trees.offsets", -1);
        if (offsets.Length < 2) throw new DataFormatException(path, "'trees.offsets' must hold at least two values (one tree)");
        int total = offsets[^1];
        if (offsets[0] != 0 || total < 1) throw new DataFormatException(path, "'trees.offsets' must start at 0 and end at the node count");
        for (int t = 0; t + 1 < offsets.Length; t++)
            if (offsets[t + 1] <= offsets[t]) throw new DataFormatException(path, $"'trees.offsets' must rise: tree {t} has no nodes");
        var feature = Ints(path, file, "nodes.feature", total);
        var left = Ints(path, file, "nodes.left", total);
        var right = Ints(path, file, "nodes.right", total);
        var threshold = Floats(path, file, "nodes.threshold", total);
        var samples = Floats(path, file, "nodes.samples", total);
        var gain = Floats(path, file, "nodes.gain", total);
        var valueEntry = ModelMetadata.RequireTensor(path, file, "nodes.value", "the tree model");
        if (valueEntry.DType != TensorDType.F32 || !valueEntry.Shape.SequenceEqual([total, width]))
            throw new DataFormatException(path, $"'nodes.value' is {valueEntry.DType} [{string.Join(", ", valueEntry.Shape)}], expected F32 " +
                $"[{total}, {width}]");
        var values = valueEntry.ToSingle();
        var trees = new DecisionTree[offsets.Length - 1];
        for (int t = 0; t < trees.Length; t++)
        {
            int start = offsets[t], count = offsets[t + 1] - start;
            try
            {
                trees[t] = new DecisionTree(feature[start..(start + count)], threshold[start..(start + count)], left[start..(start + count)],
                    right[start..(start + count)], values[(start * width)..((start + count) * width)], width, samples[start..(start + count)],
                    gain[start..(start + count)], dimension);
            }
            catch (ArgumentException e)
            {
                throw new DataFormatException(path, $"tree {t} is not a valid tree: {e.Message}", e);
            }
        }
        return trees;
    }

    private static int[] Ints(string path, SafeTensorsFile file, string name, int length)
    {
        var entry = ModelMetadata.RequireTensor(path, file, name, "the tree model");
        if (entry.DType != TensorDType.I32 || entry.Shape.Length != 1 || (length >= 0 && entry.Shape[0] != length))
            throw new DataFormatException(path, $"'{name}' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected I32 " +
                $"[{(length >= 0 ? length : "T + 1")}]");
        return entry.ToInt32();
    }

    private static float[] Floats(string path, SafeTensorsFile file, string name, int length)
    {
        var entry = ModelMetadata.RequireTensor(path, file, name, "the tree model");
        if (entry.DType != TensorDType.F32 || entry.Shape.Length != 1 || entry.Shape[0] != length)
            throw new DataFormatException(path, $"'{name}' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected F32 [{length}]");
        return entry.ToSingle();
    }

    private static float[] Vector(string path, SafeTensorsFile file, string name, int length)
    {
        var values = Floats(path, file, name, length);
        if (values.Any(v => !float.IsFinite(v))) throw new DataFormatException(path, $"'{name}' holds NaN or infinite values");
        return values;
    }

    private static JsonObject ReadConfig(string path, string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new DataFormatException(path, $"config {text} is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new DataFormatException(path, $"config is not valid JSON: {e.Message}", e);
        }
    }
}

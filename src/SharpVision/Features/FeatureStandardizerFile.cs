using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.IO;
using SharpVision.Serialization;

namespace SharpVision.Features;

/// <summary>
/// How a <see cref="FeatureStandardizer"/> lives in a model file: the "features" metadata (canonical spec, length) and
/// the tensors features.mean, features.scale and features.vocabulary.&lt;i&gt; for each learned bag-of-words extractor i.
/// </summary>
public static class FeatureStandardizerFile
{
    /// <summary>Adds the standardizer's metadata and tensors.</summary>
    public static void Add(FeatureStandardizer standardizer, Dictionary<string, string> metadata, List<TensorEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(standardizer);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(entries);
        metadata["features"] = new JsonObject { ["spec"] = standardizer.Pipeline.CanonicalConfig, ["length"] = standardizer.Length }.ToJsonString();
        entries.Add(TensorEntry.FromSingle("features.mean", standardizer.Mean, standardizer.Length));
        entries.Add(TensorEntry.FromSingle("features.scale", standardizer.Scale, standardizer.Length));
        for (int i = 0; i < standardizer.Pipeline.Extractors.Count; i++)
            if (standardizer.Pipeline.Extractors[i] is BagOfVisualWords bag)
                entries.Add(TensorEntry.FromSingle($"features.vocabulary.{i}", bag.Vocabulary, bag.Vocabulary.Length));
    }

    /// <summary>The tensor names <see cref="Add"/> writes for <paramref name="standardizer"/>.</summary>
    public static IEnumerable<string> TensorNames(FeatureStandardizer standardizer)
    {
        ArgumentNullException.ThrowIfNull(standardizer);
        return new[] { "features.mean", "features.scale" }.Concat(Enumerable.Range(0, standardizer.Pipeline.Extractors.Count)
            .Where(i => standardizer.Pipeline.Extractors[i] is BagOfVisualWords).Select(i => $"features.vocabulary.{i}"));
    }

    /// <summary>The pipeline (vocabularies restored) and standardization the file's "features" metadata describes; null without it.</summary>
    /// <exception cref="DataFormatException">A malformed spec, missing tensors, or statistics that do not fit the pipeline.</exception>
    public static FeatureStandardizer? Load(string path, SafeTensorsFile file, ImagePreparation preparation)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(preparation);
        if (!file.Metadata.TryGetValue("features", out var featureJson)) return null;
        try
        {
            var spec = (string?)OutsideJson.Parse(featureJson)?["spec"] ?? throw new DataFormatException(path, "features metadata has no spec");
            var pipeline = FeaturePipeline.Parse(spec);
            for (int i = 0; i < pipeline.Extractors.Count; i++)
                if (pipeline.Extractors[i] is BagOfVisualWords bag)
                    bag.SetVocabulary(ModelMetadata.RequireTensor(path, file, $"features.vocabulary.{i}", "the feature pipeline").ToSingle());
            return new FeatureStandardizer(pipeline, preparation.Channels, preparation.Height, preparation.Width,
                ModelMetadata.RequireTensor(path, file, "features.mean", "the feature pipeline").ToSingle(),
                ModelMetadata.RequireTensor(path, file, "features.scale", "the feature pipeline").ToSingle());
        }
        catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new DataFormatException(path, $"invalid features: {e.Message}", e);
        }
    }
}

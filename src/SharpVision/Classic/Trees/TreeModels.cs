using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;

namespace SharpVision.Classic.Trees;

/// <summary>
/// A fitted decision tree ("tree") or random forest ("forest") on images: the <see cref="ModelInput"/> that turns
/// images into rows (pixels or standardized features) and the <see cref="ForestClassifier"/> that averages its
/// trees' leaf probabilities. Immutable.
/// </summary>
/// <remarks>Shape: images (q, C, H, W) bytes → rows (q, D) → probabilities (q, classes).</remarks>
public sealed class ForestModel : IImageClassifier
{
    /// <param name="kind">"tree" or "forest".</param>
    /// <param name="forest">The fitted trees.</param>
    /// <param name="input">How images become rows.</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="options">The options that grew it, as JSON (recorded, not used to predict).</param>
    /// <exception cref="ArgumentException">An unknown kind, or sizes that disagree (features per row, classes).</exception>
    public ForestModel(string kind, ForestClassifier forest, ModelInput input, IReadOnlyList<string> classNames, JsonObject options)
    {
        ArgumentNullException.ThrowIfNull(forest);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(options);
        if (kind is not (TreeModelFile.TreeKind or TreeModelFile.ForestKind))
            throw new ArgumentException($"A forest model is a tree or a forest, not '{kind}'.", nameof(kind));
        if (forest.Dimension != input.Dimension)
            throw new ArgumentException($"The trees read {forest.Dimension} features; the input gives {input.Dimension}.", nameof(input));
        if (forest.Classes != classNames.Count)
            throw new ArgumentException($"The trees know {forest.Classes} classes; {classNames.Count} names given.", nameof(classNames));
        (Kind, Forest, Input, ClassNames, Options) = (kind, forest, input, classNames, options);
    }

    public string Kind { get; }

    public ForestClassifier Forest { get; }

    public ModelInput Input { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The options that grew it.</summary>
    public JsonObject Options { get; }

    public ImagePreparation Preparation => Input.Preparation;

    public Predictions Predict(ReadOnlySpan<byte> images, int threads = 0)
    {
        int t = TreeThreads.Resolve(threads);
        return Predictions.Rank(Forest.PredictProbabilities(Input.Table(images, t), t), ClassNames.Count);
    }

    /// <summary>Predicts every image of <paramref name="dataset"/>, its features read through <paramref name="cache"/> when given.</summary>
    /// <exception cref="ArgumentException">Images of another shape than the model's.</exception>
    public Predictions Predict(ImageDataset dataset, int threads = 0, FeatureCache? cache = null)
    {
        this.EnsureCompatible(dataset);
        int t = TreeThreads.Resolve(threads);
        return Predictions.Rank(Forest.PredictProbabilities(Input.Table(dataset, t, cache), t), ClassNames.Count);
    }

    public JsonObject Describe()
    {
        var json = Options.DeepClone().AsObject();
        json["type"] = Kind;
        json["classes"] = ClassNames.Count;
        json["preparation"] = $"{Preparation.Channels}×{Preparation.Height}×{Preparation.Width}";
        json["parameters"] = TreeModelFile.ParameterCount(Forest.Trees);
        json["trees"] = Forest.Trees.Count;
        json["nodes"] = Forest.Trees.Sum(t => (long)t.NodeCount);
        json["leaves"] = Forest.Trees.Sum(t => (long)t.LeafCount);
        json["max_depth_reached"] = Forest.Trees.Max(t => t.Depth);
        json["oob_accuracy"] = Forest.OutOfBagAccuracy is double oob ? Math.Round(oob, 6) : null;
        json["features"] = Input.Features?.Pipeline.CanonicalConfig;
        json["feature_length"] = Input.Dimension;
        return json;
    }

    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => TreeModelFile.Save(path, this, metadata);
}

/// <summary>
/// A fitted gradient-boosted tree ensemble on images ("boost"): the <see cref="ModelInput"/> and the
/// <see cref="BoostedTreesClassifier"/> whose softmax gives the probabilities. Immutable.
/// </summary>
/// <remarks>Shape: images (q, C, H, W) bytes → rows (q, D) → probabilities (q, classes).</remarks>
public sealed class BoostedTreesModel : IImageClassifier
{
    /// <param name="boosted">The fitted ensemble.</param>
    /// <param name="input">How images become rows.</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="options">The options that grew it, as JSON (recorded, not used to predict).</param>
    /// <exception cref="ArgumentException">Sizes that disagree (features per row, classes).</exception>
    public BoostedTreesModel(BoostedTreesClassifier boosted, ModelInput input, IReadOnlyList<string> classNames, JsonObject options)
    {
        ArgumentNullException.ThrowIfNull(boosted);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(options);
        if (boosted.Dimension != input.Dimension)
            throw new ArgumentException($"The trees read {boosted.Dimension} features; the input gives {input.Dimension}.", nameof(input));
        if (boosted.Classes != classNames.Count)
            throw new ArgumentException($"The trees know {boosted.Classes} classes; {classNames.Count} names given.", nameof(classNames));
        (Boosted, Input, ClassNames, Options) = (boosted, input, classNames, options);
    }

    public string Kind => TreeModelFile.BoostKind;

    public BoostedTreesClassifier Boosted { get; }

    public ModelInput Input { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The options that grew it.</summary>
    public JsonObject Options { get; }

    public ImagePreparation Preparation => Input.Preparation;

    public Predictions Predict(ReadOnlySpan<byte> images, int threads = 0)
    {
        int t = TreeThreads.Resolve(threads);
        return Predictions.Rank(Boosted.PredictProbabilities(Input.Table(images, t), t), ClassNames.Count);
    }

    /// <summary>Predicts every image of <paramref name="dataset"/>, its features read through <paramref name="cache"/> when given.</summary>
    /// <exception cref="ArgumentException">Images of another shape than the model's.</exception>
    public Predictions Predict(ImageDataset dataset, int threads = 0, FeatureCache? cache = null)
    {
        this.EnsureCompatible(dataset);
        int t = TreeThreads.Resolve(threads);
        return Predictions.Rank(Boosted.PredictProbabilities(Input.Table(dataset, t, cache), t), ClassNames.Count);
    }

    public JsonObject Describe()
    {
        var json = Options.DeepClone().AsObject();
        json["type"] = Kind;
        json["classes"] = ClassNames.Count;
        json["preparation"] = $"{Preparation.Channels}×{Preparation.Height}×{Preparation.Width}";
        json["parameters"] = TreeModelFile.ParameterCount(Boosted.Trees);
        json["rounds_kept"] = Boosted.Rounds;
        json["trees"] = Boosted.Trees.Count;
        json["leaves"] = Boosted.Trees.Sum(t => (long)t.LeafCount);
        json["features"] = Input.Features?.Pipeline.CanonicalConfig;
        json["feature_length"] = Input.Dimension;
        return json;
    }

    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => TreeModelFile.Save(path, this, metadata);
}

/// <summary>The contract's thread count (0: all cores) as the tree code takes it.</summary>
internal static class TreeThreads
{
    public static int Resolve(int threads) => threads > 0 ? threads : Environment.ProcessorCount;
}

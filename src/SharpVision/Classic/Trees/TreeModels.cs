using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;

namespace SharpVision.Classic.Trees;

/// <summary>
/// What every fitted tree ensemble on images shares: the <see cref="ModelInput"/> that turns images into rows, the
/// class names, the options that grew it, prediction through the rows, and the header of its description. Immutable.
/// </summary>
/// <remarks>Shape: images (q, C, H, W) bytes → rows (q, D) → probabilities (q, classes).</remarks>
public abstract class TreeEnsembleModel : IImageClassifier
{
    /// <exception cref="ArgumentNullException">A null argument.</exception>
    private protected TreeEnsembleModel(ModelInput input, IReadOnlyList<string> classNames, JsonObject options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(options);
        (Input, ClassNames, Options) = (input, classNames, options);
    }

    /// <inheritdoc/>
    public abstract string Kind { get; }

    /// <summary>How images become rows (pixels or standardized features).</summary>
    public ModelInput Input { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The options that grew it.</summary>
    public JsonObject Options { get; }

    /// <inheritdoc/>
    public ImagePreparation Preparation => Input.Preparation;

    /// <summary>Class probabilities (q, classes) of the rows.</summary>
    protected abstract float[] Probabilities(FeatureTable rows, int threads);

    /// <summary>Adds the ensemble's own entries (parameters, trees, ...) to its description.</summary>
    protected abstract void DescribeTrees(JsonObject json);

    /// <inheritdoc/>
    public Predictions Predict(ReadOnlySpan<byte> images, int threads = 0)
    {
        int t = TreeThreads.Resolve(threads);
        return Predictions.Rank(Probabilities(Input.Table(images, t), t), ClassNames.Count);
    }

    /// <summary>Predicts every image of <paramref name="dataset"/>, its features read through <paramref name="cache"/> when given.</summary>
    /// <exception cref="ArgumentException">Images of another shape than the model's.</exception>
    public Predictions Predict(ImageDataset dataset, int threads = 0, FeatureCache? cache = null)
    {
        this.EnsureCompatible(dataset);
        int t = TreeThreads.Resolve(threads);
        return Predictions.Rank(Probabilities(Input.Table(dataset, t, cache), t), ClassNames.Count);
    }

    /// <inheritdoc/>
    public JsonObject Describe()
    {
        var json = Options.DeepClone().AsObject();
        json["type"] = Kind;
        json["classes"] = ClassNames.Count;
        json["preparation"] = $"{Preparation.Channels}×{Preparation.Height}×{Preparation.Width}";
        DescribeTrees(json);
        json["features"] = Input.Features?.Pipeline.CanonicalConfig;
        json["feature_length"] = Input.Dimension;
        return json;
    }

    /// <inheritdoc/>
    public abstract void Save(string path, IReadOnlyDictionary<string, string>? metadata = null);
}

/// <summary>
/// A fitted decision tree ("tree") or random forest ("forest") on images: the <see cref="ModelInput"/> that turns
/// images into rows (pixels or standardized features) and the <see cref="ForestClassifier"/> that averages its
/// trees' leaf probabilities. Immutable.
/// </summary>
/// <remarks>Shape: images (q, C, H, W) bytes → rows (q, D) → probabilities (q, classes).</remarks>
public sealed class ForestModel : TreeEnsembleModel
{
    /// <param name="kind">"tree" or "forest".</param>
    /// <param name="forest">The fitted trees.</param>
    /// <param name="input">How images become rows.</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="options">The options that grew it, as JSON (recorded, not used to predict).</param>
    /// <exception cref="ArgumentException">An unknown kind, or sizes that disagree (features per row, classes).</exception>
    public ForestModel(string kind, ForestClassifier forest, ModelInput input, IReadOnlyList<string> classNames, JsonObject options)
        : base(input, classNames, options)
    {
        ArgumentNullException.ThrowIfNull(forest);
        if (kind is not (TreeModelFile.TreeKind or TreeModelFile.ForestKind))
            throw new ArgumentException($"A forest model is a tree or a forest, not '{kind}'.", nameof(kind));
        if (forest.Dimension != input.Dimension)
            throw new ArgumentException($"The trees read {forest.Dimension} features; the input gives {input.Dimension}.", nameof(input));
        if (forest.Classes != classNames.Count)
            throw new ArgumentException($"The trees know {forest.Classes} classes; {classNames.Count} names given.", nameof(classNames));
        (Kind, Forest) = (kind, forest);
    }

    /// <inheritdoc/>
    public override string Kind { get; }

    public ForestClassifier Forest { get; }

    /// <inheritdoc/>
    protected override float[] Probabilities(FeatureTable rows, int threads) => Forest.PredictProbabilities(rows, threads);

    /// <inheritdoc/>
    protected override void DescribeTrees(JsonObject json)
    {
        json["parameters"] = TreeModelFile.ParameterCount(Forest.Trees);
        json["trees"] = Forest.Trees.Count;
        json["nodes"] = Forest.Trees.Sum(t => (long)t.NodeCount);
        json["leaves"] = Forest.Trees.Sum(t => (long)t.LeafCount);
        json["max_depth_reached"] = Forest.Trees.Max(t => t.Depth);
        json["oob_accuracy"] = Forest.OutOfBagAccuracy is double oob ? Math.Round(oob, 6) : null;
    }

    /// <inheritdoc/>
    public override void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => TreeModelFile.Save(path, this, metadata);
}

/// <summary>
/// A fitted gradient-boosted tree ensemble on images ("boost"): the <see cref="ModelInput"/> and the
/// <see cref="BoostedTreesClassifier"/> whose softmax gives the probabilities. Immutable.
/// </summary>
/// <remarks>Shape: images (q, C, H, W) bytes → rows (q, D) → probabilities (q, classes).</remarks>
public sealed class BoostedTreesModel : TreeEnsembleModel
{
    /// <param name="boosted">The fitted ensemble.</param>
    /// <param name="input">How images become rows.</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="options">The options that grew it, as JSON (recorded, not used to predict).</param>
    /// <exception cref="ArgumentException">Sizes that disagree (features per row, classes).</exception>
    public BoostedTreesModel(BoostedTreesClassifier boosted, ModelInput input, IReadOnlyList<string> classNames, JsonObject options)
        : base(input, classNames, options)
    {
        ArgumentNullException.ThrowIfNull(boosted);
        if (boosted.Dimension != input.Dimension)
            throw new ArgumentException($"The trees read {boosted.Dimension} features; the input gives {input.Dimension}.", nameof(input));
        if (boosted.Classes != classNames.Count)
            throw new ArgumentException($"The trees know {boosted.Classes} classes; {classNames.Count} names given.", nameof(classNames));
        Boosted = boosted;
    }

    /// <inheritdoc/>
    public override string Kind => TreeModelFile.BoostKind;

    public BoostedTreesClassifier Boosted { get; }

    /// <inheritdoc/>
    protected override float[] Probabilities(FeatureTable rows, int threads) => Boosted.PredictProbabilities(rows, threads);

    /// <inheritdoc/>
    protected override void DescribeTrees(JsonObject json)
    {
        json["parameters"] = TreeModelFile.ParameterCount(Boosted.Trees);
        json["rounds_kept"] = Boosted.Rounds;
        json["trees"] = Boosted.Trees.Count;
        json["leaves"] = Boosted.Trees.Sum(t => (long)t.LeafCount);
    }

    /// <inheritdoc/>
    public override void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => TreeModelFile.Save(path, this, metadata);
}

/// <summary>The contract's thread count (0: all cores) as the tree code takes it.</summary>
internal static class TreeThreads
{
    public static int Resolve(int threads) => threads > 0 ? threads : Environment.ProcessorCount;
}

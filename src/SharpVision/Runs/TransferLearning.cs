using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Onnx;
using SharpVision.Training;

namespace SharpVision.Runs;

/// <summary>The classifier a pretrained backbone's features feed (<c>--head</c>).</summary>
public enum TransferHead
{
    /// <summary>A softmax (multinomial logistic) layer trained by SGD with <c>Recipes.Default("resnet18")</c>.</summary>
    Softmax,

    /// <summary>The exact linear SVM (one-vs-rest squared hinge, dual coordinate descent), C chosen on a validation split.</summary>
    Svm,

    /// <summary>k-nearest neighbours (k = 5, Euclidean) on the standardized features.</summary>
    Knn,
}

/// <summary>
/// Transfer learning by feature extraction, through the classifier contract: the frozen ImageNet ResNet-18
/// (<c>FeaturePipeline.Parse("resnet18")</c>) computes 512 features per image, cached like every feature pipeline, and a
/// classic model of the contract learns on them. The model file stores the head, the standardization and the
/// backbone's spec with its weights' hash, not the weights (see docs/transfer.md). Fine-tuning (<see cref="FineTuner"/>)
/// trains the backbone too, and its model files hold every weight.
/// </summary>
/// <example><code>
/// var model = TransferLearning.Trainer().Fit(train, context: new FitContext { FeatureCache = new FeatureCache() });
/// model.Save("photos.safetensors");            // ModelFile.Load finds the backbone again by its hash
/// </code></example>
public static class TransferLearning
{
    /// <summary>The head names of <c>--head</c>, in <see cref="TransferHead"/> order.</summary>
    public static IReadOnlyList<string> HeadNames { get; } = ["softmax", "svm", "knn"];

    /// <summary>The feature spec of the backbone <paramref name="backbone"/> (only "resnet18" today).</summary>
    /// <exception cref="ArgumentException">An unknown backbone.</exception>
    public static string FeatureSpec(string backbone = "resnet18") =>
        Recipes.Pretrained.Contains(backbone) ? backbone
            : throw new ArgumentException($"Unknown pretrained backbone '{backbone}' (known: {string.Join(", ", Recipes.Pretrained)}).");

    /// <summary>The head named <paramref name="name"/> (see <see cref="HeadNames"/>).</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static TransferHead ParseHead(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int index = HeadNames.ToList().IndexOf(name.ToLowerInvariant());
        return index >= 0 ? (TransferHead)index
            : throw new ArgumentException($"The head must be one of {string.Join(", ", HeadNames)}, got '{name}'.");
    }

    /// <summary>The scope names of <c>--finetune</c>, in <see cref="FineTuneScope"/> order.</summary>
    public static IReadOnlyList<string> FineTuneScopeNames { get; } = ["all", "last"];

    /// <summary>The scope named <paramref name="name"/> (see <see cref="FineTuneScopeNames"/>).</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static FineTuneScope ParseScope(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int index = FineTuneScopeNames.ToList().IndexOf(name.ToLowerInvariant());
        return index >= 0 ? (FineTuneScope)index
            : throw new ArgumentException($"The fine-tuning scope must be one of {string.Join(", ", FineTuneScopeNames)}, got '{name}'.");
    }

    /// <summary>
    /// A trainer that fine-tunes the pretrained ResNet-18 with a new linear head (<c>--finetune</c>): the network of
    /// <see cref="ResNet18Network"/>, <paramref name="scope"/> deciding what trains, through the <see cref="NetworkTrainer"/>
    /// (checkpoints, resume, Ctrl-C, progress, reports). The model file holds every weight.
    /// </summary>
    /// <param name="scope">All layers, or the last stage and the head.</param>
    /// <param name="updateStatistics">Let the trained batch norms update their running statistics (default: frozen, as
    /// small CPU batches give noisy statistics).</param>
    /// <param name="recipe">The recipe (null: <c>Recipes.Default(Recipes.FineTuneRecipe, seed)</c>).</param>
    /// <param name="seed">The default recipe's seed (the head's initialization, shuffling, crops).</param>
    /// <exception cref="ModelSetupException">An invalid recipe.</exception>
    public static NetworkTrainer FineTuner(FineTuneScope scope = FineTuneScope.All, bool updateStatistics = false, TrainingOptions? recipe = null,
        int seed = 0) =>
        new(new NetworkSpec(FeatureSpec(), NormalizationMode.None), recipe ?? Recipes.Default(Recipes.FineTuneRecipe, seed))
        {
            InitialNetwork = (preparation, classes, initialSeed) =>
            {
                if (preparation.Channels is not (1 or 3))
                    throw new ModelSetupException("data",
                        $"The pretrained ResNet-18 reads gray or RGB images; these have {preparation.Channels} channels.");
                var network = ResNet18Network.CreatePretrained(preparation.Channels, preparation.Height, preparation.Width, classes, initialSeed);
                ResNet18Network.Freeze(network, scope, updateStatistics);
                return network;
            },
        };

    /// <summary>A trainer of <paramref name="head"/> on the frozen backbone's features, with the default recipe.</summary>
    /// <param name="head">The classifier on the features.</param>
    /// <param name="seed">Seed of the head's initialization, shuffling and validation split.</param>
    /// <exception cref="FileNotFoundException">The backbone's weights are not found (a BackboneNotFoundException: where it looked).</exception>
    public static IClassifierTrainer Trainer(TransferHead head = TransferHead.Softmax, int seed = 0)
    {
        var features = FeaturePipeline.Parse(FeatureSpec());
        return head switch
        {
            TransferHead.Softmax => new NetworkTrainer(new NetworkSpec("softmax", Features: features), Recipes.Default("resnet18", seed)),
            TransferHead.Svm => new NetworkTrainer(new NetworkSpec("svm", Features: features, Solver: "dual"), Recipes.Default("svm", seed),
                new DualSvmOptions(DualSvmOptions.DefaultCValues)),
            TransferHead.Knn => new KNearestNeighbors(new KNearestNeighborsOptions(Features: features, Seed: seed)),
            _ => throw new ArgumentOutOfRangeException(nameof(head), head, "Unknown head."),
        };
    }
}

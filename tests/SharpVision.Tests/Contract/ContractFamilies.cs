using SharpVision.Classic;
using SharpVision.Classic.Svm;
using SharpVision.Classic.Trees;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Nn;
using SharpVision.Training;

namespace SharpVision.Tests.Contract;

/// <summary>
/// One entry per classifier family the toolkit has, each a small, quick configuration: the contract suite
/// (<see cref="ClassifierContractTests"/>) runs every check on every entry. A new family adds its entry here.
/// </summary>
public static class ContractFamilies
{
    /// <summary>A family: how to make a trainer for a seed, and what the suite may expect of it.</summary>
    /// <param name="Name">Shown in test names.</param>
    /// <param name="Create">A trainer of the family for a seed.</param>
    /// <param name="Binary">The family separates exactly two classes (logistic regression).</param>
    /// <param name="MinAccuracy">The test accuracy it must reach on the separable images.</param>
    public sealed record Family(string Name, Func<int, IClassifierTrainer> Create, bool Binary = false, double MinAccuracy = 0.9)
    {
        public override string ToString() => Name;
    }

    private static TrainingOptions Quick(string kind, int seed, int epochs = 4) =>
        Recipes.Default(kind, seed) with { Epochs = epochs, BatchSize = 16, ValidationFraction = 0 };

    public static IReadOnlyList<Family> All { get; } =
    [
        new("knn", _ => new KNearestNeighbors(new(3))),
        new("knn-hog", seed => new KNearestNeighbors(new(3, DistanceMetric.Manhattan, Features: FeaturePipeline.Parse("hog:cell=4"), Seed: seed))),
        new("svm", seed => new NetworkTrainer(new NetworkSpec("svm"), Quick("svm", seed))),
        new("svm-dual", seed => new NetworkTrainer(new NetworkSpec("svm", Solver: "dual"), Quick("svm", seed), new DualSvmOptions([0.1]))),
        new("softmax", seed => new NetworkTrainer(new NetworkSpec("softmax"), Quick("softmax", seed))),
        new("logistic", seed => new NetworkTrainer(new NetworkSpec("logistic"), Quick("logistic", seed)), Binary: true),
        new("mlp", seed => new NetworkTrainer(new NetworkSpec("mlp", Hidden: [32]), Quick("mlp", seed))),
        new("mlp-hog", seed => new NetworkTrainer(new NetworkSpec("mlp", Hidden: [32], Features: FeaturePipeline.Parse("hog:cell=4")), Quick("mlp",
            seed))),
        new("cnn2", seed => new NetworkTrainer(new NetworkSpec("cnn2"), Quick("cnn2", seed, epochs: 6))),
        new("resnet8", seed => new NetworkTrainer(new NetworkSpec("resnet8"), Quick("resnet8", seed, epochs: 6))),
        // Transformers: one small block, more epochs and a higher rate than the recipe's (a transformer learns slower than a
        // CNN on 200 images); no crops for the ViT, whose 4-pixel patches a shifted one-pixel bar crosses.
        new("vit", seed => new NetworkTrainer(new NetworkSpec("vit", Transformer: new TransformerOptions(Width: 16, Depth: 1, Heads: 2)),
            Quick("vit", seed, epochs: 30) with { LearningRate = 3e-3, CropPadding = 0 })),
        new("cct", seed => new NetworkTrainer(new NetworkSpec("cct", Transformer: new TransformerOptions(Width: 16, Depth: 1, Heads: 2,
            ConvLayers: 1)), Quick("cct", seed, epochs: 30) with { LearningRate = 3e-3 })),
        new("tree", seed => new DecisionTreeTrainer(new DecisionTreeOptions(), seed: seed)),
        new("forest", seed => new RandomForestTrainer(new RandomForestOptions(Trees: 15), seed: seed)),
        new("forest-hog", seed => new RandomForestTrainer(new RandomForestOptions(Trees: 10), FeaturePipeline.Parse("hog:cell=4"), seed)),
        new("boost", seed => new GradientBoostingTrainer(new GradientBoostingOptions(Rounds: 15, MaxLeaves: 6, MinSamplesLeaf: 5), seed: seed)),
        new("boost-sampled", seed => new GradientBoostingTrainer(new GradientBoostingOptions(Rounds: 30, MaxLeaves: 6, MinSamplesLeaf: 5,
            Subsample: 0.8,
            ColumnSample: 0.5, EarlyStoppingRounds: 5), seed: seed, validationFraction: 0.2)),
        new("kernel-svm", seed => new KernelSvmTrainer(new KernelSvmOptions(C: 10), seed: seed)),
        new("kernel-svm-hog-poly", seed => new KernelSvmTrainer(new KernelSvmOptions(KernelKind.Polynomial, C: 1, Coef0: 1),
            FeaturePipeline.Parse("hog:cell=4"), seed)),
        new("nystroem-svm", seed => new NystroemSvmTrainer(new NystroemSvmOptions(C: 1, Components: 60), seed: seed)),
    ];

    /// <summary>The families by name, for xunit's MemberData.</summary>
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var f in All) data.Add(f.Name);
        return data;
    }

    public static Family Get(string name) => All.Single(f => f.Name == name);

    /// <summary>
    /// Separable 1×12×12 images: class c has a bright bar at its own place (rows for even c, columns for odd c) over
    /// seeded noise; <paramref name="classes"/> names, with labels drawn from <paramref name="present"/> (default: all).
    /// </summary>
    public static ImageDataset Bars(int count, int classes, int seed, int[]? present = null)
    {
        const int side = 12;
        present ??= Enumerable.Range(0, classes).ToArray();
        var random = new Random(seed);
        var pixels = new byte[count * side * side];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int label = present[i % present.Length];
            labels[i] = label;
            var image = pixels.AsSpan(i * side * side, side * side);
            for (int p = 0; p < image.Length; p++) image[p] = (byte)random.Next(0, 60);
            int at = 1 + label / 2 * 3 + random.Next(0, 2);
            for (int t = 0; t < side; t++)
            {
                int p = label % 2 == 0 ? at * side + t : t * side + at;
                image[p] = (byte)random.Next(200, 256);
                image[label % 2 == 0 ? p + side : p + 1] = (byte)random.Next(200, 256);
            }
        }
        var names = Enumerable.Range(0, classes).Select(c => $"class-{c}").ToArray();
        return new ImageDataset("bars", 1, side, side, pixels, labels, names);
    }
}

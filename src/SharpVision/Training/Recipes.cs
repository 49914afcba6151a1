namespace SharpVision.Training;

/// <summary>
/// The one home of every model's default training recipe. `train`, `cv`, the ladder and library callers all start from
/// <see cref="Default"/> and change only what they are told to, so they run the same recipe by construction.
/// </summary>
public static class Recipes
{
    /// <summary>The model kinds trained by gradient descent, linear first.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["svm", "softmax", "logistic", "mlp", "cnn2", "resnet8", "resnet20", "vit", "cct"];

    /// <summary>The convolutional networks (their recipe differs: augmentation, no validation split, flip averaging).</summary>
    public static IReadOnlyList<string> Convolutional { get; } = ["cnn2", "resnet8", "resnet20"];

    /// <summary>The vision transformers (shaped by <see cref="Nn.TransformerOptions"/>; images in, no feature pipelines).</summary>
    public static IReadOnlyList<string> Transformers { get; } = ["vit", "cct"];

    /// <summary>
    /// The pretrained backbones (<c>--model resnet18 --pretrained</c>): not kinds of their own, but a feature pipeline
    /// (<c>--features resnet18</c>) under a head; <see cref="Default"/> holds the softmax head's recipe under the backbone's name.
    /// </summary>
    public static IReadOnlyList<string> Pretrained { get; } = ["resnet18"];

    /// <summary>The name of the recipe for fine-tuning the pretrained ResNet-18 (<c>Default(FineTuneRecipe)</c>).</summary>
    public const string FineTuneRecipe = "resnet18-finetune";

    /// <summary>The networks that read images as images (convolutional or transformer), not as flat vectors.</summary>
    public static bool ReadsImages(string kind) => Convolutional.Contains(kind) || Transformers.Contains(kind) || Pretrained.Contains(kind);

    /// <summary>
    /// The default recipe of <paramref name="kind"/>, chosen by measurement on Fashion-MNIST (bench/linear.sh,
    /// bench/mlp.sh, bench/cnn.sh). Linear models reach their accuracy in a few epochs of momentum SGD and keep a 10 %
    /// validation split for their curves; the MLP trains with Adam and a cosine schedule; the CNNs with torch_peers.py's
    /// recipe (SGD + Nesterov 0.9, weight decay 5e-4, one-cycle to 0.1, batch 128, random flips), 20 epochs with label
    /// smoothing 0.1, on all training images (the recipe selects nothing on validation data), predicting with flip
    /// averaging. Measured: cnn2 0.9350 (seed 0) on all 60,000 images, 0.9342 on 54,000 with 10 % held out.
    /// </summary>
    /// <param name="kind">A model kind of <see cref="Kinds"/>.</param>
    /// <param name="seed">The recipe's seed.</param>
    /// <exception cref="ArgumentException">An unknown kind.</exception>
    public static TrainingOptions Default(string kind, int seed = 0) => kind switch
    {
        "svm" => new TrainingOptions(Epochs: 6, BatchSize: 256, Seed: seed, Optimizer: "nesterov", LearningRate: 0.01, Momentum: 0.9, Schedule: "cosine",
            Regularization: 1e-4),
        "softmax" => new TrainingOptions(Epochs: 6, BatchSize: 256, Seed: seed, Optimizer: "nesterov", LearningRate: 0.05, Momentum: 0.9, Schedule: "cosine",
            Regularization: 1e-4),
        "logistic" => new TrainingOptions(Epochs: 10, BatchSize: 128, Seed: seed, Optimizer: "nesterov", LearningRate: 0.01, Momentum: 0.9, Schedule: "cosine",
            Regularization: 1e-3),
        "mlp" => new TrainingOptions(Epochs: 20, BatchSize: 128, Seed: seed, Optimizer: "adam", LearningRate: 1e-3, Schedule: "cosine"),
        "cnn2" or "resnet8" or "resnet20" => new TrainingOptions(Epochs: 20, BatchSize: 128, Seed: seed, Optimizer: "nesterov", LearningRate: 0.1, Momentum: 0.9,
            WeightDecay: 5e-4, Schedule: "onecycle", LabelSmoothing: 0.1, Flip: true, ValidationFraction: 0, Tta: "flip"),
        // Transformers train with AdamW (decay on weight matrices only), a linear warm-up into a cosine decay, label
        // smoothing and the CNNs' augmentations, choosing nothing on validation data. See Transformer below.
        "vit" or "cct" => Transformer(seed),
        // The softmax head on a pretrained backbone's 512 standardized features: often trained on a few images per
        // class, so small batches and more epochs give it enough steps; stronger L2 because the features are many
        // for so few images. See docs/transfer.md.
        "resnet18" => new TrainingOptions(Epochs: 30, BatchSize: 32, Seed: seed, Optimizer: "nesterov", LearningRate: 0.01, Momentum: 0.9,
            Schedule: "cosine", Regularization: 1e-3),
        // Fine-tuning the pretrained ResNet-18 (backbone and a new head together, --finetune): the body starts from
        // good ImageNet features, so a few epochs suffice and more mostly overfit the few hundred images such runs
        // have; each epoch costs ~5.5 GFLOP per image (forward + backward at 224×224), minutes on a CPU. SGD with
        // Nesterov momentum, lr 0.01 for the head and 0.001 for the body (factor 0.1: the pretrained layers move
        // ten times slower), cosine decay, weight decay 1e-4, batch 32; random resized crops and flips are the input
        // layer's training behaviour (Nn.ImageNetInput), so Flip stays off here. 10 % held out for the curves.
        FineTuneRecipe => new TrainingOptions(Epochs: 5, BatchSize: 32, Seed: seed, Optimizer: "nesterov", LearningRate: 0.01, Momentum: 0.9,
            WeightDecay: 1e-4, Schedule: "cosine", BodyLearningRateFactor: 0.1),
        _ => throw new ArgumentException($"No recipe for '{kind}' (known: {string.Join(", ", Kinds)}).", nameof(kind)),
    };

    // The transformer recipe: AdamW lr 1e-3, weight decay 0.05 on weight matrices, 2 warm-up epochs then cosine, label
    // smoothing 0.1, random flips and 2-pixel crops, batch 128, flip averaging at test time.
    private static TrainingOptions Transformer(int seed) => new(Epochs: 30, BatchSize: 128, Seed: seed, Optimizer: "adamw", LearningRate: 1e-3,
        WeightDecay: 0.05, Schedule: "cosine", WarmupEpochs: 2, LabelSmoothing: 0.1, Flip: true, CropPadding: 2, ValidationFraction: 0, Tta: "flip",
        WeightDecayScope: "weights");
}

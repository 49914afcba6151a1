using System.Globalization;
using System.Text.Json.Nodes;

namespace SharpVision.Training;

/// <summary>
/// Everything that decides a training run's result besides the data and the model: same options + same seed +
/// same thread count ⇒ the same bits. Stored in checkpoints, so a resumed run cannot silently change recipe.
/// </summary>
/// <param name="Epochs">Passes over the training data.</param>
/// <param name="BatchSize">Examples per step; the last batch of an epoch may be smaller.</param>
/// <param name="Seed">Seeds initialization, shuffling (per epoch) and dropout (per step).</param>
/// <param name="Optimizer">sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, random-search.</param>
/// <param name="LearningRate">Base (or peak, for one-cycle) learning rate.</param>
/// <param name="Momentum">Momentum of sgd-family optimizers (momentum, nesterov; RMSProp's optional momentum).</param>
/// <param name="WeightDecay">Optimizer weight decay (coupled for SGD/Adam, decoupled for AdamW).</param>
/// <param name="Schedule">constant, step, exponential, cosine, onecycle.</param>
/// <param name="WarmupEpochs">Linear warm-up length in epochs (0 = none; not with onecycle, which warms up itself).</param>
/// <param name="StepEpochs">step schedule: epochs between decays.</param>
/// <param name="Gamma">step/exponential schedules: decay factor (per StepEpochs, or per epoch).</param>
/// <param name="Regularization">λ of the penalty λ·(α·‖W‖₁ + (1 − α)/2·‖W‖²) on weight matrices (not biases).</param>
/// <param name="L1Ratio">α: 0 = L2 (the lectures' R(W)), 1 = L1, between = elastic net.</param>
/// <param name="LabelSmoothing">Softmax loss label smoothing ε.</param>
/// <param name="Patience">Early stopping: epochs without validation improvement before stopping (0 = off).</param>
/// <param name="EarlyStoppingMetric">accuracy (maximize) or loss (minimize) on the validation split.</param>
/// <param name="CheckpointEvery">Also checkpoint every N steps (0 = at epoch ends only).</param>
/// <param name="RandomSearchScale">random-search: standard deviation of the candidate weights.</param>
/// <param name="Flip">Augmentation: random horizontal flips.</param>
/// <param name="CropPadding">Augmentation: random crop after padding each side by this many pixels (0 = off).</param>
/// <param name="Cutout">Augmentation: side of a random square set to the mean (0 = off).</param>
/// <param name="ValidationFraction">Share of the training images held out (stratified, seeded by <paramref name="Seed"/>) and
/// evaluated after each epoch when the caller gives no validation set (0 = none).</param>
/// <param name="Tta">Test-time augmentation stored with the model: "none", or "flip" (average each image with its mirror).</param>
/// <param name="WeightDecayScope">adamw: which parameters weight decay applies to: "all", or "weights" (weight matrices and
/// filters; not biases, norms, class tokens or position embeddings, as transformers are trained).</param>
/// <param name="BodyLearningRateFactor">The learning rate of every layer but the network's last is this times the
/// schedule's (fine-tuning a pretrained network: 0.1 lets the body move ten times slower than its new head); 1 = one rate.</param>
public sealed record TrainingOptions(
    int Epochs = 10,
    int BatchSize = 128,
    int Seed = 0,
    string Optimizer = "sgd",
    double LearningRate = 0.01,
    double Momentum = 0.9,
    double WeightDecay = 0,
    string Schedule = "constant",
    double WarmupEpochs = 0,
    int StepEpochs = 10,
    double Gamma = 0.1,
    double Regularization = 0,
    double L1Ratio = 0,
    double LabelSmoothing = 0,
    int Patience = 0,
    string EarlyStoppingMetric = "accuracy",
    int CheckpointEvery = 0,
    double RandomSearchScale = 0.001,
    bool Flip = false,
    int CropPadding = 0,
    int Cutout = 0,
    double ValidationFraction = 0.1,
    string Tta = "none",
    string WeightDecayScope = "all",
    double BodyLearningRateFactor = 1)
{
    /// <summary>The known weight-decay scopes.</summary>
    public static IReadOnlyList<string> WeightDecayScopes { get; } = ["all", "weights"];

    /// <summary>The known test-time augmentations.</summary>
    public static IReadOnlyList<string> TestTimeAugmentations { get; } = ["none", "flip"];

    /// <summary>The known optimizer names.</summary>
    public static IReadOnlyList<string> Optimizers { get; } = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "random-search"];

    /// <summary>The known schedule names.</summary>
    public static IReadOnlyList<string> Schedules { get; } = ["constant", "step", "exponential", "cosine", "onecycle"];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        static void Require(bool ok, string name, object value, string rule)
        {
            if (!ok) throw new ArgumentException($"{name} = {Convert.ToString(value, CultureInfo.InvariantCulture)}: {rule}.", name);
        }
        Require(Epochs >= 1, nameof(Epochs), Epochs, "must be at least 1");
        Require(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
        Require(Optimizers.Contains(Optimizer), nameof(Optimizer), Optimizer, $"unknown (known: {string.Join(", ", Optimizers)})");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be positive");
        Require(Momentum >= 0 && Momentum < 1, nameof(Momentum), Momentum, "must be in [0, 1)");
        Require(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, "must be at least 0");
        Require(Schedules.Contains(Schedule), nameof(Schedule), Schedule, $"unknown (known: {string.Join(", ", Schedules)})");
        Require(WarmupEpochs >= 0, nameof(WarmupEpochs), WarmupEpochs, "must be at least 0");
        Require(WarmupEpochs <= Epochs, nameof(WarmupEpochs), WarmupEpochs, $"must not exceed the {Epochs} epochs of training (the learning rate would never reach its peak)");
        Require(StepEpochs >= 1, nameof(StepEpochs), StepEpochs, "must be at least 1");
        Require(Gamma > 0 && Gamma <= 1, nameof(Gamma), Gamma, "must be in (0, 1]");
        Require(Regularization >= 0, nameof(Regularization), Regularization, "must be at least 0");
        Require(L1Ratio >= 0 && L1Ratio <= 1, nameof(L1Ratio), L1Ratio, "must be in [0, 1]");
        Require(LabelSmoothing >= 0 && LabelSmoothing < 1, nameof(LabelSmoothing), LabelSmoothing, "must be in [0, 1)");
        Require(Patience >= 0, nameof(Patience), Patience, "must be at least 0");
        Require(EarlyStoppingMetric is "accuracy" or "loss", nameof(EarlyStoppingMetric), EarlyStoppingMetric, "must be accuracy or loss");
        Require(CheckpointEvery >= 0, nameof(CheckpointEvery), CheckpointEvery, "must be at least 0");
        Require(RandomSearchScale > 0, nameof(RandomSearchScale), RandomSearchScale, "must be positive");
        Require(CropPadding >= 0 && CropPadding <= 64, nameof(CropPadding), CropPadding, "must be in [0, 64]");
        Require(Cutout >= 0 && Cutout <= 1024, nameof(Cutout), Cutout, "must be in [0, 1024]");
        Require(ValidationFraction >= 0 && ValidationFraction < 1, nameof(ValidationFraction), ValidationFraction, "must be in [0, 1)");
        Require(TestTimeAugmentations.Contains(Tta), nameof(Tta), Tta, $"unknown (known: {string.Join(", ", TestTimeAugmentations)})");
        Require(WeightDecayScopes.Contains(WeightDecayScope), nameof(WeightDecayScope), WeightDecayScope,
            $"unknown (known: {string.Join(", ", WeightDecayScopes)})");
        Require(WeightDecayScope == "all" || Optimizer == "adamw", nameof(WeightDecayScope), WeightDecayScope,
            "only adamw limits weight decay to weights");
        Require(BodyLearningRateFactor > 0 && BodyLearningRateFactor <= 1, nameof(BodyLearningRateFactor), BodyLearningRateFactor,
            "must be in (0, 1]");
        Require(Patience == 0 || ValidationFraction > 0, nameof(Patience), Patience, "early stopping needs a validation split (ValidationFraction > 0)");
    }

    /// <summary>The options as JSON (stored in config.json and in checkpoints).</summary>
    public JsonObject ToJson() => (JsonObject)JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(this))!;

    /// <summary>Options from <see cref="ToJson"/>'s output.</summary>
    /// <exception cref="FormatException">Not a valid options object.</exception>
    public static TrainingOptions FromJson(string json)
    {
        try
        {
            var options = System.Text.Json.JsonSerializer.Deserialize<TrainingOptions>(json) ?? throw new FormatException("null training options");
            options.Validate();
            return options;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException)
        {
            throw new FormatException($"invalid training options: {e.Message}", e);
        }
    }
}

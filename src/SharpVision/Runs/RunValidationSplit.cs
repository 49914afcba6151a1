using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.IO;

namespace SharpVision.Runs;

/// <summary>The validation images a training run held out, or why it held out none.</summary>
/// <param name="Images">The held-out images, in training-split order (null when there are none).</param>
/// <param name="Fraction">The recipe's validation fraction.</param>
/// <param name="Seed">The seed of the stratified split.</param>
/// <param name="Unavailable">Why there are no validation images (null when <paramref name="Images"/> is set).</param>
public sealed record RunValidation(ImageDataset? Images, double Fraction, int Seed, string? Unavailable);

/// <summary>
/// Rebuilds the validation split of a training run from its run folder's config.json, exactly as the trainer drew it:
/// the training split, limited to the recorded <c>train_limit</c> (a seeded stratified subset), narrowed to the
/// model's classes, then the recipe's stratified, seeded <c>ValidationFraction</c> (<see cref="Splits.StratifiedSplit"/>).
/// </summary>
public static class RunValidationSplit
{
    /// <summary>The validation split of the run in <paramref name="runDirectory"/>, drawn from <paramref name="train"/>.</summary>
    /// <param name="runDirectory">The run folder (holds config.json).</param>
    /// <param name="train">The dataset's whole training split, prepared as the model takes it.</param>
    /// <param name="classNames">The model's classes (a run on a subset of the classes selects them first).</param>
    /// <exception cref="DataFormatException">config.json is missing or malformed (named).</exception>
    public static RunValidation Of(string runDirectory, ImageDataset train, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(classNames);
        var configPath = Path.Combine(runDirectory, "config.json");
        if (!File.Exists(configPath))
            throw new DataFormatException(configPath,
                "not found: the validation split is rebuilt from the run folder's config.json, which records its seed and fraction");
        var config = ReadConfig(configPath);
        var training = config["training"] as JsonObject ?? throw new DataFormatException(configPath, "has no \"training\" object");
        int seed = SeedOf(training);
        double fraction = Number(training["ValidationFraction"]) ?? 0;
        string kind = (config["model"] as JsonObject)?["type"]?.ToString() ?? "this";
        if (training["ValidationFraction"] is null)
            return new RunValidation(null, 0, seed, $"a {kind} model fits no validation split (it has nothing to tune while fitting)");
        if (fraction <= 0)
            return new RunValidation(null, 0, seed, (string?)config["command"] == "ladder"
                ? "this ladder rung was refitted on the whole training split (validation fraction 0); the ladder chose its hyperparameters on a " +
                  "held-out split recorded in ladder.json, but the final model has seen those images"
                : "the run held out no validation images (validation fraction 0: the model trained on the whole training split)");
        if (training["c_values"] is JsonArray { Count: > 1 })
            return new RunValidation(null, fraction, seed,
                "the dual solver chose C on the validation split, then refitted the model on the training and validation images together, " +
                "so it has seen them");

        if (Number(config["train_limit"]) is double limit) train = train.Take((int)limit, seed);
        if (classNames.Count < train.ClassNames.Count && classNames.All(train.ClassNames.Contains))
            train = train.SelectClasses(classNames.Select(n => train.ClassNames.ToList().IndexOf(n)).ToArray());
        var (held, _) = Splits.StratifiedSplit(train.Labels, fraction, seed);
        var images = train.Subset(held);
        if (Number(config["validation_count"]) is double recorded && (int)recorded != images.Count)
            throw new DataFormatException(configPath, string.Create(CultureInfo.InvariantCulture,
                $"records {recorded:0} validation images; its fraction {fraction} and seed {seed} give {images.Count} here: is this its dataset?"));
        return new RunValidation(images, fraction, seed, null);
    }

    /// <summary>
    /// The seed the run in <paramref name="runDirectory"/> recorded (it also drew an image folder's train/test split), or
    /// null when the folder holds no readable config.json with a "training" object.
    /// </summary>
    public static int? RecordedSeed(string runDirectory)
    {
        var configPath = Path.Combine(runDirectory, "config.json");
        try
        {
            return File.Exists(configPath) && ReadConfig(configPath)["training"] is JsonObject training ? SeedOf(training) : null;
        }
        catch (DataFormatException)
        {
            return null;
        }
    }

    private static int SeedOf(JsonObject training) => Number(training["Seed"] ?? training["seed"]) is double s ? (int)s : 0;

    private static JsonObject ReadConfig(string configPath)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject ?? throw new DataFormatException(configPath, "is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(configPath, $"is not valid JSON ({e.Message})", e);
        }
    }

    private static double? Number(JsonNode? node) => node is JsonValue v && v.TryGetValue(out double d) ? d : null;
}

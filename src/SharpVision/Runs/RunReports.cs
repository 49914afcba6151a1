using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.IO;
using SharpVision.Models;
using SharpVision.Evaluation;
using SharpVision.Reports;
using SharpVision.Training;

namespace SharpVision.Runs;

/// <summary>Reads a run folder into a <see cref="RunReportInput"/> and writes report.html; shared by `report`, `train` and `cv`.</summary>
public static class RunReports
{
    /// <summary>The report's file name in a run folder.</summary>
    public const string FileName = "report.html";

    /// <summary>Builds the page and writes it atomically (a failure leaves no partial file); returns the page.</summary>
    public static string Write(string path, RunReportInput input)
    {
        var html = RunReport.Build(input, new RunReportOptions { EmbeddingMap = RunReport.TsneMap(input.Threads) });
        AtomicFile.WriteAllText(path, html);
        return html;
    }

    /// <summary>True when <paramref name="directory"/> is a ladder folder (it holds ladder.json).</summary>
    public static bool IsLadder(string directory) => File.Exists(Path.Combine(directory, LadderResult.FileName));

    /// <summary>
    /// Rewrites a ladder folder's ladder.html from its ladder.json and, with <paramref name="rungReports"/>, each rung's
    /// report.html from the rung's run folder (as `report RUN_DIR` does). Returns the pages written, ladder.html first.
    /// </summary>
    /// <exception cref="DataFormatException">ladder.json or a rung's run folder is missing or malformed (named).</exception>
    /// <exception cref="DatasetNotFoundException">A rung's recorded dataset is not there any more.</exception>
    public static IReadOnlyList<string> WriteLadder(string directory, int threads, string? dataOverride, bool rungReports)
    {
        var ladder = LadderResult.Read(directory);
        var written = new List<string>();
        if (rungReports)
            foreach (var rung in ladder.Rungs)
            {
                var rungDir = Path.Combine(directory, rung.Name); // where the rung is now, whatever run_dir recorded
                var path = Path.Combine(rungDir, FileName);
                Write(path, Load(rungDir, threads, dataOverride));
                written.Add(path);
            }
        written.Insert(0, LadderPage.Write(ladder));
        return written;
    }

    /// <summary>
    /// Writes RUN_DIR/report.html after a run, from the files just written and the model, test set and predictions
    /// still in memory. A failure here does not undo the run.
    /// </summary>
    /// <returns>The report's path, or null with <paramref name="error"/> saying why it could not be written.</returns>
    public static string? TryWriteAfterRun(string runDir, int threads, IImageClassifier? model, ImageDataset? test, Predictions? predictions, out string? error)
    {
        try
        {
            var path = Path.Combine(runDir, FileName);
            Write(path, Load(runDir, threads, null, model, test, predictions));
            error = null;
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DataFormatException or FormatException or ArgumentException)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>
    /// Reads config.json, metrics.json, metrics.jsonl and steps.jsonl; loads model.safetensors and the test split of
    /// the dataset config.json names, unless <paramref name="model"/> and <paramref name="test"/> are given.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="DataFormatException">A file is missing or malformed (named in the message).</exception>
    /// <exception cref="DatasetNotFoundException">The recorded dataset is not there any more.</exception>
    public static RunReportInput Load(string runDir, int threads, string? dataOverride, IImageClassifier? model = null, ImageDataset? test = null, Predictions? predictions = null)
    {
        if (!Directory.Exists(runDir)) throw new DirectoryNotFoundException($"{runDir}: no such run folder.");
        var configPath = Path.Combine(runDir, "config.json");
        if (!File.Exists(configPath)) throw new DataFormatException(configPath, "not found: a run folder holds the config.json that `train` or `cv` wrote");
        var config = ReadJsonObject(configPath);
        string command = String(config, "command", configPath);
        var modelJson = config["model"] as JsonObject ?? throw new DataFormatException(configPath, "has no \"model\" object");
        string kind = String(modelJson, "type", configPath);
        var dataset = config["dataset"] as JsonObject ?? throw new DataFormatException(configPath, "has no \"dataset\" object");
        var metricsPath = Path.Combine(runDir, "metrics.json");
        JsonObject? metrics = File.Exists(metricsPath) ? ReadJsonObject(metricsPath) : null;

        IReadOnlyList<EpochMetrics> epochs = [];
        IReadOnlyList<StepMetrics> steps = [];
        IReadOnlyList<CrossValidationResult> cv = [];
        IReadOnlyList<DualSvmCandidate> solverCandidates = [];
        IReadOnlyList<Classic.Trees.BoostingRound> boosting = [];
        double? solverC = null;
        var modelPath = Path.Combine(runDir, "model.safetensors");
        bool wantsModel;
        if (command == "cv")
        {
            if (metrics is null) throw new DataFormatException(metricsPath, "not found: a cv run folder holds its results in metrics.json");
            cv = CrossValidationResults(metrics, metricsPath);
            wantsModel = File.Exists(modelPath); // written with --test only
        }
        else if (command is "train" or "ladder") // a ladder rung's folder is a train run's
        {
            wantsModel = true;
            if (metrics?["solver"] is JsonObject solver)
            {
                (solverCandidates, solverC) = SolverResults(solver, metricsPath);
            }
            else if (ClassicKinds.Contains(kind))
            {
                // Trees and kernel SVMs have no epochs; boosting records its rounds in metrics.json.
                if (metrics?["boosting"]?["rounds"] is JsonArray rounds) boosting = BoostingRounds(rounds, metricsPath);
            }
            else if (kind != "knn")
            {
                var epochsPath = Path.Combine(runDir, "metrics.jsonl");
                if (!File.Exists(epochsPath)) throw new DataFormatException(epochsPath, "not found: a training run logs its epochs there");
                epochs = ReadEpochs(epochsPath);
                var stepsPath = Path.Combine(runDir, StepLog.FileName);
                if (File.Exists(stepsPath)) steps = StepLog.Read(stepsPath);
            }
        }
        else
        {
            throw new DataFormatException(configPath, $"\"command\" is '{command}'; reports are made for train and cv runs");
        }

        if (wantsModel && model is null)
        {
            if (!File.Exists(modelPath))
                throw new DataFormatException(modelPath, command == "train" && File.Exists(Path.Combine(runDir, Checkpoint.FileName))
                    ? $"not found: the run has not finished; finish it with `sharpvision train --resume {runDir}`"
                    : "not found: the run folder has no model");
            model = ModelFile.Load(modelPath);
        }
        if (model is not null && test is null) test = LoadTestSplit(config, dataset, configPath, dataOverride, model);

        return new RunReportInput
        {
            Title = command == "cv" ? $"{kind} cross-validation on {DatasetName(dataset)}" : $"{kind} on {DatasetName(dataset)}",
            Subtitle = $"run folder {Path.GetFileName(runDir.TrimEnd(Path.DirectorySeparatorChar))}",
            Summary = Summary(command, kind, config, modelJson, dataset, metrics),
            Epochs = epochs,
            Steps = steps,
            CrossValidation = cv,
            SolverCandidates = solverCandidates,
            SolverC = solverC,
            BoostingRounds = boosting,
            Model = model,
            Test = test,
            Predictions = predictions,
            Threads = threads,
            LabelSmoothing = config["training"]?["LabelSmoothing"] is JsonValue smoothing && smoothing.TryGetValue(out double epsilon) ? epsilon : 0,
            Augmented = config["training"]?["Flip"] is JsonValue flip && flip.TryGetValue(out bool flipped) && flipped,
        };
    }

    // The test split as the run saw it: the recorded folder (or --data), the model's image size, the run's seed and
    // test fraction for folders without train/test, and the model's classes when it was trained on a subset.
    private static ImageDataset LoadTestSplit(JsonObject config, JsonObject dataset, string configPath, string? dataOverride, IImageClassifier model)
    {
        string name = String(dataset, "name", configPath), format = String(dataset, "format", configPath);
        string directory = dataOverride is null ? String(dataset, "source", configPath) : Path.GetFullPath(dataOverride);
        if (!Directory.Exists(directory) || !DatasetFiles.Holds(directory, format))
            throw new DatasetNotFoundException(dataOverride is null
                ? $"{configPath}: the run's dataset ({name}, {format}) is not in {directory} any more; pass --data DIR to say where its files are."
                : $"--data {dataOverride}: no {format} dataset there (the run used {name}).");
        int seed = (int?)(config["training"] as JsonObject)?["Seed"] ?? (int?)(config["training"] as JsonObject)?["seed"] ?? (int?)config["seed"] ?? 0;
        var p = model.Preparation;
        var folder = new ImageFolderOptions(p.Channels, p.Height, p.Width, (double?)dataset["test_fraction"] ?? 0.2, seed, (bool?)dataset["skip_corrupt"] ?? false);
        var location = new DatasetLocation(name, format, directory, dataOverride is null ? "run" : "--data", (bool?)dataset["is_sample"] ?? false);
        var test = DatasetLoader.Load(location, folder).Test;
        if (model.ClassNames.Count < test.ClassNames.Count && model.ClassNames.All(test.ClassNames.Contains))
            test = test.SelectClasses(model.ClassNames.Select(n => test.ClassNames.ToList().IndexOf(n)).ToArray());
        if (test.Channels != p.Channels || test.Height != p.Height || test.Width != p.Width)
            throw new DataFormatException(directory, $"images are {test.Channels}×{test.Height}×{test.Width}; the run's model takes {p.Channels}×{p.Height}×{p.Width}");
        if (!test.ClassNames.SequenceEqual(model.ClassNames))
            throw new DataFormatException(directory, $"classes ({string.Join(", ", test.ClassNames)}) are not the run's model's ({string.Join(", ", model.ClassNames)})");
        return test;
    }

    private static IReadOnlyList<(string, string)> Summary(string command, string kind, JsonObject config, JsonObject model, JsonObject dataset, JsonObject? metrics)
    {
        var rows = new List<(string, string)>();
        string Text(JsonNode? node) => node switch
        {
            null => "",
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray a => string.Join(", ", a.Select(Text)),
            _ => node.ToJsonString(),
        };
        if (command == "cv")
        {
            var grid = model["grid"] as JsonArray ?? [];
            var axes = grid.OfType<JsonObject>().SelectMany(o => o.Select(p => p.Key)).Distinct()
                .Select(key => $"{key} ∈ {{{string.Join(", ", grid.OfType<JsonObject>().Select(o => Text(o[key])).Distinct())}}}");
            rows.Add(("search", $"{kind}, {string.Join(", ", axes)}; {Text(config["folds"])}-fold stratified cross-validation, seed {Text(config["seed"])}"));
        }
        else if (kind == "knn")
            rows.Add(("model", $"k-NN, k = {Text(model["k"])}, metric {Text(model["metric"])}, weights {Text(model["weights"])}"));
        else if (Classic.ClassicModelText.Of(model) is string classic)
        {
            long parameters = (long?)model["parameters"] ?? 0;
            rows.Add(("model", string.Create(CultureInfo.InvariantCulture, $"{classic}; {parameters:N0} parameters")));
            if (config["training"] is JsonObject t)
                rows.Add(("settings", string.Join(", ", t.Where(p => p.Value is not null).Select(p => $"{p.Key} {Text(p.Value)}"))));
        }
        else
        {
            long parameters = (long?)model["parameters"] ?? 0;
            string features = model["features"] is JsonNode f ? $", features {Text(f)}" : "";
            rows.Add(("model", string.Create(CultureInfo.InvariantCulture, $"{kind}: {parameters:N0} parameters, {Text(model["loss"])} loss, preprocess {Text(model["preprocess"])}{features}")));
            if (config["training"] is JsonObject d && Text(d["solver"]) == "dual-coordinate-descent")
                rows.Add(("recipe", $"exact one-vs-rest squared hinge by dual coordinate descent, C ∈ {{{Text(d["c_values"])}}}{(metrics?["solver"]?["c"] is JsonNode c ? $" (used: {Text(c)})" : "")}, tolerance {Text(d["tolerance"])}, seed {Text(d["seed"])}"));
            else if (config["training"] is JsonObject t)
                rows.Add(("recipe", $"{Text(t["Optimizer"])}, lr {Text(t["LearningRate"])} ({Text(t["Schedule"])}), batch {Text(t["BatchSize"])}, {Text(t["Epochs"])} epochs, weight decay {Text(t["WeightDecay"])}, label smoothing {Text(t["LabelSmoothing"])}, seed {Text(t["Seed"])}"));
        }
        string shape = dataset["shape"] is JsonArray s ? string.Join("×", s.Select(Text)) : "?";
        string counts = config["train_count"] is JsonNode train
            ? $"{Text(train)} train / {Text(config["validation_count"])} validation / {Text(dataset["test_count"])} test"
            : $"{Text(dataset["train_count"])} train / {Text(dataset["test_count"])} test";
        rows.Add(("dataset", $"{DatasetName(dataset)}{((bool?)dataset["is_sample"] == true ? " (shipped sample)" : "")}: {counts} images, {shape}"));
        if (metrics?["timings_s"] is JsonObject timings)
            rows.Add(("time", string.Join(", ", timings.Where(t => t.Value is JsonValue v && v.TryGetValue(out double _))
                .Select(t => $"{TimingName(t.Key)} {DurationText.Format((double)t.Value!)}"))));
        if (metrics?["backend"] is JsonNode backend) rows.Add(("backend", $"{Text(backend)}, {Text(metrics["threads"])} threads"));
        return rows;
    }

    // metrics.json's timings_s keys, for people.
    private static string TimingName(string key) => key switch
    {
        "load" => "loading data",
        "epoch_mean" => "per epoch",
        "train" => "training",
        "predict" => "predicting the test split",
        _ => key.Replace('_', ' '),
    };

    private static string DatasetName(JsonObject dataset) => (string?)dataset["name"] ?? "?";

    // The model kinds without epochs: trees and kernel SVMs (exact and approximate).
    private static readonly HashSet<string> ClassicKinds = [Classic.Trees.TreeModelFile.TreeKind, Classic.Trees.TreeModelFile.ForestKind,
        Classic.Trees.TreeModelFile.BoostKind, Classic.Svm.KernelSvmModelFile.Kind, Classic.Svm.NystroemSvmModelFile.Kind];

    private static List<Classic.Trees.BoostingRound> BoostingRounds(JsonArray rounds, string path)
    {
        try
        {
            return rounds.Select(Classic.Trees.BoostingRound.FromJson).ToList();
        }
        catch (FormatException e)
        {
            throw new DataFormatException(path, $"its boosting.rounds are malformed ({e.Message})");
        }
    }

    private static IReadOnlyList<CrossValidationResult> CrossValidationResults(JsonObject metrics, string path)
    {
        var results = metrics["results"] as JsonArray ?? throw new DataFormatException(path, "has no \"results\" array");
        var list = new List<CrossValidationResult>();
        foreach (var (node, i) in results.Select((n, i) => (n, i)))
        {
            try
            {
                list.Add(CrossValidationResult.FromJson(node));
            }
            catch (FormatException e)
            {
                throw new DataFormatException(path, $"results[{i}] is not a cross-validation result ({e.Message})");
            }
        }
        if (list.Count == 0) throw new DataFormatException(path, "\"results\" is empty");
        return list;
    }

    // metrics.json's "solver" object (train --solver dual): the candidates of C and the one used.
    private static (IReadOnlyList<DualSvmCandidate>, double?) SolverResults(JsonObject solver, string path)
    {
        try
        {
            var candidates = (solver["candidates"] as JsonArray ?? [])
                .Select(n => new DualSvmCandidate((double)n!["c"]!, (double)n["val_accuracy"]!, (double)n["seconds"]!, (int)n["passes"]!, (bool)n["converged"]!)).ToList();
            return (candidates, (double?)solver["c"]);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new DataFormatException(path, $"its \"solver\" object is malformed ({e.Message})");
        }
    }

    private static List<EpochMetrics> ReadEpochs(string path)
    {
        var epochs = new List<EpochMetrics>();
        var lines = BoundedFile.ReadAllLines(path, BoundedFile.MaxTextBytes, "a metrics file");
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            try
            {
                epochs.Add(EpochMetrics.FromJson(OutsideJson.Parse(lines[i])));
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                throw new DataFormatException(path, $"line {i + 1} is not an epoch record ({e.Message})");
            }
        }
        return epochs;
    }

    private static JsonObject ReadJsonObject(string path)
    {
        try
        {
            return OutsideJson.Parse(BoundedFile.ReadAllText(path, BoundedFile.MaxTextBytes, "a run folder's JSON file")) as JsonObject ?? throw new DataFormatException(path, "is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"is not valid JSON ({e.Message})");
        }
    }

    private static string String(JsonObject o, string key, string path) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new DataFormatException(path, $"has no \"{key}\" string");
}

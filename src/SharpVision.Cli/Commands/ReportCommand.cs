using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.IO;
using SharpVision.Reports;
using SharpVision.Serialization;
using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision report RUN_DIR`: (re)writes a run folder's self-contained report.html.</summary>
internal static class ReportCommand
{
    public static Command Create(CliConsole console)
    {
        var runDir = new Argument<string>("RUN_DIR") { Description = "A run folder written by `train` or `cv`" };
        var data = new Option<string?>("--data") { Description = "Folder holding the dataset's files, when it is no longer where config.json says" };
        var output = new Option<string?>("--out") { Description = "Where to write the report (default: RUN_DIR/report.html)" };
        var threads = new Option<int>("--threads") { Description = "Worker threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (the report's path and size)" };
        var command = new Command("report", "Write a run folder's report.html: training curves per step and per epoch, learning rate, confusion matrix, per-class precision/recall, " +
            "the most confused pairs and misclassified images, k-NN neighbours, linear templates or CNN filters and feature maps, cross-validation curves. " +
            "One self-contained file (inline SVG, images as data: URIs) that opens offline. Loads the model and the dataset recorded in config.json.\n\n" +
            "Examples:\n  sharpvision report runs/knn-l1\n  sharpvision report runs/cnn2 --data /mnt/datasets/fashion-mnist --out /tmp/cnn2.html");
        command.Arguments.Add(runDir);
        command.Options.Add(data);
        command.Options.Add(output);
        command.Options.Add(threads);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            int threadCount = parse.GetValue(threads);
            if (threadCount < 1 || threadCount > 1024) throw new UsageException($"--threads must be between 1 and 1024, got {threadCount}.");
            SharpVision.Tensors.Engine.Threads = threadCount;
            var dir = Path.GetFullPath(parse.GetValue(runDir)!);
            var path = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(dir, RunReports.FileName));
            var input = RunReports.Load(dir, threadCount, parse.GetValue(data));
            var html = RunReports.Write(path, input);
            if (parse.GetValue(json))
                console.Json(new JsonObject { ["command"] = "report", ["run_dir"] = dir, ["report"] = path, ["bytes"] = System.Text.Encoding.UTF8.GetByteCount(html) });
            else
                console.Out.WriteLine(path);
            return CliApp.Success;
        });
        return command;
    }
}

/// <summary>Reads a run folder into a <see cref="RunReportInput"/> and writes report.html; shared by `report`, `train` and `cv`.</summary>
internal static class RunReports
{
    public const string FileName = "report.html";

    /// <summary>Builds the page and writes it atomically (a failure leaves no partial file); returns the page.</summary>
    public static string Write(string path, RunReportInput input)
    {
        var html = RunReport.Build(input, new RunReportOptions { EmbeddingMap = RunReport.TsneMap(input.Threads) });
        AtomicFile.WriteAllText(path, html);
        return html;
    }

    /// <summary>
    /// Writes RUN_DIR/report.html at the end of `train` or `cv`, from the files just written and the model, test set
    /// and predictions still in memory. A failure here does not undo the run: it is reported as a warning.
    /// </summary>
    /// <returns>The report's path, or null when it could not be written.</returns>
    public static string? WriteAfterRun(CliConsole console, string runDir, int threads, IImageClassifier? model, ImageDataset? test, Predictions? predictions)
    {
        try
        {
            var path = Path.Combine(runDir, FileName);
            Write(path, Load(runDir, threads, null, model, test, predictions));
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DataFormatException or FormatException or ArgumentException)
        {
            console.Log($"warning: report.html not written ({e.Message}); try again with: sharpvision report {runDir}");
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
            var stored = ModelStore.Load(modelPath);
            model = stored.Model;
        }
        if (model is not null && test is null) test = LoadTestSplit(config, dataset, configPath, dataOverride, model);

        return new RunReportInput
        {
            Title = command == "cv" ? $"k-NN cross-validation on {DatasetName(dataset)}" : $"{kind} on {DatasetName(dataset)}",
            Subtitle = $"run folder {Path.GetFileName(runDir.TrimEnd(Path.DirectorySeparatorChar))}",
            Summary = Summary(command, kind, config, modelJson, dataset, metrics),
            Epochs = epochs,
            Steps = steps,
            CrossValidation = cv,
            SolverCandidates = solverCandidates,
            SolverC = solverC,
            Model = model,
            Test = test,
            Predictions = predictions,
            Threads = threads,
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
            rows.Add(("search", $"k-NN, k ∈ {{{Text(model["k"])}}}, metric ∈ {{{Text(model["metric"])}}}, weights ∈ {{{Text(model["weights"])}}}; {Text(config["folds"])}-fold stratified cross-validation, seed {Text(config["seed"])}"));
        else if (kind == "knn")
            rows.Add(("model", $"k-NN, k = {Text(model["k"])}, metric {Text(model["metric"])}, weights {Text(model["weights"])}"));
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
            rows.Add(("time", string.Join(", ", timings.Where(t => t.Value is not null).Select(t => $"{t.Key} {Text(t.Value)} s"))));
        if (metrics?["backend"] is JsonNode backend) rows.Add(("backend", $"{Text(backend)}, {Text(metrics["threads"])} threads"));
        return rows;
    }

    private static string DatasetName(JsonObject dataset) => (string?)dataset["name"] ?? "?";

    private static IReadOnlyList<CrossValidationResult> CrossValidationResults(JsonObject metrics, string path)
    {
        var results = metrics["results"] as JsonArray ?? throw new DataFormatException(path, "has no \"results\" array");
        var list = new List<CrossValidationResult>();
        foreach (var (node, i) in results.Select((n, i) => (n, i)))
        {
            try
            {
                var p = node!["params"]!;
                var folds = node["fold_accuracies"]!.AsArray().Select(a => (double)a!).ToList();
                list.Add(new CrossValidationResult((int)p["k"]!, (string)p["metric"]!, (string)p["weights"]!, (double)node["mean_accuracy"]!, (double)node["std_accuracy"]!, folds));
            }
            catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
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
                epochs.Add(EpochMetrics.FromJson(JsonNode.Parse(lines[i])));
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
            return JsonNode.Parse(BoundedFile.ReadAllText(path, BoundedFile.MaxTextBytes, "a run folder's JSON file")) as JsonObject ?? throw new DataFormatException(path, "is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"is not valid JSON ({e.Message})");
        }
    }

    private static string String(JsonObject o, string key, string path) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new DataFormatException(path, $"has no \"{key}\" string");
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Nn;
using SharpVision.Serialization;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;
using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision train --model svm|softmax|logistic|mlp`: gradient training with checkpoints and resume.</summary>
internal static class NetworkTraining
{
    /// <summary>Metadata key of the normalized command line stored in checkpoints (what --resume replays).</summary>
    public const string ArgumentsKey = "cli_arguments";

    public static async Task<int> RunAsync(CliConsole console, ParseResult parse, DataOptions data, TrainingFlags training, NetworkOptions net, string kind, CancellationToken token)
    {
        var total = Stopwatch.StartNew();
        int seed = parse.GetValue(training.Seed);
        int threads = training.GetThreads(parse);
        bool json = parse.GetValue(training.Json);
        Engine.Threads = threads;
        var recipe = net.Recipe(parse, training, kind, seed);
        var resumeDir = parse.GetValue(net.Resume);
        Checkpoint? checkpoint = null;
        if (resumeDir is not null)
        {
            var path = Path.Combine(resumeDir, Checkpoint.FileName);
            if (!File.Exists(path)) throw new UsageException($"--resume {resumeDir}: no {Checkpoint.FileName} there (nothing to resume).");
            checkpoint = Checkpoint.Load(path);
            if (checkpoint.Options != recipe) throw new UsageException($"--resume {resumeDir}: the checkpoint was written with another recipe; resume with `sharpvision train --resume DIR` alone.");
        }

        var load = Stopwatch.StartNew();
        var (splits, location) = await data.LoadAsync(parse, console, seed, null, token);
        if (net.ClassSelection(parse, splits.Train.ClassNames) is { } selection)
            splits = splits with { Train = splits.Train.SelectClasses(selection), Test = splits.Test.SelectClasses(selection) };
        if (kind == "logistic" && splits.Train.ClassNames.Count != 2)
            throw new UsageException($"--model logistic separates two classes: pass --classes A,B (e.g. --classes 0,6 for {splits.Train.ClassNames[0]} vs {splits.Train.ClassNames[Math.Min(6, splits.Train.ClassNames.Count - 1)]}).");
        var train = splits.Train;
        ImageDataset? validation = null;
        double validationFraction = net.Validation(parse, recipe);
        if (validationFraction > 0)
        {
            var (held, kept) = Splits.StratifiedSplit(train.Labels, validationFraction, seed);
            validation = train.Subset(held);
            train = train.Subset(kept);
        }
        var mode = net.Normalization(parse, kind);
        FeatureStandardizer? features = null;
        ExampleSet trainSet;
        ExampleSet? validationSet;
        Normalizer normalizer;
        if (parse.GetValue(net.Features) is string spec)
        {
            if (kind is not ("svm" or "softmax" or "logistic" or "mlp")) throw new UsageException($"--features works with svm, softmax, logistic and mlp, not {kind}.");
            var cache = new FeatureCache();
            float[] trainFeatures;
            try
            {
                (features, trainFeatures) = FeatureStandardizer.Fit(FeaturePipeline.Parse(spec), train, seed, threads, cache, token);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--features: {e.Message}");
            }
            console.Log($"features {features.Pipeline.CanonicalConfig}: {features.Length} per image (cache {cache.Directory})");
            normalizer = Normalizer.Fit(train, NormalizationMode.None);
            mode = NormalizationMode.None;
            trainSet = new ExampleSet(trainFeatures, train.Labels, features.Length);
            validationSet = validation is null ? null : new ExampleSet(features.Apply(validation, threads, cache, token), validation.Labels, features.Length);
        }
        else
        {
            normalizer = Normalizer.Fit(train, mode);
            int[] sampleShape = [train.Channels, train.Height, train.Width];
            trainSet = new ExampleSet(normalizer.Apply(train, threads), train.Labels, train.SampleSize, sampleShape);
            validationSet = validation is null ? null : new ExampleSet(normalizer.Apply(validation, threads), validation.Labels, validation.SampleSize, sampleShape);
        }
        load.Stop();

        var loss = kind switch { "svm" => ClassifierLoss.Hinge, "logistic" => ClassifierLoss.Logistic, _ => ClassifierLoss.Softmax };
        int inputs = features?.Length ?? train.SampleSize, outputs = loss == ClassifierLoss.Logistic ? 1 : train.ClassNames.Count;
        Sequential network;
        try
        {
            network = kind switch
            {
                "mlp" => Networks.Mlp(inputs, net.HiddenSizes(parse), outputs, net.ActivationKind(parse), net.DropoutProbability(parse)),
                "svm" or "softmax" or "logistic" => Networks.LinearClassifier(inputs, outputs),
                _ => Networks.ByName(kind, train.Channels, train.Height, train.Width, outputs),
            };
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        network.ResetParameters(new Rng(seed));
        var preparation = new ImagePreparation(train.Channels, train.Height, train.Width);
        var model = new NetworkClassifier(kind, network, loss, normalizer, preparation, train.ClassNames, features);

        var runDir = Path.GetFullPath(resumeDir ?? parse.GetValue(training.Out) ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-{kind}-{location.Name}"));
        var modelPath = Path.Combine(runDir, "model.safetensors");
        if (checkpoint is null && Directory.Exists(runDir) && (File.Exists(modelPath) || File.Exists(Path.Combine(runDir, Checkpoint.FileName))))
            throw new UsageException($"{runDir} already holds a run; choose another --out, or continue it with --resume {runDir}.");
        Directory.CreateDirectory(runDir);
        var modelJson = new JsonObject
        {
            ["type"] = kind,
            ["loss"] = ModelStore.LossName(loss),
            ["architecture"] = Architecture.ToJson(network),
            ["parameters"] = network.ParameterCount(),
            ["preprocess"] = Normalizer.Name(mode),
            ["features"] = features?.Pipeline.CanonicalConfig,
            ["classes"] = new JsonArray(train.ClassNames.Select(n => (JsonNode)n).ToArray()),
        };
        var config = new JsonObject
        {
            ["command"] = "train",
            ["model"] = modelJson,
            ["training"] = recipe.ToJson(),
            ["dataset"] = Reporting.DatasetJson(splits, location),
            ["validation_fraction"] = validationFraction,
            ["train_count"] = train.Count,
            ["validation_count"] = validation?.Count ?? 0,
            ["threads"] = threads,
            ["gemm"] = Gemm.Provider.Name,
            ["conv"] = Conv2dBackend.Describe(),
        };
        AtomicFile.WriteAllText(Path.Combine(runDir, "config.json"), config.ToJsonString(new() { WriteIndented = true }));

        console.Log(string.Create(CultureInfo.InvariantCulture,
            $"{(checkpoint is null ? "training" : "resuming")} {kind} ({network.ParameterCount():N0} parameters) on {train.Count:N0} images{(validation is null ? "" : $" (+{validation.Count:N0} validation)")}: " +
            $"{recipe.Optimizer} lr {recipe.LearningRate} ({recipe.Schedule}), batch {recipe.BatchSize}, {recipe.Epochs} epochs, {threads} thread(s), {Reporting.NetworkBackendDescription(network)}; run folder {runDir}"));
        Conv2dBackend.ResetUsed(); // the JSON's backend names what this run used
        var fit = Stopwatch.StartNew();
        TrainingResult result;
        try
        {
            result = console.Steps($"training {kind}", report => new Trainer(recipe)
            {
                OnEpoch = m => console.Log(EpochLine(m, recipe.Epochs, train.Count)),
                OnStep = s => report((long)s.Epoch * s.StepsPerEpoch + s.Step + 1, (long)s.Epochs * s.StepsPerEpoch,
                    string.Create(CultureInfo.InvariantCulture, $"epoch {s.Epoch + 1}/{s.Epochs} loss {s.Loss:F4}")),
                CheckpointMetadata = new Dictionary<string, string> { [ArgumentsKey] = ReplayArguments(parse) },
            }.Fit(model, trainSet, validationSet, runDir, checkpoint, token));
        }
        catch (OperationCanceledException)
        {
            console.Log($"checkpoint saved in {runDir}; continue with: sharpvision train --resume {runDir}");
            throw;
        }
        fit.Stop();
        if (result.StoppedEarly) console.Log($"early stopping: no validation improvement for {recipe.Patience} epochs; keeping epoch {result.BestEpoch}'s weights");

        model.FlipAveraging = net.FlipAveraging(parse, kind);
        var predict = Stopwatch.StartNew();
        var predictions = model.Predict(splits.Test, threads);
        predict.Stop();
        var report = ClassificationMetrics.Compute(splits.Test.Labels, predictions, model.ClassNames);
        ModelStore.Save(modelPath, model, new Dictionary<string, string> { ["dataset"] = location.Name });
        total.Stop();

        double epochSeconds = result.Epochs.Count == 0 ? 0 : result.Epochs.Average(e => e.Seconds);
        var resultJson = new JsonObject
        {
            ["command"] = "train",
            ["model"] = modelJson.DeepClone(),
            ["training"] = recipe.ToJson(),
            ["dataset"] = config["dataset"]!.DeepClone(),
            ["metrics"] = new JsonObject
            {
                ["test"] = Reporting.MetricsJson(report),
                ["epochs"] = new JsonArray(result.Epochs.Select(e => (JsonNode)e.ToJson()).ToArray()),
                ["best_epoch"] = result.BestEpoch,
                ["stopped_early"] = result.StoppedEarly,
            },
            ["timings_s"] = new JsonObject
            {
                ["load"] = Math.Round(load.Elapsed.TotalSeconds, 3),
                ["fit"] = Math.Round(fit.Elapsed.TotalSeconds, 3),
                ["epoch_mean"] = Math.Round(epochSeconds, 3),
                ["predict"] = Math.Round(predict.Elapsed.TotalSeconds, 3),
                ["total"] = Math.Round(total.Elapsed.TotalSeconds, 3),
            },
            ["throughput"] = new JsonObject
            {
                ["train_images_per_s"] = Math.Round(train.Count / Math.Max(epochSeconds, 1e-9)),
                ["predict_images_per_s"] = Math.Round(splits.Test.Count / Math.Max(predict.Elapsed.TotalSeconds, 1e-9)),
            },
            ["backend"] = Reporting.NetworkBackend(network),
            ["threads"] = threads,
            ["run_dir"] = runDir,
            ["model_path"] = modelPath,
        };
        AtomicFile.WriteAllText(Path.Combine(runDir, "metrics.json"), resultJson.ToJsonString(new() { WriteIndented = true }));

        if (json)
        {
            console.Json(resultJson);
        }
        else
        {
            console.Out.WriteLine($"dataset: {location.Name} ({location.Origin}: {location.Directory}){(location.IsSample ? " [shipped sample]" : "")}, {train.Count:N0} train{(validation is null ? "" : $" / {validation.Count:N0} validation")} / {splits.Test.Count:N0} test, {train.Channels}×{train.Height}×{train.Width}");
            console.Out.WriteLine($"model:   {kind} ({ModelStore.LossName(loss)} loss, {network.ParameterCount():N0} parameters, preprocess {Normalizer.Name(mode)}; {Reporting.NetworkBackendDescription(network)}, {threads} threads)");
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"time:    fit {fit.Elapsed.TotalSeconds:F2} s ({result.Epochs.Count} epochs, {epochSeconds:F2} s/epoch, {train.Count / Math.Max(epochSeconds, 1e-9):N0} images/s), predict {predict.Elapsed.TotalSeconds:F2} s, total {total.Elapsed.TotalSeconds:F2} s"));
            console.Out.WriteLine();
            console.Out.Write(Reporting.MetricsText("test", report));
            console.Out.WriteLine();
            console.Out.WriteLine($"run folder: {runDir}");
        }
        return CliApp.Success;
    }

    private static string EpochLine(EpochMetrics m, int epochs, int images)
    {
        var validation = m.ValidationAccuracy is double va ? FormattableString.Invariant($", val loss {m.ValidationLoss:F4} acc {va:P2}") : "";
        return FormattableString.Invariant($"epoch {m.Epoch}/{epochs}: train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2}{validation}, lr {m.LearningRate:G3}, {m.Seconds:F2} s ({images / Math.Max(m.Seconds, 1e-9):N0} images/s)");
    }

    // The command line as --resume replays it: absolute --data, without --resume/--out/--threads/--json (given anew).
    private static string ReplayArguments(ParseResult parse)
    {
        var tokens = parse.Tokens.Select(t => t.Value).ToList();
        var kept = new JsonArray();
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t is "--resume" or "--out" or "--threads") { i++; continue; }
            if (t == "--json") continue;
            if (t == "--data" && i + 1 < tokens.Count)
            {
                kept.Add("--data");
                kept.Add(Path.GetFullPath(tokens[++i]));
                continue;
            }
            kept.Add(t);
        }
        return kept.ToJsonString();
    }

    /// <summary>
    /// Expands `train --resume DIR [--threads N] [--json]` into the checkpoint's recorded command line, so the resumed
    /// run rebuilds exactly the same data, model and recipe. Other flags next to --resume are a usage error.
    /// </summary>
    public static string[] ExpandResume(string[] args)
    {
        if (args.Length == 0 || args[0] != "train" || !args.Contains("--resume")) return args;
        string? dir = null, threads = null;
        bool json = false;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--resume" when i + 1 < args.Length: dir = args[++i]; break;
                case "--threads" when i + 1 < args.Length: threads = args[++i]; break;
                case "--json": json = true; break;
                default: throw new UsageException($"with --resume the recipe comes from the checkpoint; only --threads and --json may be given (got '{args[i]}').");
            }
        }
        if (dir is null) throw new UsageException("--resume needs a run folder.");
        var path = Path.Combine(dir, Checkpoint.FileName);
        if (!File.Exists(path)) throw new UsageException($"--resume {dir}: no {Checkpoint.FileName} there (nothing to resume).");
        var checkpoint = Checkpoint.Load(path);
        if (!checkpoint.Metadata.TryGetValue(ArgumentsKey, out var recorded) || JsonNode.Parse(recorded) is not JsonArray array)
            throw new DataFormatException(path, $"the checkpoint does not record its command line ('{ArgumentsKey}')");
        var expanded = array.Select(n => (string)n!).ToList();
        expanded.AddRange(["--resume", dir, "--out", dir]);
        if (threads is not null) expanded.AddRange(["--threads", threads]);
        if (json) expanded.Add("--json");
        return expanded.ToArray();
    }
}

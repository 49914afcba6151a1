using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Evaluation;
using SharpVision.IO;
using SharpVision.Runs;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision cv`: stratified k-fold cross-validation of any model over a grid of its flags (the lecture's table).</summary>
internal static class CvCommand
{
    public static Command Create(CliConsole console, CvGrid grid)
    {
        var data = new DataOptions();
        var training = new TrainingFlags();
        var flags = new ModelFlags(cv: true);
        var folds = new Option<int>("--folds") { Description = $"Number of stratified folds (2 to {CrossValidation.MaxFolds}, and at most the training images)", DefaultValueFactory = _ => 5 };
        var test = new Option<bool>("--test") { Description = "After choosing the best setting, fit it on the whole training split and evaluate it once on the test split" };
        var command = new Command("cv", "Cross-validate a model over a grid of settings on the training split: mean ± std accuracy per setting, and the best one. " +
            $"Any of {string.Join(", ", ModelFlags.GridFlags)} takes comma-separated alternatives; every combination is a candidate, fitted on each fold's " +
            "training part (features, normalization and vocabularies included) and scored on the rest. Writes a run folder (config.json, metrics.json, " +
            "report.html; with --test also model.safetensors and the test evaluation).\n\n" +
            "Examples:\n  sharpvision cv --dataset fashion-mnist --k 1,3,5,7,9 --metric l1,l2 --folds 5 --train-limit 10000 --test --out runs/knn-cv\n" +
            "  sharpvision cv --model softmax --lr 0.01,0.1 --reg 1e-4,1e-3 --folds 5 --train-limit 10000\n" +
            "  sharpvision cv --features hog --k 1,3,5 --folds 3 --train-limit 10000");
        data.AddTo(command);
        flags.AddTo(command);
        command.Options.Add(folds);
        command.Options.Add(test);
        training.AddTo(command);
        command.SetAction(async (parse, token) =>
        {
            var total = Stopwatch.StartNew();
            var kind = flags.Kind(parse);
            flags.WarnUnused(parse, training, console, kind);
            int seed = parse.GetValue(training.Seed), threads = training.GetThreads(parse), foldCount = parse.GetValue(folds);
            if (foldCount < 2 || foldCount > CrossValidation.MaxFolds)
                throw new UsageException($"--folds must be between 2 and {CrossValidation.MaxFolds}, got {foldCount}.");
            if (kind == "knn")
            {
                grid.AddDefault("--k", "1,3,5,7,9");
                grid.AddDefault("--metric", "l1,l2");
            }
            // Every candidate's trainer is built (and its flags checked) before any data is read.
            var candidates = new List<Candidate>();
            foreach (var (args, parameters) in grid.Combinations())
            {
                var candidateParse = command.Parse(args);
                if (candidateParse.Errors.Count > 0) throw new UsageException(candidateParse.Errors[0].Message);
                candidates.Add(new Candidate(parameters, flags.CreateTrainer(candidateParse, training, kind)));
            }
            if (candidates.Count > 10_000) throw new UsageException($"the grid has {candidates.Count:N0} candidates; at most 10,000 are compared in one run.");

            var (splits, location) = await data.LoadAsync(parse, console, seed, null, token);
            if (flags.Network.ClassSelection(parse, splits.Train.ClassNames) is { } selection)
                splits = splits with { Train = splits.Train.SelectClasses(selection), Test = splits.Test.SelectClasses(selection) };
            var train = splits.Train;
            if (foldCount > train.Count) throw new UsageException($"--folds {foldCount} exceeds the {train.Count:N0} training images.");
            var runDir = Path.GetFullPath(parse.GetValue(training.Out) ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-cv-{kind}-{location.Name}"));
            using var hold = training.HoldRunFolder(parse, console, runDir); // one writer; an existing run only with --force
            console.Log($"cv: {candidates.Count} setting(s) of {kind} × {foldCount} stratified folds on {train.Count:N0} training images (seed {seed})");

            var context = new FitContext
            {
                Threads = threads,
                Cancellation = token,
                FeatureCache = flags.Features.Cache(parse, console.Log),
                Events = e =>
                {
                    if (e is FoldCompleted f)
                        console.Log(string.Create(CultureInfo.InvariantCulture,
                            $"fold {f.Fold + 1}/{f.Folds}: best {f.Accuracies.Max():F4}, {string.Join(" ", f.Accuracies.Select(a => a.ToString("F3", CultureInfo.InvariantCulture)))}"));
                    else if (e is FitNote n) console.Log(n.Message);
                },
            };
            CrossValidationOutcome outcome;
            try
            {
                outcome = CrossValidation.Run(candidates, train, foldCount, seed, context);
            }
            catch (ModelSetupException e)
            {
                throw new UsageException(ModelFlags.FlagMessage(e));
            }
            var best = outcome.Results[outcome.Best];

            var result = new JsonObject
            {
                ["command"] = "cv",
                ["model"] = new JsonObject { ["type"] = kind },
                ["dataset"] = data.RunJson(parse, splits, location),
                ["folds"] = foldCount,
                ["features"] = flags.Features.Pipeline(parse)?.CanonicalConfig,
                ["seed"] = seed,
                ["results"] = new JsonArray(outcome.Results.Select(r => (JsonNode)r.ToJson()).ToArray()),
                ["best"] = best.ToJson(),
                ["threads"] = threads,
            };
            RunResult? tested = null;
            var config = new JsonObject
            {
                ["command"] = "cv",
                ["model"] = new JsonObject { ["type"] = kind, ["grid"] = new JsonArray(candidates.Select(c => (JsonNode)c.Parameters.DeepClone()).ToArray()) },
                ["training"] = candidates[outcome.Best].Trainer.Describe(),
                ["dataset"] = result["dataset"]!.DeepClone(),
                ["folds"] = foldCount,
                ["seed"] = seed,
                ["threads"] = threads,
                ["train_limit"] = parse.GetValue(data.TrainLimit),
                ["test"] = parse.GetValue(test),
            };
            RunFolder.Clear(runDir, replace: parse.GetValue(training.Force)); // the old run goes whole, just before the new one is written
            if (parse.GetValue(test))
            {
                // The chosen setting, fitted on the whole training split: the run `train` would make with these flags.
                var runContext = context with { Events = e => { if (e is FitNote n) console.Log(n.Message); } };
                tested = ClassifierRun.Execute(candidates[outcome.Best].Trainer, splits, location, runDir, runContext,
                    new RunOptions { Command = "cv", Dataset = (JsonObject)result["dataset"]!.DeepClone(), Report = false });
                result["metrics"] = new JsonObject { ["test"] = Reporting.MetricsJson(tested.Test) };
                result["backend"] = tested.Document["backend"]?.DeepClone();
                config["model"]!["chosen"] = tested.Model.Describe();
            }
            total.Stop();
            result["timings_s"] = new JsonObject
            {
                ["cv"] = Math.Round(outcome.Seconds, 3),
                ["fit"] = tested is null ? 0.0 : Math.Round(tested.Fit.TotalSeconds, 3),
                ["predict"] = tested is null ? 0.0 : Math.Round(tested.Predict.TotalSeconds, 3),
                ["total"] = Math.Round(total.Elapsed.TotalSeconds, 3),
            };
            result["run_dir"] = runDir;
            Directory.CreateDirectory(runDir);
            AtomicFile.WriteAllText(Path.Combine(runDir, "config.json"), config.ToJsonString(RunJson.Indented));
            AtomicFile.WriteAllText(Path.Combine(runDir, "metrics.json"), result.ToJsonString(RunJson.Indented));
            var reportPath = RunReports.TryWriteAfterRun(runDir, threads, tested?.Model, tested is null ? null : splits.Test, tested?.Predictions, out var reportError);
            if (reportError is not null) console.Log($"warning: report.html not written ({reportError}); try again with: sharpvision report {runDir}");
            if (reportPath is not null) result["report"] = reportPath;

            if (parse.GetValue(training.Json))
            {
                console.Json(result);
                return CliApp.Success;
            }
            var o = console.Out;
            o.WriteLine($"dataset: {location.Name}{(location.IsSample ? " [shipped sample]" : "")}, {train.Count:N0} training images, {foldCount}-fold stratified cross-validation (seed {seed})");
            if (flags.Features.Pipeline(parse) is { } pipeline) o.WriteLine($"features: {pipeline.CanonicalConfig} (pipeline and standardization fitted on each fold's training part)");
            o.WriteLine();
            var keys = candidates[0].Parameters.Select(p => p.Key).ToList();
            int width = Math.Max(8, outcome.Results.Max(r => SettingText(r.Parameters, keys).Length));
            o.WriteLine($"{string.Join("  ", keys).PadRight(width)}  mean acc   ± std     folds");
            for (int i = 0; i < outcome.Results.Count; i++)
            {
                var r = outcome.Results[i];
                o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{SettingText(r.Parameters, keys).PadRight(width)}  {r.MeanAccuracy,8:F4}  ± {r.StdAccuracy:F4}   {string.Join(" ", r.FoldAccuracies.Select(a => a.ToString("F3", CultureInfo.InvariantCulture)))}{(i == outcome.Best ? "  ← best" : "")}"));
            }
            o.WriteLine();
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best: {string.Join(" ", best.Parameters.Select(p => $"{p.Key}={p.Value}"))}: {best.MeanAccuracy:F4} ± {best.StdAccuracy:F4} ({outcome.Seconds:F1} s)"));
            if (tested is not null)
            {
                o.WriteLine();
                o.Write(Reporting.MetricsText("test (best setting, evaluated once)", tested.Test));
            }
            o.WriteLine();
            o.WriteLine($"run folder: {runDir}");
            if (reportPath is not null) o.WriteLine($"report:     {reportPath}");
            return CliApp.Success;
        });
        return command;
    }

    // "5  l1": the values of one setting, aligned under the keys' header.
    private static string SettingText(JsonObject parameters, IReadOnlyList<string> keys) =>
        string.Join("  ", keys.Select(k => (parameters[k]?.ToString() ?? "").PadRight(k.Length)));
}

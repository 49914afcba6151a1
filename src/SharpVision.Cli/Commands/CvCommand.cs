using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Runs;
using SharpVision.Serialization;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision cv`: stratified k-fold cross-validation over a grid of k-NN settings (the lecture's table).</summary>
internal static class CvCommand
{
    public static Command Create(CliConsole console)
    {
        var data = new DataOptions();
        var training = new TrainingFlags();
        var knn = new KnnOptions(lists: true);
        var folds = new Option<int>("--folds") { Description = "Number of stratified folds", DefaultValueFactory = _ => 5 };
        var test = new Option<bool>("--test") { Description = "After choosing the best setting, evaluate it once on the test split" };
        var features = new FeatureOptions("Cross-validate k-NN on hand-crafted features instead of pixels, e.g. hog or hog:cell=7+lbp; the pipeline's learned parts and the " +
            "standardization are fitted on each fold's training part only; extraction is cached on disk");
        var command = new Command("cv", "Cross-validate k-NN settings on the training split: mean ± std accuracy per setting, and the best one. " +
            "Writes a run folder (config.json, metrics.json, report.html with accuracy against k; with --test also model.safetensors and the test evaluation).\n\n" +
            "Examples:\n  sharpvision cv --dataset fashion-mnist --k 1,3,5,7,9 --metric l1,l2 --folds 5 --train-limit 10000 --test --out runs/knn-cv\n" +
            "  sharpvision cv --features hog --k 1,3,5 --folds 3 --train-limit 10000");
        data.AddTo(command);
        knn.AddTo(command);
        command.Options.Add(folds);
        command.Options.Add(test);
        features.AddTo(command);
        training.AddTo(command);
        command.SetAction(async (parse, token) =>
        {
            var total = Stopwatch.StartNew();
            knn.CheckModel(parse);
            var (ks, metrics, weightings) = (knn.Ks(parse), knn.Metrics(parse), knn.Weightings(parse));
            int seed = parse.GetValue(training.Seed), threads = training.GetThreads(parse), foldCount = parse.GetValue(folds);
            bool json = parse.GetValue(training.Json);
            training.WarnUnused(parse, console, "knn");
            if (foldCount < 2) throw new UsageException($"--folds must be at least 2, got {foldCount}.");
            var pipeline = features.Pipeline(parse);
            var cache = pipeline is null ? null : features.Cache(parse, console.Log);

            var (splits, location) = await data.LoadAsync(parse, console, seed, null, token);
            var runDir = Path.GetFullPath(parse.GetValue(training.Out) ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-cv-knn-{location.Name}"));
            using var hold = training.HoldRunFolder(parse, console, runDir);
            var train = splits.Train;
            if (foldCount > train.Count)
                throw new UsageException($"--folds {foldCount} exceeds the {train.Count:N0} training images: each fold holds out at least one image, so use at most {train.Count:N0} folds.");
            if (foldCount > train.ClassCounts().Where(c => c > 0).Min())
                console.Log($"warning: some class has fewer than {foldCount} training images; its folds will be uneven");
            int kMax = ks.Max();
            var foldIndices = Splits.StratifiedKFold(train.Labels, foldCount, seed);
            // accuracy[(k, metric, weighting)][fold]
            var accuracy = new Dictionary<(int, DistanceMetric, NeighborWeighting), double[]>();
            foreach (var k in ks) foreach (var m in metrics) foreach (var w in weightings) accuracy[(k, m, w)] = new double[foldCount];
            var search = Stopwatch.StartNew();
            var foldFeatures = pipeline is null ? null : FeatureOptions.Checked(() => new CrossValidationFeatures(pipeline, train, seed, threads, cache));
            if (pipeline is not null)
                console.Log($"features {pipeline.CanonicalConfig}: {foldFeatures!.Length:N0} per image, fitted per fold on its training part ({(cache is null ? "no cache" : $"cache {cache.Directory}")})");
            for (int f = 0; f < foldCount; f++)
            {
                var (trainIdx, validationIdx) = foldIndices[f];
                var foldTrain = train.Subset(trainIdx);
                var foldValidation = train.Subset(validationIdx);
                if (kMax > foldTrain.Count) throw new UsageException($"--k {kMax} exceeds the {foldTrain.Count} training images of a fold.");
                // Features: the pipeline and standardization see this fold's training part only.
                float[]? trainVectors = null, validationVectors = null;
                if (foldFeatures is not null) (_, trainVectors, validationVectors) = FeatureOptions.Checked(() => foldFeatures.Fold(trainIdx, validationIdx, token));
                foreach (var metric in metrics)
                {
                    token.ThrowIfCancellationRequested();
                    console.Log($"fold {f + 1}/{foldCount}, {ModelStore.MetricName(metric)}: {foldValidation.Count:N0} validation images against {foldTrain.Count:N0} ...");
                    // One search with the largest k serves every smaller k (neighbour lists are sorted).
                    var neighbors = trainVectors is null
                        ? new KNearestNeighbors(new(kMax, metric)).Fit(foldTrain).Neighbors(foldValidation.Pixels, threads)
                        : NeighborSearch.Search(trainVectors, foldTrain.Labels, train.ClassNames.Count, validationVectors!, foldFeatures!.Length, metric, kMax, threads);
                    foreach (var k in ks)
                        foreach (var w in weightings)
                        {
                            var predicted = KNearestNeighborsModel.Vote(neighbors.Truncate(k), foldTrain.Labels, new(k, metric, w)).Labels();
                            accuracy[(k, metric, w)][f] = ClassificationMetrics.Compute(foldValidation.Labels, predicted, train.ClassNames).Accuracy;
                        }
                }
            }
            search.Stop();

            // Population standard deviation over folds, as scikit-learn's cv_results_ reports it.
            var rows = accuracy.Select(kv => (Setting: kv.Key, Mean: kv.Value.Average(), Std: Math.Sqrt(kv.Value.Average(a => (a - kv.Value.Average()) * (a - kv.Value.Average()))), Folds: kv.Value))
                .OrderBy(r => r.Setting.Item2).ThenBy(r => r.Setting.Item3).ThenBy(r => r.Setting.Item1).ToList();
            // Best: highest mean; ties to the smaller k, then L1 before L2, then uniform (the simpler model).
            var best = rows.OrderByDescending(r => r.Mean).ThenBy(r => r.Setting.Item1).ThenBy(r => r.Setting.Item2).ThenBy(r => r.Setting.Item3).First();

            JsonObject Params((int K, DistanceMetric M, NeighborWeighting W) s) => new()
            {
                ["k"] = s.K, ["metric"] = ModelStore.MetricName(s.M), ["weights"] = s.W == NeighborWeighting.Distance ? "distance" : "uniform",
            };
            var result = new JsonObject
            {
                ["command"] = "cv",
                ["dataset"] = data.RunJson(parse, splits, location),
                ["folds"] = foldCount,
                ["features"] = pipeline?.CanonicalConfig,
                ["seed"] = seed,
                ["results"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
                {
                    ["params"] = Params(r.Setting),
                    ["mean_accuracy"] = Reporting.Round(r.Mean),
                    ["std_accuracy"] = Reporting.Round(r.Std),
                    ["fold_accuracies"] = new JsonArray(r.Folds.Select(a => (JsonNode)Reporting.Round(a)).ToArray()),
                }).ToArray()),
                ["best"] = new JsonObject { ["params"] = Params(best.Setting), ["mean_accuracy"] = Reporting.Round(best.Mean), ["std_accuracy"] = Reporting.Round(best.Std) },
                ["backend"] = pipeline is null ? $"knn-{NeighborSearch.ByteBackend}" : $"knn-{NeighborSearch.FloatBackend}",
                ["threads"] = threads,
            };
            ClassificationMetrics? testReport = null;
            IImageClassifier? bestModel = null;
            Predictions? testPredictions = null;
            var predictTime = TimeSpan.Zero;
            if (parse.GetValue(test))
            {
                var sw = Stopwatch.StartNew();
                var bestOptions = new KNearestNeighborsOptions(best.Setting.Item1, best.Setting.Item2, best.Setting.Item3);
                // With features: a fresh pipeline fitted on the whole training split, as train --features would.
                bestModel = FeatureOptions.Checked(() => KnnRun.Fit(bestOptions, train, pipeline is null ? null : FeaturePipeline.Parse(pipeline.CanonicalConfig), seed, threads, cache, token));
                testPredictions = KnnRun.Predict(bestModel, splits.Test, threads, cache, token);
                testReport = ClassificationMetrics.Compute(splits.Test.Labels, testPredictions, splits.Test.ClassNames);
                predictTime = sw.Elapsed;
                result["metrics"] = new JsonObject { ["test"] = Reporting.MetricsJson(testReport) };
            }
            total.Stop();
            result["timings_s"] = new JsonObject
            {
                ["cv"] = Math.Round(search.Elapsed.TotalSeconds, 3),
                ["fit"] = 0.0,
                ["predict"] = Math.Round(predictTime.TotalSeconds, 3),
                ["total"] = Math.Round(total.Elapsed.TotalSeconds, 3),
            };

            // The run folder: the grid and its results, the best model when it was tested, and the report.
            result["run_dir"] = runDir;
            var config = new JsonObject
            {
                ["command"] = "cv",
                ["model"] = new JsonObject
                {
                    ["type"] = "knn",
                    ["k"] = new JsonArray(ks.Select(k => (JsonNode)k).ToArray()),
                    ["metric"] = new JsonArray(metrics.Select(m => (JsonNode)ModelStore.MetricName(m)).ToArray()),
                    ["weights"] = new JsonArray(weightings.Select(w => (JsonNode)(w == NeighborWeighting.Distance ? "distance" : "uniform")).ToArray()),
                },
                ["dataset"] = result["dataset"]!.DeepClone(),
                ["folds"] = foldCount,
                ["seed"] = seed,
                ["threads"] = threads,
                ["train_limit"] = parse.GetValue(data.TrainLimit),
                ["test"] = bestModel is not null,
            };
            RunFolder.Write(runDir, dir =>
            {
                AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString(new() { WriteIndented = true }));
                AtomicFile.WriteAllText(Path.Combine(dir, "metrics.json"), result.ToJsonString(new() { WriteIndented = true }));
                if (bestModel is not null) ModelStore.Save(Path.Combine(dir, "model.safetensors"), bestModel, new Dictionary<string, string> { ["dataset"] = location.Name });
            }, replace: parse.GetValue(training.Force));
            var reportPath = RunReports.WriteAfterRun(console, runDir, threads, bestModel, bestModel is null ? null : splits.Test, testPredictions);
            if (reportPath is not null) result["report"] = reportPath;

            if (json)
            {
                console.Json(result);
                return CliApp.Success;
            }
            var o = console.Out;
            o.WriteLine($"dataset: {location.Name}{(location.IsSample ? " [shipped sample]" : "")}, {train.Count:N0} training images, {foldCount}-fold stratified cross-validation (seed {seed})");
            if (pipeline is not null) o.WriteLine($"features: {pipeline.CanonicalConfig} ({foldFeatures!.Length:N0} per image; pipeline and standardization fitted on each fold's training part)");
            o.WriteLine();
            o.WriteLine("  k  metric  weights    mean acc   ± std     folds");
            foreach (var r in rows)
            {
                string mark = r.Setting == best.Setting ? "  ← best" : "";
                o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Setting.Item1,3}  {ModelStore.MetricName(r.Setting.Item2),-6}  {(r.Setting.Item3 == NeighborWeighting.Distance ? "distance" : "uniform"),-9}  {r.Mean,8:F4}  ± {r.Std:F4}   {string.Join(" ", r.Folds.Select(a => a.ToString("F3", CultureInfo.InvariantCulture)))}{mark}"));
            }
            o.WriteLine();
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best: k={best.Setting.Item1} metric={ModelStore.MetricName(best.Setting.Item2)} weights={(best.Setting.Item3 == NeighborWeighting.Distance ? "distance" : "uniform")}: {best.Mean:F4} ± {best.Std:F4} ({search.Elapsed.TotalSeconds:F1} s)"));
            if (testReport is not null)
            {
                o.WriteLine();
                o.Write(Reporting.MetricsText("test (best setting, evaluated once)", testReport));
            }
            o.WriteLine();
            o.WriteLine($"run folder: {runDir}");
            if (reportPath is not null) o.WriteLine($"report:     {reportPath}");
            return CliApp.Success;
        });
        return command;
    }
}

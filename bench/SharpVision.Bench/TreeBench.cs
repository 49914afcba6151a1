using System.Diagnostics;
using System.Text.Json;
using SharpVision.Classic.Trees;
using SharpVision.Data;

namespace SharpVision.Bench;

/// <summary>
/// Timings of the tree families on Fashion-MNIST raw pixels (the work of ../shared/bench/peers/classic_peers.py trees):
/// fit on the 60,000 training images, accuracy on the 10,000 test images, one JSON line per model. With
/// <c>--seeds S</c> the forest is grown with seeds 0..S−1, one line each (seed-to-seed spread is about ±0.002, the size
/// of the difference against scikit-learn). <c>SVM_PREDICTIONS=FILE</c> writes the SVM's test predictions, one per line;
/// <c>SVM_CACHE_MB</c> sets its kernel cache (2,000 MB, as <c>classic_peers.py</c> gives scikit-learn).
/// </summary>
internal static class TreeBench
{
    public static int Run(string? data, int threads, string only, int trees, int rounds, int leaves, double learningRate, int? trainLimit,
        int seeds = 1, SplitSearch search = SplitSearch.Auto)
    {
        var location = new DatasetLocator(data).Locate("fashion-mnist");
        var splits = DatasetLoader.Load(location);
        var train = trainLimit is int limit ? splits.Train.Subset(Enumerable.Range(0, Math.Min(limit, splits.Train.Count)).ToArray()) : splits.Train;
        var test = splits.Test;
        int d = train.Channels * train.Height * train.Width;
        Console.Error.WriteLine($"fashion-mnist from {location.Directory}{(location.IsSample ? " (SAMPLE)" : "")}; " +
            $"{train.Count} train, {test.Count} test; {threads} threads");
        var trainTable = FeatureTable.FromBytes(train.Pixels, d);
        var testTable = FeatureTable.FromBytes(test.Pixels, d);
        int classes = train.ClassNames.Count;
        var runs = only.Split(',').SelectMany(m => m == "forest" ? Enumerable.Range(0, seeds).Select(s => (Model: m, Seed: s))
            : [(Model: m, Seed: 0)]);
        foreach (var (model, seed) in runs)
        {
            var sw = Stopwatch.StartNew();
            float[] probabilities;
            string name;
            object extra;
            switch (model)
            {
                case "forest":
                {
                    var options = new RandomForestOptions(trees);
                    options = options with { Tree = options.TreeOptions with { Search = search } };
                    var forest = RandomForest.Fit(trainTable, train.Labels, classes, options, seed: seed, threads: threads);
                    double fit = sw.Elapsed.TotalSeconds;
                    probabilities = forest.PredictProbabilities(testTable, threads);
                    name = $"sharpvision RandomForest {trees} trees (gini, sqrt features)";
                    extra = new { fit_s = Math.Round(fit, 3), seed, search = search.ToString().ToLowerInvariant(), oob = forest.OutOfBagAccuracy,
                        nodes = forest.Trees.Sum(t => t.NodeCount),
                        depth = forest.Trees.Max(t => t.Depth) };
                    break;
                }
                case "boost":
                {
                    var boosted = GradientBoosting.Fit(trainTable, train.Labels, classes, new GradientBoostingOptions(rounds, learningRate, leaves),
                        seed: 0, threads: threads,
                        onRound: r =>
                        {
                            if (r.Round % 10 == 0) Console.Error.WriteLine($"round {r.Round}: train loss {r.TrainLoss:F4} " +
                                $"({sw.Elapsed.TotalSeconds:F1} s)");
                        });
                    double fit = sw.Elapsed.TotalSeconds;
                    probabilities = boosted.PredictProbabilities(testTable, threads);
                    name = $"sharpvision boosted trees {rounds} rounds, {leaves} leaves, lr {learningRate}";
                    extra = new { fit_s = Math.Round(fit, 3), path = GradientHistograms.Path, nodes = boosted.Trees.Sum(t => t.NodeCount) };
                    break;
                }
                case "svm":
                {
                    var x = new float[train.Pixels.Length];
                    for (int i = 0; i < x.Length; i++) x[i] = train.Pixels[i] / 255f;
                    var q = new float[test.Pixels.Length];
                    for (int i = 0; i < q.Length; i++) q[i] = test.Pixels[i] / 255f;
                    int cacheMb = int.Parse(Environment.GetEnvironmentVariable("SVM_CACHE_MB") ?? "2000"); // sklearn's cache_size=2000
                    var svm = SharpVision.Classic.Svm.KernelSvm.Fit(x, d, train.Labels, classes,
                        new SharpVision.Classic.Svm.KernelSvmOptions(C: 10, CacheMegabytes: cacheMb), threads);
                    double fit = sw.Elapsed.TotalSeconds;
                    var decisions = svm.DecisionValues(q, threads);
                    var votes = svm.Votes(decisions);
                    probabilities = votes.Select(v => (float)v).ToArray();
                    if (Environment.GetEnvironmentVariable("SVM_PREDICTIONS") is { Length: > 0 } dump)
                        File.WriteAllLines(dump, Enumerable.Range(0, test.Count).Select(i =>
                            Enumerable.Range(0, classes).MaxBy(k => (votes[i * classes + k], -k)).ToString()));
                    name = $"sharpvision SVC rbf C=10 gamma=scale, first {train.Count} training images";
                    extra = new { fit_s = Math.Round(fit, 3), predict_s = Math.Round(sw.Elapsed.TotalSeconds - fit, 3),
                        support_vectors = svm.SupportVectorCount, gamma = svm.Kernel.Gamma };
                    break;
                }
                case "featuresvm":
                {
                    // An RBF SVM on hand-crafted features: SHARPVISION_FEATURES (default hog), SVM_C (10), SVM_STANDARDIZE (1).
                    var spec = Environment.GetEnvironmentVariable("SHARPVISION_FEATURES") ?? "hog";
                    double c = double.Parse(Environment.GetEnvironmentVariable("SVM_C") ?? "10", System.Globalization.CultureInfo.InvariantCulture);
                    bool standardize = (Environment.GetEnvironmentVariable("SVM_STANDARDIZE") ?? "1") == "1";
                    var pipeline = SharpVision.Features.FeaturePipeline.Parse(spec);
                    var x = pipeline.Extract(train, threads, out int length);
                    var q = pipeline.Extract(test, threads, out _);
                    if (standardize)
                    {
                        var standardizer = SharpVision.Features.FeatureStandardizer.FromRows(pipeline, 1, 28, 28, x, null);
                        standardizer.Standardize(x);
                        standardizer.Standardize(q);
                    }
                    double extract = sw.Elapsed.TotalSeconds;
                    var svm = SharpVision.Classic.Svm.KernelSvm.Fit(x, length, train.Labels, classes,
                        new SharpVision.Classic.Svm.KernelSvmOptions(C: c), threads,
                        onPairDone: p => Console.Error.WriteLine($"pair {p.First}-{p.Second}: {p.Iterations} iterations, {p.SupportVectors} SV, " +
                            $"{p.Seconds:F1} s"));
                    double fit = sw.Elapsed.TotalSeconds;
                    var votes = svm.Votes(svm.DecisionValues(q, threads));
                    probabilities = votes.Select(v => (float)v).ToArray();
                    name = $"sharpvision {pipeline.CanonicalConfig}{(standardize ? " standardized" : "")} + SVC rbf C={c} gamma=scale, " +
                        $"{train.Count} images";
                    extra = new { extract_s = Math.Round(extract, 3), fit_s = Math.Round(fit - extract, 3),
                        predict_s = Math.Round(sw.Elapsed.TotalSeconds - fit, 3),
                        support_vectors = svm.SupportVectorCount, gamma = svm.Kernel.Gamma, length };
                    break;
                }
                default:
                    Console.Error.WriteLine($"unknown tree model '{model}' (known: forest, boost)");
                    return 2;
            }
            double total = sw.Elapsed.TotalSeconds;
            int correct = 0;
            for (int i = 0; i < test.Count; i++)
            {
                int best = 0;
                for (int k = 1; k < classes; k++)
                    if (probabilities[i * classes + k] > probabilities[i * classes + best]) best = k;
                correct += best == test.Labels[i] ? 1 : 0;
            }
            Console.WriteLine(JsonSerializer.Serialize(new { bench = name, seconds = Math.Round(total, 3),
                accuracy = Math.Round((double)correct / test.Count, 4), threads, extra }));
        }
        return 0;
    }
}

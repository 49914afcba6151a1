using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SharpVision.Classic;
using SharpVision.Runs;
using SharpVision.Serialization;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision train`: fit on the training split, evaluate on the test split, write a run folder.</summary>
internal static class TrainCommand
{
    public static Command Create(CliConsole console)
    {
        var data = new DataOptions();
        var training = new TrainingFlags();
        var knn = new KnnOptions(lists: false);
        var network = new NetworkOptions();
        var features = new FeatureOptions("Train on hand-crafted features instead of pixels (knn, svm, softmax, logistic, mlp), e.g. hog, hog+color, " +
            "hog:orientations=9,cell=4,block=2, sift:words=64; the pipeline's learned parts and the standardization are fitted on the training split and stored in the model; extraction is cached on disk");
        var command = new Command("train", "Fit a model, evaluate it on the test split, and write a run folder (config.json, metrics.jsonl, metrics.json, model.safetensors).\n\n" +
            "Models: knn (k-nearest neighbours), svm (linear, multiclass hinge loss by SGD; with --solver dual the exact one-vs-rest squared-hinge SVM of scikit-learn's LinearSVC), softmax (linear, cross-entropy), logistic (binary, two --classes), mlp, cnn2, resnet8, resnet20 (convolutional).\n\n" +
            "Examples:\n  sharpvision train --dataset fashion-mnist --model knn --k 5 --metric l1\n  sharpvision train --model knn --features hog --k 5\n  sharpvision train --model svm --solver dual --features hog:norm=L1-sqrt      (C chosen on validation)\n  sharpvision train --model mlp --features hog:norm=L1-sqrt --hidden 1024 --dropout 0.5 --label-smoothing 0.1 --epochs 30 --validation-fraction 0\n  sharpvision train --model softmax --epochs 10 --lr 0.01\n" +
            "  sharpvision train --model logistic --classes T-shirt/top,Shirt\n  sharpvision train --model mlp --hidden 256,128 --activation relu --dropout 0.2 --optimizer adam --lr 1e-3\n" +
            "  sharpvision train --resume runs/my-mlp      (continue after Ctrl-C or a crash)");
        data.AddTo(command);
        knn.AddTo(command);
        network.AddTo(command);
        features.AddTo(command);
        training.AddTo(command);
        command.SetAction(async (parse, token) =>
        {
            var model = parse.GetValue(knn.Model)!.ToLowerInvariant();
            if (model == "knn")
            {
                foreach (var (name, given) in network.Given(parse))
                    if (given) console.Log($"warning: {name} has no effect on --model knn");
                return await RunKnnAsync(console, parse, data, training, knn, features, token);
            }
            if (model is "svm" or "softmax" or "logistic" or "mlp" or "cnn2" or "resnet8" or "resnet20")
                return await NetworkTraining.RunAsync(console, parse, data, training, network, features, model, token);
            throw new UsageException($"--model must be knn, svm, softmax, logistic, mlp, cnn2, resnet8 or resnet20, got '{model}'.");
        });
        return command;
    }

    private static async Task<int> RunKnnAsync(CliConsole console, ParseResult parse, DataOptions data, TrainingFlags training, KnnOptions knn, FeatureOptions features, CancellationToken token)
    {
        var total = Stopwatch.StartNew();
        var (ks, metrics, weightings) = (knn.Ks(parse), knn.Metrics(parse), knn.Weightings(parse));
        if (ks.Length != 1 || metrics.Length != 1 || weightings.Length != 1)
            throw new UsageException("train takes one --k, --metric and --weights; use `sharpvision cv` to compare several.");
        int seed = parse.GetValue(training.Seed);
        int threads = training.GetThreads(parse);
        bool json = parse.GetValue(training.Json);
        training.WarnUnused(parse, console, "knn");
        var options = new KNearestNeighborsOptions(ks[0], metrics[0], weightings[0]);
        var pipeline = features.Pipeline(parse);
        var cache = pipeline is null ? null : features.Cache(parse, console.Log);

        var load = Stopwatch.StartNew();
        var (splits, location) = await data.LoadAsync(parse, console, seed, null, token);
        load.Stop();
        if (options.K > splits.Train.Count) throw new UsageException($"--k {options.K} exceeds the {splits.Train.Count} training images.");

        var runDir = Path.GetFullPath(parse.GetValue(training.Out) ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-knn-{location.Name}"));
        using var hold = training.HoldRunFolder(parse, console, runDir);
        var run = FeatureOptions.Checked(() => KnnRun.Execute(new KnnRunOptions(options, seed, threads, parse.GetValue(data.TrainLimit), Dataset: data.RunJson(parse, splits, location),
            Pipeline: pipeline, Cache: cache, Replace: parse.GetValue(training.Force)), splits, location, runDir, load.Elapsed, console.Log, token));
        var (report, result, predict) = (run.Test, run.Document, run.Predict);
        runDir = (string)result["run_dir"]!;
        var backend = (string)result["backend"]!;
        total.Stop();
        var reportPath = RunReports.WriteAfterRun(console, runDir, threads, run.Model, splits.Test, run.Predictions);
        if (reportPath is not null) result["report"] = reportPath;

        if (json)
        {
            console.Json(result);
        }
        else
        {
            console.Out.WriteLine($"dataset: {location.Name} ({location.Origin}: {location.Directory}){(location.IsSample ? " [shipped sample]" : "")}, {splits.Train.Count:N0} train / {splits.Test.Count:N0} test, {splits.Train.Channels}×{splits.Train.Height}×{splits.Train.Width}");
            console.Out.WriteLine($"model:   k-NN k={options.K} metric={ModelStore.MetricName(options.Metric)} weights={KnnRun.WeightsName(options.Weighting)} (backend {backend}, {threads} threads)");
            if (run.Model is FeatureKNearestNeighborsModel featureModel)
                console.Out.WriteLine($"features: {featureModel.Features.Pipeline.CanonicalConfig} ({featureModel.Features.Length:N0} per image, standardized on the training split)");
            string fitText = pipeline is null ? "" : string.Create(CultureInfo.InvariantCulture, $"fit (training features) {run.Fit.TotalSeconds:F2} s, ");
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time:    {fitText}predict {predict.TotalSeconds:F2} s ({splits.Test.Count / Math.Max(predict.TotalSeconds, 1e-9):N0} images/s), total {total.Elapsed.TotalSeconds:F2} s"));
            console.Out.WriteLine();
            console.Out.Write(Reporting.MetricsText("test", report));
            console.Out.WriteLine();
            console.Out.WriteLine($"run folder: {runDir}");
            if (reportPath is not null) console.Out.WriteLine($"report:     {reportPath}");
        }
        return CliApp.Success;
    }
}

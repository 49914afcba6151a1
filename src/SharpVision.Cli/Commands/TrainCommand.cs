using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Classic;
using SharpVision.Evaluation;
using SharpVision.IO;
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
            "Models: knn (k-nearest neighbours), svm (linear, multiclass hinge loss), softmax (linear, cross-entropy), logistic (binary, two --classes), mlp, cnn2, resnet8, resnet20 (convolutional).\n\n" +
            "Examples:\n  sharpvision train --dataset fashion-mnist --model knn --k 5 --metric l1\n  sharpvision train --model knn --features hog --k 5\n  sharpvision train --model softmax --epochs 10 --lr 0.01\n" +
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
        var cache = pipeline is null ? null : features.Cache(parse);

        var load = Stopwatch.StartNew();
        var (splits, location) = await data.LoadAsync(parse, console, seed, null, token);
        load.Stop();
        if (options.K > splits.Train.Count) throw new UsageException($"--k {options.K} exceeds the {splits.Train.Count} training images.");

        var fit = Stopwatch.StartNew();
        IImageClassifier model;
        FeatureKNearestNeighborsModel? featureModel = null;
        if (pipeline is null)
        {
            model = new KNearestNeighbors(options).Fit(splits.Train);
        }
        else
        {
            console.Log($"features {pipeline.CanonicalConfig}: fitting on {splits.Train.Count:N0} training images ({(cache is null ? "no cache" : $"cache {cache.Directory}")}) ...");
            model = featureModel = FeatureOptions.Checked(() => new KNearestNeighbors(options).Fit(splits.Train, pipeline, seed, threads, cache, token));
        }
        fit.Stop();
        string what = featureModel is null ? "test images" : $"test images ({featureModel.Features.Length:N0} standardized features each)";
        console.Log($"k-NN (k={options.K}, {ModelStore.MetricName(options.Metric)}, {options.Weighting.ToString().ToLowerInvariant()}): classifying {splits.Test.Count:N0} {what} against {splits.Train.Count:N0} training images on {threads} thread(s) ...");
        token.ThrowIfCancellationRequested();
        var predict = Stopwatch.StartNew();
        var predictions = featureModel is null ? model.Predict(splits.Test.Pixels, threads) : featureModel.Predict(splits.Test, threads, cache, token);
        predict.Stop();
        token.ThrowIfCancellationRequested();
        var report = ClassificationMetrics.Compute(splits.Test.Labels, predictions, splits.Test.ClassNames);

        var runDir = Path.GetFullPath(parse.GetValue(training.Out) ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-knn-{location.Name}"));
        var config = new JsonObject
        {
            ["command"] = "train",
            ["model"] = new JsonObject
            {
                ["type"] = "knn", ["k"] = options.K, ["metric"] = ModelStore.MetricName(options.Metric), ["weights"] = options.Weighting == NeighborWeighting.Distance ? "distance" : "uniform",
                ["features"] = featureModel?.Features.Pipeline.CanonicalConfig, ["feature_length"] = featureModel?.Features.Length,
            },
            ["dataset"] = Reporting.DatasetJson(splits, location),
            ["seed"] = seed,
            ["threads"] = threads,
            ["train_limit"] = parse.GetValue(data.TrainLimit),
        };
        var backend = featureModel is null ? $"knn-{NeighborSearch.ByteBackend}" : $"knn-{NeighborSearch.FloatBackend}";
        var result = new JsonObject
        {
            ["command"] = "train",
            ["model"] = config["model"]!.DeepClone(),
            ["dataset"] = config["dataset"]!.DeepClone(),
            ["metrics"] = new JsonObject { ["test"] = Reporting.MetricsJson(report) },
            ["timings_s"] = new JsonObject(),
            ["backend"] = backend,
            ["threads"] = threads,
            ["run_dir"] = runDir,
            ["model_path"] = Path.Combine(runDir, "model.safetensors"),
        };
        RunFolder.Write(runDir, dir =>
        {
            ModelStore.Save(Path.Combine(dir, "model.safetensors"), model, new Dictionary<string, string> { ["dataset"] = location.Name });
            AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString(new() { WriteIndented = true }));
        });
        total.Stop();
        result["timings_s"] = new JsonObject
        {
            ["load"] = Math.Round(load.Elapsed.TotalSeconds, 3),
            ["fit"] = Math.Round(fit.Elapsed.TotalSeconds, 3),
            ["predict"] = Math.Round(predict.Elapsed.TotalSeconds, 3),
            ["total"] = Math.Round(total.Elapsed.TotalSeconds, 3),
        };
        AtomicFile.WriteAllText(Path.Combine(runDir, "metrics.json"), result.ToJsonString(new() { WriteIndented = true }));

        if (json)
        {
            console.Json(result);
        }
        else
        {
            console.Out.WriteLine($"dataset: {location.Name} ({location.Origin}: {location.Directory}){(location.IsSample ? " [shipped sample]" : "")}, {splits.Train.Count:N0} train / {splits.Test.Count:N0} test, {splits.Train.Channels}×{splits.Train.Height}×{splits.Train.Width}");
            console.Out.WriteLine($"model:   k-NN k={options.K} metric={ModelStore.MetricName(options.Metric)} weights={(options.Weighting == NeighborWeighting.Distance ? "distance" : "uniform")} (backend {backend}, {threads} threads)");
            if (featureModel is not null) console.Out.WriteLine($"features: {featureModel.Features.Pipeline.CanonicalConfig} ({featureModel.Features.Length:N0} per image, standardized on the training split)");
            string fitText = featureModel is null ? "" : string.Create(CultureInfo.InvariantCulture, $"fit (training features) {fit.Elapsed.TotalSeconds:F2} s, ");
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time:    {fitText}predict {predict.Elapsed.TotalSeconds:F2} s ({splits.Test.Count / Math.Max(predict.Elapsed.TotalSeconds, 1e-9):N0} images/s), total {total.Elapsed.TotalSeconds:F2} s"));
            console.Out.WriteLine();
            console.Out.Write(Reporting.MetricsText("test", report));
            console.Out.WriteLine();
            console.Out.WriteLine($"run folder: {runDir}");
        }
        return CliApp.Success;
    }
}

/// <summary>Creates a run folder without ever leaving a half-written one behind.</summary>
internal static class RunFolder
{
    /// <summary>
    /// A new folder is filled under a temporary name and renamed into place at the end; an existing folder gets each
    /// file replaced atomically, so an earlier good model is never overwritten by a partial one.
    /// </summary>
    public static void Write(string runDir, Action<string> fill)
    {
        if (Directory.Exists(runDir))
        {
            fill(runDir);
            return;
        }
        var parent = Path.GetDirectoryName(runDir)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(runDir)}.{Guid.NewGuid():N}.partial");
        Directory.CreateDirectory(staging);
        try
        {
            fill(staging);
            Directory.Move(staging, runDir);
        }
        catch
        {
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { }
            throw;
        }
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Globalization;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Features;
using SharpVision.Models;
using SharpVision.Nn;
using SharpVision.Runs;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision evaluate`: a saved model on a dataset split.</summary>
internal static class EvaluateCommand
{
    public static Command Create(CliConsole console)
    {
        var data = new DataOptions();
        var modelPath = new Option<string>("--model")
        {
            Description = "Model file (model.safetensors from a run folder, or an ONNX classifier F.onnx, run on the engine)", Required = true,
        };
        var split = new Option<string>("--split")
        {
            Description = "Which split to evaluate: test, train, or validation (the images the model's run held out: rebuilt from config.json " +
                "beside the model, which records the seed and the stratified fraction; models that held none out say why)",
            DefaultValueFactory = _ => "test",
        };
        var threads = new Option<int>("--threads") { Description = "Worker threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var command = new Command("evaluate", "Evaluate a saved model on a dataset split. Image folders are prepared the way the model's training images were; a model trained with --features computes those features itself.\n\nExamples:\n  sharpvision evaluate --model runs/knn/model.safetensors --dataset fashion-mnist --split test\n" +
            "  sharpvision evaluate --model runs/softmax/model.safetensors --split validation      (the run's held-out validation images)\n" +
            "  sharpvision evaluate --model runs/knn-hog/model.safetensors --features hog      (checks that the model uses hog with these options)\n" +
            "  sharpvision evaluate --model cnn2.onnx --dataset fashion-mnist                 (an exported or any ONNX classifier, on the engine)");
        command.Options.Add(modelPath);
        data.AddTo(command, withTrainLimit: false);
        command.Options.Add(split);
        command.Options.Add(threads);
        command.Options.Add(json);
        var tta = new Option<string?>("--tta") { Description = "Test-time augmentation for network models: none or flip (default: what the model was trained with)" };
        command.Options.Add(tta);
        var features = new FeatureOptions("A check, not a choice: the model always computes the features it was trained on (its stored pipeline, vocabulary " +
            "and standardization); given, the spec must describe the same pipeline (any spelling of the same options), else evaluate stops with a usage error");
        features.AddTo(command);
        command.SetAction(async (parse, token) =>
        {
            var total = Stopwatch.StartNew();
            var which = parse.GetValue(split)!.ToLowerInvariant();
            if (which is not ("test" or "train" or "validation"))
                throw new UsageException($"--split must be test, train or validation, got '{which}'.");
            int threadCount = parse.GetValue(threads);
            if (threadCount < 1) throw new UsageException("--threads must be at least 1.");
            var stored = ModelFile.Load(parse.GetValue(modelPath)!);
            CheckFeatures(features.Pipeline(parse), stored, parse.GetValue(modelPath)!);
            // The run's seed (beside the model) also drew an image folder's train/test split.
            var runDir = Path.GetDirectoryName(Path.GetFullPath(parse.GetValue(modelPath)!))!;
            var (splits, location) = await data.LoadAsync(parse, console, RunValidationSplit.RecordedSeed(runDir) ?? 0, stored.Preparation, token);
            var set = which switch
            {
                "test" => splits.Test,
                "train" => splits.Train,
                _ => ValidationSplit(runDir, splits.Train, stored, console),
            };
            if (stored.ClassNames.Count < set.ClassNames.Count && stored.ClassNames.All(set.ClassNames.Contains))
            {
                // A model trained on --classes: evaluate on those classes only.
                set = set.SelectClasses(stored.ClassNames.Select(n => set.ClassNames.ToList().IndexOf(n)).ToArray());
                console.Log($"evaluating on the model's {stored.ClassNames.Count} classes only: {string.Join(", ", stored.ClassNames)}");
            }
            var p = stored.Preparation;
            if (set.Channels != p.Channels || set.Height != p.Height || set.Width != p.Width)
                throw new UsageException($"the model expects {p.Channels}×{p.Height}×{p.Width} images, {location.Name} has {set.Channels}×{set.Height}×{set.Width}.");
            if (!set.ClassNames.SequenceEqual(stored.ClassNames))
                console.Log($"warning: the dataset's classes ({string.Join(", ", set.ClassNames)}) differ from the model's ({string.Join(", ", stored.ClassNames)}); labels are compared by index");
            if (set.ClassNames.Count != stored.ClassNames.Count)
                throw new UsageException($"the model knows {stored.ClassNames.Count} classes, the dataset has {set.ClassNames.Count}.");
            SharpVision.Tensors.Kernels.Conv2dBackend.ResetUsed(); // the JSON's backend names what this evaluation used
            var predict = Stopwatch.StartNew();
            bool flip = NetworkOptions.ParseTta(parse.GetValue(tta), (stored as NetworkClassifier)?.FlipAveraging ?? false);
            if (flip && stored is not NetworkClassifier) throw new UsageException($"--tta flip applies to network models, not {stored.Kind}.");
            if (stored is NetworkClassifier networkModel) stored = networkModel.WithFlipAveraging(flip);
            // A k-NN feature model reads and writes the feature cache (keyed by pixels and pipeline state), like train.
            var predictions = stored is FeatureKNearestNeighborsModel featureKnn
                ? featureKnn.Predict(set, threadCount, features.Cache(parse), token)
                : stored.Predict(set.Pixels, threadCount);
            predict.Stop();
            var report = ClassificationMetrics.Compute(set.Labels, predictions, stored.ClassNames);
            total.Stop();
            if (parse.GetValue(json))
            {
                console.Json(new JsonObject
                {
                    ["command"] = "evaluate",
                    ["model_path"] = Path.GetFullPath(parse.GetValue(modelPath)!),
                    ["dataset"] = Reporting.DatasetJson(splits, location),
                    ["metrics"] = new JsonObject { [which] = Reporting.MetricsJson(report) },
                    ["timings_s"] = new JsonObject { ["fit"] = 0.0, ["predict"] = Math.Round(predict.Elapsed.TotalSeconds, 3), ["total"] = Math.Round(total.Elapsed.TotalSeconds, 3) },
                    ["backend"] = Backend(stored),
                    ["features"] = FeaturesOf(stored)?.Pipeline.CanonicalConfig,
                    ["threads"] = threadCount,
                });
            }
            else
            {
                var described = Reporting.ModelText(stored.Describe());
                if (FeaturesOf(stored) is { } f) described += $", features {f.Pipeline.CanonicalConfig}";
                console.Out.WriteLine($"model: {parse.GetValue(modelPath)} ({described}); dataset: {location.Name}{(location.IsSample ? " [shipped sample]" : "")}");
                console.Out.Write(Reporting.MetricsText(which, report));
            }
            return CliApp.Success;
        });
        return command;
    }

    // --split validation: the images the model's run held out, or a usage error saying why there are none.
    private static ImageDataset ValidationSplit(string runDir, ImageDataset train, IImageClassifier model, CliConsole console)
    {
        if (!File.Exists(Path.Combine(runDir, "config.json")))
            throw new UsageException("--split validation rebuilds the split the model's run held out from the config.json beside the model; " +
                                     $"{runDir} has none (evaluate the model where `train` left it, or use --split test).");
        var validation = RunValidationSplit.Of(runDir, train, model.ClassNames);
        if (validation.Images is null)
            throw new UsageException($"--split validation: {validation.Unavailable}. Evaluate on --split test, or estimate accuracy without the " +
                                     "test split by cross-validation (`sharpvision cv`).");
        console.Log(string.Create(CultureInfo.InvariantCulture,
            $"validation split: {validation.Images.Count:N0} images held out by the run " +
            $"(stratified {validation.Fraction:P0} of its training images, seed {validation.Seed})"));
        return validation.Images;
    }

    /// <summary>--features on evaluate: the spec must name the pipeline the model was trained with (compared by canonical config).</summary>
    private static void CheckFeatures(FeaturePipeline? given, IImageClassifier stored, string path)
    {
        if (given is null) return;
        if (FeaturesOf(stored) is not { } features)
            throw new UsageException($"--features {given.CanonicalConfig}: {path} was trained on pixels, not features; evaluate it without --features.");
        if (given.CanonicalConfig != features.Pipeline.CanonicalConfig)
            throw new UsageException($"--features {given.CanonicalConfig} disagrees with the model's features {features.Pipeline.CanonicalConfig}; " +
                                     "evaluate always computes the model's own features: omit --features or give the same spec.");
    }

    /// <summary>The feature pipeline and standardization a model reads images through, or null when it reads pixels.</summary>
    public static FeatureStandardizer? FeaturesOf(IImageClassifier model) => model switch
    {
        FeatureKNearestNeighborsModel knn => knn.Features,
        NetworkClassifier network => network.Features,
        _ => null,
    };

    // The kernels that ran: the k-NN search, or the network's GEMM and convolution backends.
    private static string Backend(IImageClassifier model) => model switch
    {
        KNearestNeighborsModel knn => $"knn-{NeighborSearch.ByteBackend(knn.Options.Metric)}",
        FeatureKNearestNeighborsModel knn => $"knn-{NeighborSearch.FloatBackend(knn.Options.Metric)}",
        NetworkClassifier network => EngineBackend.Of(network.InferenceNetwork()), // what predictions run on
        _ => model.Kind,
    };
}

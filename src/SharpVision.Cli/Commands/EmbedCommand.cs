using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SharpVision.Analysis;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Models;
using SharpVision.Nn;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision embed`: a t-SNE map of a stratified sample of a split, as an SVG coloured by class.</summary>
internal static class EmbedCommand
{
    public static Command Create(CliConsole console)
    {
        var data = new DataOptions();
        var modelPath = new Option<string?>("--model") { Description = "Map a trained network's penultimate layer (the input of its last linear layer) instead of pixels" };
        var features = new Option<string?>("--features") { Description = "Map hand-crafted features instead of pixels (a spec as in `features extract`, e.g. hog or hog+color); standardized per feature over the sample" };
        var split = new Option<string>("--split") { Description = "Which split to sample: test or train", DefaultValueFactory = _ => "test" };
        var count = new Option<int>("--count") { Description = "Points on the map: a seeded stratified sample of the split (all of it if smaller)", DefaultValueFactory = _ => 5000 };
        var perplexity = new Option<double>("--perplexity") { Description = "t-SNE perplexity (effective neighbours per point; below --count)", DefaultValueFactory = _ => 30 };
        var iterations = new Option<int>("--iterations") { Description = "t-SNE iterations, the first 250 with early exaggeration 12", DefaultValueFactory = _ => 1000 };
        var pcaComponents = new Option<int>("--pca") { Description = "Reduce to this many dimensions with PCA first (0: no PCA)", DefaultValueFactory = _ => 50 };
        var theta = new Option<double>("--theta") { Description = "Barnes–Hut opening angle (0 = exact repulsion through the tree)", DefaultValueFactory = _ => 0.5 };
        var method = new Option<string>("--method") { Description = "Gradient: auto (exact up to 500 points, else Barnes–Hut), barnes-hut or exact", DefaultValueFactory = _ => "auto" };
        var init = new Option<string>("--init") { Description = "Initial map: pca or random", DefaultValueFactory = _ => "pca" };
        var learningRate = new Option<double?>("--learning-rate") { Description = "Step size (default: auto, max(n / 48, 50))" };
        var seed = new Option<int>("--seed") { Description = "Seed of the sample, the random initialization and the drawing order", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Worker threads (results do not depend on it)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new Option<string>("--out") { Description = "SVG file to write", Required = true };
        var coordinates = new Option<string?>("--coordinates") { Description = "Also write the map as CSV: index (in the split), x, y, label, class" };
        var title = new Option<string?>("--title") { Description = "Title drawn above the map (default: what was mapped)" };
        var neighbors = new Option<int>("--quality-k") { Description = "Neighbours looked at by the separation measures", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print one JSON document with the results" };
        var command = new Command("embed",
            "Draw a t-SNE map (PCA first, then Barnes–Hut t-SNE) of a stratified sample of a dataset split, one dot per image " +
            "coloured by class, as a self-contained SVG. Maps pixels by default, hand-crafted features with --features, or a " +
            "trained network's penultimate layer with --model. Prints timings, the final KL divergence and, per class, how " +
            "separated the map keeps it: the share of its points whose 10 nearest map neighbours are all of its class, and " +
            "leave-one-out 10-NN accuracy on the map.\n\nExamples:\n" +
            "  sharpvision embed --dataset fashion-mnist --out map.svg\n" +
            "  sharpvision embed --features hog --count 2000 --perplexity 40 --out hog-map.svg\n" +
            "  sharpvision embed --model runs/cnn2/model.safetensors --out cnn-map.svg --coordinates cnn-map.csv --json");
        data.AddTo(command);
        foreach (var option in new Option[] { modelPath, features, split, count, perplexity, iterations, pcaComponents, theta, method, init, learningRate, seed, threads, output, coordinates, title, neighbors, json })
            command.Options.Add(option);
        command.SetAction(async (parse, token) =>
        {
            var total = Stopwatch.StartNew();
            var which = parse.GetValue(split)!.ToLowerInvariant();
            if (which is not ("test" or "train")) throw new UsageException($"--split must be test or train, got '{which}'.");
            if (parse.GetValue(modelPath) is not null && parse.GetValue(features) is not null) throw new UsageException("--model and --features are alternatives: a model computes its own inputs.");
            int threadCount = parse.GetValue(threads);
            if (threadCount is < 1 or > 1024) throw new UsageException($"--threads must be between 1 and 1024, got {threadCount}.");
            int wanted = parse.GetValue(count);
            if (wanted < 3) throw new UsageException($"--count must be at least 3, got {wanted}.");
            int k = parse.GetValue(neighbors);
            if (k < 1) throw new UsageException($"--quality-k must be at least 1, got {k}.");
            if (parse.GetValue(pcaComponents) < 0) throw new UsageException("--pca must be 0 (off) or a number of components.");
            int seedValue = parse.GetValue(seed);
            var options = new TsneOptions
            {
                Perplexity = parse.GetValue(perplexity),
                Iterations = parse.GetValue(iterations),
                Theta = parse.GetValue(theta),
                LearningRate = parse.GetValue(learningRate),
                Seed = seedValue,
                Threads = threadCount,
                Method = parse.GetValue(method)!.ToLowerInvariant() switch
                {
                    "auto" => TsneMethod.Auto,
                    "barnes-hut" or "barnes_hut" or "bh" => TsneMethod.BarnesHut,
                    "exact" => TsneMethod.Exact,
                    var other => throw new UsageException($"--method must be auto, barnes-hut or exact, got '{other}'."),
                },
                Initialization = parse.GetValue(init)!.ToLowerInvariant() switch
                {
                    "pca" => TsneInitialization.Pca,
                    "random" => TsneInitialization.Random,
                    var other => throw new UsageException($"--init must be pca or random, got '{other}'."),
                },
            };
            try
            {
                _ = new Tsne(options);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new UsageException(e.Message.Split(" (Parameter")[0]);
            }
            FeaturePipeline? pipeline = null;
            if (parse.GetValue(features) is { } spec)
            {
                try
                {
                    pipeline = FeaturePipeline.Parse(spec);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException($"--features: {e.Message}");
                }
            }
            var stored = parse.GetValue(modelPath) is { } path ? ModelFile.Load(path) : null;
            var network = stored is null ? null
                : stored as NetworkClassifier ?? throw new UsageException(
                    $"{parse.GetValue(modelPath)} is a {stored.Kind} model; --model needs a network " +
                    "(svm, softmax, logistic, mlp, cnn2, resnet8, resnet20, vit, cct).");

            var load = Stopwatch.StartNew();
            var (splits, location) = await data.LoadAsync(parse, console, seedValue, stored?.Preparation, token);
            var set = which == "test" ? splits.Test : splits.Train;
            if (set.Count < 3) throw new UsageException($"the {which} split has {set.Count} images; a map needs at least 3.");
            var indices = wanted >= set.Count ? Enumerable.Range(0, set.Count).ToArray() : Splits.StratifiedSplit(set.Labels, (double)wanted / set.Count, seedValue).First;
            var sample = set.Subset(indices);
            if (options.Perplexity >= sample.Count)
                throw new UsageException($"--perplexity ({options.Perplexity.ToString(CultureInfo.InvariantCulture)}) must be less than the number of points ({sample.Count}).");
            load.Stop();

            // What is mapped: n×d floats.
            var prepare = Stopwatch.StartNew();
            float[] vectors;
            int dimension;
            string source;
            if (network is not null)
            {
                var p = network.Preparation;
                if (sample.Channels != p.Channels || sample.Height != p.Height || sample.Width != p.Width)
                    throw new UsageException($"the model expects {p.Channels}×{p.Height}×{p.Width} images, {location.Name} has {sample.Channels}×{sample.Height}×{sample.Width}.");
                try
                {
                    vectors = network.PenultimateActivations(sample.Pixels, out dimension, threadCount);
                }
                catch (InvalidOperationException e)
                {
                    throw new UsageException($"--model: {e.Message}");
                }
                source = $"{network.Kind} penultimate layer ({dimension} values)";
            }
            else if (pipeline is not null)
            {
                try
                {
                    dimension = pipeline.Length(sample.Channels, sample.Height, sample.Width);
                    if (pipeline.RequiresFit)
                    {
                        console.Log($"fitting {string.Join(", ", pipeline.Extractors.OfType<ILearnedFeatureExtractor>().Select(e => e.Name))} on {splits.Train.Count:N0} training images (seed {seedValue}) ...");
                        pipeline.Fit(splits.Train, seedValue, threadCount);
                    }
                }
                catch (ArgumentException e)
                {
                    throw new UsageException($"--features: {e.Message}");
                }
                vectors = pipeline.Extract(sample, threadCount, out dimension, token);
                EmbeddingPipeline.StandardizeColumns(vectors, sample.Count, dimension);
                source = $"features {pipeline.CanonicalConfig} ({dimension} values, standardized)";
            }
            else
            {
                dimension = sample.SampleSize;
                vectors = new float[sample.Pixels.Length];
                for (int i = 0; i < vectors.Length; i++) vectors[i] = sample.Pixels[i] / 255f;
                source = $"pixels ({dimension} values / 255)";
            }
            prepare.Stop();

            int n = sample.Count;
            console.Log($"t-SNE of {n:N0} {which} images of {location.Name}: {source}" +
                        (parse.GetValue(pcaComponents) > 0 && dimension > parse.GetValue(pcaComponents) ? $", PCA to {parse.GetValue(pcaComponents)}" : "") +
                        $", perplexity {options.Perplexity.ToString(CultureInfo.InvariantCulture)}, {options.Iterations} iterations, {threadCount} thread(s)");
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var embedding = console.Steps("t-SNE", report => EmbeddingPipeline.Run(vectors, n, dimension, parse.GetValue(pcaComponents), options, progress =>
            {
                report(progress.Iteration, progress.Iterations, $"t-SNE {progress.Iteration}/{progress.Iterations}, KL {progress.KlDivergence:F3}");
                if (!console.Interactive && (progress.Iteration % 250 == 0 || progress.Iteration == progress.Iterations))
                    console.Log(string.Create(CultureInfo.InvariantCulture, $"iteration {progress.Iteration}/{progress.Iterations}: KL {progress.KlDivergence:F4}, gradient norm {progress.GradientNorm:G3}{(progress.Exaggerated ? " (early exaggeration)" : "")}"));
            }, token));
            double pcaTsneCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds; // all threads: the cost on a shared machine
            var result = embedding.Tsne;

            var quality = EmbeddingQuality.Measure(result.Embedding, sample.Labels, sample.ClassNames.Count, Math.Min(k, n - 1), threadCount);
            var mapTitle = parse.GetValue(title) ?? $"t-SNE of {n:N0} {location.Name} {which} images: {source}";
            var svgPath = Path.GetFullPath(parse.GetValue(output)!);
            AtomicFile.WriteAllBytes(svgPath, Encoding.UTF8.GetBytes(EmbeddingMap.ToSvg(result.Embedding, sample.Labels, sample.ClassNames, new EmbeddingMapOptions { Title = mapTitle, Seed = seedValue })));
            string? csvPath = null;
            if (parse.GetValue(coordinates) is { } csv)
            {
                csvPath = Path.GetFullPath(csv);
                var text = new StringBuilder("index,x,y,label,class\n");
                for (int i = 0; i < n; i++)
                    text.Append(CultureInfo.InvariantCulture, $"{indices[i]},{result.Embedding[2 * i]:R},{result.Embedding[2 * i + 1]:R},{sample.Labels[i]},{CsvField(sample.ClassNames[sample.Labels[i]])}\n");
                AtomicFile.WriteAllBytes(csvPath, Encoding.UTF8.GetBytes(text.ToString()));
            }
            total.Stop();

            var pca = embedding.Pca;
            var timings = new (string Name, double Seconds)[]
            {
                ("load", load.Elapsed.TotalSeconds), ("inputs", prepare.Elapsed.TotalSeconds), ("pca", embedding.PcaTime.TotalSeconds),
                ("knn", result.NeighborTime.TotalSeconds), ("affinities", result.AffinityTime.TotalSeconds),
                ("optimization", result.OptimizationTime.TotalSeconds), ("total", total.Elapsed.TotalSeconds),
            };
            if (parse.GetValue(json))
            {
                var perClass = new JsonArray();
                var counts = sample.ClassCounts();
                for (int c = 0; c < sample.ClassNames.Count; c++)
                    perClass.Add(new JsonObject { ["class"] = sample.ClassNames[c], ["count"] = counts[c], ["purity"] = Round(quality.Purity[c]), ["neighbor_accuracy"] = Round(quality.NeighborAccuracy[c]) });
                console.Json(new JsonObject
                {
                    ["command"] = "embed",
                    ["path"] = svgPath,
                    ["coordinates_path"] = csvPath,
                    ["dataset"] = Reporting.DatasetJson(splits, location),
                    ["split"] = which,
                    ["count"] = n,
                    ["input"] = new JsonObject
                    {
                        ["source"] = network is not null ? "model" : pipeline is not null ? "features" : "pixels",
                        ["description"] = source,
                        ["dimension"] = dimension,
                        ["pca_components"] = pca?.ComponentCount ?? 0,
                        ["pca_explained_variance_ratio"] = pca is null ? null : Round(pca.ExplainedVarianceRatio.Sum()),
                    },
                    ["tsne"] = new JsonObject
                    {
                        ["method"] = result.Method == TsneMethod.Exact ? "exact" : "barnes-hut",
                        ["theta"] = options.Theta,
                        ["perplexity"] = options.Perplexity,
                        ["neighbors"] = result.Neighbors,
                        ["iterations"] = result.Iterations,
                        ["learning_rate"] = Round(result.LearningRate),
                        ["kl_divergence"] = Round(result.KlDivergence),
                        ["init"] = options.Initialization == TsneInitialization.Pca ? "pca" : "random",
                        ["seed"] = seedValue,
                    },
                    ["separation"] = new JsonObject
                    {
                        ["k"] = quality.K,
                        ["purity"] = Round(quality.OverallPurity),
                        ["neighbor_accuracy"] = Round(quality.OverallNeighborAccuracy),
                        ["per_class"] = perClass,
                    },
                    ["timings_s"] = new JsonObject(timings.Select(t => KeyValuePair.Create(t.Name, (JsonNode?)Math.Round(t.Seconds, 3)))),
                    ["cpu_s"] = new JsonObject { ["pca_tsne"] = Math.Round(pcaTsneCpu, 3) },
                    ["threads"] = threadCount,
                });
            }
            else
            {
                var o = console.Out;
                o.WriteLine($"map:     {svgPath} ({n:N0} points, {sample.ClassNames.Count} classes){(csvPath is null ? "" : $", coordinates {csvPath}")}");
                o.WriteLine($"input:   {source}" + (pca is null ? "" : string.Create(CultureInfo.InvariantCulture, $", PCA to {pca.ComponentCount} ({pca.ExplainedVarianceRatio.Sum():P1} of the variance)")));
                o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"t-SNE:   {(result.Method == TsneMethod.Exact ? "exact" : $"Barnes–Hut θ={options.Theta}")}, perplexity {options.Perplexity} ({result.Neighbors} neighbours), {result.Iterations} iterations, learning rate {result.LearningRate:F1}, KL divergence {result.KlDivergence:F4}"));
                o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"time:    load {timings[0].Seconds:F2} s, inputs {timings[1].Seconds:F2} s, PCA {timings[2].Seconds:F2} s, kNN {timings[3].Seconds:F2} s, affinities {timings[4].Seconds:F2} s, optimization {timings[5].Seconds:F2} s, total {timings[6].Seconds:F2} s"));
                o.WriteLine();
                o.WriteLine($"separation on the map ({quality.K} nearest map neighbours):");
                int width = Math.Max(5, sample.ClassNames.Max(c => c.Length));
                o.WriteLine($"{"class".PadRight(width)}  points  all same class  {quality.K}-NN accuracy");
                var counts = sample.ClassCounts();
                for (int c = 0; c < sample.ClassNames.Count; c++)
                    o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sample.ClassNames[c].PadRight(width)}  {counts[c],6}  {quality.Purity[c],14:P1}  {quality.NeighborAccuracy[c],13:P1}"));
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"all".PadRight(width)}  {n,6}  {quality.OverallPurity,14:P1}  {quality.OverallNeighborAccuracy,13:P1}"));
            }
            return CliApp.Success;
        });
        return command;
    }

    private static string CsvField(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";

    private static double Round(double value) => double.IsNaN(value) ? value : Math.Round(value, 4);
}

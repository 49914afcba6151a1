using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Serialization;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision features extract`: hand-crafted features of a dataset's splits into a safetensors file.</summary>
internal static class FeaturesCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("features", "Hand-crafted image features (HOG, color histogram, LBP, Gabor, dense SIFT + bag of visual words).");
        command.Subcommands.Add(CreateExtract(console));
        return command;
    }

    private static Command CreateExtract(CliConsole console)
    {
        var data = new DataOptions();
        var features = new Option<string>("--features")
        {
            Description = "Pipeline spec: extractors joined by '+', options after ':' (e.g. hog, hog+color, " +
                          "hog:orientations=9,cell=4,block=2,norm=L2-Hys+lbp:cell=7, sift:words=64,pyramid=true). " +
                          "Extractors: " + string.Join(", ", FeaturePipeline.KnownExtractors),
            Required = true,
        };
        var output = new Option<string>("--out") { Description = "safetensors file to write (<split>.features F32 N×D, <split>.labels I32 N)", Required = true };
        var split = new Option<string>("--split") { Description = "Which split to extract: train, test or both", DefaultValueFactory = _ => "both" };
        var threads = new Option<int>("--threads") { Description = "Worker threads (results do not depend on it)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seed = new Option<int>("--seed") { Description = "Seed for learned extractors (the SIFT vocabulary's k-means) and --train-limit", DefaultValueFactory = _ => 0 };
        var noCache = new Option<bool>("--no-cache") { Description = "Neither read nor write the feature cache ($SHARPVISION_CACHE, else $XDG_CACHE_HOME/sharpvision/features)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document with the results" };
        var extract = new Command("extract",
            "Extract features of a dataset's splits and write them, with labels, to a safetensors file. Learned extractors " +
            "(sift) are fitted on the training split only, whatever --split says. Results are cached on disk by dataset " +
            "content and canonical config.\n\nExamples:\n" +
            "  sharpvision features extract --dataset fashion-mnist --features hog:orientations=9,cell=4,block=2 --out hog.safetensors\n" +
            "  sharpvision features extract --features hog+lbp:cell=7+color --split test --out test.safetensors --json");
        data.AddTo(extract);
        foreach (var option in new Option[] { features, output, split, threads, seed, noCache, json }) extract.Options.Add(option);
        extract.SetAction(async (parse, token) =>
        {
            var total = Stopwatch.StartNew();
            var which = parse.GetValue(split)!.ToLowerInvariant();
            if (which is not ("train" or "test" or "both")) throw new UsageException($"--split must be train, test or both, got '{which}'.");
            int threadCount = parse.GetValue(threads);
            if (threadCount is < 1 or > 1024) throw new UsageException($"--threads must be between 1 and 1024, got {threadCount}.");
            int seedValue = parse.GetValue(seed);
            FeaturePipeline pipeline;
            try
            {
                pipeline = FeaturePipeline.Parse(parse.GetValue(features)!);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--features: {e.Message}");
            }

            var (splits, location) = await data.LoadAsync(parse, console, seedValue, null, token);
            var train = splits.Train;
            int length;
            try
            {
                length = pipeline.Length(train.Channels, train.Height, train.Width);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--features: {e.Message}");
            }

            var fitTime = Stopwatch.StartNew();
            if (pipeline.RequiresFit)
            {
                console.Log($"fitting {string.Join(", ", pipeline.Extractors.OfType<ILearnedFeatureExtractor>().Select(e => e.Name))} on {train.Count:N0} training images (seed {seedValue}) ...");
                try
                {
                    pipeline.Fit(train, seedValue, threadCount);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException($"--features: {e.Message}");
                }
            }
            fitTime.Stop();

            var cache = parse.GetValue(noCache) ? null : new FeatureCache();
            var tensors = new List<TensorEntry>();
            var splitJson = new JsonObject();
            foreach (var (name, set) in new[] { ("train", splits.Train), ("test", splits.Test) })
            {
                if (which != "both" && which != name) continue;
                var sw = Stopwatch.StartNew();
                bool hit = false;
                float[] values = cache is null
                    ? pipeline.Extract(set, threadCount, out length, token)
                    : cache.GetOrExtract(pipeline, set, threadCount, out length, out hit, token);
                sw.Stop();
                double usPerImage = set.Count == 0 ? 0 : sw.Elapsed.TotalMicroseconds / set.Count;
                console.Log(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: {set.Count:N0} images × {length:N0} features, {(hit ? "from the cache" : "extracted")} in {sw.Elapsed.TotalSeconds:F2} s ({usPerImage:F1} µs/image, {threadCount} threads)"));
                tensors.Add(TensorEntry.FromSingle($"{name}.features", values, set.Count, length));
                tensors.Add(TensorEntry.FromInt32($"{name}.labels", set.Labels, set.Count));
                splitJson[name] = new JsonObject
                {
                    ["count"] = set.Count,
                    ["cached"] = hit,
                    ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 3),
                    ["us_per_image"] = Math.Round(usPerImage, 3),
                };
            }

            var path = Path.GetFullPath(parse.GetValue(output)!);
            var metadata = new Dictionary<string, string>
            {
                ["format"] = "sharpvision-features",
                ["features"] = pipeline.CanonicalConfig,
                ["length"] = length.ToString(CultureInfo.InvariantCulture),
                ["dataset"] = location.Name,
                ["dataset_source"] = location.Directory,
                ["image_shape"] = $"{train.Channels}x{train.Height}x{train.Width}",
                ["class_names"] = JsonSerializer.Serialize(train.ClassNames),
                ["seed"] = seedValue.ToString(CultureInfo.InvariantCulture),
            };
            SafeTensorsFile.Write(path, metadata, tensors);
            total.Stop();
            if (parse.GetValue(json))
            {
                console.Json(new JsonObject
                {
                    ["command"] = "features extract",
                    ["path"] = path,
                    ["features"] = pipeline.CanonicalConfig,
                    ["length"] = length,
                    ["dataset"] = Reporting.DatasetJson(splits, location),
                    ["splits"] = splitJson,
                    ["cache_dir"] = cache?.Directory,
                    ["threads"] = threadCount,
                    ["timings_s"] = new JsonObject { ["fit"] = Math.Round(fitTime.Elapsed.TotalSeconds, 3), ["total"] = Math.Round(total.Elapsed.TotalSeconds, 3) },
                });
            }
            else
            {
                console.Out.WriteLine($"{path}: {pipeline.CanonicalConfig}, {length:N0} features per image ({string.Join(", ", splitJson.Select(p => $"{p.Key} {p.Value!["count"]}"))})");
            }
            return CliApp.Success;
        });
        return extract;
    }
}

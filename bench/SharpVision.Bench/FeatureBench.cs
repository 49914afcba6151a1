using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using SharpVision.Data;
using SharpVision.Features;

namespace SharpVision.Bench;

/// <summary>
/// µs per image of each feature extractor on all 70,000 Fashion-MNIST images (train + test; <c>--images N</c>: the
/// first N of them), one JSON line per row:
/// the median of <c>repeats</c> timed passes after a warm-up pass, on <c>threads</c> threads. Learned extractors are
/// fitted once on the training split first (fit time reported separately). <c>--check FILE</c> compares the HOG row
/// with scikit-image's values for the first test images (raw little-endian float32, written by bench/features.sh).
/// </summary>
internal static class FeatureBench
{
    public static int Run(string? dataDirectory, int repeats, int threads, IReadOnlyList<string>? only, string? checkFile, int? images = null)
    {
        var location = new DatasetLocator(dataDirectory).Locate("fashion-mnist");
        var splits = DatasetLoader.Load(location);
        var pixels = new byte[splits.Train.Pixels.Length + splits.Test.Pixels.Length];
        splits.Train.Pixels.CopyTo(pixels, 0);
        splits.Test.Pixels.CopyTo(pixels, splits.Train.Pixels.Length);
        var all = new ImageDataset("fashion-mnist (train+test)", 1, 28, 28, pixels, [.. splits.Train.Labels, .. splits.Test.Labels], splits.Train.ClassNames);
        if (images is int count)
        {
            if (count < 1 || count > all.Count) throw new ArgumentOutOfRangeException(nameof(images), count, $"--images must be from 1 to {all.Count}.");
            if (checkFile is not null) throw new ArgumentException("--check compares test images, which --images leaves out.");
            all = all.Subset(Enumerable.Range(0, count).ToArray());
        }
        Console.Error.WriteLine($"features: {all.Count} images from {location.Directory}{(location.IsSample ? " (SAMPLE: figures are not comparable)" : "")}; {threads} threads; median of {repeats} after a warm-up");

        var specs = new List<string> { "hog:orientations=9,cell=4,block=2,norm=L2-Hys", "pixels", "lbp", "color", "gabor", "sift" };
        if (only is not null) specs = specs.Where(s => only.Any(o => s.StartsWith(o, StringComparison.Ordinal))).ToList();
        foreach (var spec in specs)
        {
            FeaturePipeline pipeline;
            try { pipeline = FeaturePipeline.Parse(spec); }
            catch (ArgumentException e) { Console.Error.WriteLine($"skipping {spec}: {e.Message}"); continue; }
            double fitSeconds = 0;
            if (pipeline.RequiresFit)
            {
                var fit = Stopwatch.StartNew();
                pipeline.Fit(splits.Train, seed: 0, threads);
                fitSeconds = fit.Elapsed.TotalSeconds;
            }
            float[] features = pipeline.Extract(all.Take(2000), threads, out int length); // warm-up: JIT, tiering, page faults
            var times = new List<double>();
            for (int r = 0; r < repeats; r++)
            {
                var sw = Stopwatch.StartNew();
                features = pipeline.Extract(all, threads, out length);
                times.Add(sw.Elapsed.TotalSeconds);
            }
            times.Sort();
            double median = times[times.Count / 2];
            double? maxDifference = null;
            if (checkFile is not null && pipeline.Extractors[0] is HogExtractor)
            {
                var reference = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(checkFile)).ToArray();
                int offset = splits.Train.Count * length;
                double worst = 0;
                for (int i = 0; i < reference.Length; i++) worst = Math.Max(worst, Math.Abs(reference[i] - features[offset + i]));
                maxDifference = worst;
                Console.Error.WriteLine($"hog vs scikit-image on the first {reference.Length / length} test images: max |difference| {worst:E2}");
            }
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                bench = "sharpvision features " + pipeline.Extractors[0].Name,
                config = pipeline.CanonicalConfig,
                images = all.Count,
                length,
                median_s = Math.Round(median, 4),
                min_s = Math.Round(times[0], 4),
                us_per_image = Math.Round(median / all.Count * 1e6, 3),
                fit_s = Math.Round(fitSeconds, 3),
                max_abs_difference_vs_skimage = maxDifference,
                repeats,
                threads,
            }));
        }
        return 0;
    }
}

using System.Diagnostics;
using System.Text.Json;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Features;

namespace SharpVision.Bench;

/// <summary>
/// k-NN on standardized HOG features of full Fashion-MNIST (60,000 training vectors, 10,000 queries of 1,296 floats):
/// the float search alone, one JSON line per metric (median of <c>repeats</c> after a warm-up on 500 queries), with the
/// k = 5 accuracy and the processor time (<c>--queries N</c>: the first N test images). Features come from the feature cache when present (extraction is not what is timed).
/// </summary>
internal static class FeatureKnnBench
{
    public static int Run(string? dataDirectory, int repeats, int threads, string spec, int? queryLimit = null)
    {
        var location = new DatasetLocator(dataDirectory).Locate("fashion-mnist");
        var splits = DatasetLoader.Load(location);
        var cache = new FeatureCache();
        var model = new KNearestNeighbors(new(5)).FitFeatures(splits.Train, FeaturePipeline.Parse(spec), seed: 0, threads, cache);
        var test = queryLimit is int limit ? splits.Test.Take(limit) : splits.Test;
        var queries = model.Features.Apply(test, threads, cache);
        int d = model.Features.Length, q = test.Count;
        Console.Error.WriteLine($"knn on {model.Features.Pipeline.CanonicalConfig}: {model.TrainCount} × {d} training vectors, {q} queries from " +
            $"{location.Directory}{(location.IsSample ? " (SAMPLE)" : "")}; {threads} threads; " +
            $"backend l1 {NeighborSearch.FloatBackend(DistanceMetric.Manhattan)}, " +
            $"l2 {NeighborSearch.FloatBackend(DistanceMetric.Euclidean)}, GEMM {SharpVision.Tensors.Kernels.Gemm.Provider.Name}");
        foreach (var metric in new[] { DistanceMetric.Euclidean, DistanceMetric.Manhattan })
        {
            NeighborSearch.Search(model.TrainFeatures, model.TrainLabels, 10, queries.AsSpan(0, Math.Min(q, 500) * d), d, metric, 5, threads);
            var times = new List<double>();
            var cpu = new List<double>();
            NeighborResult? result = null;
            for (int r = 0; r < repeats; r++)
            {
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                result = NeighborSearch.Search(model.TrainFeatures, model.TrainLabels, 10, queries, d, metric, 5, threads);
                times.Add(sw.Elapsed.TotalSeconds);
                cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds);
            }
            times.Sort();
            cpu.Sort();
            double median = times[times.Count / 2];
            var labels = KNearestNeighborsModel.Vote(result!, model.TrainLabels, new(5, metric)).Labels();
            double accuracy = labels.Zip(test.Labels).Count(p => p.First == p.Second) / (double)q;
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                bench = $"sharpvision kNN features {(metric == DistanceMetric.Euclidean ? "euclidean" : "manhattan")} k=5",
                features = model.Features.Pipeline.CanonicalConfig,
                dimension = d,
                queries = q,
                median_s = Math.Round(median, 3),
                min_s = Math.Round(times[0], 3),
                cpu_s = Math.Round(cpu[cpu.Count / 2], 3), // median processor time of the search (both threads): a figure less hurt by a busy machine
                queries_per_s = Math.Round(q / median),
                gflops = metric == DistanceMetric.Euclidean ? Math.Round(2.0 * q * model.TrainCount * d / median / 1e9, 1) : (double?)null,
                accuracy = Math.Round(accuracy, 4),
                repeats,
                threads,
            }));
        }
        return 0;
    }
}

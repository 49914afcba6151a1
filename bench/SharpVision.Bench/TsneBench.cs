using System.Diagnostics;
using SharpVision.Analysis;
using SharpVision.Data;

namespace SharpVision.Bench;

/// <summary>Where t-SNE's time goes on n Fashion-MNIST test images: PCA, kNN, affinities, tree build, gradient, whole fit.</summary>
internal static class TsneBench
{
    public static int Run(string? data, int count, int threads)
    {
        SharpVision.Tensors.Engine.Threads = threads;
        var splits = DatasetLoader.Load(new DatasetLocator(data).Locate("fashion-mnist"));
        var sample = splits.Test.Take(count, 0);
        int n = sample.Count, d = sample.SampleSize;
        var x = sample.Pixels.Select(b => b / 255f).ToArray();
        Console.Error.WriteLine($"{n} images, {threads} threads");

        void Time(string name, Action work, int repeats = 1)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < repeats; r++) work();
            double wall = sw.Elapsed.TotalSeconds / repeats, used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / repeats;
            Console.WriteLine($"{name,-28} wall {wall * 1000,9:F2} ms   cpu {used * 1000,9:F2} ms");
        }

        Pca? pca = null;
        Time("pca fit (784 → 50)", () => pca = Pca.Fit(x, n, d, 50));
        Time("pca fit again", () => pca = Pca.Fit(x, n, d, 50));
        float[] z = [];
        Time("pca transform", () => z = pca!.Transform(x, n));
        NeighborGraph? graph = null;
        Time("knn (k = 91)", () => graph = NeighborGraph.Exact(z, n, 50, 91, threads));
        Affinities? p = null;
        Time("affinities", () => p = Affinities.FromNeighbors(graph!, 30, threads));
        TsneResult? result = null;
        Time("t-SNE fit (1000 iterations)", () => result = new Tsne(new TsneOptions { Threads = threads }).Fit(z, n, 50));
        Console.WriteLine($"KL {result!.KlDivergence:F4}, optimization {result.OptimizationTime.TotalSeconds:F2} s");
        var y = Array.ConvertAll(result.Embedding, v => (double)v);
        var g = new double[2 * n];
        Time("quadtree build", () => _ = new QuadTree(y, n), 20);
        Time("BH gradient (final map)", () => TsneGradient.BarnesHut(p!, y, g, 0.5, 1, threads, false), 20);
        Time("BH gradient + KL", () => TsneGradient.BarnesHut(p!, y, g, 0.5, 1, threads, true), 5);
        Time("exact KL (all pairs)", () => TsneGradient.KlDivergence(p!, y, threads), 2);
        return 0;
    }
}

using System.Diagnostics;
using System.Text.Json;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Bench;

/// <summary>
/// GFLOP/s of every GEMM provider on square n = 256..2048 and on the training shapes, one JSON line per row.
/// Each figure is the best of <c>repeats</c> timed repetitions after a warm-up; a repetition loops the call until
/// it has run about 50 ms so small shapes are not timer noise.
/// </summary>
internal static class GemmBench
{
    public static int Run(int repeats, int threads, IReadOnlyList<int>? sizes, string? only)
    {
        var providers = new List<IGemmProvider> { Gemm.Managed };
        if (Gemm.OpenBlas is { } openBlas) providers.Add(openBlas);
        else Console.Error.WriteLine("libopenblas.so.0 not loadable: managed only");
        if (only is not null) providers.RemoveAll(p => !p.Name.StartsWith(only, StringComparison.Ordinal));
        Console.Error.WriteLine($"gemm: providers {string.Join(", ", providers.Select(p => p.Name))}; default {Gemm.ChooseDefault().Name}; {threads} threads; best of {repeats}");

        var rng = new Random(42);
        foreach (int n in sizes ?? [256, 512, 1024, 2048])
            Shape($"square n={n}", false, false, n, n, n);
        // The MLP's first layer on a 128-image batch: forward X·W (NN), the same with W stored transposed (NT),
        // and the weight-gradient form Xᵀ·dY read from an unransposed X (TN).
        Shape("train 128x784x256 NN", false, false, 128, 256, 784);
        Shape("train 128x784x256 NT", false, true, 128, 256, 784);
        Shape("train 128x784x256 TN", true, false, 128, 256, 784);
        return 0;

        void Shape(string name, bool transposeA, bool transposeB, int m, int n, int k)
        {
            float[] a = Random(m * k), b = Random(k * n), c = new float[m * n];
            int lda = transposeA ? m : k, ldb = transposeB ? k : n;
            foreach (var provider in providers)
            {
                void Call() => provider.Multiply(transposeA, transposeB, m, n, k, 1f, a, lda, b, ldb, 0f, c, n, threads);
                Call(); // warm-up: JIT, page faults, OpenBLAS thread start
                var once = Stopwatch.StartNew();
                Call();
                int calls = Math.Max(1, (int)(0.05 / Math.Max(1e-7, once.Elapsed.TotalSeconds)));
                double best = double.MaxValue;
                for (int r = 0; r < repeats; r++)
                {
                    var sw = Stopwatch.StartNew();
                    for (int i = 0; i < calls; i++) Call();
                    best = Math.Min(best, sw.Elapsed.TotalSeconds / calls);
                }
                double gflops = 2.0 * m * n * k / best / 1e9;
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    bench = "gemm", shape = name, m, n, k, transpose_a = transposeA, transpose_b = transposeB,
                    provider = provider.Name, gflops = Math.Round(gflops, 1), best_ms = Math.Round(best * 1000, 4),
                    calls_per_repeat = calls, repeats, threads,
                }));
            }
        }

        float[] Random(int count)
        {
            var x = new float[count];
            for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            return x;
        }
    }
}

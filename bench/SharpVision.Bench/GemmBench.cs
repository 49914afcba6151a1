using System.Diagnostics;
using System.Text.Json;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Bench;

/// <summary>
/// GFLOP/s of every GEMM provider on square n = 256..2048 and on the training shapes, one JSON line per row.
/// Each figure is the best of <c>repeats</c> timed repetitions after a warm-up, in each of <c>rounds</c> interleaved
/// sweeps; a repetition loops the call until it has run about 50 ms so small shapes are not timer noise.
/// </summary>
internal static class GemmBench
{
    public static int Run(int repeats, int rounds, int threads, IReadOnlyList<int>? sizes, string? only)
    {
        var providers = new List<IGemmProvider> { Gemm.Managed };
        if (Gemm.OpenBlas is { } openBlas) providers.Add(openBlas);
        else Console.Error.WriteLine("libopenblas.so.0 not loadable: managed only");
        if (only is not null) providers.RemoveAll(p => !p.Name.StartsWith(only, StringComparison.Ordinal));
        Console.Error.WriteLine($"gemm: providers {string.Join(", ", providers.Select(p => p.Name))}; default {Gemm.ChooseDefault().Name}; {threads} threads; best of {repeats} × {rounds} rounds");

        var rng = new Random(42);
        var shapes = new List<(string Name, bool TransposeA, bool TransposeB, int M, int N, int K)>();
        foreach (int n in sizes ?? [256, 512, 1024, 2048])
            shapes.Add(($"square n={n}", false, false, n, n, n));
        // The MLP's first layer on a 128-image batch: forward X·W (NN), the same with W stored transposed (NT),
        // and the weight-gradient form Xᵀ·dY read from an untransposed X (TN).
        // "train MxKxN" is (M×K)·(K×N); the second is the MLP's 256 → 10 output layer.
        foreach (var (m, k, n) in new[] { (128, 784, 256), (128, 256, 10) })
        {
            shapes.Add(($"train {m}x{k}x{n} NN", false, false, m, n, k));
            shapes.Add(($"train {m}x{k}x{n} NT", false, true, m, n, k));
            shapes.Add(($"train {m}x{k}x{n} TN", true, false, m, n, k));
        }
        var operands = shapes.Select(s => (A: Random(s.M * s.K), B: Random(s.K * s.N), C: new float[s.M * s.N])).ToList();

        // Providers alternate shape by shape, and the whole sweep runs `rounds` times keeping each row's best: this
        // machine is shared, and noise that comes and goes should hit both providers alike. After an OpenBLAS row
        // the sweep pauses, because OpenBLAS's idle workers keep spinning for tens of milliseconds after a call and
        // would steal a core from the next row.
        var best = new double[shapes.Count, providers.Count];
        var calls = new int[shapes.Count, providers.Count];
        for (int round = 0; round < rounds; round++)
            for (int s = 0; s < shapes.Count; s++)
                for (int p = 0; p < providers.Count; p++)
                {
                    var (seconds, perRepeat) = Measure(providers[p], shapes[s], operands[s]);
                    best[s, p] = round == 0 ? seconds : Math.Min(best[s, p], seconds);
                    calls[s, p] = perRepeat;
                    if (providers[p] is not ManagedGemm) Thread.Sleep(300);
                }
        for (int s = 0; s < shapes.Count; s++)
            for (int p = 0; p < providers.Count; p++)
            {
                var (name, transposeA, transposeB, m, n, k) = shapes[s];
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    bench = "gemm", shape = name, m, n, k, transpose_a = transposeA, transpose_b = transposeB,
                    provider = providers[p].Name, gflops = Math.Round(2.0 * m * n * k / best[s, p] / 1e9, 1),
                    best_ms = Math.Round(best[s, p] * 1000, 4), calls_per_repeat = calls[s, p], repeats, rounds, threads,
                }));
            }
        return 0;

        (double Seconds, int Calls) Measure(IGemmProvider provider, (string Name, bool TransposeA, bool TransposeB, int M, int N, int K) shape,
            (float[] A, float[] B, float[] C) x)
        {
            var (_, transposeA, transposeB, m, n, k) = shape;
            int lda = transposeA ? m : k, ldb = transposeB ? k : n;
            void Call() => provider.Multiply(transposeA, transposeB, m, n, k, 1f, x.A, lda, x.B, ldb, 0f, x.C, n, threads);
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
            return (best, calls);
        }

        float[] Random(int count)
        {
            var x = new float[count];
            for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            return x;
        }
    }
}

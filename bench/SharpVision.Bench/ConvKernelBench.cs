using System.Diagnostics;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Bench;

/// <summary>
/// The three convolution kernels (forward, input gradient, weight gradient) of the cnn2/resnet8 layers, each under
/// every algorithm, batch 128: the fastest of <c>repeats</c> runs in ms (the minimum filters out load from elsewhere).
/// </summary>
internal static class ConvKernelBench
{
    public static int Run(int repeats, int threads, string? only)
    {
        Console.Error.WriteLine($"convkernels: batch 128; {threads} threads; min of {repeats}; ms for forward / input gradient / weight gradient");
        var shapes = new (string Name, int C, int Hw, int K, int Kernel, int Stride, int Pad)[]
        {
            ("cnn2 conv1 1->32 28", 1, 28, 32, 3, 1, 1), ("cnn2 conv2 32->64 14", 32, 14, 64, 3, 1, 1),
            ("stem 1->16 28", 1, 28, 16, 3, 1, 1), ("16->16 28", 16, 28, 16, 3, 1, 1), ("16->32 s2 28", 16, 28, 32, 3, 2, 1),
            ("32->32 14", 32, 14, 32, 3, 1, 1), ("32->64 s2 14", 32, 14, 64, 3, 2, 1), ("64->64 7", 64, 7, 64, 3, 1, 1),
            ("proj 16->32 s2 28", 16, 28, 32, 1, 2, 0), ("proj 32->64 s2 14", 32, 14, 64, 1, 2, 0),
        };
        var rng = new Rng(3);
        foreach (var s in shapes)
        {
            if (only is not null && !s.Name.Contains(only, StringComparison.Ordinal)) continue;
            var g = new Conv2dGeometry(128, s.C, s.Hw, s.Hw, s.K, s.Kernel, s.Kernel, s.Stride, s.Pad);
            float[] x = Random(rng, g.Batch * g.InputImageSize), w = Random(rng, g.Filters * g.PatchSize), dy = Random(rng, g.Batch * g.OutputImageSize);
            float[] y = new float[dy.Length], dx = new float[x.Length], dw = new float[w.Length];
            var line = $"{s.Name,-22}";
            var algorithms = new List<Conv2dAlgorithm> { Conv2dAlgorithm.Im2ColGemm, Conv2dAlgorithm.Direct };
            if (Conv2dBackend.OneDnnAvailable) algorithms.Add(Conv2dAlgorithm.OneDnn);
            foreach (var algorithm in algorithms)
            {
                double f = Time(repeats, () => Conv2dKernels.Forward(g, x, w, [], y, threads, algorithm));
                double d = Time(repeats, () => Conv2dKernels.BackwardData(g, dy, w, dx, threads, algorithm));
                double b = Time(repeats, () => Conv2dKernels.BackwardWeight(g, dy, x, dw, [], threads, algorithm));
                line += $"  {algorithm,-10} {f,6:F2} {d,6:F2} {b,6:F2} ={f + d + b,6:F2}";
            }
            Console.WriteLine(line);
        }
        return 0;
    }

    private static double Time(int repeats, Action action)
    {
        action();
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            action();
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
        }
        return best;
    }

    private static float[] Random(Rng rng, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = rng.NextFloat() * 2 - 1;
        return values;
    }
}

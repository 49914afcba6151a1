using System.Diagnostics;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Bench;

/// <summary>
/// The three convolution kernels (forward, input gradient, weight gradient) of the cnn2/resnet8 layers, each under
/// every algorithm (oneDNN too when libdnnl.so.2 is present), batch 128 unless told: the fastest of <c>repeats</c> runs in ms
/// (the minimum filters out load from elsewhere).
/// </summary>
internal static class ConvKernelBench
{
    public static int Run(int repeats, int threads, string? only, int batch = 128)
    {
        Console.Error.WriteLine($"convkernels: batch {batch}; {threads} threads; min of {repeats}; ms for forward / input gradient / weight gradient");
        var shapes = new (string Name, int C, int Hw, int K, int Kernel, int Stride, int Pad)[]
        {
            ("cnn2 conv1 1->32 28", 1, 28, 32, 3, 1, 1), ("cnn2 conv2 32->64 14", 32, 14, 64, 3, 1, 1),
            ("stem 1->16 28", 1, 28, 16, 3, 1, 1), ("16->16 28", 16, 28, 16, 3, 1, 1), ("16->32 s2 28", 16, 28, 32, 3, 2, 1),
            ("32->32 14", 32, 14, 32, 3, 1, 1), ("32->64 s2 14", 32, 14, 64, 3, 2, 1), ("64->64 7", 64, 7, 64, 3, 1, 1),
            ("proj 16->32 s2 28", 16, 28, 32, 1, 2, 0), ("proj 32->64 s2 14", 32, 14, 64, 1, 2, 0),
            // off oneDNN's 16-channel block: resnet20's CIFAR stem (3 channels), few filters, channels not a multiple of 16
            ("cifar stem 3->16 32", 3, 32, 16, 3, 1, 1), ("16->8 28", 16, 28, 8, 3, 1, 1), ("24->24 14", 24, 14, 24, 3, 1, 1),
        };
        var rng = new Rng(3);
        foreach (var s in shapes)
        {
            if (only is not null && !s.Name.Contains(only, StringComparison.Ordinal)) continue;
            var g = new Conv2dGeometry(batch, s.C, s.Hw, s.Hw, s.K, s.Kernel, s.Kernel, s.Stride, s.Pad);
            float[] x = Random(rng, g.Batch * g.InputImageSize), w = Random(rng, g.Filters * g.PatchSize), dy = Random(rng, g.Batch * g.OutputImageSize);
            float[] y = new float[dy.Length], dx = new float[x.Length], dw = new float[w.Length];
            var algorithms = new List<Conv2dAlgorithm> { Conv2dAlgorithm.Im2ColGemm, Conv2dAlgorithm.Direct };
            if (Conv2dBackend.OneDnnAvailable) algorithms.Add(Conv2dAlgorithm.OneDnn);
            // The algorithms take turns within each repetition, so load from elsewhere hits them alike.
            var passes = new Action<Conv2dAlgorithm>[]
            {
                a => Conv2dKernels.Forward(g, x, w, [], y, threads, a),
                a => Conv2dKernels.BackwardData(g, dy, w, dx, threads, a, accumulate: false), // as for a fresh dx in training
                a => Conv2dKernels.BackwardWeight(g, dy, x, dw, [], threads, a),
            };
            var best = new double[algorithms.Count, passes.Length];
            for (int r = -1; r < repeats; r++) // r = −1: warm-up (plans, JIT)
                for (int a = 0; a < algorithms.Count; a++)
                    for (int p = 0; p < passes.Length; p++)
                    {
                        var sw = Stopwatch.StartNew();
                        passes[p](algorithms[a]);
                        double ms = sw.Elapsed.TotalMilliseconds;
                        best[a, p] = r < 0 ? double.MaxValue : Math.Min(best[a, p], ms);
                    }
            var line = $"{s.Name,-22}";
            for (int a = 0; a < algorithms.Count; a++)
                line += $"  {algorithms[a],-10} {best[a, 0],6:F3} {best[a, 1],6:F3} {best[a, 2],6:F3} ={best[a, 0] + best[a, 1] + best[a, 2],7:F3}";
            Console.WriteLine(line);
        }
        return 0;
    }

    private static float[] Random(Rng rng, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = rng.NextFloat() * 2 - 1;
        return values;
    }
}

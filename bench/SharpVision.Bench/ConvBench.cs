using System.Diagnostics;
using System.Text.Json;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Bench;

/// <summary>
/// Forward + backward time per batch of 128 for the layers of cnn2 and resnet8 (bench/peers/torch_peers.py),
/// one JSON line per op with the median over <c>repeats</c> after a warm-up; bench/conv_peer.py times the same in PyTorch.
/// Each repetition is one autograd forward and one backward with a fixed upstream gradient, as in a training step
/// (including renting the output and gradient buffers from <see cref="BufferPool"/>, recycled between steps as the
/// trainer does; fresh 6 MB arrays would add their page faults to every step). Convolutions run under each backend mode in turn
/// (managed, onednn when libdnnl.so.2 is present, auto), one after the other on the same tensors; the "conv" field
/// names the mode.
/// </summary>
internal static class ConvBench
{
    private const int Batch = 128;

    /// <summary>One benchmark row: a name, the input shape, whether x needs a gradient, and the op.</summary>
    private sealed record Case(string Name, int[] Input, bool InputGrad, Func<Tensor, Tensor> Build, bool IsConv = false);

    public static int Run(int repeats, int threads, string? only)
    {
        Engine.Threads = threads;
        Console.Error.WriteLine($"conv: batch {Batch}; {threads} threads; gemm {Gemm.Provider.Name}; conv backends: managed{(Conv2dBackend.OneDnnAvailable ? $", onednn {Conv2dBackend.OneDnnVersion}, auto" : $" only ({Conv2dBackend.OneDnnUnavailableReason})")}; median of {repeats} after a warm-up");
        Conv2dBackendMode[] modes = Conv2dBackend.OneDnnAvailable ? [Conv2dBackendMode.Managed, Conv2dBackendMode.OneDnn, Conv2dBackendMode.Auto] : [Conv2dBackendMode.Managed];
        var rng = new Rng(1);
        var cases = new List<Case>();
        void Conv(string name, int c, int hw, int k, int kernel, int stride, int padding, bool bias, bool inputGrad)
        {
            var w = Parameter(rng, k, c, kernel, kernel);
            var b = bias ? Parameter(rng, k) : null;
            cases.Add(new Case(name, [Batch, c, hw, hw], inputGrad, x => Ops.Conv2d(x, w, b, stride, padding), IsConv: true));
        }
        Conv("cnn2 conv1 1->32 3x3 p1 28x28", 1, 28, 32, 3, 1, 1, bias: true, inputGrad: false);
        Conv("cnn2 conv2 32->64 3x3 p1 14x14", 32, 14, 64, 3, 1, 1, bias: true, inputGrad: true);
        Conv("resnet8 stem 1->16 3x3 p1 28x28", 1, 28, 16, 3, 1, 1, bias: false, inputGrad: false);
        Conv("resnet8 16->16 3x3 p1 28x28", 16, 28, 16, 3, 1, 1, bias: false, inputGrad: true);
        Conv("resnet8 16->32 3x3 s2 p1 28x28", 16, 28, 32, 3, 2, 1, bias: false, inputGrad: true);
        Conv("resnet8 32->32 3x3 p1 14x14", 32, 14, 32, 3, 1, 1, bias: false, inputGrad: true);
        Conv("resnet8 32->64 3x3 s2 p1 14x14", 32, 14, 64, 3, 2, 1, bias: false, inputGrad: true);
        Conv("resnet8 64->64 3x3 p1 7x7", 64, 7, 64, 3, 1, 1, bias: false, inputGrad: true);
        Conv("resnet8 proj 16->32 1x1 s2 28x28", 16, 28, 32, 1, 2, 0, bias: false, inputGrad: true);
        Conv("resnet8 proj 32->64 1x1 s2 14x14", 32, 14, 64, 1, 2, 0, bias: false, inputGrad: true);
        Conv("pointwise 32->64 1x1 14x14", 32, 14, 64, 1, 1, 0, bias: false, inputGrad: true);
        cases.Add(new Case("cnn2 maxpool 2x2 32x28x28", [Batch, 32, 28, 28], true, x => Ops.MaxPool2d(x, 2, 2)));
        cases.Add(new Case("cnn2 maxpool 2x2 64x14x14", [Batch, 64, 14, 14], true, x => Ops.MaxPool2d(x, 2, 2)));
        void BatchNorm(string name, int c, int hw)
        {
            var gamma = Parameter(rng, c);
            var beta = Parameter(rng, c);
            float[] mean = new float[c], variance = Enumerable.Repeat(1f, c).ToArray();
            cases.Add(new Case(name, [Batch, c, hw, hw], true, x => Ops.BatchNorm(x, gamma, beta, mean, variance, training: true)));
        }
        BatchNorm("cnn2 batchnorm2d 32x28x28", 32, 28);
        BatchNorm("cnn2 batchnorm2d 64x14x14", 64, 14);
        BatchNorm("resnet8 batchnorm2d 16x28x28", 16, 28);
        cases.Add(new Case("resnet8 global avgpool 64x7x7", [Batch, 64, 7, 7], true, Ops.GlobalAvgPool2d));

        foreach (var c in cases)
        {
            if (only is not null && !c.Name.Contains(only, StringComparison.Ordinal)) continue;
            var x = Tensor.Zeros(c.Input);
            for (int i = 0; i < x.Size; i++) x.Data[i] = rng.NextNormal();
            x.RequiresGrad = c.InputGrad;
            float[]? dy = null;
            double Step()
            {
                if (c.InputGrad) x.Grad = null;
                using var pool = BufferPool.Step(); // buffers recycled between steps, as in training
                var sw = Stopwatch.StartNew();
                var y = c.Build(x);
                if (dy is null)
                {
                    dy = new float[y.Size];
                    for (int i = 0; i < dy.Length; i++) dy[i] = rng.NextNormal();
                }
                y.Backward(dy);
                return sw.Elapsed.TotalSeconds;
            }
            foreach (var mode in c.IsConv ? modes : [Conv2dBackendMode.Managed])
            {
                Conv2dBackend.Mode = mode;
                Step();
                Step();
                var times = Enumerable.Range(0, repeats).Select(_ => Step()).Order().ToList();
                double median = times[times.Count / 2];
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    bench = "conv", op = c.Name, batch = Batch, conv = c.IsConv ? mode.ToString().ToLowerInvariant() : "-", median_ms = Math.Round(median * 1000, 3),
                    min_ms = Math.Round(times[0] * 1000, 3), images_per_s = Math.Round(Batch / median), repeats, threads, gemm = Gemm.Provider.Name,
                }));
            }
        }
        return 0;
    }

    private static Tensor Parameter(Rng rng, params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        for (int i = 0; i < t.Size; i++) t.Data[i] = rng.NextNormal() * 0.1f;
        t.RequiresGrad = true;
        return t;
    }
}

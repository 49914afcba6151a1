using System.Diagnostics;
using SharpVision.Nn;
using SharpVision.Optim;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Bench;

/// <summary>
/// The vision transformer's training step on random data, whole and op by op (batch 128, torch_peers.py's vit shapes):
/// where an epoch's time goes. Usage: bench vit [--repeats 20] [--threads 2] [--model vit|cct] [--batch 128] [--ops false].
/// </summary>
internal static class VitBench
{
    public static int Run(int repeats, int threads, string model, int batch, bool ops = true)
    {
        Engine.Threads = threads;
        Console.Error.WriteLine($"{model}, batch {batch}, {threads} threads, simd {SimdPaths.Name(SimdPaths.Default)}, gemm {Gemm.Provider.Name}");
        var net = model == "cct" ? Networks.Cct(1, 28, 28, 10) : Networks.Vit(1, 28, 28, 10);
        net.ResetParameters(new Rng(0));
        var named = net.NamedParameters();
        var optimizer = new AdamW(net.Parameters(), new AdamWOptions(1e-3, WeightDecay: 0.05),
            named.Where(p => AdamW.DecaysByDefault(p.Name, p.Parameter)).Select(p => p.Parameter).ToHashSet());
        var rng = new Rng(1);
        var x = new Tensor(new Shape(batch, 1, 28, 28), Enumerable.Range(0, batch * 784).Select(_ => rng.NextNormal()).ToArray());
        var labels = Enumerable.Range(0, batch).Select(i => i % 10).ToArray();
        double forward = 0, backward = 0, step = 0;
        var process = Process.GetCurrentProcess();
        TimeSpan cpuStart = TimeSpan.Zero;
        for (int r = -3; r < repeats; r++)
        {
            if (r == 0)
            {
                process.Refresh();
                cpuStart = process.TotalProcessorTime;
            }
            net.Train(new Rng(r + 10));
            using var scope = BufferPool.Step();
            var clock = Stopwatch.StartNew();
            optimizer.ZeroGrad();
            var loss = SharpVision.Tensors.Ops.SoftmaxCrossEntropy(net.Forward(x), labels, 0.1f);
            double f = clock.Elapsed.TotalMilliseconds;
            loss.Backward();
            double b = clock.Elapsed.TotalMilliseconds;
            optimizer.Step();
            double s = clock.Elapsed.TotalMilliseconds;
            if (r < 0) continue;
            forward += f;
            backward += b - f;
            step += s - b;
        }
        double total = (forward + backward + step) / repeats;
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpuStart).TotalMilliseconds / repeats;
        Console.WriteLine($"step {total,7:F1} ms wall, {cpu:F1} ms CPU (forward {forward / repeats:F1}, backward {backward / repeats:F1}, " +
            $"AdamW {step / repeats:F1}) → {60000.0 / batch * total / 1000:F1} s per 60,000-image epoch, {batch / total * 1000:F0} images/s");
        if (!ops) return 0;
        Time("layer_norm (6400, 64)", repeats, () => Tensor2(batch * 50, 64), t => SharpVision.Tensors.Ops.LayerNorm(t, Param(64, 1), Param(64, 0)));
        Time("linear 64→192 (qkv)", repeats, () => Tensor2(batch * 50, 64), t => SharpVision.Tensors.Ops.Linear(t, Param2(192, 64), Param(192, 0)));
        Time("linear 64→64 (out)", repeats, () => Tensor2(batch * 50, 64), t => SharpVision.Tensors.Ops.Linear(t, Param2(64, 64), Param(64, 0)));
        Time("linear 64→128 (mlp1)", repeats, () => Tensor2(batch * 50, 64), t => SharpVision.Tensors.Ops.Linear(t, Param2(128, 64), Param(128, 0)));
        Time("linear 128→64 (mlp2)", repeats, () => Tensor2(batch * 50, 128), t => SharpVision.Tensors.Ops.Linear(t, Param2(64, 128), Param(64, 0)));
        Time("attention (128, 50, 4×16)", repeats, () => Tensor2(batch * 50, 192).Reshape(batch, 50, 192), t => SharpVision.Tensors.Ops.MultiHeadAttention(t, 4));
        Time("gelu (6400, 128)", repeats, () => Tensor2(batch * 50, 128), t => SharpVision.Tensors.Ops.Gelu(t));
        Time("add (6400, 64)", repeats, () => Tensor2(batch * 50, 64), t => SharpVision.Tensors.Ops.Add(t, t));
        return 0;
    }

    private static Tensor Tensor2(int rows, int columns)
    {
        var rng = new Rng(rows + columns);
        return new Tensor(new Shape(rows, columns), Enumerable.Range(0, rows * columns).Select(_ => rng.NextNormal()).ToArray(), requiresGrad: true);
    }

    private static Tensor Param(int n, float value) => new(new Shape(n), Enumerable.Repeat(value == 0 ? 0.01f : value, n).ToArray(), requiresGrad: true);

    private static Tensor Param2(int rows, int columns)
    {
        var rng = new Rng(7);
        return new Tensor(new Shape(rows, columns), Enumerable.Range(0, rows * columns).Select(_ => 0.1f * rng.NextNormal()).ToArray(), requiresGrad: true);
    }

    private static void Time(string name, int repeats, Func<Tensor> input, Func<Tensor, Tensor> op)
    {
        var x = input();
        double forward = 0, backward = 0, forwardCpu = 0, backwardCpu = 0;
        var process = Process.GetCurrentProcess();
        for (int r = -3; r < repeats; r++)
        {
            using var scope = BufferPool.Step();
            x.Grad = new float[x.Size];
            var upstream = new float[x.Size * 4];
            var clock = Stopwatch.StartNew();
            process.Refresh();
            var c0 = process.TotalProcessorTime;
            var y = op(x);
            double f = clock.Elapsed.TotalMilliseconds;
            process.Refresh();
            var c1 = process.TotalProcessorTime;
            y.Backward(upstream.AsSpan(0, y.Size));
            double b = clock.Elapsed.TotalMilliseconds;
            process.Refresh();
            var c2 = process.TotalProcessorTime;
            if (r < 0) continue;
            forward += f;
            backward += b - f;
            forwardCpu += (c1 - c0).TotalMilliseconds;
            backwardCpu += (c2 - c1).TotalMilliseconds;
        }
        Console.WriteLine($"  {name,-28} forward {forward / repeats,6:F2} ms ({forwardCpu / repeats,6:F2} CPU)  " +
            $"backward {backward / repeats,6:F2} ms ({backwardCpu / repeats,6:F2} CPU)");
    }
}

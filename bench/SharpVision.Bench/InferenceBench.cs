using System.Diagnostics;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Nn;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Bench;

/// <summary>
/// In-process cnn2 (or resnet8) inference in images/s at several batch sizes, for bench/infer.sh beside
/// bench/peers/infer_peer.py (PyTorch, eval mode, inference_mode). One JSON line per form and batch size, the median of
/// <c>repeats</c> timed rounds after a warm-up:
/// <list type="bullet">
/// <item><c>fused</c>: the network's inference form (<see cref="InferenceForm"/>: batch norms folded, conv + ReLU + pool
/// fused) on float inputs, what PyTorch's <c>net(x)</c> does;</item>
/// <item><c>folded</c>: batch norms folded only, each layer its own pass (the inference form before the fused blocks);</item>
/// <item><c>predict</c>: <see cref="NetworkClassifier.Predict(ReadOnlySpan{byte}, int)"/> of a frozen model on bytes
/// (normalization, forward, softmax, ranking), what the service calls per batch.</item>
/// </list>
/// The weights are random (seeded) with non-trivial batch-norm statistics: the work does not depend on the values.
/// </summary>
internal static class InferenceBench
{
    public static int Run(string net, IReadOnlyList<int> batches, double seconds, int repeats, int threads, bool layers = false)
    {
        Engine.Threads = threads;
        var network = Networks.ByName(net, 1, 28, 28, 10);
        var rng = new Rng(7);
        network.ResetParameters(rng);
        foreach (var (name, values) in network.NamedBuffers())
        {
            bool variance = name.EndsWith("running_var", StringComparison.Ordinal);
            for (int i = 0; i < values.Length; i++) values[i] = variance ? 0.5f + rng.NextFloat() : rng.NextFloat() - 0.5f;
        }
        var normalizer = new Normalizer(NormalizationMode.PerChannel, 1, 784, [0.286f], [1 / 0.353f]);
        var model = new NetworkClassifier(net, network, ClassifierLoss.Softmax, normalizer, new ImagePreparation(1, 28, 28),
            Enumerable.Range(0, 10).Select(i => $"class {i}").ToArray()).Frozen();
        network.Eval();
        var forms = new (string Name, Module Network)[] { ("fused", model.InferenceNetwork()), ("folded", BatchNormFolding.Fold(network)) };
        Console.Error.WriteLine($"infer {net}: {SimdPaths.CpuModel}; SIMD {SimdPaths.Describe()}; {threads} threads; gemm {Gemm.Provider.Name}; "
                                + $"conv {Conv2dBackend.Describe()}; median of {repeats} rounds of {seconds / repeats:0.##} s per cell");
        foreach (int batch in batches)
        {
            var pixels = new byte[batch * 784];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)rng.NextInt(256);
            var inputs = new float[batch * 784];
            normalizer.Apply(pixels, inputs);
            foreach (var (form, module) in forms)
                Report(net, form, batch, threads, EngineBackend.Of(module), Rate(seconds, repeats, batch, () => Forward(module, inputs, batch)));
            Report(net, "predict", batch, threads, EngineBackend.Of(model.InferenceNetwork()),
                Rate(seconds, repeats, batch, () => model.Predict(pixels, threads)));
            if (layers) Layers(net, model.InferenceNetwork(), inputs, batch);
        }
        return 0;
    }

    // Microseconds per image of each layer of the inference form (median of 50 passes), to see where a pass goes.
    private static void Layers(string net, Module network, float[] inputs, int batch)
    {
        if (network is not Sequential sequential) return;
        using var _ = GradMode.NoGrad();
        var times = new List<double>[sequential.Layers.Count];
        for (int i = 0; i < times.Length; i++) times[i] = [];
        for (int pass = 0; pass < 60; pass++)
        {
            using var pooled = BufferPool.Step();
            var x = new Tensor(new Shape(batch, 1, 28, 28), (float[])inputs.Clone());
            for (int i = 0; i < times.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                x = sequential.Layers[i].Forward(x);
                if (pass >= 10) times[i].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / batch);
            }
        }
        var row = new JsonObject { ["label"] = "ours", ["net"] = net, ["form"] = "layers", ["batch"] = batch };
        for (int i = 0; i < times.Length; i++)
            row[$"{i}:{sequential.Layers[i].Spec.Type}"] = Math.Round(times[i].Order().ElementAt(times[i].Count / 2), 2);
        Console.WriteLine(row.ToJsonString());
    }

    // One forward pass as predictions run it: no graph, activations from the buffer pool.
    private static void Forward(Module network, float[] inputs, int batch)
    {
        using var _ = GradMode.NoGrad();
        using var pooled = BufferPool.Step();
        var input = BufferPool.Uninitialized<float>(inputs.Length);
        inputs.CopyTo(input, 0);
        network.Forward(new Tensor(new Shape(batch, 1, 28, 28), input));
    }

    // Median images/s over rounds of seconds/repeats each, after a warm-up of a fifth of a round; and the median images
    // per second of this process's CPU time, which a shared machine's waiting for a core does not dilute.
    private static (double Wall, double Cpu) Rate(double seconds, int repeats, int batch, Action pass)
    {
        var warm = Stopwatch.StartNew();
        do pass(); while (warm.Elapsed.TotalSeconds < seconds / repeats / 5);
        var rates = new double[repeats];
        var cpuRates = new double[repeats];
        using var process = Process.GetCurrentProcess();
        for (int r = 0; r < repeats; r++)
        {
            long images = 0;
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            do
            {
                pass();
                images += batch;
            } while (clock.Elapsed.TotalSeconds < seconds / repeats);
            rates[r] = images / clock.Elapsed.TotalSeconds;
            process.Refresh();
            cpuRates[r] = images / (process.TotalProcessorTime - cpu).TotalSeconds;
        }
        Array.Sort(rates);
        Array.Sort(cpuRates);
        return (rates[repeats / 2], cpuRates[repeats / 2]);
    }

    private static void Report(string net, string form, int batch, int threads, string backend, (double Wall, double Cpu) rate) =>
        Console.WriteLine(new JsonObject
        {
            ["label"] = "ours", ["net"] = net, ["form"] = form, ["batch"] = batch, ["images_per_s"] = Math.Round(rate.Wall, 1),
            ["images_per_cpu_s"] = Math.Round(rate.Cpu, 1), ["threads"] = threads, ["backend"] = backend,
            ["simd"] = SimdPaths.Name(SimdPaths.Default), ["cpu"] = SimdPaths.CpuModel,
        }.ToJsonString(Readable));

    private static readonly System.Text.Json.JsonSerializerOptions Readable =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }; // "+" stays "+"
}

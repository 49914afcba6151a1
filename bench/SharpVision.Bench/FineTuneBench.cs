using System.Diagnostics;
using System.Text.Json;
using SharpVision.Nn;
using SharpVision.Onnx;
using SharpVision.Optim;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Bench;

/// <summary>
/// Time per fine-tuning step of the pretrained ResNet-18 (bench/finetune.sh): batch 32 of 3×224×224 preprocessed
/// pixels, forward, softmax cross-entropy, backward and one SGD step (Nesterov 0.9, weight decay 1e-4, head lr 0.01,
/// backbone lr 0.001), batch norms frozen, as <c>--finetune</c> (all) and <c>--finetune last</c> train. The same step
/// as the Trainer's, without data loading. Prints one JSON line per scope, with per-layer-type forward times.
/// </summary>
internal static class FineTuneBench
{
    public static int Run(int batch, int repeats, int threads, string? only)
    {
        Engine.Threads = threads;
        var rng = new Rng(7);
        var input = new float[batch * 3 * 224 * 224];
        for (int i = 0; i < input.Length; i++) input[i] = rng.NextFloat() * 255f - 128f;
        var labels = Enumerable.Range(0, batch).Select(i => i % 10).ToArray();
        Console.Error.WriteLine($"finetune: batch {batch}, 3×224×224, {threads} threads; conv {Conv2dBackend.Describe()}; " +
            $"median of {repeats} steps after 1 warm-up");
        foreach (var scope in new[] { FineTuneScope.All, FineTuneScope.LastStage })
        {
            if (only is not null && !scope.ToString().Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            var full = ResNet18Network.CreatePretrained(3, 224, 224, 10, seed: 0);
            ResNet18Network.Freeze(full, scope, updateStatistics: false);
            var network = new Sequential(full.Layers.Skip(1)); // the input layer's crop is data preparation, not the step
            var trainable = network.NamedParameters().Where(p => p.Parameter.RequiresGrad).ToList();
            var optimizer = new Sgd(trainable.Select(p => p.Parameter).ToList(), new SgdOptions(0.01, 0.9, true, 1e-4));
            string head = network.Children.Last().Name + ".";
            foreach (var (name, p) in trainable)
                if (!name.StartsWith(head, StringComparison.Ordinal)) optimizer.SetLearningRateFactor(p, 0.1);
            network.Train(new Rng(1));
            double Step()
            {
                var sw = Stopwatch.StartNew();
                using var pool = BufferPool.Step();
                optimizer.ZeroGrad();
                var loss = Ops.SoftmaxCrossEntropy(network.Forward(new Tensor(new Shape(batch, 3, 224, 224), input)), labels);
                loss.Backward();
                optimizer.Step();
                return sw.Elapsed.TotalMilliseconds;
            }
            Step();
            var times = Enumerable.Range(0, repeats).Select(_ => Step()).Order().ToList();
            double median = times[times.Count / 2];
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                side = "sharpvision", scope = scope == FineTuneScope.All ? "all" : "last", batch, threads, step_ms_median = Math.Round(median, 1),
                step_ms_min = Math.Round(times[0], 1), images_per_s = Math.Round(batch * 1000 / median, 1),
                trainable_parameters = trainable.Sum(p => (long)p.Parameter.Size),
            }));
        }
        return 0;
    }
}

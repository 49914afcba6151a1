using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using SharpVision.Onnx;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Bench;

/// <summary>
/// Forward throughput of an imported ONNX backbone (default: ML.NET's ImageNet ResNet-18, batch 32, 3×224×224): the
/// engine (batch norms folded, <see cref="OnnxNetwork.Folded"/>) against ONNX Runtime's CPU provider on the same
/// file, in one process, alternating per round so both see the same load. ORT gets the same thread count
/// (intra-op threads, sequential execution, all graph optimizations, which fuse batch norm and ReLU into convolutions).
/// The file declares batch 1, so both sides run a copy whose batch dimension is symbolic, written by our own ONNX writer.
/// Prints one JSON line per side and round, then the best median per side and the ratio ours/ORT in images/s.
/// </summary>
internal static class OnnxBench
{
    public static int Run(string? modelPath, int batch, int repeats, int rounds, int threads)
    {
        modelPath ??= DefaultResNet18();
        Engine.Threads = threads;
        var model = OnnxFormat.Load(modelPath);
        var dynamicBatch = Path.Combine(Path.GetTempPath(), $"sharpvision-bench-{Environment.ProcessId}.onnx");
        OnnxFormat.Save(dynamicBatch, WithSymbolicBatch(model));
        try
        {
            var network = OnnxNetwork.Load(dynamicBatch).Folded();
            var shape = network.InputShape!.Select((d, i) => i == 0 ? batch : checked((int)(d.Value ?? throw new InvalidOperationException($"input dimension {i} is symbolic")))).ToArray();
            var rng = new Rng(7);
            var input = new float[shape.Aggregate(1, (a, b) => a * b)];
            for (int i = 0; i < input.Length; i++) input[i] = rng.NextFloat() * 255f - 128f;

            using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new InferenceSession(dynamicBatch, options);
            using var ortInput = OrtValue.CreateTensorValueFromMemory(input, shape.Select(d => (long)d).ToArray());
            string inputName = network.InputName, outputName = network.OutputName;
            float[] OursOnce()
            {
                using var _ = GradMode.NoGrad();
                using var pool = BufferPool.Step();
                return (float[])network.Forward(new Tensor(new Shape(shape), input)).Data.Clone();
            }
            float[] OrtOnce()
            {
                using var results = session.Run(new RunOptions(), [inputName], [ortInput], [outputName]);
                return results[0].GetTensorDataAsSpan<float>().ToArray();
            }
            var (ours, theirs) = (OursOnce(), OrtOnce()); // warm-up (JIT, plans, ORT's arena)
            double maxDiff = 0, scale = 0;
            for (int i = 0; i < ours.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(ours[i] - theirs[i]));
                scale = Math.Max(scale, Math.Abs(theirs[i]));
            }
            Console.Error.WriteLine($"onnx: {Path.GetFileName(modelPath)} batch {batch} input {string.Join("×", shape)}; {threads} threads; conv {Conv2dBackend.Describe()}; " +
                $"ORT {OrtEnv.Instance().GetVersionString()}; max |ours − ORT| = {maxDiff:E2} ({maxDiff / scale:E2} of the largest output); median of {repeats}, {rounds} rounds");
            network.Profile = [];
            for (int r = 0; r < repeats; r++) OursOnce();
            Console.Error.WriteLine("per operator, ms per batch: " + string.Join(", ", network.Profile.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value / repeats:F1}")));
            network.Profile = null;
            var best = new Dictionary<string, double>();
            for (int round = 1; round <= rounds; round++)
                foreach (var (side, once) in new (string, Func<float[]>)[] { ("sharpvision", OursOnce), ("onnxruntime", OrtOnce) })
                {
                    var times = new List<double>();
                    for (int r = 0; r < repeats; r++)
                    {
                        var sw = Stopwatch.StartNew();
                        once();
                        times.Add(sw.Elapsed.TotalMilliseconds);
                    }
                    times.Sort();
                    double median = times[times.Count / 2];
                    best[side] = Math.Min(best.GetValueOrDefault(side, double.MaxValue), median);
                    Console.WriteLine(JsonSerializer.Serialize(new
                    {
                        bench = "onnx_forward", side, round, model = Path.GetFileName(modelPath), batch, threads, median_ms = Math.Round(median, 2),
                        images_per_s = Math.Round(batch * 1000 / median, 2), conv = side == "sharpvision" ? Conv2dBackend.Used : "ort-cpu",
                    }));
                }
            double oursRate = batch * 1000 / best["sharpvision"], ortRate = batch * 1000 / best["onnxruntime"];
            Console.WriteLine($"best median: SharpVision {best["sharpvision"]:F1} ms ({oursRate:F1} images/s), ONNX Runtime {best["onnxruntime"]:F1} ms " +
                $"({ortRate:F1} images/s); ours/ORT = {oursRate / ortRate:F2}");
            return 0;
        }
        finally
        {
            File.Delete(dynamicBatch);
        }
    }

    // The model with the first dimension of its input and outputs named "N" instead of fixed.
    private static OnnxModel WithSymbolicBatch(OnnxModel model)
    {
        static OnnxValueInfo Symbolic(OnnxValueInfo v) => v.Shape is not { Count: > 0 } shape ? v
            : new OnnxValueInfo { Name = v.Name, IsTensor = v.IsTensor, ElementType = v.ElementType, DocString = v.DocString, Shape = [new OnnxDimension(null, "N"), .. shape.Skip(1)] };
        var initializers = model.Graph.Initializers.Select(t => t.Name).ToHashSet();
        var graph = model.Graph;
        return new OnnxModel
        {
            IrVersion = model.IrVersion, OperatorSets = model.OperatorSets, ProducerName = model.ProducerName, ProducerVersion = model.ProducerVersion,
            Domain = model.Domain, ModelVersion = model.ModelVersion, DocString = model.DocString, Metadata = model.Metadata,
            Graph = new OnnxGraph
            {
                Name = graph.Name, Nodes = graph.Nodes, Initializers = graph.Initializers, DocString = graph.DocString, ValueInfo = [],
                Inputs = graph.Inputs.Select(i => initializers.Contains(i.Name) ? i : Symbolic(i)).ToList(), Outputs = graph.Outputs.Select(Symbolic).ToList(),
            },
        };
    }

    private static string DefaultResNet18()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(root, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.24.0", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build bench/SharpVision.Bench (it downloads the NuGet package) or pass --model FILE.");
    }
}

using System.Diagnostics;
using System.Text.Json;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Tensors.Kernels;

// SharpVision's own timings for bench/knn.sh, bench/gemm.sh and bench/features.sh; the peers run beside them in the same script.
// Usage: dotnet run -c Release --project bench/SharpVision.Bench -- knn [--repeats 3] [--threads 2] [--data DIR] [--queries N]
//                                                                        [--only euclidean-1,manhattan-5]
//        (SHARPVISION_SIMD=scalar|avx2|avxvnni|avx512|avx512vnni forces the kernels; every line names the CPU and the path)
//        dotnet run -c Release --project bench/SharpVision.Bench -- simd [--levels]   # the CPU and its SIMD levels
//        dotnet run -c Release --project bench/SharpVision.Bench -- features [--repeats 3] [--threads 2] [--only hog,lbp] [--images N] [--check hog_skimage.f32]
//        dotnet run -c Release --project bench/SharpVision.Bench -- knnfeatures [--repeats 3] [--threads 2] [--features hog] [--queries N]
//        dotnet run -c Release --project bench/SharpVision.Bench -- gemm [--repeats 5] [--rounds 3] [--threads 2] [--sizes 256,512,1024,2048] [--provider managed|openblas]
//        dotnet run -c Release --project bench/SharpVision.Bench -- conv [--repeats 15] [--threads 2] [--only SUBSTRING]
//        dotnet run -c Release --project bench/SharpVision.Bench -- convkernels [--repeats 3] [--threads 2] [--only SUBSTRING] [--batch 128]
//        dotnet run -c Release --project bench/SharpVision.Bench -- tsne [--count 5000] [--threads 2]
//        dotnet run -c Release --project bench/SharpVision.Bench -- pngs --out DIR [--count 1000]        (bench/serve.sh's request bodies)
//        dotnet run -c Release --project bench/SharpVision.Bench -- serveload --url http://127.0.0.1:PORT/predict --pngs DIR
//            [--concurrency 1,8,32,128 --seconds 10 --warmup 2 | --rate R --seconds 60 --max-outstanding 1024] [--pid PID] [--label NAME]
//        dotnet run -c Release --project bench/SharpVision.Bench -- inprocess --model PATH --pngs DIR [--batches 1,32,512] [--seconds 5] [--threads 2]
//        dotnet run -c Release --project bench/SharpVision.Bench -- infer [--net cnn2|resnet8] [--batches 1,32,64] [--seconds 5] [--repeats 5]
//                                                                          [--threads 2] [--layers]
//        dotnet run -c Release --project bench/SharpVision.Bench -- onnx [--model FILE] [--batch 32] [--repeats 5] [--rounds 3] [--threads 2]
//        dotnet run -c Release --project bench/SharpVision.Bench -- finetune [--batch 32] [--repeats 5] [--threads 2] [--only all|last]
//        dotnet run -c Release --project bench/SharpVision.Bench -- vit [--repeats 3] [--threads 2] [--model vit|cct] [--batch 128] [--ops false]
//        dotnet run -c Release --project bench/SharpVision.Bench -- trees [--only forest,boost,svm] [--trees 100] [--rounds 100] [--leaves 31] [--lr 0.1]
//                                                                          [--train-limit N] [--seeds 1] [--split-search auto]
var argList = args.ToList();
string Arg(string name, string fallback)
{
    int i = argList.IndexOf(name);
    return i >= 0 && i + 1 < argList.Count ? argList[i + 1] : fallback;
}
string what = args.Length > 0 && !args[0].StartsWith("--") ? args[0] : "knn";
int repeats = int.Parse(Arg("--repeats", what switch { "gemm" => "5", "conv" => "15", _ => "3" }));
int threads = int.Parse(Arg("--threads", "2"));
string? data = argList.Contains("--data") ? Arg("--data", "") : null;

if (what == "simd")
{
    // bench scripts print this beside every figure: the CPU, what it has, and (with --levels) the levels to force.
    Console.WriteLine(argList.Contains("--levels")
        ? string.Join(' ', SimdPaths.SupportedLevels.Select(SimdDispatch.Name))
        : $"cpu: {SimdPaths.CpuModel}; features: {SimdDispatch.Names(SimdPaths.Machine)}; SIMD level {SimdPaths.Describe()}");
    return 0;
}
if (what == "gemm")
    return SharpVision.Bench.GemmBench.Run(repeats, int.Parse(Arg("--rounds", "3")), threads,
        argList.Contains("--sizes") ? Arg("--sizes", "").Split(',').Select(int.Parse).ToList() : null,
        argList.Contains("--provider") ? Arg("--provider", "") : null);
if (what == "conv")
    return SharpVision.Bench.ConvBench.Run(repeats, threads, argList.Contains("--only") ? Arg("--only", "") : null);
if (what == "convkernels")
    return SharpVision.Bench.ConvKernelBench.Run(repeats, threads, argList.Contains("--only") ? Arg("--only", "") : null, int.Parse(Arg("--batch", "128")));
if (what == "features")
    return SharpVision.Bench.FeatureBench.Run(data, repeats, threads,
        argList.Contains("--only") ? Arg("--only", "").Split(',') : null, argList.Contains("--check") ? Arg("--check", "") : null,
        argList.Contains("--images") ? int.Parse(Arg("--images", "")) : null);
if (what == "pngs")
    return SharpVision.Bench.ServeLoad.WritePngs(data, int.Parse(Arg("--count", "1000")), Arg("--out", "bench/out/fmnist-png"));
if (what == "serveload")
{
    int? pid = argList.Contains("--pid") ? int.Parse(Arg("--pid", "")) : null;
    if (argList.Contains("--rate"))
        return await SharpVision.Bench.ServeLoad.OpenLoopAsync(Arg("--url", ""), Arg("--pngs", ""), double.Parse(Arg("--rate", "")),
            double.Parse(Arg("--seconds", "60")), int.Parse(Arg("--max-outstanding", "1024")), pid, Arg("--label", "service"));
    return await SharpVision.Bench.ServeLoad.ClosedLoopAsync(Arg("--url", ""), Arg("--pngs", ""), Arg("--concurrency", "1,8,32,128").Split(',').Select(int.Parse).ToList(),
        double.Parse(Arg("--seconds", "10")), double.Parse(Arg("--warmup", "2")), int.Parse(Arg("--max-requests", "1000000")), pid, Arg("--label", "service"));
}
if (what == "inprocess")
    return SharpVision.Bench.ServeLoad.InProcess(Arg("--model", ""), Arg("--pngs", ""), Arg("--batches", "1,32,512").Split(',').Select(int.Parse).ToList(),
        double.Parse(Arg("--seconds", "5")), threads);
if (what == "infer")
    return SharpVision.Bench.InferenceBench.Run(Arg("--net", "cnn2"), Arg("--batches", "1,32,64").Split(',').Select(int.Parse).ToList(),
        double.Parse(Arg("--seconds", "5")), int.Parse(Arg("--repeats", "5")), threads, argList.Contains("--layers"));
if (what == "onnx")
    return SharpVision.Bench.OnnxBench.Run(argList.Contains("--model") ? Arg("--model", "") : null, int.Parse(Arg("--batch", "32")), int.Parse(Arg("--repeats", "5")),
        int.Parse(Arg("--rounds", "3")), threads);
if (what == "finetune")
    return SharpVision.Bench.FineTuneBench.Run(int.Parse(Arg("--batch", "32")), int.Parse(Arg("--repeats", "5")), threads,
        argList.Contains("--only") ? Arg("--only", "") : null);
if (what == "vit")
    return SharpVision.Bench.VitBench.Run(repeats, threads, Arg("--model", "vit"), int.Parse(Arg("--batch", "128")), Arg("--ops", "true") == "true");
if (what == "tsne")
    return SharpVision.Bench.TsneBench.Run(data, int.Parse(Arg("--count", "5000")), threads);
if (what == "knnfeatures")
    return SharpVision.Bench.FeatureKnnBench.Run(data, repeats, threads, Arg("--features", "hog"),
        argList.Contains("--queries") ? int.Parse(Arg("--queries", "")) : null);
if (what == "trees")
    return SharpVision.Bench.TreeBench.Run(data, threads, Arg("--only", "forest,boost"), int.Parse(Arg("--trees", "100")),
        int.Parse(Arg("--rounds", "100")),
        int.Parse(Arg("--leaves", "31")), double.Parse(Arg("--lr", "0.1"), System.Globalization.CultureInfo.InvariantCulture),
        argList.Contains("--train-limit") ? int.Parse(Arg("--train-limit", "")) : null, int.Parse(Arg("--seeds", "1")),
        Enum.Parse<SharpVision.Classic.Trees.SplitSearch>(Arg("--split-search", "auto"), ignoreCase: true));
if (what != "knn")
{
    Console.Error.WriteLine($"unknown benchmark '{what}' (known: knn, knnfeatures, gemm, conv, convkernels, features, tsne, vit, trees, " +
        "onnx, pngs, serveload, inprocess, simd)");
    return 2;
}

var location = new DatasetLocator(data).Locate("fashion-mnist");
var splits = DatasetLoader.Load(location);
string allQueries = splits.Test.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
int queryCount = Math.Min(splits.Test.Count, int.Parse(Arg("--queries", allQueries), System.Globalization.CultureInfo.InvariantCulture));
var test = queryCount == splits.Test.Count ? splits.Test : splits.Test.Take(queryCount);
string[]? only = argList.Contains("--only") ? Arg("--only", "").Split(',') : null;
Console.Error.WriteLine($"fashion-mnist from {location.Directory}{(location.IsSample ? " (SAMPLE: figures are not comparable)" : "")}; " +
    $"{splits.Train.Count} train, {test.Count} queries; SIMD {SimdPaths.Describe()}; {threads} threads");

void Row(string name, DistanceMetric metric, int queries, Func<double> run)
{
    run(); // warm-up: JIT and page faults are not what we measure
    var times = new List<double>();
    var cpu = new List<double>();
    double accuracy = 0;
    for (int r = 0; r < repeats; r++)
    {
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        accuracy = run();
        times.Add(sw.Elapsed.TotalSeconds);
        cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds);
    }
    times.Sort();
    cpu.Sort();
    double median = times[times.Count / 2];
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        bench = name, queries, median_s = Math.Round(median, 4), min_s = Math.Round(times[0], 4),
        cpu_s = Math.Round(cpu[cpu.Count / 2], 3), // median processor time (all threads): less hurt by a busy machine than wall time
        per_query_ms = Math.Round(median / queries * 1000, 4), queries_per_s = Math.Round(queries / median), accuracy = Math.Round(accuracy, 4),
        repeats, threads, backend = NeighborSearch.ByteBackend(metric), simd = SimdDispatch.Name(SimdPaths.Level), cpu = SimdPaths.CpuModel,
        cpu_features = SimdDispatch.Names(SimdPaths.Machine),
    }));
}

foreach (var (metric, k) in new[] { (DistanceMetric.Euclidean, 1), (DistanceMetric.Euclidean, 5), (DistanceMetric.Manhattan, 1), (DistanceMetric.Manhattan, 5) })
{
    string metricName = metric == DistanceMetric.Euclidean ? "euclidean" : "manhattan";
    if (only is not null && !only.Contains($"{metricName}-{k}")) continue;
    var model = new KNearestNeighbors(new(k, metric)).FitPixels(splits.Train);
    Row($"sharpvision kNN {metricName} k={k}", metric, test.Count, () => model.Score(test, threads));
}
return 0;

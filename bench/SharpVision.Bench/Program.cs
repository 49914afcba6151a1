using System.Diagnostics;
using System.Text.Json;
using SharpVision.Classic;
using SharpVision.Data;

// SharpVision's own timings for bench/knn.sh, bench/gemm.sh and bench/features.sh; the peers run beside them in the same script.
// Usage: dotnet run -c Release --project bench/SharpVision.Bench -- knn [--repeats 3] [--threads 2] [--data DIR]
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
//        dotnet run -c Release --project bench/SharpVision.Bench -- onnx [--model FILE] [--batch 32] [--repeats 5] [--rounds 3] [--threads 2]
//        dotnet run -c Release --project bench/SharpVision.Bench -- vit [--repeats 3] [--threads 2] [--model vit|cct] [--batch 128]
//        dotnet run -c Release --project bench/SharpVision.Bench -- trees [--only forest,boost,svm] [--trees 100] [--rounds 100] [--leaves 31] [--lr 0.1]
//                                                                          [--train-limit N]
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
if (what == "onnx")
    return SharpVision.Bench.OnnxBench.Run(argList.Contains("--model") ? Arg("--model", "") : null, int.Parse(Arg("--batch", "32")), int.Parse(Arg("--repeats", "5")),
        int.Parse(Arg("--rounds", "3")), threads);
if (what == "vit")
    return SharpVision.Bench.VitBench.Run(repeats, threads, Arg("--model", "vit"), int.Parse(Arg("--batch", "128")));
if (what == "tsne")
    return SharpVision.Bench.TsneBench.Run(data, int.Parse(Arg("--count", "5000")), threads);
if (what == "knnfeatures")
    return SharpVision.Bench.FeatureKnnBench.Run(data, repeats, threads, Arg("--features", "hog"),
        argList.Contains("--queries") ? int.Parse(Arg("--queries", "")) : null);
if (what == "trees")
    return SharpVision.Bench.TreeBench.Run(data, threads, Arg("--only", "forest,boost"), int.Parse(Arg("--trees", "100")),
        int.Parse(Arg("--rounds", "100")),
        int.Parse(Arg("--leaves", "31")), double.Parse(Arg("--lr", "0.1"), System.Globalization.CultureInfo.InvariantCulture),
        argList.Contains("--train-limit") ? int.Parse(Arg("--train-limit", "")) : null);
if (what != "knn")
{
    Console.Error.WriteLine($"unknown benchmark '{what}' (known: knn, knnfeatures, gemm, conv, convkernels, features, tsne, vit, trees, onnx, pngs, serveload, inprocess)");
    return 2;
}

var location = new DatasetLocator(data).Locate("fashion-mnist");
var splits = DatasetLoader.Load(location);
Console.Error.WriteLine($"fashion-mnist from {location.Directory}{(location.IsSample ? " (SAMPLE: figures are not comparable)" : "")}; " +
    $"{splits.Train.Count} train, {splits.Test.Count} test; backend l1 {NeighborSearch.ByteBackend(DistanceMetric.Manhattan)}, " +
    $"l2 {NeighborSearch.ByteBackend(DistanceMetric.Euclidean)}; {threads} threads");

void Row(string name, int queries, string backend, Func<double> run)
{
    run(); // warm-up: JIT and page faults are not what we measure
    var times = new List<double>();
    double accuracy = 0;
    for (int r = 0; r < repeats; r++)
    {
        var sw = Stopwatch.StartNew();
        accuracy = run();
        times.Add(sw.Elapsed.TotalSeconds);
    }
    times.Sort();
    double median = times[times.Count / 2];
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        bench = name, queries, median_s = Math.Round(median, 4), min_s = Math.Round(times[0], 4),
        per_query_ms = Math.Round(median / queries * 1000, 4), queries_per_s = Math.Round(queries / median), accuracy = Math.Round(accuracy, 4),
        repeats, threads, backend,
    }));
}

foreach (var (metric, k) in new[] { (DistanceMetric.Euclidean, 1), (DistanceMetric.Euclidean, 5), (DistanceMetric.Manhattan, 1), (DistanceMetric.Manhattan, 5) })
{
    var model = new KNearestNeighbors(new(k, metric)).FitPixels(splits.Train);
    Row($"sharpvision kNN {(metric == DistanceMetric.Euclidean ? "euclidean" : "manhattan")} k={k}", splits.Test.Count,
        NeighborSearch.ByteBackend(metric), () => model.Score(splits.Test, threads));
}
return 0;

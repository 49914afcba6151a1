using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Imaging;

namespace SharpVision.Bench;

/// <summary>
/// The load generator of bench/serve.sh, and its two helpers:
/// <list type="bullet">
/// <item><c>pngs</c>: writes the first N Fashion-MNIST test images as PNG files (the bodies both services get).</item>
/// <item><c>serveload</c>: drives a prediction service on loopback. Closed loop (<c>--concurrency 1,8,32</c>: C clients,
/// each sending its next request when the last is answered) or open loop (<c>--rate R</c>: R requests per second whatever
/// the answers, at most <c>--max-outstanding</c> in flight). Every run is bounded in time and count, and only loopback
/// addresses are accepted. Prints one JSON line per run: requests/s, latency percentiles, status counts, peak memory of
/// the service process (<c>--pid</c>), and with <c>--timeline</c> the per-second curve.</item>
/// <item><c>inprocess</c>: the same model predicting the same PNGs without HTTP, decode + batch prediction timed apart.</item>
/// </list>
/// </summary>
internal static class ServeLoad
{
    public static int WritePngs(string? data, int count, string output)
    {
        var location = new DatasetLocator(data).Locate("fashion-mnist");
        var test = DatasetLoader.Load(location).Test;
        Directory.CreateDirectory(output);
        int size = test.Height * test.Width;
        count = Math.Min(count, test.Count);
        for (int i = 0; i < count; i++)
        {
            var pixels = test.Pixels.AsSpan(i * size, size).ToArray();
            PngEncoder.Save(new Image(test.Width, test.Height, 1, pixels), Path.Combine(output, $"{i:D5}-{test.Labels[i]}.png"));
        }
        Console.Error.WriteLine($"{count} Fashion-MNIST test images from {location.Directory} → {output}");
        return 0;
    }

    public static byte[][] ReadPngs(string folder)
    {
        var files = Directory.GetFiles(folder, "*.png").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new FileNotFoundException($"no PNG files in {folder}");
        return files.Select(File.ReadAllBytes).ToArray();
    }

    /// <summary>Refuses anything but a loopback address: this tool never sends load elsewhere.</summary>
    private static Uri LoopbackOnly(string url)
    {
        var uri = new Uri(url);
        bool loopback = uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        if (!loopback || uri.Scheme != "http") throw new ArgumentException($"--url must be http:// on a loopback address (127.0.0.0/8, ::1, localhost), got {url}");
        return uri;
    }

    private static HttpClient Client(int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        UseProxy = false,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    private readonly record struct Sample(long StartTicks, double LatencyMs, int Status);

    /// <summary>Closed loop at each concurrency for <paramref name="seconds"/> (after <paramref name="warmup"/> s not counted).</summary>
    public static async Task<int> ClosedLoopAsync(string url, string pngs, IReadOnlyList<int> concurrencies, double seconds, double warmup, int maxRequests,
        int? pid, string label)
    {
        var target = LoopbackOnly(url);
        var bodies = ReadPngs(pngs);
        foreach (int c in concurrencies)
        {
            using var client = Client(c);
            await RunClosedAsync(client, target, bodies, c, TimeSpan.FromSeconds(warmup), maxRequests, null); // connections, JIT, caches
            using var memory = new MemorySampler(pid);
            var samples = await RunClosedAsync(client, target, bodies, c, TimeSpan.FromSeconds(seconds), maxRequests, memory);
            Console.WriteLine(Summary(label, $"c{c}", samples, memory, seconds, null).ToJsonString());
        }
        return 0;
    }

    private static async Task<List<Sample>> RunClosedAsync(HttpClient client, Uri target, byte[][] bodies, int concurrency, TimeSpan duration, int maxRequests,
        MemorySampler? memory)
    {
        var all = new List<Sample>[concurrency];
        long issued = 0, origin = Stopwatch.GetTimestamp();
        long end = origin + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        memory?.Start();
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = all[w] = new List<Sample>(4096);
            while (Stopwatch.GetTimestamp() < end)
            {
                long n = Interlocked.Increment(ref issued);
                if (n > maxRequests) break;
                mine.Add(await SendAsync(client, target, bodies[(int)(n % bodies.Length)], origin));
            }
        })).ToArray();
        await Task.WhenAll(workers);
        memory?.Stop();
        return all.SelectMany(s => s).ToList();
    }

    private static async Task<Sample> SendAsync(HttpClient client, Uri target, byte[] body, long origin)
    {
        long start = Stopwatch.GetTimestamp();
        int status;
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var response = await client.PostAsync(target, content);
            await response.Content.ReadAsByteArrayAsync(); // read to the end so the connection is reused
            status = (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            status = 0; // no answer: connection refused, reset or timed out
        }
        return new Sample(start - origin, Stopwatch.GetElapsedTime(start).TotalMilliseconds, status);
    }

    /// <summary>Open loop: <paramref name="rate"/> requests per second for <paramref name="seconds"/>, with the per-second curve.</summary>
    public static async Task<int> OpenLoopAsync(string url, string pngs, double rate, double seconds, int maxOutstanding, int? pid, string label)
    {
        var target = LoopbackOnly(url);
        var bodies = ReadPngs(pngs);
        using var client = Client(maxOutstanding);
        using var memory = new MemorySampler(pid, TimeSpan.FromSeconds(1));
        var samples = new System.Collections.Concurrent.ConcurrentBag<Sample>();
        var inFlight = new List<Task>();
        int outstanding = 0;
        long skipped = 0, sent = 0, origin = Stopwatch.GetTimestamp();
        long total = (long)(rate * seconds);
        memory.Start();
        while (sent + skipped < total)
        {
            double elapsed = Stopwatch.GetElapsedTime(origin).TotalSeconds;
            long due = Math.Min(total, (long)(elapsed * rate));
            while (sent + skipped < due)
            {
                if (Volatile.Read(ref outstanding) >= maxOutstanding)
                {
                    skipped++; // the generator's own bound: counted, never sent
                    continue;
                }
                Interlocked.Increment(ref outstanding);
                var body = bodies[(int)(sent % bodies.Length)];
                sent++;
                inFlight.Add(Task.Run(async () =>
                {
                    samples.Add(await SendAsync(client, target, body, origin));
                    Interlocked.Decrement(ref outstanding);
                }));
            }
            if (inFlight.Count > 50_000) inFlight.RemoveAll(t => t.IsCompleted);
            await Task.Delay(1);
        }
        await Task.WhenAll(inFlight);
        memory.Stop();
        var summary = Summary(label, $"open{rate:0}", samples.ToList(), memory, seconds, skipped);
        summary["offered_rps"] = Math.Round(rate, 1);
        Console.WriteLine(summary.ToJsonString());
        return 0;
    }

    private static JsonObject Summary(string label, string run, List<Sample> samples, MemorySampler memory, double seconds, long? skipped)
    {
        var ok = samples.Where(s => s.Status == 200).Select(s => s.LatencyMs).Order().ToArray();
        var statuses = new JsonObject();
        foreach (var group in samples.GroupBy(s => s.Status).OrderBy(g => g.Key)) statuses[group.Key.ToString(CultureInfo.InvariantCulture)] = group.Count();
        double span = samples.Count == 0 ? seconds : Math.Max(seconds, samples.Max(s => s.StartTicks / (double)Stopwatch.Frequency + s.LatencyMs / 1000));
        var document = new JsonObject
        {
            ["label"] = label,
            ["run"] = run,
            ["requests"] = samples.Count,
            ["ok"] = ok.Length,
            ["rps"] = Math.Round(ok.Length / span, 1),
            ["p50_ms"] = Percentile(ok, 0.50),
            ["p90_ms"] = Percentile(ok, 0.90),
            ["p99_ms"] = Percentile(ok, 0.99),
            ["max_ms"] = ok.Length == 0 ? null : Math.Round(ok[^1], 2),
            ["errors"] = samples.Count(s => s.Status != 200),
            ["status"] = statuses,
            ["peak_rss_mb"] = memory.PeakMegabytes,
            ["seconds"] = Math.Round(span, 2),
        };
        if (skipped is long s) document["skipped_by_generator"] = s;
        // CPU per answered request: the service's (all its threads) and the load generator's own, which shares the cores.
        var (serviceCpu, generatorCpu) = memory.CpuSeconds;
        if (samples.Count > 0 && serviceCpu > 0) document["service_cpu_us_per_request"] = Math.Round(serviceCpu * 1e6 / samples.Count, 1);
        if (samples.Count > 0) document["generator_cpu_us_per_request"] = Math.Round(generatorCpu * 1e6 / samples.Count, 1);
        if (memory.Curve.Count > 0)
        {
            var perSecond = samples.GroupBy(x => (int)(x.StartTicks / Stopwatch.Frequency)).ToDictionary(g => g.Key, g => g.ToList());
            var curve = new JsonArray();
            for (int i = 0; i < memory.Curve.Count; i++)
            {
                var slot = perSecond.TryGetValue(i, out var list) ? list : [];
                var accepted = slot.Where(x => x.Status == 200).Select(x => x.LatencyMs).Order().ToArray();
                curve.Add(new JsonObject
                {
                    ["second"] = i + 1,
                    ["rss_mb"] = memory.Curve[i],
                    ["sent"] = slot.Count,
                    ["ok"] = accepted.Length,
                    ["rejected_503"] = slot.Count(x => x.Status == 503),
                    ["other"] = slot.Count(x => x.Status is not (200 or 503)),
                    ["p99_ok_ms"] = Percentile(accepted, 0.99),
                });
            }
            document["timeline"] = curve;
        }
        return document;
    }

    private static double? Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? null : Math.Round(sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)], 2);

    /// <summary>Decode + prepare, then batch prediction, of the same PNGs in this process (no HTTP), images/s per batch size.</summary>
    public static int InProcess(string modelPath, string pngs, IReadOnlyList<int> batches, double seconds, int threads)
    {
        SharpVision.Tensors.Engine.Threads = threads;
        // The form the service predicts with (batch norms folded once), so the ratio compares the same computation.
        var model = SharpVision.Web.ServedModel.InferenceForm(SharpVision.Models.ModelFile.Load(modelPath));
        var bodies = ReadPngs(pngs);
        var p = model.Preparation;
        int size = p.Channels * p.Height * p.Width;
        var prepared = new byte[bodies.Length * size];
        var decode = Stopwatch.StartNew();
        int rounds = 0;
        do
        {
            for (int i = 0; i < bodies.Length; i++)
                p.Prepare(ImageDecoder.Decode(bodies[i], "png")).CopyTo(prepared.AsSpan(i * size, size));
            rounds++;
        } while (decode.Elapsed.TotalSeconds < 1);
        double decodeUs = decode.Elapsed.TotalMilliseconds * 1000 / (rounds * bodies.Length);
        Console.WriteLine(new JsonObject { ["label"] = "inprocess", ["run"] = "decode", ["us_per_image"] = Math.Round(decodeUs, 2) }.ToJsonString());
        foreach (int batch in batches)
        {
            model.Predict(prepared.AsSpan(0, Math.Min(batch, bodies.Length) * size), threads); // warm-up
            long images = 0;
            using var self = Process.GetCurrentProcess();
            var cpu = self.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            for (int start = 0; clock.Elapsed.TotalSeconds < seconds; start = (start + batch) % bodies.Length)
            {
                int n = Math.Min(batch, bodies.Length - start);
                model.Predict(prepared.AsSpan(start * size, n * size), threads);
                images += n;
            }
            double rate = images / clock.Elapsed.TotalSeconds;
            self.Refresh();
            Console.WriteLine(new JsonObject
            {
                ["label"] = "inprocess", ["run"] = $"batch{batch}", ["images_per_s"] = Math.Round(rate, 1),
                ["with_decode_images_per_s"] = Math.Round(1 / (1 / rate + decodeUs / 1e6), 1), ["threads"] = threads,
                ["cpu_us_per_image"] = Math.Round((self.TotalProcessorTime - cpu).TotalMicroseconds / images, 1),
            }.ToJsonString());
        }
        return 0;
    }

    /// <summary>Samples a process's resident memory (VmRSS) every 100 ms, or at a fixed period for a curve.</summary>
    private sealed class MemorySampler(int? pid, TimeSpan? curvePeriod = null) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _loop = Task.CompletedTask;
        private double _peak;

        public List<double> Curve { get; } = [];

        public double? PeakMegabytes => pid is null ? null : Math.Round(_peak, 1);

        /// <summary>CPU seconds (user + system) the service and this load generator used between Start and Stop.</summary>
        public (double Service, double Generator) CpuSeconds { get; private set; }

        private (double Service, double Generator) _cpuAtStart;

        public void Start()
        {
            _cpuAtStart = (ServiceCpu(), GeneratorCpu());
            if (pid is null) return;
            var period = curvePeriod ?? TimeSpan.FromMilliseconds(100);
            _loop = Task.Run(async () =>
            {
                var clock = Stopwatch.StartNew();
                var next = period;
                while (!_stop.IsCancellationRequested)
                {
                    double rss = Rss();
                    _peak = Math.Max(_peak, rss);
                    if (curvePeriod is not null && clock.Elapsed >= next)
                    {
                        Curve.Add(Math.Round(rss, 1));
                        next += period;
                    }
                    try
                    {
                        await Task.Delay(100, _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            });
        }

        public void Stop()
        {
            _stop.Cancel();
            _loop.Wait();
            if (pid is not null) _peak = Math.Max(_peak, Rss());
            CpuSeconds = (ServiceCpu() - _cpuAtStart.Service, GeneratorCpu() - _cpuAtStart.Generator);
        }

        private static double GeneratorCpu()
        {
            using var self = Process.GetCurrentProcess();
            return self.TotalProcessorTime.TotalSeconds;
        }

        // utime + stime of /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s), 0 without a pid.
        private double ServiceCpu()
        {
            if (pid is null) return 0;
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (IOException)
            {
                return 0;
            }
        }

        private double Rss()
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                    if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                        return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;
            }
            catch (IOException)
            {
            }
            return 0;
        }

        public void Dispose() => _stop.Dispose();
    }
}

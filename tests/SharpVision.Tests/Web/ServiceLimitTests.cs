using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using SharpVision.Web;

namespace SharpVision.Tests.Web;

/// <summary>The limits with their own options: body size, a full queue, deadlines, batching, reloading, draining.</summary>
public class ServiceLimitTests
{
    private static async Task<JsonNode> Json(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    [Fact]
    public async Task BodyOverTheLimit_Is413_BeforeDecoding()
    {
        using var folder = new TestModelFolder();
        await using var service = TestService.For(folder.Path, o => o with { MaxBodyBytes = 4096 });
        var response = await service.Client.PostAsync("/predict", TestService.Raw(new byte[5000]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var error = await Json(response);
        Assert.Equal("body_too_large", (string?)error["code"]);
        Assert.Contains("limit of 4096 bytes", (string?)error["error"]);
    }

    [Fact]
    public async Task FullQueue_Is503WithRetryAfter_AtOnce()
    {
        using var folder = new TestModelFolder();
        await using var service = TestService.For(folder.Path, o => o with { QueueLength = 1 });
        service.WaitUntilReady();
        var queue = service.Service.QueueOf("cnn");
        Assert.True(queue.TryReserve()); // the only place is taken, as by a request being decoded
        var clock = Stopwatch.StartNew();
        var response = await service.Client.PostAsync("/predict", TestService.Raw(TestModelFolder.Png(1)));
        clock.Stop();
        queue.Release();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("queue_full", (string?)(await Json(response))["code"]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        var ok = await service.Client.PostAsync("/predict", TestService.Raw(TestModelFolder.Png(1)));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode); // the place is back
    }

    [Fact]
    public async Task RequestPastItsDeadline_Is503_AndIsNotPredicted()
    {
        using var folder = new TestModelFolder();
        await using var service = TestService.For(folder.Path, o => o with { Timeout = TimeSpan.FromMilliseconds(300) });
        service.WaitUntilReady();
        HttpResponseMessage late;
        Task<HttpResponseMessage> first;
        Stopwatch clock;
        using (service.HoldEngine())
        {
            // The first request is taken by the worker, which then waits for the engine; the second waits in the queue.
            first = service.Client.PostAsync("/predict", TestService.Raw(TestModelFolder.Png(1)));
            await WaitFor(() => service.Service.QueueOf("cnn").Taken == 1);
            // Only the late request's own wait is timed: getting the first one taken can be slow on a busy machine.
            clock = Stopwatch.StartNew();
            late = await service.Client.PostAsync("/predict", TestService.Raw(TestModelFolder.Png(2)));
            clock.Stop();
        }
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
        Assert.Equal("deadline_exceeded", (string?)(await Json(late))["code"]);
        Assert.InRange(clock.Elapsed.TotalMilliseconds, 250, 5000);
    }

    [Fact]
    public async Task ConcurrentRequests_AreGatheredIntoOneBatch_WithTheSameAnswers()
    {
        using var folder = new TestModelFolder();
        await using var service = TestService.For(folder.Path, o => o with { MaxBatchSize = 16 });
        service.WaitUntilReady();
        var pngs = Enumerable.Range(100, 8).Select(seed => TestModelFolder.Png(seed)).ToArray();
        Task<HttpResponseMessage>[] requests;
        using (service.HoldEngine())
        {
            // While the engine is busy the first request waits with the worker and the other seven queue up.
            var queue = service.Service.QueueOf("cnn");
            var first = service.Client.PostAsync("/predict?top=10", TestService.Raw(pngs[0]));
            await WaitFor(() => queue.Taken == 1);
            requests = [first, .. pngs[1..].Select(png => service.Client.PostAsync("/predict?top=10", TestService.Raw(png)))];
            await WaitFor(() => queue.Depth == 7);
        }
        var responses = await Task.WhenAll(requests);
        var metrics = service.Service.RenderMetrics().Split('\n');
        Assert.Equal("2", metrics.Single(l => l.StartsWith("sharpvision_batch_size_count{model=\"cnn\"}", StringComparison.Ordinal)).Split(' ')[^1]);
        Assert.Equal("1", metrics.Single(l => l.StartsWith("sharpvision_batch_size_bucket{model=\"cnn\",le=\"1\"}", StringComparison.Ordinal)).Split(' ')[^1]);
        for (int i = 0; i < pngs.Length; i++)
        {
            var expected = TestModelFolder.Expected(folder.Model, pngs[i]);
            var top = (await Json(responses[i]))["predictions"]![0]!["top"]!.AsArray();
            for (int j = 0; j < 10; j++)
                Assert.Equal(expected.ProbabilitiesOf(0)[(int)top[j]!["index"]!], (double)top[j]!["probability"]!, 2e-6); // 6 decimals on the wire
        }
        var log = service.LogText(t => t.Split('\n').Count(l => l.Contains("\"batch\":7", StringComparison.Ordinal)) == 7);
        Assert.Equal(7, log.Split('\n').Count(l => l.Contains("\"batch\":7", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ReplacedModelFile_IsReloaded_AndABrokenOneKeepsTheOld()
    {
        using var folder = new TestModelFolder(seed: 1);
        await using var service = TestService.For(folder.Path);
        service.WaitUntilReady();
        var png = TestModelFolder.Png(seed: 4);
        async Task<JsonNode> Predict() => await Json(await service.Client.PostAsync("/predict?top=10", TestService.Raw(png)));
        var before = await Predict();

        // A new model written beside it and renamed over it, as training does (atomic).
        var replacement = TestModelFolder.Cnn2(seed: 2);
        var staging = folder.Combine("next.safetensors");
        replacement.Save(staging);
        File.Move(staging, folder.Path, overwrite: true);
        service.Service.CheckForReplacement("cnn");
        var after = await Predict();
        Assert.NotEqual((string?)before["sha256"], (string?)after["sha256"]);
        var expected = TestModelFolder.Expected(replacement, png);
        Assert.Equal(expected.Label(0), (int)after["predictions"]![0]!["top"]![0]!["index"]!);

        // A broken file: logged, the replacement keeps serving.
        File.WriteAllBytes(folder.Path, File.ReadAllBytes(folder.Path)[..100]);
        service.Service.CheckForReplacement("cnn");
        var still = await Predict();
        Assert.Equal((string?)after["sha256"], (string?)still["sha256"]);
        var log = service.LogText(t => t.Contains("model_reload_failed", StringComparison.Ordinal));
        var failed = JsonNode.Parse(log.Split('\n').Single(l => l.Contains("model_reload_failed", StringComparison.Ordinal)))!;
        Assert.Equal(folder.Path, (string?)failed["path"]);
        Assert.Contains(folder.Path, (string?)failed["error"]);
        Assert.Contains("model_reloaded", log);
        var metrics = service.Service.RenderMetrics();
        Assert.Contains("sharpvision_model_reloads_total{model=\"cnn\",result=\"ok\"} 1", metrics);
        Assert.Contains("sharpvision_model_reloads_total{model=\"cnn\",result=\"failed\"} 1", metrics);
    }

    [Fact]
    public async Task Stopping_AnswersTheRequestInFlight_AndRefusesNewOnes()
    {
        using var folder = new TestModelFolder();
        var service = TestService.For(folder.Path);
        service.WaitUntilReady();
        Task<HttpResponseMessage> inFlight;
        using (service.HoldEngine())
        {
            inFlight = service.Client.PostAsync("/predict", TestService.Raw(TestModelFolder.Png(1)));
            await WaitFor(() => service.Service.QueueOf("cnn").Taken == 1);
            service.Service.BeginStopping();
            var refused = await service.Client.PostAsync("/predict", TestService.Raw(TestModelFolder.Png(2)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("stopping", (string?)(await Json(refused))["code"]);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await service.Client.GetAsync("/readyz")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await inFlight).StatusCode);
        await service.DisposeAsync();
        Assert.Contains("\"event\":\"stopped\"", service.Log.ToString());
    }

    [Fact]
    public async Task KnnModelBesideACnn_BothServed_EachWithItsKindAndItsOwnAnswers()
    {
        // Any kind ModelFile loads is served the same way: a k-NN model on 28×28 gray images next to the cnn2.
        using var folder = new TestModelFolder();
        var pixels = new byte[40 * 784];
        new Random(5).NextBytes(pixels);
        var train = new SharpVision.Data.ImageDataset("knn", 1, 28, 28, pixels, Enumerable.Range(0, 40).Select(i => i % 10).ToArray(), TestModelFolder.Classes);
        var knn = new SharpVision.Classic.KNearestNeighbors(new SharpVision.Classic.KNearestNeighborsOptions(K: 3)).Fit(train);
        var knnPath = folder.Combine("knn.safetensors");
        knn.Save(knnPath);
        var options = new ServeOptions { Models = [new ModelSource("cnn", folder.Path), new ModelSource("knn", knnPath)], ReloadInterval = TimeSpan.Zero };
        await using var service = new TestService(options);
        var png = TestModelFolder.Png(seed: 8);
        var cards = (await Json(await service.Client.GetAsync("/v1/models")))["models"]!.AsArray();
        Assert.Equal(["cnn2", "knn"], cards.Select(c => (string)c!["kind"]!));
        Assert.Equal(40, (long)cards[1]!["reference_images"]!);
        Assert.Equal(3, (int)cards[1]!["settings"]!["k"]!);
        var answer = await Json(await service.Client.PostAsync("/v1/models/knn/predict?top=10", TestService.Raw(png)));
        var expected = TestModelFolder.Expected(knn, png);
        Assert.Equal(expected.Top(0, 10).ToArray(), answer["predictions"]![0]!["top"]!.AsArray().Select(t => (int)t!["index"]!));
        var cnn = await Json(await service.Client.PostAsync("/predict", TestService.Raw(png)));
        Assert.Equal("cnn", (string?)cnn["model"]);
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException("condition not reached in 10 s");
            await Task.Delay(5);
        }
    }
}

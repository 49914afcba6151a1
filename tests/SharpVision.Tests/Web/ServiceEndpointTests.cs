using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SharpVision.Web;

namespace SharpVision.Tests.Web;

/// <summary>One served model shared by the endpoint tests that need no special options.</summary>
public sealed class SharedService : IAsyncLifetime
{
    internal TestModelFolder Folder { get; } = new(seed: 1, runFiles: true);

    internal TestService Service { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Service = TestService.For(Folder.Path);
        Service.WaitUntilReady();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Service.DisposeAsync();
        Folder.Dispose();
    }
}

/// <summary>The service's endpoints in process: answers checked against the model's own predictions, cards, health, metrics, OpenAPI.</summary>
public class ServiceEndpointTests(SharedService shared) : IClassFixture<SharedService>
{
    private HttpClient Client => shared.Service.Client;

    private static async Task<JsonNode> Json(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    [Fact]
    public async Task PredictRaw_Png_AnswersThePredictDocumentWithTheModelsOwnTopClasses()
    {
        var png = TestModelFolder.Png(seed: 7);
        var response = await Client.PostAsync("/predict?top=3", TestService.Raw(png, name: "shirt.png"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await Json(response);
        Assert.Equal("predict", (string?)document["command"]);
        Assert.Equal("cnn", (string?)document["model"]);
        Assert.Equal(shared.Folder.Path, (string?)document["model_path"]);
        var prediction = document["predictions"]!.AsArray().Single()!;
        Assert.Equal("shirt.png", (string?)prediction["path"]);
        var expected = TestModelFolder.Expected(shared.Folder.Model, png);
        var top = prediction["top"]!.AsArray();
        Assert.Equal(3, top.Count);
        for (int j = 0; j < 3; j++)
        {
            int index = expected.Top(0, 3)[j];
            Assert.Equal(index, (int)top[j]!["index"]!);
            Assert.Equal(TestModelFolder.Classes[index], (string?)top[j]!["label"]);
            Assert.Equal(expected.ProbabilitiesOf(0)[index], (double)top[j]!["probability"]!, 2e-6); // rounded to 6 decimals
        }
    }

    [Fact]
    public async Task PredictRaw_BmpNamedJpg_IsReadByContent_AndAnswersAsThePngOfTheSamePixels()
    {
        var png = TestModelFolder.Png(seed: 7);
        var rgb = SharpVision.Imaging.ImageOps.ToRgb(SharpVision.Imaging.ImageDecoder.Decode(png, "shirt.png"));
        var bmp = new byte[54 + rgb.Height * ((rgb.Width * 3 + 3) & ~3)];
        "BM"u8.CopyTo(bmp);
        BitConverter.TryWriteBytes(bmp.AsSpan(10), 54);
        BitConverter.TryWriteBytes(bmp.AsSpan(14), 40);
        BitConverter.TryWriteBytes(bmp.AsSpan(18), rgb.Width);
        BitConverter.TryWriteBytes(bmp.AsSpan(22), -rgb.Height); // top-down
        BitConverter.TryWriteBytes(bmp.AsSpan(26), (short)1);
        BitConverter.TryWriteBytes(bmp.AsSpan(28), (short)24);
        for (int y = 0, o = 54; y < rgb.Height; y++, o += (rgb.Width * 3 + 3) & ~3)
            for (int x = 0; x < rgb.Width; x++)
                for (int c = 0; c < 3; c++)
                    bmp[o + 3 * x + c] = rgb.Pixels[(y * rgb.Width + x) * 3 + 2 - c];

        var fromPng = await Json(await Client.PostAsync("/predict?top=3", TestService.Raw(png, name: "shirt.png")));
        var response = await Client.PostAsync("/predict?top=3", TestService.Raw(bmp, "image/bmp", name: "shirt.jpg"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var fromBmp = await Json(response);
        Assert.Equal("shirt.jpg", (string?)fromBmp["predictions"]![0]!["path"]);
        Assert.Equal(fromPng["predictions"]![0]!["top"]!.ToJsonString(), fromBmp["predictions"]![0]!["top"]!.ToJsonString());
    }

    [Fact]
    public async Task PredictMultipart_TwoFiles_AnswersEachUnderItsFileNameInOrder()
    {
        var (a, b) = (TestModelFolder.Png(seed: 11), TestModelFolder.Png(seed: 12));
        var response = await Client.PostAsync("/v1/models/cnn/predict?top=1", TestService.Files(("a.png", a), ("b.png", b)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var predictions = (await Json(response))["predictions"]!.AsArray();
        Assert.Equal(["a.png", "b.png"], predictions.Select(p => (string)p!["path"]!));
        Assert.Equal(TestModelFolder.Expected(shared.Folder.Model, a).Label(0), (int)predictions[0]!["top"]![0]!["index"]!);
        Assert.Equal(TestModelFolder.Expected(shared.Folder.Model, b).Label(0), (int)predictions[1]!["top"]![0]!["index"]!);
        Assert.Single(predictions[0]!["top"]!.AsArray());
    }

    [Fact]
    public async Task PredictRaw_WithoutFileName_IsNamedUpload_AndTopDefaultsToThree()
    {
        var response = await Client.PostAsync("/predict", TestService.Raw(TestModelFolder.Png(seed: 3), "application/octet-stream"));
        var prediction = (await Json(response))["predictions"]![0]!;
        Assert.Equal("upload", (string?)prediction["path"]);
        Assert.Equal(3, prediction["top"]!.AsArray().Count);
    }

    [Fact]
    public async Task Models_ListTheCard_WithAccuracyHashParametersAndReport()
    {
        var card = (await Json(await Client.GetAsync("/v1/models")))["models"]!.AsArray().Single()!;
        Assert.Equal("cnn", (string?)card["name"]);
        Assert.Equal("cnn2", (string?)card["kind"]);
        Assert.Equal(TestModelFolder.Classes, card["classes"]!.AsArray().Select(c => (string)c!));
        Assert.Equal(1, (int)card["input"]!["channels"]!);
        Assert.Equal(28, (int)card["input"]!["height"]!);
        Assert.Equal(shared.Folder.Model.Network.ParameterCount(), (long)card["parameters"]!);
        Assert.Equal(0.9051, (double)card["test_accuracy"]!);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(shared.Folder.Path))), (string?)card["sha256"]);
        Assert.StartsWith("gemm-", (string?)card["backend"]);
        Assert.Equal("/v1/models/cnn/report", (string?)card["report_url"]);
        var report = await Client.GetAsync("/v1/models/cnn/report");
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Contains("the run's report", await report.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Healthz_IsOk_AndReadyz_IsReadyOnceWarm()
    {
        Assert.Equal("ok", (string?)(await Json(await Client.GetAsync("/healthz")))["status"]);
        var ready = await Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var document = await Json(ready);
        Assert.Equal("ready", (string?)document["status"]);
        Assert.True((bool)document["models"]!["cnn"]!);
    }

    [Fact]
    public async Task Metrics_CountRequestsByRouteAndStatus_InPrometheusText()
    {
        await Client.PostAsync("/v1/models/cnn/predict", TestService.Raw(TestModelFolder.Png(seed: 5)));
        await Client.PostAsync("/v1/models/cnn/predict", TestService.Raw("not a png"u8.ToArray()));
        var response = await Client.GetAsync("/metrics");
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString());
        var text = await response.Content.ReadAsStringAsync();
        var lines = text.Split('\n');
        long Value(string prefix) => long.Parse(lines.Single(l => l.StartsWith(prefix, StringComparison.Ordinal)).Split(' ')[^1]);
        Assert.True(Value("sharpvision_requests_total{route=\"/v1/models/{name}/predict\",status=\"200\"}") >= 1);
        Assert.True(Value("sharpvision_requests_total{route=\"/v1/models/{name}/predict\",status=\"415\"}") >= 1);
        Assert.True(Value("sharpvision_request_duration_seconds_count{route=\"/v1/models/{name}/predict\"}") >= 2);
        Assert.True(Value("sharpvision_batch_size_count{model=\"cnn\"}") >= 1);
        Assert.True(Value("sharpvision_images_total{model=\"cnn\"}") >= 1);
        Assert.Equal(0, Value("sharpvision_queue_depth{model=\"cnn\"}"));
        Assert.Equal(256, Value("sharpvision_queue_capacity{model=\"cnn\"}"));
        Assert.Contains("# TYPE sharpvision_request_duration_seconds histogram", text);
        Assert.Contains("sharpvision_images_per_second{model=\"cnn\"}", text);
    }

    [Fact]
    public async Task OpenApi_DescribesThePredictBodiesAndEveryRoute()
    {
        var document = await Json(await Client.GetAsync("/openapi/v1.json"));
        var paths = document["paths"]!.AsObject();
        foreach (var path in new[] { "/predict", "/v1/models/{name}/predict", "/v1/models", "/healthz", "/readyz", "/metrics" })
            Assert.True(paths.ContainsKey(path), $"missing {path}");
        var body = paths["/v1/models/{name}/predict"]!["post"]!["requestBody"]!["content"]!.AsObject();
        Assert.Equal(["image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp", "application/octet-stream", "multipart/form-data"],
            body.Select(p => p.Key));
        Assert.NotNull(paths["/predict"]!["post"]!["responses"]!["503"]);
    }

    [Fact]
    public async Task Page_IsServedWithItsScriptUnderAStrictPolicy()
    {
        var page = await Client.GetAsync("/");
        Assert.Equal("text/html; charset=utf-8", page.Content.Headers.ContentType!.ToString());
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("id=\"file\"", html);
        Assert.Contains("/page.js", html);
        Assert.Contains("/v1/models/", await Client.GetStringAsync("/page.js"));
    }

    [Fact]
    public async Task RequestLog_HasOneStructuredLinePerRequest_WithLatency()
    {
        await Client.PostAsync("/predict", TestService.Raw(TestModelFolder.Png(seed: 9), name: "logged.png"));
        var text = shared.Service.LogText(t => t.Contains("\"path\":\"/predict\"", StringComparison.Ordinal));
        var line = text.Split('\n').Last(l => l.Contains("\"path\":\"/predict\"", StringComparison.Ordinal) && l.Contains("\"status\":200"));
        var entry = JsonNode.Parse(line)!;
        Assert.Equal("request", (string?)entry["event"]);
        Assert.Equal("POST", (string?)entry["method"]);
        Assert.Equal("cnn", (string?)entry["model"]);
        Assert.Equal(1, (int)entry["images"]!);
        Assert.True((double)entry["ms"]! > 0);
        Assert.True((int)entry["batch"]! >= 1);
    }
}

/// <summary>Every refusal: its status, its JSON error naming the problem, one test each.</summary>
public class ServiceErrorTests(SharedService shared) : IClassFixture<SharedService>
{
    private async Task<(HttpStatusCode Status, JsonNode Error)> Post(string url, HttpContent content)
    {
        var response = await shared.Service.Client.PostAsync(url, content);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task UnknownModel_Is404_NamingTheServedModels()
    {
        var (status, error) = await Post("/v1/models/nope/predict", TestService.Raw(TestModelFolder.Png(1)));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("unknown_model", (string?)error["code"]);
        Assert.Equal("no model named 'nope' (served: cnn)", (string?)error["error"]);
    }

    [Fact]
    public async Task NotAnImage_Is415_NamingTheFileAndItsFirstBytes()
    {
        var (status, error) = await Post("/predict", TestService.Raw("II*\0..."u8.ToArray(), name: "cat.tif"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal("not_an_image", (string?)error["code"]);
        Assert.Equal("cat.tif: not a PNG, JPEG, GIF, BMP or WebP file (starts with 0x49 0x49 0x2A 0x00)", (string?)error["error"]);
    }

    [Fact]
    public async Task WrongContentType_Is415()
    {
        var (status, error) = await Post("/predict", TestService.Raw(TestModelFolder.Png(1), "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal("unsupported_media_type", (string?)error["code"]);
        Assert.Contains("'text/plain' is not accepted", (string?)error["error"]);
    }

    [Fact]
    public async Task TruncatedPng_Is400_NamingTheFile()
    {
        var png = TestModelFolder.Png(1);
        var (status, error) = await Post("/predict", TestService.Raw(png[..(png.Length - 20)], name: "cut.png"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("undecodable_image", (string?)error["code"]);
        Assert.StartsWith("cut.png: ", (string?)error["error"]);
    }

    [Fact]
    public async Task EmptyBody_Is400()
    {
        var (status, error) = await Post("/predict", TestService.Raw([]));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("empty_image", (string?)error["code"]);
    }

    [Fact]
    public async Task ImageOverThePixelLimit_IsRefusedFromItsHeader_413()
    {
        // 100,000 × 100,000 claimed by a 33-byte header: decoding it would need 10 GB.
        var (status, error) = await Post("/predict", TestService.Raw(TestImages.PngHeaderClaiming(100_000, 100_000), name: "huge.png"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("too_many_pixels", (string?)error["code"]);
        Assert.Equal("huge.png: the PNG header claims 100000x100000 = 10000000000 pixels, more than the limit of 64000000", (string?)error["error"]);
    }

    [Fact]
    public async Task TopBelowOne_Is400()
    {
        var (status, error) = await Post("/predict?top=0", TestService.Raw(TestModelFolder.Png(1)));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("bad_top", (string?)error["code"]);
    }

    [Fact]
    public async Task TopNotANumber_Is400_NamingTheParameter()
    {
        var (status, error) = await Post("/predict?top=many", TestService.Raw(TestModelFolder.Png(1)));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("top", (string?)error["error"]);
    }

    [Fact]
    public async Task MultipartWithoutFiles_Is400()
    {
        var form = new MultipartFormDataContent { { new StringContent("hello"), "note" } };
        var (status, error) = await Post("/predict", form);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("no_files", (string?)error["code"]);
    }

    [Fact]
    public async Task UnknownRoute_Is404_AsJson()
    {
        var response = await shared.Service.Client.GetAsync("/v2/nothing");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["code"]);
    }
}

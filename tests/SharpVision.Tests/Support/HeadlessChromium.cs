using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace SharpVision.Tests.Support;

/// <summary>
/// Debian's chromium driven through chromedriver's W3C WebDriver HTTP API (no client library: a handful of JSON
/// requests). Headless, sandbox and GPU off, background networking off, and every proxied request sent to a local
/// <see cref="RequestRecorder"/>, so a page that tries to reach the network is caught.
/// </summary>
internal sealed class HeadlessChromium : IDisposable
{
    public static string ChromiumPath => Environment.GetEnvironmentVariable("SHARPVISION_CHROMIUM") ?? "/usr/bin/chromium";

    public static string ChromeDriverPath => Environment.GetEnvironmentVariable("SHARPVISION_CHROMEDRIVER") ?? "/usr/bin/chromedriver";

    /// <summary>Why the browser cannot run here, or null when both binaries are present.</summary>
    public static string? MissingReason =>
        !File.Exists(ChromiumPath) ? $"{ChromiumPath} not found (Debian package chromium)"
        : !File.Exists(ChromeDriverPath) ? $"{ChromeDriverPath} not found (Debian package chromium-driver)"
        : null;

    /// <summary>Where Chromium's own Google-account endpoints are sent (a reserved name that never resolves).</summary>
    public const string BrowserServiceHost = "chromium-services.invalid";

    private readonly Process _driver;
    private readonly HttpClient _http;
    private readonly string _session;

    /// <param name="proxy">Where every request goes that does not go to <paramref name="direct"/>.</param>
    /// <param name="width">Window width.</param>
    /// <param name="height">Window height.</param>
    /// <param name="direct">host:port pairs the browser may reach directly (a local service under test).</param>
    public HeadlessChromium(RequestRecorder proxy, int width = 1280, int height = 900, IReadOnlyList<string>? direct = null)
    {
        int port = FreePort();
        var info = new ProcessStartInfo(ChromeDriverPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add($"--port={port}");
        _driver = Process.Start(info) ?? throw new InvalidOperationException("chromedriver did not start");
        _driver.OutputDataReceived += (_, _) => { };
        _driver.ErrorDataReceived += (_, _) => { };
        _driver.BeginOutputReadLine();
        _driver.BeginErrorReadLine();
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(90) };
        try
        {
            WaitUntilReady();
            var capabilities = new JsonObject
            {
                ["capabilities"] = new JsonObject
                {
                    ["alwaysMatch"] = new JsonObject
                    {
                        ["browserName"] = "chrome",
                        ["goog:chromeOptions"] = new JsonObject
                        {
                            ["binary"] = ChromiumPath,
                            ["args"] = new JsonArray(
                                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
                                "--disable-component-update", "--disable-default-apps", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                                "--disable-extensions", "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--no-pings", "--disable-breakpad",
                                "--metrics-recording-only", "--no-default-browser-check", "--disable-features=OptimizationHints,Translate,MediaRouter,AutofillServerCommunication",
                                // Chromium's account service polls accounts.google.com by itself (ListAccounts), whatever the page;
                                // its endpoints are renamed so the recorder can tell the browser's own requests from the page's.
                                $"--gaia-url=http://{BrowserServiceHost}/", $"--google-apis-url=http://{BrowserServiceHost}/", $"--lso-url=http://{BrowserServiceHost}/",
                                // The component updater once posted to update.googleapis.com despite --disable-component-update (CI,
                                // 2026-12-03): its endpoint is renamed too, so it stays the browser's own request.
                                $"--component-updater=url-source=http://{BrowserServiceHost}/service/update2",
                                $"--window-size={width},{height}",
                                // Everything that would leave the machine, loopback included, goes to the recorder.
                                $"--proxy-server=http://127.0.0.1:{proxy.Port}", $"--proxy-bypass-list={string.Join(";", ["<-loopback>", .. direct ?? []])}"),
                        },
                        ["goog:loggingPrefs"] = new JsonObject { ["performance"] = "ALL", ["browser"] = "ALL" },
                    },
                },
            };
            var created = Send(HttpMethod.Post, "session", capabilities);
            _session = (string?)created?["sessionId"] ?? throw new InvalidOperationException("chromedriver created no session");
        }
        catch
        {
            Kill();
            throw;
        }
    }

    /// <summary>Loads <paramref name="url"/> and waits for it (WebDriver's default page-load strategy).</summary>
    public void Navigate(string url) => Send(HttpMethod.Post, $"session/{_session}/url", new JsonObject { ["url"] = url });

    /// <summary>Runs <paramref name="script"/> (a function body; `return` gives the result) in the page.</summary>
    public JsonNode? Execute(string script, params JsonNode?[] args) =>
        Send(HttpMethod.Post, $"session/{_session}/execute/sync", new JsonObject { ["script"] = script, ["args"] = new JsonArray(args) });

    /// <summary>Types <paramref name="text"/> into the element matched by <paramref name="cssSelector"/>; for a file input, the path of the file to choose.</summary>
    public void SendKeys(string cssSelector, string text)
    {
        var found = Send(HttpMethod.Post, $"session/{_session}/element", new JsonObject { ["using"] = "css selector", ["value"] = cssSelector });
        var id = (string)found!.AsObject().First().Value!;
        Send(HttpMethod.Post, $"session/{_session}/element/{id}/value", new JsonObject { ["text"] = text });
    }

    /// <summary>A PNG of the whole page (beyond the window), through the DevTools protocol.</summary>
    public byte[] FullPageScreenshot()
    {
        var size = Execute("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight];")!.AsArray();
        var result = Cdp("Page.captureScreenshot", new JsonObject
        {
            ["format"] = "png",
            ["captureBeyondViewport"] = true,
            ["clip"] = new JsonObject { ["x"] = 0, ["y"] = 0, ["width"] = (double)size[0]!, ["height"] = (double)size[1]!, ["scale"] = 1 },
        });
        return Convert.FromBase64String((string)result!["data"]!);
    }

    /// <summary>A PNG of what the window shows (the first screen of the page).</summary>
    public byte[] WindowScreenshot() => Convert.FromBase64String((string)Send(HttpMethod.Get, $"session/{_session}/screenshot")!);

    /// <summary>A PNG of the element matched by <paramref name="cssSelector"/>.</summary>
    public byte[] ElementScreenshot(string cssSelector)
    {
        var found = Send(HttpMethod.Post, $"session/{_session}/element", new JsonObject { ["using"] = "css selector", ["value"] = cssSelector });
        var id = (string)found!.AsObject().First().Value!;
        return Convert.FromBase64String((string)Send(HttpMethod.Get, $"session/{_session}/element/{id}/screenshot")!);
    }

    /// <summary>Every URL the browser asked for since the last call (DevTools Network.requestWillBeSent events).</summary>
    public IReadOnlyList<string> RequestedUrls()
    {
        var entries = Send(HttpMethod.Post, $"session/{_session}/se/log", new JsonObject { ["type"] = "performance" })!.AsArray();
        var urls = new List<string>();
        foreach (var entry in entries)
        {
            var message = JsonNode.Parse((string)entry!["message"]!)!["message"]!;
            if ((string?)message["method"] == "Network.requestWillBeSent") urls.Add((string)message["params"]!["request"]!["url"]!);
        }
        return urls;
    }

    /// <summary>Console messages since the last call (a blocked request shows up as a Content-Security-Policy error).</summary>
    public IReadOnlyList<string> ConsoleMessages() =>
        Send(HttpMethod.Post, $"session/{_session}/se/log", new JsonObject { ["type"] = "browser" })!.AsArray().Select(e => (string)e!["message"]!).ToList();

    private JsonNode? Cdp(string command, JsonObject parameters) =>
        Send(HttpMethod.Post, $"session/{_session}/goog/cdp/execute", new JsonObject { ["cmd"] = command, ["params"] = parameters });

    private JsonNode? Send(HttpMethod method, string path, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = _http.Send(request);
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        var value = JsonNode.Parse(text)?["value"];
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"WebDriver {method} {path}: {(int)response.StatusCode} {value?["error"]}: {value?["message"]}");
        return value;
    }

    private void WaitUntilReady()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((bool?)Send(HttpMethod.Get, "status")?["ready"] == true) return;
            }
            catch (HttpRequestException) when (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
            }
            if (_driver.HasExited) throw new InvalidOperationException($"chromedriver exited with code {_driver.ExitCode}");
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("chromedriver did not become ready in 30 s");
            Thread.Sleep(50);
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private void Kill()
    {
        try
        {
            if (!_driver.HasExited) _driver.Kill(entireProcessTree: true);
            _driver.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        _driver.Dispose();
        _http.Dispose();
    }

    public void Dispose()
    {
        try
        {
            Send(HttpMethod.Delete, $"session/{_session}");
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or TaskCanceledException)
        {
        }
        Kill();
    }
}

/// <summary>
/// A local HTTP proxy that answers every request with 403 and remembers its request line: the browser's only way
/// out, so anything it records is a network request a page made.
/// </summary>
internal sealed class RequestRecorder : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<string> _requests = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public RequestRecorder()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary>Request lines seen so far ("GET http://example.invalid/x.png HTTP/1.1", "CONNECT host:443 HTTP/1.1").</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests) return _requests.ToList();
        }
    }

    public void Clear()
    {
        lock (_requests) _requests.Clear();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(client));
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var buffer = new byte[8192];
                var head = new StringBuilder();
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    int n = await stream.ReadAsync(buffer, _stop.Token);
                    if (n == 0) break;
                    head.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }
                var line = head.ToString().Split("\r\n")[0];
                if (line.Length > 0)
                    lock (_requests) _requests.Add(line);
                await stream.WriteAsync("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), _stop.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
            {
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(5_000);
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}

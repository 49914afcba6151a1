using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

using SharpVision.Tests.Support;

namespace SharpVision.Tests.Download;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 (free port chosen by the OS): answers GET with a registered body and
/// Content-Length, 404 otherwise, one request per connection. Counts requests per path.
/// </summary>
internal sealed class LoopbackHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentDictionary<string, Response> _responses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _requestCounts = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _releaseStalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LoopbackHttpServer()
    {
        _listener.Start();
        BaseUri = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _ = AcceptLoopAsync();
    }

    public Uri BaseUri { get; }

    public int TotalRequests => _requestCounts.Values.Sum();

    /// <summary>Serves <paramref name="body"/> at "/<paramref name="path"/>" and returns its URL.</summary>
    public Uri Serve(string path, byte[] body)
    {
        _responses[path] = new Response(body, BytesBeforeStall: null, OnStalled: null);
        return new Uri(BaseUri, path);
    }

    /// <summary>
    /// Announces the full length but sends only the first <paramref name="bytesBeforeStall"/> bytes, then calls
    /// <paramref name="onStalled"/> and holds the connection open until the server is disposed.
    /// </summary>
    public Uri ServeStalled(string path, byte[] body, int bytesBeforeStall, Action onStalled)
    {
        _responses[path] = new Response(body, bytesBeforeStall, onStalled);
        return new Uri(BaseUri, path);
    }

    /// <summary>A URL on this server that answers 404.</summary>
    public Uri Missing(string path) => new(BaseUri, path);

    public int RequestCount(string path) => _requestCounts.GetValueOrDefault("/" + path);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _releaseStalled.TrySetResult();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = HandleAsync(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Disposed.
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                string? path = await ReadRequestPathAsync(stream);
                if (path is null)
                    return;
                _requestCounts.AddOrUpdate(path, 1, (_, count) => count + 1);

                if (!_responses.TryGetValue(path.TrimStart('/'), out Response? response))
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                    return;
                }

                string head = $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {response.Body.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
                if (response.BytesBeforeStall is not { } sent)
                {
                    await stream.WriteAsync(response.Body);
                    return;
                }
                await stream.WriteAsync(response.Body.AsMemory(0, sent));
                await stream.FlushAsync();
                response.OnStalled?.Invoke();
                await _releaseStalled.Task;
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // The client went away (e.g. it cancelled); nothing to answer.
            }
        }
    }

    /// <summary>Reads the request head up to the blank line and returns the request target of "GET /x HTTP/1.1".</summary>
    private static async Task<string?> ReadRequestPathAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!EndsWithBlankLine(head))
        {
            if (await stream.ReadAsync(one) == 0)
                return null;
            head.Add(one[0]);
            if (head.Count > 16 * 1024)
                return null;
        }
        string requestLine = Encoding.ASCII.GetString([.. head]).Split("\r\n")[0];
        string[] parts = requestLine.Split(' ');
        return parts.Length == 3 && parts[0] == "GET" ? parts[1] : null;
    }

    private static bool EndsWithBlankLine(List<byte> head) =>
        head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n';

    private sealed record Response(byte[] Body, int? BytesBeforeStall, Action? OnStalled);
}

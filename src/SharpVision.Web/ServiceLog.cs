using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace SharpVision.Web;

/// <summary>
/// The structured log: one JSON object per line, for every request (method, path, status, latency, model, images,
/// batch) and every event (start, reload, stop). Lines are handed to a background writer so a slow terminal never
/// slows a request; if the writer falls 10,000 lines behind, lines are dropped and counted.
/// </summary>
public sealed class ServiceLog : IAsyncDisposable
{
    private readonly Channel<string>? _lines;
    private readonly Task _writer = Task.CompletedTask;
    private long _dropped;

    /// <summary>A log writing to <paramref name="output"/>, or discarding everything when it is null.</summary>
    public ServiceLog(TextWriter? output)
    {
        if (output is null) return;
        _lines = Channel.CreateBounded<string>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
        _writer = Task.Run(async () =>
        {
            var reader = _lines.Reader;
            while (await reader.WaitToReadAsync())
            {
                while (reader.TryRead(out var line)) output.WriteLine(line);
                output.Flush();
            }
        });
    }

    /// <summary>Lines dropped because the writer could not keep up.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Writes one line: <c>{"time": ..., "event": ..., fields...}</c>.</summary>
    public void Write(string eventName, Action<Utf8JsonWriter> fields)
    {
        if (_lines is null) return;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("event", eventName);
            fields(json);
            json.WriteEndObject();
        }
        if (!_lines.Writer.TryWrite(Encoding.UTF8.GetString(buffer.WrittenSpan))) Interlocked.Increment(ref _dropped);
    }

    /// <summary>Writes what is still queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _lines?.Writer.TryComplete();
        await _writer;
    }
}

using System.Text.RegularExpressions;

namespace SharpVision.Web;

/// <summary>A model to serve: the name in its URLs (<c>/v1/models/{name}/predict</c>) and its file.</summary>
/// <param name="Name">Letters, digits, '.', '_' and '-'.</param>
/// <param name="Path">A model file (model.safetensors).</param>
public sealed partial record ModelSource(string Name, string Path)
{
    /// <summary>The name a model file gets when none is given: its run folder's name for "model.safetensors", else the file's stem.</summary>
    public static string DefaultName(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        var stem = System.IO.Path.GetFileNameWithoutExtension(full);
        var folder = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(full));
        var name = stem == "model" && !string.IsNullOrEmpty(folder) ? folder : stem;
        var cleaned = InvalidNameCharacters().Replace(name, "-").Trim('-');
        return cleaned.Length == 0 ? "model" : cleaned;
    }

    /// <summary>True when <paramref name="name"/> can be used in a URL path segment as is.</summary>
    public static bool IsValidName(string name) => ValidName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex ValidName();

    [GeneratedRegex("[^A-Za-z0-9._-]+")]
    private static partial Regex InvalidNameCharacters();
}

/// <summary>How the prediction service listens, batches and limits. Every value is checked by <see cref="Validate"/>.</summary>
public sealed record ServeOptions
{
    /// <summary>The models, in order; the first answers <c>POST /predict</c>.</summary>
    public required IReadOnlyList<ModelSource> Models { get; init; }

    /// <summary>Address to listen on (default loopback only).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Most images one forward pass takes; concurrent requests are gathered up to this.</summary>
    public int MaxBatchSize { get; init; } = 64;

    /// <summary>
    /// Longest a request waits for others to join its batch, in milliseconds. The wait is only taken while more
    /// requests are being read or decoded; with nothing on its way the batch runs at once.
    /// </summary>
    public double MaxBatchWaitMs { get; init; } = 2;

    /// <summary>Requests that may wait for the engine, per model; one more is refused at once with 503.</summary>
    public int QueueLength { get; init; } = 256;

    /// <summary>Largest request body in bytes (413 beyond it).</summary>
    public long MaxBodyBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>Most images in one multipart request (400 beyond it).</summary>
    public int MaxImagesPerRequest { get; init; } = 64;

    /// <summary>Each request's deadline, from arrival to its prediction: past it the answer is 503.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often each model file is checked for replacement; <see cref="TimeSpan.Zero"/> turns reloading off.</summary>
    public TimeSpan ReloadInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Engine threads for predictions (0: all cores).</summary>
    public int Threads { get; init; }

    /// <summary>Where one JSON line per request and per event goes (null: nowhere).</summary>
    public TextWriter? Log { get; init; }

    /// <summary>Checks every value; the message names the option.</summary>
    /// <exception cref="ArgumentException">A value is out of range, a name is invalid or repeated, or no model is given.</exception>
    public void Validate()
    {
        if (Models is null || Models.Count == 0) throw new ArgumentException("At least one model is needed.", nameof(Models));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in Models)
        {
            if (!ModelSource.IsValidName(model.Name))
                throw new ArgumentException($"Model name '{model.Name}' must be 1-64 letters, digits, '.', '_' or '-'.", nameof(Models));
            if (!seen.Add(model.Name)) throw new ArgumentException($"Model name '{model.Name}' is given twice.", nameof(Models));
        }
        if (string.IsNullOrWhiteSpace(Host)) throw new ArgumentException("The host is empty.", nameof(Host));
        if (Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(Port), Port, "The port must be 0-65535.");
        if (MaxBatchSize is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "The batch size must be 1-4096.");
        if (!(MaxBatchWaitMs >= 0 && MaxBatchWaitMs <= 1000))
            throw new ArgumentOutOfRangeException(nameof(MaxBatchWaitMs), MaxBatchWaitMs, "The batch wait must be 0-1000 ms.");
        if (QueueLength is < 1 or > 1_000_000) throw new ArgumentOutOfRangeException(nameof(QueueLength), QueueLength, "The queue length must be 1-1000000.");
        if (MaxBodyBytes is < 1024 or > 1L << 31) throw new ArgumentOutOfRangeException(nameof(MaxBodyBytes), MaxBodyBytes, "The body limit must be 1 KB-2 GB.");
        if (MaxImagesPerRequest is < 1 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(MaxImagesPerRequest), MaxImagesPerRequest, "The images per request must be 1-4096.");
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromHours(1))
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "The timeout must be positive and at most an hour.");
        if (ReloadInterval < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ReloadInterval), ReloadInterval, "The reload interval cannot be negative.");
        if (Threads is < 0 or > 1024) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be 0-1024.");
    }
}

namespace SharpVision.Data;

/// <summary>Where a dataset was found.</summary>
/// <param name="Name">The name asked for (a known name, or the folder name of a path).</param>
/// <param name="Format">"idx", "cifar-10", "cifar-100" or "folder".</param>
/// <param name="Directory">The folder that holds the files.</param>
/// <param name="Origin">Which rule found it: "--data", "$SHARPVISION_DATA", "system", "cache", "path" or "sample".</param>
/// <param name="IsSample">True for the small sample shipped with SharpVision.</param>
public sealed record DatasetLocation(string Name, string Format, string Directory, string Origin, bool IsSample = false);

/// <summary>Raised when a dataset is nowhere to be found; the message lists where it looked and how to get it.</summary>
public sealed class DatasetNotFoundException(string message) : Exception(message);

/// <summary>
/// Finds dataset files in the guide's order: <c>--data DIR</c>; <c>$SHARPVISION_DATA</c>; system locations
/// (e.g. /usr/share/datasets/fashion-mnist); the cache (<c>$XDG_CACHE_HOME/sharpvision</c> or <c>~/.cache/sharpvision</c>);
/// then, for Fashion-MNIST only, the sample shipped with SharpVision. Downloading is the caller's explicit choice
/// (<c>datasets fetch</c> or <c>--download</c>), never a side effect of training.
/// </summary>
public sealed class DatasetLocator
{
    private readonly string? _dataDirectory;
    private readonly Func<string, string?> _environment;
    private readonly string? _sampleDirectory;
    private readonly bool _useSystemDirectories;

    /// <param name="dataDirectory">The <c>--data</c> folder, if given; when given and the files aren't there, that is an error (no fallback).</param>
    /// <param name="environment">Environment lookup (tests pass their own).</param>
    /// <param name="cacheDirectory">Overrides the cache folder.</param>
    /// <param name="sampleDirectory">Folder holding the shipped samples (default: <c>sample/</c> beside the program).</param>
    /// <param name="useSystemDirectories">Tests turn this off to simulate a machine without the Debian package.</param>
    public DatasetLocator(
        string? dataDirectory = null, Func<string, string?>? environment = null, string? cacheDirectory = null,
        string? sampleDirectory = null, bool useSystemDirectories = true)
    {
        _dataDirectory = dataDirectory;
        _environment = environment ?? Environment.GetEnvironmentVariable;
        CacheDirectory = cacheDirectory ?? DefaultCacheDirectory(_environment);
        _sampleDirectory = sampleDirectory ?? Path.Combine(AppContext.BaseDirectory, "sample");
        _useSystemDirectories = useSystemDirectories;
    }

    /// <summary>The cache root; dataset NAME lives in CACHE/NAME.</summary>
    public string CacheDirectory { get; }

    /// <summary><c>$XDG_CACHE_HOME/sharpvision</c>, else <c>~/.cache/sharpvision</c>.</summary>
    public static string DefaultCacheDirectory(Func<string, string?> environment)
    {
        var xdg = environment("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "sharpvision");
    }

    /// <summary>The folders searched for a known dataset, in order, with the rule that adds each.</summary>
    public IEnumerable<(string Origin, string Directory)> Candidates(KnownDataset dataset)
    {
        if (_dataDirectory is not null)
        {
            yield return ("--data", _dataDirectory);
            yield return ("--data", Path.Combine(_dataDirectory, dataset.Name));
            yield break;
        }
        var env = _environment("SHARPVISION_DATA");
        if (!string.IsNullOrEmpty(env))
        {
            yield return ("$SHARPVISION_DATA", Path.Combine(env, dataset.Name));
            yield return ("$SHARPVISION_DATA", env);
        }
        if (_useSystemDirectories)
            foreach (var dir in dataset.SystemDirectories) yield return ("system", dir);
        yield return ("cache", Path.Combine(CacheDirectory, dataset.Name));
    }

    /// <summary>
    /// The small sample of <paramref name="dataset"/> shipped with SharpVision (Fashion-MNIST only), whether or not the
    /// full set is installed; null when there is none. <see cref="Locate"/> falls back to it when the full set is missing.
    /// </summary>
    public DatasetLocation? ShippedSample(KnownDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset != KnownDatasets.FashionMnist || _sampleDirectory is null) return null;
        var sample = Path.Combine(_sampleDirectory, dataset.Name);
        return DatasetFiles.Holds(sample, dataset.Format)
            ? new DatasetLocation(dataset.Name, dataset.Format, Path.GetFullPath(sample), "sample", IsSample: true)
            : null;
    }

    /// <summary>Finds a known dataset by name, or a folder by path.</summary>
    /// <exception cref="DatasetNotFoundException">Nothing found; the message says where it looked and what to do.</exception>
    public DatasetLocation Locate(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        var known = KnownDatasets.Find(nameOrPath);
        if (known is null)
        {
            if (!Directory.Exists(nameOrPath))
                throw new DatasetNotFoundException(
                    $"'{nameOrPath}' is neither a known dataset ({string.Join(", ", KnownDatasets.All.Select(d => d.Name))}) nor an existing folder.");
            var full = Path.GetFullPath(nameOrPath);
            var format = DatasetFiles.DetectFormat(full) ?? throw new DatasetNotFoundException(
                $"{full}: no dataset found: expected IDX files, CIFAR binary batches, or one subfolder of images per class (or train/ and test/ folders of those).");
            return new DatasetLocation(Path.GetFileName(full.TrimEnd('/')), format, full, "path");
        }

        var looked = new List<string>();
        foreach (var (origin, dir) in Candidates(known))
        {
            looked.Add($"{dir} ({origin})");
            if (DatasetFiles.Holds(dir, known.Format))
                return new DatasetLocation(known.Name, known.Format, Path.GetFullPath(dir), origin);
        }
        if (_dataDirectory is null && known == KnownDatasets.FashionMnist && _sampleDirectory is not null)
        {
            if (ShippedSample(known) is { } sample) return sample;
            looked.Add($"{Path.Combine(_sampleDirectory, known.Name)} (shipped sample)");
        }
        var hints = new List<string> { $"run `sharpvision datasets fetch {known.Name}` (downloads to {Path.Combine(CacheDirectory, known.Name)})" };
        if (known.DebianPackage is not null) hints.Insert(0, $"install Debian's {known.DebianPackage} package");
        hints.Add("or pass --data DIR pointing at the files");
        throw new DatasetNotFoundException(
            $"{known.Name} not found. Looked in: {string.Join("; ", looked)}. To get it: {string.Join(", ", hints)}.");
    }
}

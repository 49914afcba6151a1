using SharpVision.IO;
using System.Security.Cryptography;
using System.Text;
using SharpVision.Data;
using SharpVision.Serialization;

namespace SharpVision.Features;

/// <summary>
/// Extracted features kept on disk, so the same pipeline on the same images is computed once.
/// </summary>
/// <remarks>
/// <para>Key: SHA-256 of (the dataset's identity, the pipeline's <see cref="FeaturePipeline.StateKey"/>: its
/// canonical config and the hash of anything it learned).
/// The dataset identity is <see cref="DatasetIdentity"/>: a SHA-256 of C, H, W, N and every pixel byte (≈ 30 ms for
/// Fashion-MNIST), so any changed pixel, image count or order misses the cache; labels and names do not enter it,
/// as features do not depend on them. Re-fitting a learned extractor on other training data changes its state hash,
/// so that misses too.</para>
/// <para>Files: <c>&lt;directory&gt;/&lt;key&gt;.safetensors</c> holding "features" (F32, N×D) and, in the metadata,
/// the config and dataset identity, which are compared on read (a file whose metadata or size disagrees, or that
/// does not parse, is treated as a miss and rewritten). Each file also records the SHA-256 of its feature bytes: a file
/// whose bytes do not match it (damaged or tampered with), or whose features are not all finite, is recomputed and
/// replaced, and <see cref="Notice"/> is told which file it was. Writes are atomic (temp file, flush, rename).</para>
/// <para>Directory: <c>$SHARPVISION_CACHE</c> when set, else <c>$XDG_CACHE_HOME/sharpvision/features</c>, else
/// <c>~/.cache/sharpvision/features</c>.</para>
/// </remarks>
public sealed class FeatureCache
{
    /// <summary>A cache in <paramref name="directory"/> (null: <see cref="DefaultDirectory"/>).</summary>
    /// <param name="directory">The cache folder.</param>
    /// <param name="notice">Told when a damaged entry is found and replaced (the file and what was wrong).</param>
    public FeatureCache(string? directory = null, Action<string>? notice = null)
    {
        Directory = Path.GetFullPath(directory ?? DefaultDirectory(Environment.GetEnvironmentVariable));
        Notice = notice;
    }

    public string Directory { get; }

    /// <summary>Told when a damaged cache entry is found (and recomputed); null: silent.</summary>
    public Action<string>? Notice { get; }

    private static readonly AsyncLocal<FeatureCache?> Ambient = new();

    /// <summary>
    /// The cache that predictions of expensive pipelines (pretrained networks) read and fill inside a
    /// <see cref="UseForPredictions"/> scope: a model's Predict takes bytes, not a cache, so a run evaluating its test
    /// split sets this instead. Null outside any scope.
    /// </summary>
    public static FeatureCache? ForPredictions => Ambient.Value;

    /// <summary>Makes <paramref name="cache"/> the <see cref="ForPredictions"/> cache until the returned scope is disposed.</summary>
    public static IDisposable UseForPredictions(FeatureCache? cache)
    {
        var previous = Ambient.Value;
        Ambient.Value = cache;
        return new Restore(() => Ambient.Value = previous);
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        private Action? _undo = undo;

        public void Dispose() => Interlocked.Exchange(ref _undo, null)?.Invoke();
    }

    /// <summary>Where caches go by default (see the class remarks), given an environment lookup.</summary>
    public static string DefaultDirectory(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment("SHARPVISION_CACHE") is { Length: > 0 } explicitDirectory) return explicitDirectory;
        var xdg = environment("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "sharpvision", "features");
    }

    /// <summary>SHA-256 (hex) of C, H, W, N (little-endian int32) and every pixel byte.</summary>
    public static string DatasetIdentity(ImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> header = stackalloc byte[16];
        BitConverter.TryWriteBytes(header, data.Channels);
        BitConverter.TryWriteBytes(header[4..], data.Height);
        BitConverter.TryWriteBytes(header[8..], data.Width);
        BitConverter.TryWriteBytes(header[12..], data.Count);
        hash.AppendData(header);
        hash.AppendData(data.Pixels);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The cache file for this (dataset identity, <see cref="FeaturePipeline.StateKey"/>).</summary>
    public string PathFor(string datasetIdentity, string stateKey)
    {
        var key = SHA256.HashData(Encoding.UTF8.GetBytes(datasetIdentity + "\n" + stateKey));
        return Path.Combine(Directory, Convert.ToHexStringLower(key)[..32] + ".safetensors");
    }

    /// <summary>
    /// The features of <paramref name="data"/> under <paramref name="pipeline"/>: read from the cache when present
    /// and valid (<paramref name="hit"/> true), else extracted and stored. Fit learned extractors before calling.
    /// </summary>
    /// <exception cref="ArgumentException">The pipeline does not fit the images.</exception>
    /// <exception cref="InvalidOperationException">A learned extractor is not fitted.</exception>
    public float[] GetOrExtract(FeaturePipeline pipeline, ImageDataset data, int threads, out int length, out bool hit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(data);
        if (!pipeline.IsFitted) throw new InvalidOperationException("Fit the pipeline's learned extractors on the training split before extracting.");
        length = pipeline.Length(data.Channels, data.Height, data.Width);
        var identity = DatasetIdentity(data);
        var config = pipeline.StateKey;
        var path = PathFor(identity, config);
        if (TryRead(path, identity, config, data.Count, length) is { } cached)
        {
            hit = true;
            return cached;
        }
        var features = pipeline.Extract(data, threads, out length, cancellationToken);
        var entry = TensorEntry.FromSingle("features", features, data.Count, length);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "sharpvision-features",
            ["config"] = config,
            ["dataset_identity"] = identity,
            ["dataset_name"] = data.Name,
            ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(entry.Data)),
        };
        SafeTensorsFile.Write(path, metadata, [entry]);
        hit = false;
        return features;
    }

    private float[]? TryRead(string path, string identity, string config, int count, int length)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var file = SafeTensorsFile.Read(path);
            if (!file.Metadata.TryGetValue("config", out var c) || c != config) return null;
            if (!file.Metadata.TryGetValue("dataset_identity", out var i) || i != identity) return null;
            var features = file.Find("features");
            if (features is null || features.DType != TensorDType.F32 || features.Shape is not [var n, var d] || n != count || d != length) return null;
            if (!file.Metadata.TryGetValue("sha256", out var checksum)) return null; // written before entries had checksums: recomputed
            if (!string.Equals(checksum, Convert.ToHexStringLower(SHA256.HashData(features.Data)), StringComparison.Ordinal))
                return Damaged(path, "its features do not match their recorded SHA-256 (damaged or edited)");
            var values = features.ToSingle();
            if (Array.Exists(values, v => !float.IsFinite(v)))
                return Damaged(path, "it holds NaN or infinite features");
            return values;
        }
        catch (DataFormatException e)
        {
            return Damaged(path, e.Reason);
        }
    }

    // A damaged entry is recomputed and replaced (the caller writes the fresh one over it); say which file it was.
    private float[]? Damaged(string path, string reason)
    {
        Notice?.Invoke($"warning: feature cache file {path} was damaged ({reason}); recomputing it and replacing the file. " +
            $"If this repeats, delete the cache folder {Directory} (or run with --no-cache).");
        return null;
    }
}

using SharpVision.Data;

namespace SharpVision.Features;

/// <summary>
/// Several extractors side by side: an image's feature vector is their vectors concatenated in spec order.
/// Built from a spec string such as <c>hog+color</c> or <c>hog:orientations=9,cell=4,block=2,norm=L2-Hys+lbp:cell=7</c>.
/// </summary>
/// <remarks>
/// <para>Use: <c>Parse(spec)</c>; <c>Fit(train, seed, threads)</c> (learns the vocabulary of learned extractors,
/// from the training split only; a no-op for the others); then <c>Extract(split, threads, out d)</c> on any split.
/// Shape: (N, C, H, W) bytes → (N, D) floats, row-major, D = Σ extractor lengths.</para>
/// <para>Spec grammar: <c>extractor[:key=value,...]</c> joined by '+'; lists inside a value use '/'
/// (<c>gabor:freq=0.15/0.25</c>). Extractors and their options (defaults in brackets):</para>
/// <list type="bullet">
/// <item><c>pixels</c>: raw pixels / 255.</item>
/// <item><c>hog</c>: orientations [9], cell [4], block [2], norm [L2-Hys] (L1, L1-sqrt, L2, L2-Hys), sqrt [false].</item>
/// <item><c>lbp</c>: method [uniform] (uniform, ror), cell [7].</item>
/// <item><c>color</c>: bins [10], channels [h] (h, hs, hsv).</item>
/// <item><c>gabor</c>: freq [0.15/0.3], thetas [4], response [magnitude] (magnitude, real).</item>
/// <item><c>sift</c>: patch [12] (a multiple of 4), stride [4], words [64], pyramid [false], sample [100000], iterations [50].</item>
/// </list>
/// <para><see cref="CanonicalConfig"/> spells every option with its value, so equal pipelines have equal strings
/// whatever the spec's spelling; standardization is left to the model.</para>
/// </remarks>
public sealed class FeaturePipeline
{
    private static readonly string[] BuiltIn = ["pixels", "hog", "lbp", "color", "gabor", "sift"];

    // Extractors defined above this namespace (the pretrained backbones of SharpVision.Onnx register themselves when
    // the assembly loads), by spec name: Features cannot name their types, the dependency points the other way.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Func<SpecOptions, IFeatureExtractor>> Registered =
        new(StringComparer.Ordinal);

    /// <summary>The extractor names a spec may use (the built-in ones, then the pretrained backbones).</summary>
    public static IReadOnlyList<string> KnownExtractors => [.. BuiltIn, .. Registered.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Adds an extractor defined outside this namespace under <paramref name="name"/> (lower case).</summary>
    internal static void Register(string name, Func<SpecOptions, IFeatureExtractor> create)
    {
        if (BuiltIn.Contains(name) || !Registered.TryAdd(name, create))
            throw new InvalidOperationException($"Feature extractor '{name}' is defined twice.");
    }

    /// <summary>A pipeline over <paramref name="extractors"/>, in order.</summary>
    /// <exception cref="ArgumentException">No extractors.</exception>
    public FeaturePipeline(IReadOnlyList<IFeatureExtractor> extractors)
    {
        ArgumentNullException.ThrowIfNull(extractors);
        if (extractors.Count == 0) throw new ArgumentException("A feature pipeline needs at least one extractor.", nameof(extractors));
        Extractors = extractors.ToArray();
    }

    public IReadOnlyList<IFeatureExtractor> Extractors { get; }

    /// <summary>The extractors' <see cref="IFeatureExtractor.Config"/> joined by '+': stable, complete, parseable.</summary>
    public string CanonicalConfig => string.Join('+', Extractors.Select(e => e.Config));

    /// <summary>
    /// <see cref="CanonicalConfig"/> plus, for each learned extractor, <c>#name=</c> and its
    /// <see cref="ILearnedFeatureExtractor.StateHash"/>: what a feature cache must key on.
    /// </summary>
    public string StateKey => CanonicalConfig + string.Concat(Extractors.OfType<ILearnedFeatureExtractor>().Select(e => $"#{e.Name}={e.StateHash}"));

    /// <summary>True when some extractor must be fitted on training data before extracting.</summary>
    public bool RequiresFit => Extractors.OfType<ILearnedFeatureExtractor>().Any();

    /// <summary>True when every learned extractor has been fitted (always true without learned extractors).</summary>
    public bool IsFitted => Extractors.OfType<ILearnedFeatureExtractor>().All(e => e.IsFitted);

    /// <summary>Parses a spec (grammar in the class remarks).</summary>
    /// <exception cref="ArgumentException">An empty spec, an unknown extractor or option, or a value out of range; the message names it.</exception>
    public static FeaturePipeline Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrWhiteSpace(spec)) throw new ArgumentException("The feature spec is empty (e.g. 'hog' or 'hog:cell=4+color').");
        var extractors = new List<IFeatureExtractor>();
        foreach (var raw in spec.Split('+'))
        {
            var part = raw.Trim();
            int colon = part.IndexOf(':');
            var name = (colon < 0 ? part : part[..colon]).Trim().ToLowerInvariant();
            if (part.Length == 0) throw new ArgumentException($"The feature spec '{spec}' has an empty part: a '+' too many.");
            if (name.Length == 0) throw new ArgumentException($"The feature spec '{spec}' has options without an extractor name: '{part}'.");
            var options = new SpecOptions(name, colon < 0 ? "" : part[(colon + 1)..].Trim());
            extractors.Add(Create(name, options));
            options.EnsureAllUsed();
        }
        return new FeaturePipeline(extractors);
    }

    private static IFeatureExtractor Create(string name, SpecOptions o) => name switch
    {
        "pixels" => new PixelExtractor(),
        "hog" => new HogExtractor(
            cellSize: o.Int("cell", 4, 1, 4096), cellsPerBlock: o.Int("block", 2, 1, 4096), orientations: o.Int("orientations", 9, 1, 360),
            blockNorm: HogExtractor.ParseNorm(o.Choice("norm", "L2-Hys", "L1", "L1-sqrt", "L2", "L2-Hys")), transformSqrt: o.Bool("sqrt", false)),
        "lbp" => new LbpExtractor(cellSize: o.Int("cell", 7, 1, 4096),
            method: o.Choice("method", "uniform", "uniform", "ror") == "uniform" ? LbpMethod.Uniform : LbpMethod.RotationInvariant),
        "color" => new ColorHistogram(bins: o.Int("bins", 10, 1, 4096), channels: o.Choice("channels", "h", "h", "hs", "hsv")),
        "gabor" => new GaborBank(frequencies: o.Doubles("freq", [0.15, 0.3], 1e-3, 0.5), thetas: o.Int("thetas", 4, 1, 64),
            response: o.Choice("response", "magnitude", "magnitude", "real") == "magnitude" ? GaborResponse.Magnitude : GaborResponse.Real),
        "sift" => new BagOfVisualWords(new DenseSift(patchSize: o.Int("patch", 12, 4, 4096, multipleOf: 4), stride: o.Int("stride", 4, 1, 4096)),
            words: o.Int("words", 64, 1, 65536), pyramid: o.Bool("pyramid", false), sample: o.Int("sample", 100_000, 1, 100_000_000),
            iterations: o.Int("iterations", 50, 1, 100_000)),
        _ when Registered.TryGetValue(name, out var create) => create(o),
        _ => throw new ArgumentException($"Unknown feature extractor '{name}' (known: {string.Join(", ", KnownExtractors)})."),
    };

    /// <summary>Feature length D for images of this size.</summary>
    /// <exception cref="ArgumentException">Some extractor's parameters do not fit the image.</exception>
    public int Length(int channels, int height, int width)
    {
        long total = 0;
        foreach (var e in Extractors) total += e.Length(channels, height, width);
        if (total > int.MaxValue) throw new ArgumentException($"{total} features per image is too many.");
        return (int)total;
    }

    /// <summary>Fits every learned extractor on <paramref name="train"/> (the training split only); others are untouched.</summary>
    public void Fit(ImageDataset train, int seed, int threads)
    {
        ArgumentNullException.ThrowIfNull(train);
        Length(train.Channels, train.Height, train.Width); // parameters that cannot fit fail before any learning
        foreach (var learned in Extractors.OfType<ILearnedFeatureExtractor>()) learned.Fit(train, seed, threads);
    }

    /// <summary>The features of one C×H×W image (e.g. at prediction time).</summary>
    /// <exception cref="ArgumentException">Sizes disagree or the parameters do not fit the image.</exception>
    /// <exception cref="InvalidOperationException">A learned extractor is not fitted.</exception>
    public void Extract(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination)
    {
        FeatureChecks.Image(image, channels, height, width);
        EnsureFitted();
        FeatureChecks.Destination(destination, Length(channels, height, width));
        int offset = 0;
        foreach (var e in Extractors)
        {
            int d = e.Length(channels, height, width);
            e.Extract(image, channels, height, width, destination.Slice(offset, d));
            offset += d;
        }
    }

    /// <summary>
    /// The features of every image of <paramref name="data"/>, parallel over images on <paramref name="threads"/>
    /// threads (results do not depend on the thread count). Returns N×D floats, row-major; D in <paramref name="length"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The parameters do not fit the images.</exception>
    /// <exception cref="InvalidOperationException">A learned extractor is not fitted: call <see cref="Fit"/> on the training split first.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public float[] Extract(ImageDataset data, int threads, out int length, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        EnsureFitted();
        int d = Length(data.Channels, data.Height, data.Width);
        var lengths = Extractors.Select(e => e.Length(data.Channels, data.Height, data.Width)).ToArray();
        var features = GC.AllocateUninitializedArray<float>(checked(data.Count * d)); // every value is written below
        int chunk = ChunkSize; // images per work item: enough work to amortize scheduling, small enough to balance
        int chunks = (data.Count + chunk - 1) / chunk;
        string stage = $"features {string.Join('+', Extractors.Select(e => e.Name))}";
        long done = 0;
        int c = data.Channels, h = data.Height, w = data.Width;
        int size = c * h * w;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, index =>
        {
            int start = index * chunk, end = Math.Min(data.Count, start + chunk);
            int offset = 0;
            for (int e = 0; e < Extractors.Count; e++)
            {
                if (Extractors[e] is IBatchFeatureExtractor batch)
                {
                    // The whole chunk at once, then scattered into the rows' slice of this extractor.
                    var scratch = System.Buffers.ArrayPool<float>.Shared.Rent((end - start) * lengths[e]);
                    try
                    {
                        batch.ExtractBatch(data.Pixels.AsSpan(start * size, (end - start) * size), end - start, c, h, w, scratch.AsSpan(0, (end - start) * lengths[e]));
                        for (int i = start; i < end; i++)
                            scratch.AsSpan((i - start) * lengths[e], lengths[e]).CopyTo(features.AsSpan((int)((long)i * d) + offset, lengths[e]));
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<float>.Shared.Return(scratch);
                    }
                }
                else
                {
                    for (int i = start; i < end; i++)
                        Extractors[e].Extract(data.Image(i), c, h, w, features.AsSpan((int)((long)i * d) + offset, lengths[e]));
                }
                offset += lengths[e];
            }
            FeatureProgress.Report(stage, Interlocked.Add(ref done, end - start), data.Count);
        });
        length = d;
        return features;
    }

    /// <summary>True when some extractor is a pretrained network (registered from outside this namespace, e.g. resnet18).</summary>
    public bool UsesPretrainedNetwork => Extractors.Any(e => !BuiltIn.Contains(e.Name));

    /// <summary>True when some extractor works on batches (a network): callers extract many images at once through a dataset.</summary>
    public bool HasBatchExtractor => Extractors.Any(e => e is IBatchFeatureExtractor);

    // The smallest batch any batch extractor asks for, else 64.
    private int ChunkSize => Extractors.OfType<IBatchFeatureExtractor>().Select(e => e.PreferredBatch).DefaultIfEmpty(64).Min();

    private void EnsureFitted()
    {
        foreach (var e in Extractors.OfType<ILearnedFeatureExtractor>())
            if (!e.IsFitted) throw new InvalidOperationException($"The '{e.Name}' extractor learns from data: call Fit on the training split before extracting.");
    }
}

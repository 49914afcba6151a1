using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using SharpVision.Data;
using SharpVision.Tensors;

namespace SharpVision.Features;

/// <summary>
/// Dense SIFT descriptors quantized against a learned vocabulary of visual words: an image becomes the normalized
/// histogram of its descriptors' nearest words, optionally over a 2-level spatial pyramid. The spec name is "sift".
/// </summary>
/// <remarks>
/// <para>Fit (training split only): descriptors of a seeded random subset of training images, about
/// <c>sample</c> descriptors in all, clustered by <see cref="KMeans"/> (k = <c>words</c>, k-means++ seeding;
/// Lloyd with <c>iterations</c> iterations up to 20,000 descriptors, mini-batch of 1,024 for
/// 10 × <c>iterations</c> steps above). Same training images, seed and build ⇒ the same vocabulary.</para>
/// <para>Extract: each descriptor votes for its nearest word (squared Euclidean). Without the pyramid the feature is
/// the k-bin histogram divided by the number of descriptors (sums to 1). With <c>pyramid=true</c> it is that
/// histogram followed by one histogram per image quadrant (2×2, assigned by patch centre; quadrants in row-major
/// order), each divided by the image's total number of descriptors, so both levels sum to 1.
/// Shape: (C, H, W) → (k) or (5k).</para>
/// </remarks>
public sealed class BagOfVisualWords : ILearnedFeatureExtractor
{
    /// <summary>Descriptor counts up to this use full-batch Lloyd; larger samples use mini-batches.</summary>
    public const int LloydLimit = 20_000;

    private float[]? _vocabulary;
    private string _vocabularyHash = "";

    /// <summary>A bag of visual words over dense SIFT.</summary>
    /// <param name="sift">The descriptor grid.</param>
    /// <param name="words">Vocabulary size k.</param>
    /// <param name="pyramid">Add the 2×2 level of a spatial pyramid.</param>
    /// <param name="sample">Descriptors to cluster (about; whole images are taken).</param>
    /// <param name="iterations">Lloyd iterations (mini-batch: 10× as many steps).</param>
    /// <exception cref="ArgumentOutOfRangeException">Words, sample or iterations below 1.</exception>
    public BagOfVisualWords(DenseSift? sift = null, int words = 64, bool pyramid = false, int sample = 100_000, int iterations = 50)
    {
        if (words < 1) throw new ArgumentOutOfRangeException(nameof(words), words, "A vocabulary needs at least one word.");
        if (sample < 1) throw new ArgumentOutOfRangeException(nameof(sample), sample, "The descriptor sample must hold at least one descriptor.");
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "k-means needs at least one iteration.");
        Sift = sift ?? new DenseSift();
        Words = words;
        Pyramid = pyramid;
        Sample = sample;
        Iterations = iterations;
    }

    public DenseSift Sift { get; }
    public int Words { get; }
    public bool Pyramid { get; }
    public int Sample { get; }
    public int Iterations { get; }

    public string Name => "sift";

    public string Config => string.Create(CultureInfo.InvariantCulture,
        $"sift:patch={Sift.PatchSize},stride={Sift.Stride},words={Words},pyramid={(Pyramid ? "true" : "false")},sample={Sample},iterations={Iterations}");

    /// <summary>The first 16 hex digits of the vocabulary's SHA-256 ("" before fitting).</summary>
    public string StateHash => _vocabularyHash;

    public bool IsFitted => _vocabulary is not null;

    /// <summary>The learned words, k×128 row-major (a copy), for storing with a model.</summary>
    /// <exception cref="InvalidOperationException">Not fitted.</exception>
    public float[] Vocabulary => (_vocabulary ?? throw new InvalidOperationException("The vocabulary has not been learned: call Fit first.")).ToArray();

    /// <summary>Installs a vocabulary learned earlier (k×128, e.g. read from a model file) instead of fitting.</summary>
    /// <exception cref="ArgumentException">Not k×128 values, or a non-finite value.</exception>
    public void SetVocabulary(ReadOnlySpan<float> vocabulary)
    {
        if (vocabulary.Length != Words * DenseSift.DescriptorLength)
            throw new ArgumentException($"A vocabulary of {Words} words has {Words * DenseSift.DescriptorLength} values, got {vocabulary.Length}.", nameof(vocabulary));
        foreach (float v in vocabulary)
            if (!float.IsFinite(v)) throw new ArgumentException("The vocabulary holds a non-finite value.", nameof(vocabulary));
        _vocabulary = vocabulary.ToArray();
        _vocabularyHash = Convert.ToHexStringLower(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vocabulary)))[..16];
    }

    public int Length(int channels, int height, int width)
    {
        Sift.Grid(height, width); // throws when the patch does not fit
        return Pyramid ? 5 * Words : Words;
    }

    public void Fit(ImageDataset train, int seed, int threads)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var (rows, columns) = Sift.Grid(train.Height, train.Width);
        int perImage = rows * columns;
        int images = Math.Min(train.Count, (Sample + perImage - 1) / perImage);
        long available = (long)train.Count * perImage;
        if (available < Words)
            throw new ArgumentException($"A vocabulary of {Words} words needs at least {Words} descriptors; {train.Count} training images give {available} ({perImage} per image).");
        if ((long)images * perImage < Words) images = (int)Math.Min(train.Count, (Words + perImage - 1) / perImage);
        var chosen = new Rng(seed, stream: 1).Permutation(train.Count).AsSpan(0, images).ToArray();
        Array.Sort(chosen);
        var descriptors = new float[(long)images * perImage * DenseSift.DescriptorLength];
        int length = perImage * DenseSift.DescriptorLength;
        Parallel.For(0, images, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            Sift.Compute(train.Image(chosen[i]), train.Channels, train.Height, train.Width, descriptors.AsSpan(i * length, length)));
        int count = images * perImage;
        var kmeans = count <= LloydLimit ? new KMeans(Words, Iterations) : new KMeans(Words, 10 * Iterations, batchSize: 1024);
        SetVocabulary(kmeans.Fit(descriptors, DenseSift.DescriptorLength, seed, threads));
    }

    public void Extract(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination)
    {
        var vocabulary = _vocabulary ?? throw new InvalidOperationException("The 'sift' extractor learns a vocabulary: call Fit on the training split before extracting.");
        FeatureChecks.Image(image, channels, height, width);
        var (rows, columns) = Sift.Grid(height, width);
        FeatureChecks.Destination(destination, Pyramid ? 5 * Words : Words);
        int count = rows * columns;
        var descriptors = ArrayPool<float>.Shared.Rent(count * DenseSift.DescriptorLength);
        try
        {
            Sift.Compute(image, channels, height, width, descriptors.AsSpan(0, count * DenseSift.DescriptorLength));
            destination.Clear();
            float share = 1f / count;
            for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                int word = KMeans.Nearest(descriptors.AsSpan((r * columns + c) * DenseSift.DescriptorLength, DenseSift.DescriptorLength), vocabulary, Words);
                destination[word] += share;
                if (Pyramid)
                {
                    var (y, x) = Sift.Centre(r, c);
                    int quadrant = (y < height / 2.0 ? 0 : 2) + (x < width / 2.0 ? 0 : 1);
                    destination[(1 + quadrant) * Words + word] += share;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(descriptors);
        }
    }
}

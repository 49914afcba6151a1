using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Imaging;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;

namespace SharpVision.Onnx;

/// <summary>
/// The ImageNet ResNet-18 as a feature extractor (<c>--features resnet18</c>): each image is prepared as ImageNet
/// evaluation does (gray copied into R, G, B; shorter side resized to <see cref="ResizeTo"/>; the center 224×224
/// cropped), then the backbone's own preprocessing (RGB → BGR, minus ImageNet's mean image, on 0..255 pixels) and the
/// frozen network in its folded inference form give the 512 activations after global average pooling.
/// </summary>
/// <remarks>
/// <para>Shape: (C, H, W) bytes, C = 1 or 3, any size → (512) floats.</para>
/// <para>Spec: <c>resnet18[:resize=256]</c>; the canonical config adds <c>crop=224</c> and <c>weights=HASH</c>, the
/// <see cref="PretrainedBackbones.Hash"/> of the files found, so a model file and the feature cache name the weights they
/// were made with without holding them. Parsing a spec that names weights refuses files with another hash.</para>
/// <para>Threads: the pipeline runs chunks of <see cref="PreferredBatch"/> images in parallel; each chunk runs the
/// network on one thread, on its own copy of the inference network, so results do not depend on the thread count.</para>
/// </remarks>
public sealed class ResNet18Extractor : IBatchFeatureExtractor
{
    /// <summary>The side of the center crop the network takes (its mean image is 224×224).</summary>
    public const int CropSize = 224;

    /// <summary>Features per image: the 512 channels of the last stage, average-pooled.</summary>
    public const int Dimension = 512;

    private const int SubBatch = 8; // images per forward pass: activations of the first stage stay near 30 MB
    private static readonly ConcurrentDictionary<string, Lazy<Backbone>> Loaded = new(StringComparer.Ordinal);
    private readonly Backbone _backbone;

    private ResNet18Extractor(Backbone backbone, int resize)
    {
        _backbone = backbone;
        ResizeTo = resize;
    }

    /// <summary>The shorter side of an image is resized to this before the center crop (ImageNet's 256).</summary>
    public int ResizeTo { get; }

    /// <summary>The weights' content hash (<see cref="PretrainedBackbones.Hash"/>).</summary>
    public string WeightsHash => _backbone.Hash;

    /// <summary>Where the network file was read from.</summary>
    public string Source => _backbone.Path;

    /// <inheritdoc/>
    public string Name => "resnet18";

    /// <inheritdoc/>
    public string Config => string.Create(CultureInfo.InvariantCulture, $"resnet18:resize={ResizeTo},crop={CropSize},weights={WeightsHash}");

    /// <summary>Chunks of 16 images: two cores get work from a handful of photos, and progress moves every second or so.</summary>
    public int PreferredBatch => 16;

    /// <summary>The extractor over the files <see cref="PretrainedBackbones.SearchFolders"/> finds (loaded once per process).</summary>
    /// <param name="resize">Shorter side before the 224 crop, 224..1024.</param>
    /// <param name="weights">The hash the files must have, or null for any.</param>
    /// <exception cref="BackboneNotFoundException">The files are not found.</exception>
    /// <exception cref="ArgumentException">The files' hash is not <paramref name="weights"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="resize"/> is out of range.</exception>
    /// <exception cref="IO.DataFormatException">A file is not a readable ONNX network.</exception>
    public static ResNet18Extractor Create(int resize = 256, string? weights = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resize, CropSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(resize, 1024);
        var (network, preprocess) = PretrainedBackbones.LocateResNet18();
        var backbone = Loaded.GetOrAdd(network + "\n" + preprocess, _ => new Lazy<Backbone>(() => Backbone.Load(network, preprocess))).Value;
        if (weights is not null && !string.Equals(weights, backbone.Hash, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"The model was made with resnet18 weights {weights}, but {network} has weights {backbone.Hash}: " +
                $"point {PretrainedBackbones.EnvironmentVariable} (or --backbone) at the files of {PretrainedBackbones.PackageId} " +
                $"{PretrainedBackbones.PackageVersion}.");
        return new ResNet18Extractor(backbone, resize);
    }

    /// <summary>The spec parser's hook: "resnet18" in a feature spec makes one of these.</summary>
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "Features cannot name Onnx types: the backbone " +
        "registers its spec name when the assembly loads, so FeaturePipeline.Parse(\"resnet18\") works wherever it is called.")]
    internal static void RegisterSpec() => FeaturePipeline.Register("resnet18", o =>
    {
        int resize = o.Int("resize", 256, CropSize, 1024);
        o.Int("crop", CropSize, CropSize, CropSize);
        var weights = o.Text("weights");
        return Create(resize, weights);
    });

    /// <inheritdoc/>
    public int Length(int channels, int height, int width)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"resnet18 takes gray or RGB images, not {channels} channels.");
        return Dimension;
    }

    /// <inheritdoc/>
    public void Extract(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination) =>
        ExtractBatch(image, 1, channels, height, width, destination);

    /// <inheritdoc/>
    public void ExtractBatch(ReadOnlySpan<byte> images, int count, int channels, int height, int width, Span<float> destination)
    {
        Length(channels, height, width);
        int size = channels * height * width;
        if (images.Length != (long)count * size)
            throw new ArgumentException($"{count} images of {channels}×{height}×{width} are {(long)count * size} bytes, got {images.Length}.");
        if (destination.Length != (long)count * Dimension)
            throw new ArgumentException($"The destination must hold {count}×{Dimension} features, got {destination.Length}.");
        // Images seen before in this process (the test split predicted, then again for the report) are not recomputed.
        var keys = new string[count];
        var missing = new List<int>();
        for (int i = 0; i < count; i++)
        {
            keys[i] = MemoKey(images.Slice(i * size, size), channels, height, width);
            if (_backbone.Memo.TryGetValue(keys[i], out var known)) known.CopyTo(destination.Slice(i * Dimension, Dimension));
            else missing.Add(i);
        }
        if (missing.Count == 0) return;
        var networks = _backbone.Rent();
        try
        {
            using var threads = Engine.UseThreads(1);
            using var noGrad = GradMode.NoGrad();
            const int Pixels = 3 * CropSize * CropSize;
            var input = new float[Math.Min(missing.Count, SubBatch) * Pixels];
            for (int start = 0; start < missing.Count; start += SubBatch)
            {
                int n = Math.Min(SubBatch, missing.Count - start);
                for (int i = 0; i < n; i++)
                    Prepare(images.Slice(missing[start + i] * size, size), channels, height, width, input.AsSpan(i * Pixels, Pixels));
                var x = new Tensor(new Shape(n, 3, CropSize, CropSize), n * Pixels == input.Length ? input : input[..(n * Pixels)]);
                var y = networks.Network.Forward(networks.Preprocess.Forward(x));
                if (y.Size != n * Dimension)
                    throw new InvalidOperationException($"The backbone gave {y.Shape} for {n} images; expected {n}×{Dimension}.");
                for (int i = 0; i < n; i++)
                {
                    var row = y.Data.AsSpan(i * Dimension, Dimension);
                    row.CopyTo(destination.Slice(missing[start + i] * Dimension, Dimension));
                    if (_backbone.Memo.Count < MemoCapacity) _backbone.Memo.TryAdd(keys[missing[start + i]], row.ToArray());
                }
            }
        }
        finally
        {
            _backbone.Return(networks);
        }
    }

    private const int MemoCapacity = 20_000; // 2 KB of features each: at most ≈ 40 MB per process

    // What makes an image's features: its prepared size, its shape and every byte.
    private string MemoKey(ReadOnlySpan<byte> image, int channels, int height, int width) =>
        string.Create(CultureInfo.InvariantCulture, $"{ResizeTo}:{channels}x{height}x{width}:") +
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(image));

    /// <summary>
    /// ImageNet's evaluation preparation of one planar image into 3×224×224 floats 0..255 (RGB, planar): gray copied
    /// into R, G, B; the shorter side resized to <see cref="ResizeTo"/> (the longer one in proportion, truncated);
    /// the center crop, its top-left corner at round((size − 224)/2) as torchvision's CenterCrop.
    /// </summary>
    public void Prepare(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination)
    {
        if (destination.Length != 3 * CropSize * CropSize)
            throw new ArgumentException($"The destination must hold 3×{CropSize}×{CropSize} floats.");
        var rgb = ImageOps.ToRgb(ImagePreparation.FromPlanar(image, channels, height, width));
        var (w, h) = width <= height ? (ResizeTo, (int)((long)ResizeTo * height / width)) : ((int)((long)ResizeTo * width / height), ResizeTo);
        var resized = ImageOps.Resize(rgb, w, h);
        int top = (int)Math.Round((h - CropSize) / 2.0, MidpointRounding.ToEven);
        int left = (int)Math.Round((w - CropSize) / 2.0, MidpointRounding.ToEven);
        var pixels = resized.Pixels;
        const int Plane = CropSize * CropSize;
        for (int y = 0; y < CropSize; y++)
            for (int x = 0; x < CropSize; x++)
            {
                int source = ((top + y) * w + left + x) * 3;
                for (int c = 0; c < 3; c++) destination[c * Plane + y * CropSize + x] = pixels[source + c];
            }
    }

    // The imported files, hashed once, and inference copies handed to one chunk at a time.
    private sealed class Backbone
    {
        private readonly OnnxNetwork _network, _preprocess;
        private readonly ConcurrentBag<(OnnxNetwork Preprocess, OnnxNetwork Network)> _idle = [];
        private readonly Lock _folding = new();

        private Backbone(string path, string hash, OnnxNetwork network, OnnxNetwork preprocess) =>
            (Path, Hash, _network, _preprocess) = (path, hash, network, preprocess);

        public string Path { get; }

        public string Hash { get; }

        /// <summary>Features of images already extracted, by <see cref="MemoKey"/>.</summary>
        public ConcurrentDictionary<string, float[]> Memo { get; } = new(StringComparer.Ordinal);

        public static Backbone Load(string networkPath, string preprocessPath)
        {
            var networkBytes = IO.BoundedFile.ReadAllBytes(networkPath, OnnxFormat.MaxFileBytes, "ONNX model");
            var preprocessBytes = IO.BoundedFile.ReadAllBytes(preprocessPath, OnnxFormat.MaxFileBytes, "ONNX model");
            var network = OnnxNetwork.Parse(networkBytes, networkPath);
            var preprocess = OnnxNetwork.Parse(preprocessBytes, preprocessPath);
            return new Backbone(networkPath, PretrainedBackbones.Hash(networkBytes, preprocessBytes), network, preprocess);
        }

        public (OnnxNetwork Preprocess, OnnxNetwork Network) Rent()
        {
            if (_idle.TryTake(out var pair)) return pair;
            lock (_folding) return (_preprocess.Folded(), _network.Folded());
        }

        public void Return((OnnxNetwork Preprocess, OnnxNetwork Network) pair) => _idle.Add(pair);
    }
}

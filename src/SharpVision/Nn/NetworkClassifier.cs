using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;

namespace SharpVision.Nn;

/// <summary>The loss a network is trained with, which also decides how its scores become probabilities.</summary>
public enum ClassifierLoss
{
    /// <summary>Multiclass SVM hinge (margin 1); probabilities shown are softmax(scores), not calibrated.</summary>
    Hinge,

    /// <summary>Softmax cross-entropy; probabilities are softmax(scores).</summary>
    Softmax,

    /// <summary>Binary logistic on one logit z: P(class 1) = σ(z).</summary>
    Logistic,

    /// <summary>One-vs-rest squared hinge (scikit-learn's <c>LinearSVC</c>); probabilities shown are softmax(scores), not calibrated.</summary>
    SquaredHinge,
}

/// <summary>
/// A classifier made of a normalizer, a network producing class scores, and the loss it is trained with:
/// the linear SVM/softmax classifier (one <see cref="Linear"/> layer), binary logistic regression (one output),
/// and MLPs are all this type, and all are stored the same way.
/// </summary>
public sealed class NetworkClassifier : IImageClassifier
{
    /// <exception cref="ArgumentException">Inconsistent parts (class count vs outputs, normalizer vs preparation).</exception>
    /// <param name="kind">The model type files record ("svm", "softmax", "logistic", "mlp", "cnn2", ...).</param>
    /// <param name="network">The layers; the model owns them from now on.</param>
    /// <param name="loss">The loss it is trained with, which decides how scores become probabilities.</param>
    /// <param name="normalizer">Pixel normalization fitted on the training split.</param>
    /// <param name="preparation">The images it takes.</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="features">Hand-crafted features read instead of normalized pixels, or null.</param>
    /// <param name="flipAveraging">Test-time augmentation: average each image's probabilities with its mirror image's.</param>
    /// <param name="inputStatistics">The prepared training images' statistics (null: unknown).</param>
    public NetworkClassifier(string kind, Sequential network, ClassifierLoss loss, Normalizer normalizer, ImagePreparation preparation, IReadOnlyList<string> classNames,
        Features.FeatureStandardizer? features = null, bool flipAveraging = false, InputStatistics? inputStatistics = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(normalizer);
        ArgumentNullException.ThrowIfNull(preparation);
        ArgumentNullException.ThrowIfNull(classNames);
        if (loss == ClassifierLoss.Logistic && classNames.Count != 2) throw new ArgumentException($"Logistic regression separates exactly 2 classes; got {classNames.Count}.", nameof(classNames));
        if (classNames.Count < 2) throw new ArgumentException("A classifier needs at least 2 classes.", nameof(classNames));
        int sampleSize = preparation.Channels * preparation.Height * preparation.Width;
        if (normalizer.SampleSize != sampleSize) throw new ArgumentException($"Normalizer expects {normalizer.SampleSize} values; images have {sampleSize}.", nameof(normalizer));
        if (inputStatistics is not null && (inputStatistics.Mean.Length != sampleSize || inputStatistics.Deviation.Length != sampleSize))
            throw new ArgumentException($"Input statistics cover {inputStatistics.Mean.Length} values; images have {sampleSize}.",
                nameof(inputStatistics));
        Kind = kind;
        Network = network;
        Loss = loss;
        Normalizer = normalizer;
        Preparation = preparation;
        ClassNames = classNames;
        Features = features;
        FlipAveraging = flipAveraging;
        InputStatistics = inputStatistics;
    }

    /// <inheritdoc/>
    public InputStatistics? InputStatistics { get; }

    /// <summary>Hand-crafted features the network reads instead of normalized pixels (<c>--features</c>), or null.</summary>
    public Features.FeatureStandardizer? Features { get; }

    /// <summary>Floats per image the network reads: the feature length, or C·H·W.</summary>
    public int InputLength => Features?.Length ?? Normalizer.SampleSize;

    /// <summary>"svm", "softmax", "logistic" or "mlp".</summary>
    public string Kind { get; }

    public Sequential Network { get; }

    public ClassifierLoss Loss { get; }

    public Normalizer Normalizer { get; }

    public ImagePreparation Preparation { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>
    /// Test-time augmentation: predictions average the probabilities of each image and its mirror image
    /// (<c>--tta flip</c>). Off by default; it doubles prediction time.
    /// </summary>
    public bool FlipAveraging { get; }

    /// <summary>The same model (sharing its network and frozen inference network, if any) with test-time flip averaging on or off.</summary>
    public NetworkClassifier WithFlipAveraging(bool flipAveraging) => flipAveraging == FlipAveraging ? this
        : new NetworkClassifier(Kind, Network, Loss, Normalizer, Preparation, ClassNames, Features, flipAveraging, InputStatistics)
        {
            _frozen = _frozen,
        };

    /// <summary>The same model (sharing its network, and its frozen inference network if any) carrying <paramref name="statistics"/>.</summary>
    /// <exception cref="ArgumentException">Statistics of another image size.</exception>
    public NetworkClassifier WithInputStatistics(InputStatistics? statistics) =>
        new(Kind, Network, Loss, Normalizer, Preparation, ClassNames, Features, FlipAveraging, statistics) { _frozen = _frozen };

    /// <inheritdoc/>
    public JsonObject Describe() => new()
    {
        ["type"] = Kind,
        ["classes"] = ClassNames.Count,
        ["preparation"] = $"{Preparation.Channels}×{Preparation.Height}×{Preparation.Width}",
        ["parameters"] = Network.ParameterCount(),
        ["loss"] = NetworkModelFile.LossName(Loss),
        ["preprocess"] = Features is null ? Normalizer.Name(Normalizer.Mode) : "standardized features",
        ["features"] = Features?.Pipeline.CanonicalConfig,
        ["tta"] = FlipAveraging ? "flip" : "none",
        ["architecture"] = Architecture.ToJson(Network),
        ["input_statistics"] = InputStatistics?.ToJson(),
    };

    /// <inheritdoc/>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => NetworkModelFile.Save(path, this, metadata);

    /// <summary>Outputs of the network: 1 for logistic, else the class count.</summary>
    public int Outputs => Loss == ClassifierLoss.Logistic ? 1 : ClassNames.Count;

    /// <summary>The training loss of <paramref name="scores"/> (N, outputs) against labels in [0, classes).</summary>
    public Tensor LossOf(Tensor scores, ReadOnlySpan<int> labels, float labelSmoothing = 0)
    {
        switch (Loss)
        {
            case ClassifierLoss.Hinge:
                return Ops.MulticlassHinge(scores, labels);
            case ClassifierLoss.Softmax:
                return Ops.SoftmaxCrossEntropy(scores, labels, labelSmoothing);
            case ClassifierLoss.SquaredHinge:
                return Ops.OneVsRestSquaredHinge(scores, labels);
            default:
                var targets = new float[labels.Length];
                for (int i = 0; i < labels.Length; i++) targets[i] = labels[i];
                return Ops.BinaryCrossEntropyWithLogits(scores, targets);
        }
    }

    /// <summary>Class scores (N, outputs) for normalized inputs (N, D), in evaluation mode without recording a graph.</summary>
    public float[] Scores(ReadOnlySpan<float> inputs, int count) => Scores(InferenceNetwork(), inputs, count);

    /// <summary>
    /// The network in evaluation mode in its inference form (<see cref="InferenceForm"/>: batch norms folded, convolution
    /// blocks fused): built afresh from the current weights at each call, or the one <see cref="Frozen"/> built.
    /// </summary>
    public Module InferenceNetwork() => _frozen ?? InferenceForm.Of(Network);

    /// <summary>
    /// The same model (sharing <see cref="Network"/>) with its inference network built once, now, and reused by every
    /// prediction, rather than folded and packed again at each <see cref="Predict(ReadOnlySpan{byte}, int)"/> call: for a
    /// model whose weights no longer change (a served one). Training <see cref="Network"/> afterwards does not change
    /// the frozen model's predictions.
    /// </summary>
    public NetworkClassifier Frozen() => _frozen is not null ? this
        : new NetworkClassifier(Kind, Network, Loss, Normalizer, Preparation, ClassNames, Features, FlipAveraging, InputStatistics)
        {
            _frozen = InferenceForm.Of(Snapshot(Network)),
        };

    private Module? _frozen;

    // A copy of the network with its own parameters and buffers (built from its architecture), so that the frozen
    // inference form shares nothing the original's training could change (the fold shares layers without a batch norm).
    private static Sequential Snapshot(Sequential network)
    {
        var copy = Architecture.FromJson(Architecture.ToJson(network));
        var (source, target) = (network.NamedParameters(), copy.NamedParameters());
        for (int i = 0; i < source.Count; i++) source[i].Parameter.Data.AsSpan().CopyTo(target[i].Parameter.Data);
        var (sourceBuffers, targetBuffers) = (network.NamedBuffers(), copy.NamedBuffers());
        for (int i = 0; i < sourceBuffers.Count; i++) sourceBuffers[i].Values.AsSpan().CopyTo(targetBuffers[i].Values);
        return copy;
    }

    private float[] Scores(Module network, ReadOnlySpan<float> inputs, int count)
    {
        using var _ = GradMode.NoGrad();
        return network.Forward(new Tensor(InputShape(count), inputs.ToArray())).Data;
    }

    private Shape InputShape(int count) =>
        Features is null ? new Shape(count, Preparation.Channels, Preparation.Height, Preparation.Width) : new Shape(count, Features.Length);

    /// <summary>Probabilities of each class from scores (softmax, or [1 − σ(z), σ(z)] for logistic), count×classes.</summary>
    public float[] ToProbabilities(float[] scores, int count)
    {
        int c = ClassNames.Count;
        var probabilities = new float[count * c];
        for (int i = 0; i < count; i++)
        {
            if (Loss == ClassifierLoss.Logistic)
            {
                float p = 1f / (1f + MathF.Exp(-scores[i]));
                probabilities[i * 2] = 1 - p;
                probabilities[i * 2 + 1] = p;
            }
            else
            {
                Ops.SoftmaxRow(scores.AsSpan(i * c, c), probabilities.AsSpan(i * c, c));
            }
        }
        return probabilities;
    }

    /// <summary>Predicts images laid out as q×C×H×W bytes, in batches of 512 (with <see cref="FlipAveraging"/>, also their mirror images).</summary>
    public Predictions Predict(ReadOnlySpan<byte> images, int threads = 0)
    {
        using var scope = Engine.UseThreads(threads);
        int d = Normalizer.SampleSize;
        if (images.Length % d != 0) throw new ArgumentException($"{images.Length} bytes is not a whole number of {Preparation.Channels}×{Preparation.Height}×{Preparation.Width} images.", nameof(images));
        int count = images.Length / d;
        var probabilities = Probabilities(images, count);
        if (FlipAveraging)
        {
            var mirrored = new byte[images.Length];
            int width = Preparation.Width;
            for (int row = 0; row < images.Length / width; row++)
            {
                images.Slice(row * width, width).CopyTo(mirrored.AsSpan(row * width, width));
                mirrored.AsSpan(row * width, width).Reverse();
            }
            var flipped = Probabilities(mirrored, count);
            for (int i = 0; i < probabilities.Length; i++) probabilities[i] = 0.5f * (probabilities[i] + flipped[i]);
        }
        return Predictions.Rank(probabilities, ClassNames.Count); // descending probability, the lower class first among equals
    }

    // Class probabilities of count images, normalized (or featurized) and scored 512 at a time. Each batch's activations
    // come from the buffer pool (unless the caller already pools, e.g. a training step), so repeated predictions of a
    // served model reuse them instead of allocating large arrays per call.
    private float[] Probabilities(ReadOnlySpan<byte> images, int count)
    {
        int d = Normalizer.SampleSize, outputs = Outputs, length = InputLength;
        var scores = new float[count * outputs];
        const int batch = 512;
        var network = InferenceNetwork();
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < count; start += batch)
        {
            int n = Math.Min(batch, count - start);
            using var pooled = BufferPool.InScope ? default : BufferPool.Step();
            var input = BufferPool.Uninitialized<float>(n * length); // fully written below
            if (Features is null) Normalizer.Apply(images.Slice(start * d, n * d), input);
            else Features.Apply(images.Slice(start * d, n * d), input);
            network.Forward(new Tensor(InputShape(n), input)).Data.AsSpan(0, n * outputs).CopyTo(scores.AsSpan(start * outputs, n * outputs));
        }
        return ToProbabilities(scores, count);
    }

    /// <summary>
    /// Penultimate activations: the input h of the network's last <see cref="Linear"/> layer (scores = h·Wᵀ + b) for
    /// images laid out as q×C×H×W bytes, in evaluation mode (dropout off, batch norm on running statistics), without
    /// flip averaging, 512 images at a time. Shape: (q, C, H, W) → (q, F), F = the last layer's input count.
    /// </summary>
    /// <exception cref="ArgumentException">The bytes are not a whole number of images.</exception>
    /// <exception cref="InvalidOperationException">The network does not end with a Linear layer.</exception>
    public float[] PenultimateActivations(ReadOnlySpan<byte> images, out int length, int threads = 0)
    {
        using var scope = Engine.UseThreads(threads);
        int d = Normalizer.SampleSize, inputs = InputLength;
        if (images.Length % d != 0) throw new ArgumentException($"{images.Length} bytes is not a whole number of {Preparation.Channels}×{Preparation.Height}×{Preparation.Width} images.", nameof(images));
        if (Network.Layers[^1] is not Linear last) throw new InvalidOperationException($"The {Kind} network ends with {Network.Layers[^1].Spec.Type}, not a linear layer.");
        length = last.Inputs;
        int count = images.Length / d;
        var body = Network.Layers.Take(Network.Layers.Count - 1).ToArray(); // the network's own layers, parameters and buffers
        var activations = new float[(long)count * length];
        const int batch = 512;
        Network.Eval();
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < count; start += batch)
        {
            int n = Math.Min(batch, count - start);
            var input = new float[n * inputs];
            if (Features is null) Normalizer.Apply(images.Slice(start * d, n * d), input);
            else Features.Apply(images.Slice(start * d, n * d), input);
            var x = new Tensor(Features is null ? new Shape(n, Preparation.Channels, Preparation.Height, Preparation.Width) : new Shape(n, inputs), input);
            foreach (var layer in body) x = layer.Forward(x);
            if (x.Size != n * length) throw new InvalidOperationException($"The layers before the last give {x.Size / n} values per image; the last layer takes {length}.");
            x.Data.AsSpan(0, n * length).CopyTo(activations.AsSpan(start * length, n * length));
        }
        return activations;
    }

    /// <summary>Predicts every image of <paramref name="dataset"/>.</summary>
    /// <exception cref="ArgumentException">Images of another shape than the model's.</exception>
    public Predictions Predict(ImageDataset dataset, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Channels != Preparation.Channels || dataset.Height != Preparation.Height || dataset.Width != Preparation.Width)
            throw new ArgumentException($"Images are {dataset.Channels}×{dataset.Height}×{dataset.Width}; the model takes {Preparation.Channels}×{Preparation.Height}×{Preparation.Width}.", nameof(dataset));
        return Predict(dataset.Pixels, threads);
    }
}

/// <summary>Builds the networks behind <c>--model svm|softmax|logistic|mlp</c>.</summary>
public static partial class Networks
{
    /// <summary>One linear layer: s = Wx + b, (N, D) → (N, outputs).</summary>
    public static Sequential LinearClassifier(int inputs, int outputs) => new(new Flatten(), new Linear(inputs, outputs));

    /// <summary>Linear → activation (→ dropout) per hidden size, then a linear output layer.</summary>
    public static Sequential Mlp(int inputs, IReadOnlyList<int> hidden, int outputs, ActivationKind activation = ActivationKind.Relu, float dropout = 0)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (hidden.Count == 0) throw new ArgumentException("An MLP needs at least one hidden layer.", nameof(hidden));
        var layers = new List<Module> { new Flatten() };
        int previous = inputs;
        foreach (int h in hidden)
        {
            layers.Add(new Linear(previous, h));
            layers.Add(new Activation(activation));
            if (dropout > 0) layers.Add(new Dropout(dropout));
            previous = h;
        }
        layers.Add(new Linear(previous, outputs));
        return new Sequential(layers);
    }

    /// <summary>The convolutional networks of <c>--model</c>: cnn2, resnet8, resnet20.</summary>
    public static IReadOnlyList<string> Convolutional { get; } = ["cnn2", "resnet8", "resnet20"];

    /// <summary>
    /// torch_peers.py's cnn2: two conv(3×3, pad 1) + batch norm + ReLU + 2×2 max-pool stages (32, 64 channels), then
    /// Linear(64·H/4·W/4, 128), ReLU, Dropout(0.3), Linear(128, classes). 421,834 parameters on 1×28×28, 10 classes.
    /// </summary>
    public static Sequential Cnn2(int channels, int height, int width, int classes) => new(
        new Conv2d(channels, 32, 3, 1, 1), new BatchNorm(32, spatial: true), new Activation(ActivationKind.Relu), Pool2d.Max(2),
        new Conv2d(32, 64, 3, 1, 1), new BatchNorm(64, spatial: true), new Activation(ActivationKind.Relu), Pool2d.Max(2),
        new Flatten(), new Linear(64 * (height / 4) * (width / 4), 128), new Activation(ActivationKind.Relu), new Dropout(0.3f), new Linear(128, classes));

    /// <summary>
    /// torch_peers.py's resnet8: conv(3×3, 16, no bias) + batch norm + ReLU, residual blocks 16→16, 16→32 (stride 2),
    /// 32→64 (stride 2), global average pooling, Linear(64, classes). 77,754 parameters on 1 channel, 10 classes.
    /// </summary>
    public static Sequential Resnet8(int channels, int classes) => new(
        new Conv2d(channels, 16, 3, 1, 1, bias: false), new BatchNorm(16, spatial: true), new Activation(ActivationKind.Relu),
        new ResidualBlock(16, 16, 1), new ResidualBlock(16, 32, 2), new ResidualBlock(32, 64, 2),
        Pool2d.GlobalAverage(), new Flatten(), new Linear(64, classes));

    /// <summary>
    /// He et al.'s CIFAR ResNet-20 (2016, §4.2): conv(3×3, 16) + batch norm + ReLU, three stages of three basic blocks
    /// (16, 32, 64 channels; the first block of stages 2 and 3 has stride 2), global average pooling, Linear(64, classes).
    /// Shortcuts that change shape use a 1×1 convolution + batch norm (the paper's option B) rather than zero padding.
    /// </summary>
    public static Sequential Resnet20(int channels, int classes)
    {
        var layers = new List<Module> { new Conv2d(channels, 16, 3, 1, 1, bias: false), new BatchNorm(16, spatial: true), new Activation(ActivationKind.Relu) };
        int previous = 16;
        foreach (int width in new[] { 16, 32, 64 })
            for (int block = 0; block < 3; block++)
            {
                layers.Add(new ResidualBlock(previous, width, block == 0 && width != 16 ? 2 : 1));
                previous = width;
            }
        layers.AddRange([Pool2d.GlobalAverage(), new Flatten(), new Linear(64, classes)]);
        return new Sequential(layers);
    }

    /// <summary>A network of the zoo by name for images of the given shape.</summary>
    /// <exception cref="ArgumentException">Unknown name, or images too small for it.</exception>
    public static Sequential ByName(string name, int channels, int height, int width, int classes) => name switch
    {
        "cnn2" when height >= 4 && width >= 4 => Cnn2(channels, height, width, classes),
        "resnet8" => Resnet8(channels, classes),
        "resnet20" => Resnet20(channels, classes),
        "cnn2" => throw new ArgumentException($"cnn2 needs images of at least 4×4; these are {height}×{width}."),
        _ => throw new ArgumentException($"Unknown network '{name}' (known: {string.Join(", ", Convolutional)})."),
    };
}

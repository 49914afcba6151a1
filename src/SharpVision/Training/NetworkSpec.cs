using System.Globalization;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Nn;
using SharpVision.Tensors;

namespace SharpVision.Training;

/// <summary>
/// What network to train and how images become its input: the model kind (svm, softmax, logistic, mlp, cnn2, resnet8,
/// resnet20), the MLP's architecture, and either pixel normalization or a hand-crafted feature pipeline.
/// The training recipe is separate (<see cref="TrainingOptions"/>).
/// </summary>
/// <param name="Kind">The model kind (one of <see cref="Kinds"/>).</param>
/// <param name="Preprocess">Pixel normalization (null: per pixel for linear models, per channel otherwise); ignored with <paramref name="Features"/>.</param>
/// <param name="Hidden">mlp: hidden layer sizes (null: one layer of 256).</param>
/// <param name="Activation">mlp: the hidden activation.</param>
/// <param name="Dropout">mlp: dropout probability after each hidden layer.</param>
/// <param name="Features">Hand-crafted features instead of pixels (svm, softmax, logistic, mlp), standardized on the training split.</param>
/// <param name="Solver">svm: "sgd" (minibatch gradient descent on the multiclass hinge) or "dual" (exact dual coordinate descent on the
/// one-vs-rest squared hinge, <see cref="DualSvmTraining"/>); the other kinds always train with "sgd".</param>
/// <param name="Transformer">vit, cct: the transformer's shape (null: <see cref="TransformerOptions"/>' defaults, torch_peers.py's vit).</param>
public sealed record NetworkSpec(string Kind, NormalizationMode? Preprocess = null, IReadOnlyList<int>? Hidden = null,
    ActivationKind Activation = ActivationKind.Relu, float Dropout = 0, FeaturePipeline? Features = null, string Solver = "sgd",
    TransformerOptions? Transformer = null)
{
    /// <summary>The known solvers.</summary>
    public static IReadOnlyList<string> Solvers { get; } = ["sgd", "dual"];

    /// <summary>True when the model is fitted by <see cref="DualSvmTraining"/> rather than the <see cref="Trainer"/>.</summary>
    public bool UsesDualSolver => Solver == "dual";

    /// <summary>The network kinds, linear first (<see cref="Recipes.Kinds"/>).</summary>
    public static IReadOnlyList<string> Kinds => Recipes.Kinds;

    /// <summary>True for the linear classifiers (svm, softmax, logistic).</summary>
    public bool IsLinear => Kind is "svm" or "softmax" or "logistic";

    /// <summary>The training loss: hinge for svm (the one-vs-rest squared hinge with the dual solver), logistic for logistic, softmax cross-entropy otherwise.</summary>
    public ClassifierLoss Loss => Kind switch
    {
        "svm" => UsesDualSolver ? ClassifierLoss.SquaredHinge : ClassifierLoss.Hinge,
        "logistic" => ClassifierLoss.Logistic,
        _ => ClassifierLoss.Softmax,
    };

    /// <summary>The pixel normalization actually used (none when the input is features).</summary>
    public NormalizationMode Normalization => Features is not null ? NormalizationMode.None : Preprocess ?? (IsLinear ? NormalizationMode.PerPixel : NormalizationMode.PerChannel);

    /// <summary>The MLP's hidden sizes (one layer of 256 unless given).</summary>
    public IReadOnlyList<int> HiddenSizes => Hidden ?? [256];

    /// <summary>Checks the combination of settings.</summary>
    /// <exception cref="ModelSetupException">Unknown kind, features with a convolutional network, bad MLP settings.</exception>
    public void Validate()
    {
        if (!Kinds.Contains(Kind) && !Recipes.Pretrained.Contains(Kind))
            throw new ModelSetupException("model", $"Unknown model '{Kind}' (known: {string.Join(", ", Kinds)}).");
        if (!Solvers.Contains(Solver)) throw new ModelSetupException("model", $"Unknown solver '{Solver}' (known: {string.Join(", ", Solvers)}).");
        if (UsesDualSolver && Kind != "svm") throw new ModelSetupException("model", $"The dual solver trains linear SVMs (svm), not {Kind}.");
        if (Features is not null && Recipes.ReadsImages(Kind))
            throw new ModelSetupException("features", $"features work with svm, softmax, logistic and mlp, not {Kind}.");
        if (Transformer is not null && !Recipes.Transformers.Contains(Kind))
            throw new ModelSetupException("model", $"A transformer's shape (patch, width, depth, heads, ...) applies to vit and cct, not {Kind}.");
        try
        {
            Transformer?.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ModelSetupException("model", e.Message, e);
        }
        if (!(Dropout >= 0 && Dropout < 1)) throw new ModelSetupException("model", $"Dropout must be in [0, 1), got {Dropout}.");
        if (HiddenSizes.Count == 0 || HiddenSizes.Any(h => h < 1)) throw new ModelSetupException("model", "An MLP needs at least one hidden layer, each of at least one unit.");
    }

    /// <summary>
    /// The untrained network for inputs of <paramref name="inputs"/> floats (or C×H×W images, for CNNs) and <paramref name="classes"/> classes.
    /// Its training memory is estimated first (<see cref="TrainingMemory"/>): a network that cannot be trained in the memory
    /// this process may use is refused before any of it is allocated.
    /// </summary>
    /// <param name="inputs">Floats per example.</param>
    /// <param name="channels">Image channels (CNNs).</param>
    /// <param name="height">Image height (CNNs).</param>
    /// <param name="width">Image width (CNNs).</param>
    /// <param name="classes">Classes.</param>
    /// <param name="batchSize">Training batch size, for the activations' share of the estimate.</param>
    /// <exception cref="ModelSetupException">Images too small for the network, or a network too large to train here (with the estimate).</exception>
    public Sequential BuildNetwork(int inputs, int channels, int height, int width, int classes, int batchSize = 1)
    {
        Validate();
        int outputs = Loss == ClassifierLoss.Logistic ? 1 : classes;
        long parameters;
        Sequential network;
        try
        {
            parameters = ParameterCount(inputs, channels, height, width, outputs);
            RefuseWhatCannotFit(parameters, 0, batchSize); // before allocating the weights
            network = Kind switch
            {
                "mlp" => Networks.Mlp(inputs, HiddenSizes, outputs, Activation, Dropout),
                "svm" or "softmax" or "logistic" => Networks.LinearClassifier(inputs, outputs),
                "vit" => Networks.Vit(channels, height, width, outputs, Transformer),
                "cct" => Networks.Cct(channels, height, width, outputs, Transformer),
                _ => Networks.ByName(Kind, channels, height, width, outputs),
            };
        }
        catch (ArgumentException e) when (e is not ModelSetupException)
        {
            throw new ModelSetupException("model", e.Message, e);
        }
        RefuseWhatCannotFit(parameters, ActivationValues(network, channels, height, width), batchSize); // CNN activations grow with the image
        return network;
    }

    /// <summary>Training memory, in bytes: (parameter share, activation share).</summary>
    /// <remarks>
    /// Parameters: 8 copies of 4 bytes each (weights, gradients, up to two optimizer moments, and the checkpoint's
    /// serialized copies of weights and moments). Activations: each layer's output kept for the backward pass and its
    /// gradient, 2 × 4 bytes per value, times the batch size. An estimate for refusing what cannot fit, not a budget.
    /// </remarks>
    public static (long Parameters, long Activations) TrainingMemory(long parameters, long activationValuesPerExample, int batchSize) =>
        (SaturatingMultiply(parameters, 8 * sizeof(float)), SaturatingMultiply(SaturatingMultiply(activationValuesPerExample, 2 * sizeof(float)), Math.Max(1, batchSize)));

    /// <summary>What this process may allocate: the GC's limit (physical memory, or the container's).</summary>
    public static long AvailableMemory => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    private void RefuseWhatCannotFit(long parameters, long activationValues, int batchSize)
    {
        var (weights, activations) = TrainingMemory(parameters, activationValues, batchSize);
        long total = SaturatingAdd(weights, activations), available = AvailableMemory;
        if (total <= available) return;
        string advice = Kind == "mlp" ? "smaller --hidden sizes" : Recipes.Convolutional.Contains(Kind) ? "a smaller --batch-size or --image-size" : "fewer input values (--features, --image-size)";
        throw new ModelSetupException("model", string.Create(CultureInfo.InvariantCulture,
            $"a {Kind} of {parameters:N0} parameters needs about {total / 1e9:F1} GB to train ({weights / 1e9:F1} GB for weights, gradients, optimizer state " +
            $"and checkpoints{(activations > 0 ? $", {activations / 1e9:F1} GB for the activations of a batch of {batchSize}" : "")}), more than the " +
            $"{available / 1e9:F1} GB available; use {advice}."));
    }

    /// <summary>Parameters of the network <see cref="BuildNetwork"/> makes, computed without building it.</summary>
    public long ParameterCount(int inputs, int channels, int height, int width, int outputs)
    {
        static long Linear(long i, long o) => i * o + o;
        switch (Kind)
        {
            case "mlp":
            {
                long total = 0, previous = inputs;
                foreach (int h in HiddenSizes) (total, previous) = (total + Linear(previous, h), h);
                return total + Linear(previous, outputs);
            }
            case "svm" or "softmax" or "logistic":
                return Linear(inputs, outputs);
            case "cnn2":
                return channels * 32L * 9 + 32 + 2 * 32 + 32L * 64 * 9 + 64 + 2 * 64 + Linear(64L * (height / 4) * (width / 4), 128) + Linear(128, outputs);
            case "vit":
                return Networks.Vit(channels, height, width, outputs, Transformer).ParameterCount(); // small: its size follows the token count
            case "cct":
                return Networks.Cct(channels, height, width, outputs, Transformer).ParameterCount();
            default:
                return Networks.ByName(Kind, channels, height, width, outputs).ParameterCount(); // the ResNets do not grow with the image
        }
    }

    /// <summary>Values in the layers' outputs for one example (the activations training keeps), walking the layers' shapes.</summary>
    public static long ActivationValues(Sequential network, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(network);
        long c = channels, h = height, w = width, total = 0;
        foreach (var layer in network.Layers)
        {
            switch (layer)
            {
                case Conv2d conv:
                    (c, h, w) = (conv.Outputs, (h + 2 * conv.Padding - conv.Kernel) / conv.Stride + 1, (w + 2 * conv.Padding - conv.Kernel) / conv.Stride + 1);
                    break;
                case Pool2d { Type: "global_avg_pool2d" }:
                    (h, w) = (1, 1);
                    break;
                case Pool2d pool:
                    (h, w) = ((h - pool.Kernel) / pool.Stride + 1, (w - pool.Kernel) / pool.Stride + 1);
                    break;
                case ResidualBlock block:
                    (c, h, w) = (block.Outputs, (h + block.Stride - 1) / block.Stride, (w + block.Stride - 1) / block.Stride);
                    total += (block.Stride != 1 || block.Inputs != block.Outputs ? 8 : 6) * c * h * w; // convolutions, norms, sum, ReLUs inside
                    break;
                case Linear linear:
                    (c, h, w) = (linear.Outputs, 1, 1);
                    break;
            }
            total += c * h * w;
        }
        return total;
    }

    private static long SaturatingMultiply(long a, long b) => a != 0 && b > long.MaxValue / a ? long.MaxValue : a * b;

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}

/// <summary>
/// Training (and optional validation) images turned into what a network reads, once: normalized pixels, or standardized
/// features, with the statistics fitted on the training images only. Several models (a hyperparameter grid) can then
/// be trained on the same inputs.
/// </summary>
public sealed class NetworkInputs
{
    private NetworkInputs(NetworkSpec spec, ExampleSet train, ExampleSet? validation, Normalizer normalizer, FeatureStandardizer? features, ImageDataset images)
    {
        (Spec, Train, Validation, Normalizer, Features) = (spec, train, validation, normalizer, features);
        Preparation = new ImagePreparation(images.Channels, images.Height, images.Width);
        ClassNames = images.ClassNames;
    }

    public NetworkSpec Spec { get; }

    public ExampleSet Train { get; }

    public ExampleSet? Validation { get; }

    /// <summary>Pixel normalization (mode None when the input is features).</summary>
    public Normalizer Normalizer { get; }

    public FeatureStandardizer? Features { get; }

    public ImagePreparation Preparation { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Floats per example.</summary>
    public int InputLength => Train.SampleSize;

    /// <summary>Fits normalization (or the feature pipeline and its standardization) on <paramref name="train"/> and applies it to both sets.</summary>
    /// <param name="spec">Which input preparation.</param>
    /// <param name="train">Training images.</param>
    /// <param name="validation">Validation images, or null.</param>
    /// <param name="seed">Seed of learned feature extractors.</param>
    /// <param name="threads">Worker threads.</param>
    /// <param name="cache">Feature cache, or null.</param>
    /// <param name="cancellationToken">Cancels feature extraction.</param>
    /// <exception cref="ModelSetupException">The feature pipeline does not fit these images.</exception>
    public static NetworkInputs Prepare(NetworkSpec spec, ImageDataset train, ImageDataset? validation, int seed, int threads, FeatureCache? cache = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(train);
        spec.Validate();
        if (spec.Features is { } pipeline)
        {
            FeatureStandardizer features;
            float[] trainFeatures;
            try
            {
                (features, trainFeatures) = FeatureStandardizer.Fit(pipeline, train, seed, threads, cache, cancellationToken);
            }
            catch (ArgumentException e)
            {
                throw new ModelSetupException("features", e.Message, e);
            }
            var validationSet = validation is null ? null : new ExampleSet(features.Apply(validation, threads, cache, cancellationToken), validation.Labels, features.Length);
            return new NetworkInputs(spec, new ExampleSet(trainFeatures, train.Labels, features.Length), validationSet, Normalizer.Fit(train, NormalizationMode.None), features, train);
        }
        var normalizer = Normalizer.Fit(train, spec.Normalization);
        int[] sampleShape = [train.Channels, train.Height, train.Width];
        var trainSet = new ExampleSet(normalizer.Apply(train, threads), train.Labels, train.SampleSize, sampleShape);
        var validationPixels = validation is null ? null : new ExampleSet(normalizer.Apply(validation, threads), validation.Labels, validation.SampleSize, sampleShape);
        return new NetworkInputs(spec, trainSet, validationPixels, normalizer, null, train);
    }

    /// <summary>
    /// A fresh model over these inputs, its parameters initialized from <paramref name="seed"/>. <paramref name="architecture"/>
    /// may change the network (an MLP's width, dropout) but not the input preparation.
    /// </summary>
    /// <exception cref="ArgumentException">An architecture of another kind or input preparation.</exception>
    /// <param name="seed">Seeds the initialization.</param>
    /// <param name="architecture">Another architecture of the same kind and input preparation (null: <see cref="Spec"/>).</param>
    /// <param name="flipAveraging">Test-time flip averaging for the model's predictions.</param>
    /// <param name="batchSize">Training batch size, for the memory estimate (<see cref="NetworkSpec.BuildNetwork"/>).</param>
    /// <param name="network">A network already built and initialized (a pretrained one) to use instead of building one from the spec.</param>
    /// <exception cref="ModelSetupException">A network too large to train in the memory available.</exception>
    public NetworkClassifier CreateModel(int seed, NetworkSpec? architecture = null, bool flipAveraging = false, int batchSize = 1,
        Sequential? network = null)
    {
        var spec = architecture ?? Spec;
        if (spec.Kind != Spec.Kind || spec.Normalization != Spec.Normalization || !ReferenceEquals(spec.Features, Spec.Features))
            throw new ArgumentException("The architecture must keep the kind and input preparation these inputs were prepared for.", nameof(architecture));
        if (network is not null)
            return new NetworkClassifier(spec.Kind, network, spec.Loss, Normalizer, Preparation, ClassNames, Features, flipAveraging);
        network = spec.BuildNetwork(InputLength, Preparation.Channels, Preparation.Height, Preparation.Width, ClassNames.Count, batchSize);
        network.ResetParameters(new Rng(seed));
        return new NetworkClassifier(spec.Kind, network, spec.Loss, Normalizer, Preparation, ClassNames, Features, flipAveraging);
    }
}

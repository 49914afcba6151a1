using SharpVision.Classic;
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
}

/// <summary>
/// A classifier made of a normalizer, a network producing class scores, and the loss it is trained with:
/// the linear SVM/softmax classifier (one <see cref="Linear"/> layer), binary logistic regression (one output),
/// and MLPs are all this type, and all are stored the same way.
/// </summary>
public sealed class NetworkClassifier : IImageClassifier
{
    /// <exception cref="ArgumentException">Inconsistent parts (class count vs outputs, normalizer vs preparation).</exception>
    public NetworkClassifier(string kind, Sequential network, ClassifierLoss loss, Normalizer normalizer, ImagePreparation preparation, IReadOnlyList<string> classNames)
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
        Kind = kind;
        Network = network;
        Loss = loss;
        Normalizer = normalizer;
        Preparation = preparation;
        ClassNames = classNames;
    }

    /// <summary>"svm", "softmax", "logistic" or "mlp".</summary>
    public string Kind { get; }

    public Sequential Network { get; }

    public ClassifierLoss Loss { get; }

    public Normalizer Normalizer { get; }

    public ImagePreparation Preparation { get; }

    public IReadOnlyList<string> ClassNames { get; }

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
            default:
                var targets = new float[labels.Length];
                for (int i = 0; i < labels.Length; i++) targets[i] = labels[i];
                return Ops.BinaryCrossEntropyWithLogits(scores, targets);
        }
    }

    /// <summary>Class scores (N, outputs) for normalized inputs (N, D), in evaluation mode without recording a graph.</summary>
    public float[] Scores(ReadOnlySpan<float> inputs, int count)
    {
        Network.Eval();
        using var _ = GradMode.NoGrad();
        return Network.Forward(new Tensor(new Shape(count, inputs.Length / Math.Max(1, count)), inputs.ToArray())).Data;
    }

    /// <summary>Probabilities of each class from scores (softmax, or [1 − σ(z), σ(z)] for logistic).</summary>
    public Predictions ToPredictions(float[] scores, int count)
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
        var ranking = new int[count * c];
        for (int i = 0; i < count; i++)
        {
            var order = ranking.AsSpan(i * c, c);
            for (int j = 0; j < c; j++) order[j] = j;
            var row = probabilities.AsSpan(i * c, c).ToArray();
            // Descending probability; equal probabilities keep the lower class index first.
            order.Sort((a, b) => row[b] != row[a] ? row[b].CompareTo(row[a]) : a.CompareTo(b));
        }
        return new Predictions(count, c, probabilities, ranking);
    }

    /// <summary>Predicts images laid out as q×C×H×W bytes, in batches of 1,024.</summary>
    public Predictions Predict(ReadOnlySpan<byte> images, int threads = 0)
    {
        int d = Normalizer.SampleSize;
        if (images.Length % d != 0) throw new ArgumentException($"{images.Length} bytes is not a whole number of {Preparation.Channels}×{Preparation.Height}×{Preparation.Width} images.", nameof(images));
        int count = images.Length / d, outputs = Outputs;
        var scores = new float[count * outputs];
        const int batch = 1024;
        var buffer = new float[Math.Min(batch, Math.Max(count, 1)) * d];
        for (int start = 0; start < count; start += batch)
        {
            int n = Math.Min(batch, count - start);
            var input = buffer.AsSpan(0, n * d);
            Normalizer.Apply(images.Slice(start * d, n * d), input);
            Scores(input, n).CopyTo(scores.AsSpan(start * outputs, n * outputs));
        }
        return ToPredictions(scores, count);
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
public static class Networks
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
}

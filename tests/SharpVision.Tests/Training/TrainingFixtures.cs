using SharpVision.Data;
using SharpVision.Nn;
using SharpVision.Tensors;
using SharpVision.Training;

namespace SharpVision.Tests.Training;

/// <summary>Small generated problems for training tests.</summary>
internal static class TrainingFixtures
{
    /// <summary>
    /// Gaussian blobs as 1×4×4 "images": class c has mean intensity pattern c (a bright pixel at position 3c), so a
    /// linear model can separate them.
    /// </summary>
    public static ImageDataset Blobs(int count, int classes, int seed)
    {
        var rng = new Rng(seed);
        var pixels = new byte[count * 16];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int c = i % classes;
            labels[i] = c;
            for (int j = 0; j < 16; j++)
            {
                double v = 60 + 25 * rng.NextNormal() + (j == 3 * c || j == 3 * c + 1 ? 120 : 0);
                pixels[i * 16 + j] = (byte)Math.Clamp(Math.Round(v), 0, 255);
            }
        }
        return new ImageDataset("blobs", 1, 4, 4, pixels, labels, Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray());
    }

    public static (NetworkClassifier Model, ExampleSet Train) Setup(string kind, ImageDataset data, int seed, float dropout = 0)
    {
        var normalizer = Normalizer.Fit(data, NormalizationMode.PerPixel);
        var loss = kind switch { "svm" => ClassifierLoss.Hinge, "logistic" => ClassifierLoss.Logistic, _ => ClassifierLoss.Softmax };
        int outputs = loss == ClassifierLoss.Logistic ? 1 : data.ClassNames.Count;
        var network = kind == "mlp" ? Networks.Mlp(16, [12], outputs, ActivationKind.Relu, dropout) : Networks.LinearClassifier(16, outputs);
        network.ResetParameters(new Rng(seed));
        var model = new NetworkClassifier(kind, network, loss, normalizer, new ImagePreparation(1, 4, 4), data.ClassNames);
        return (model, new ExampleSet(normalizer.Apply(data), data.Labels, 16));
    }

    public static float[] Flatten(NetworkClassifier model) => model.Network.Parameters().SelectMany(p => p.Data).ToArray();
}

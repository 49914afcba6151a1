using SharpVision.Data;
using SharpVision.Nn;
using SharpVision.Tensors;
using SharpVision.Tests.Training;

namespace SharpVision.Tests.Nn;

public class PenultimateActivationsTests
{
    // scores = h·Wᵀ + b for the last Linear layer, computed by hand from its weights.
    private static float[] LastLayer(Linear last, float[] h, int count)
    {
        var scores = new float[count * last.Outputs];
        for (int i = 0; i < count; i++)
            for (int o = 0; o < last.Outputs; o++)
            {
                double s = last.Bias?.Data[o] ?? 0;
                for (int j = 0; j < last.Inputs; j++) s += (double)h[i * last.Inputs + j] * last.Weight.Data[o * last.Inputs + j];
                scores[i * last.Outputs + o] = (float)s;
            }
        return scores;
    }

    [Fact]
    public void Mlp_LastLayerOfThePenultimateActivations_GivesTheScores()
    {
        var data = TrainingFixtures.Blobs(40, 4, 2);
        var (model, train) = TrainingFixtures.Setup("mlp", data, seed: 3, dropout: 0.5f);
        model.Network.Train(new Rng(9)); // left in training mode: the method must switch dropout off itself
        var h = model.PenultimateActivations(data.Pixels, out int length);

        Assert.Equal(12, length);
        Assert.Equal(40 * 12, h.Length);
        Assert.All(h, v => Assert.True(v >= 0)); // after ReLU
        var last = (Linear)model.Network.Layers[^1];
        var expected = model.Scores(train.Inputs, 40);
        var actual = LastLayer(last, h, 40);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4f);
    }

    [Fact]
    public void ConvNet_InEvaluationMode_WithBatchNormStatistics_GivesTheScores()
    {
        var data = TrainingFixtures.Blobs(30, 3, 4);
        var normalizer = Normalizer.Fit(data, NormalizationMode.PerChannel);
        var network = new Sequential(
            new Conv2d(1, 4, 3, 1, 1), new BatchNorm(4, spatial: true), new Activation(ActivationKind.Relu), Pool2d.Max(2),
            new Dropout2d(0.3f), new Flatten(), new Linear(16, 3));
        network.ResetParameters(new Rng(1));
        foreach (var (_, values) in network.NamedBuffers())
            for (int i = 0; i < values.Length; i++) values[i] = 0.5f + 0.25f * i; // running statistics that are not the identity
        var model = new NetworkClassifier("cnn", network, ClassifierLoss.Softmax, normalizer, new ImagePreparation(1, 4, 4), data.ClassNames);
        network.Train(new Rng(2));

        var h = model.PenultimateActivations(data.Pixels, out int length);
        Assert.Equal(16, length);
        var inputs = normalizer.Apply(data);
        var expected = model.Scores(inputs, 30);
        var actual = LastLayer((Linear)network.Layers[^1], h, 30);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4f);
    }

    [Fact]
    public void PenultimateActivations_PartialImage_IsRejected()
    {
        var data = TrainingFixtures.Blobs(4, 2, 1);
        var (model, _) = TrainingFixtures.Setup("softmax", data, seed: 1);
        Assert.Contains("whole number", Assert.Throws<ArgumentException>(() => model.PenultimateActivations(data.Pixels.AsSpan(0, 20), out _)).Message);
        // A linear classifier's penultimate layer is its (normalized) input.
        var h = model.PenultimateActivations(data.Pixels, out int length);
        Assert.Equal(16, length);
        Assert.Equal(model.Normalizer.Apply(data), h);
    }
}

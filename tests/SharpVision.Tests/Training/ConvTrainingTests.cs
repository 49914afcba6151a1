using SharpVision.Data;
using SharpVision.Nn;
using SharpVision.Tensors;
using SharpVision.Training;

namespace SharpVision.Tests.Training;

public class ConvTrainingTests
{
    private static (NetworkClassifier Model, ExampleSet Train) Setup(int seed)
    {
        var data = TrainingFixtures.Blobs(240, 4, 1);
        var normalizer = Normalizer.Fit(data, NormalizationMode.PerChannel);
        var network = new Sequential(
            new Conv2d(1, 4, 3, 1, 1), new BatchNorm(4, spatial: true), new Activation(ActivationKind.Relu), Pool2d.Max(2),
            new Dropout2d(0.1f), new Flatten(), new Linear(16, 4));
        network.ResetParameters(new Rng(seed));
        var model = new NetworkClassifier("cnn", network, ClassifierLoss.Softmax, normalizer, new ImagePreparation(1, 4, 4), data.ClassNames);
        return (model, new ExampleSet(normalizer.Apply(data), data.Labels, 16, [1, 4, 4]));
    }

    private static readonly TrainingOptions Recipe = new(Epochs: 4, BatchSize: 32, Optimizer: "nesterov", LearningRate: 0.05, WeightDecay: 5e-4,
        Schedule: "onecycle", Flip: true, CropPadding: 1, Cutout: 2);

    [Fact]
    public void SmallConvNet_LearnsBlobs()
    {
        var (model, train) = Setup(1);
        new Trainer(Recipe with { Epochs = 10 }).Fit(model, train, null, null);
        Assert.True(Trainer.Evaluate(model, train).Accuracy > 0.9);
    }

    [Fact]
    public void Resume_WithBatchNormAugmentationAndDropout2d_MatchesUninterruptedRunBitForBit()
    {
        var (reference, train) = Setup(3);
        new Trainer(Recipe).Fit(reference, train, null, null);
        foreach (int stopAfter in new[] { 3, 16 })
        {
            using var dir = new TempFolder();
            var (model, _) = Setup(3);
            using var cancel = new CancellationTokenSource();
            int steps = 0;
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new Trainer(Recipe) { OnStep = _ => { if (++steps == stopAfter) cancel.Cancel(); } }.Fit(model, train, null, dir.Path, null, cancel.Token));
            var (resumed, _) = Setup(99);
            new Trainer(Recipe).Fit(resumed, train, null, dir.Path, Checkpoint.Load(Path.Combine(dir.Path, Checkpoint.FileName)));
            Assert.Equal(TrainingFixtures.Flatten(reference), TrainingFixtures.Flatten(resumed));
            Assert.Equal(reference.Network.NamedBuffers().SelectMany(b => b.Values), resumed.Network.NamedBuffers().SelectMany(b => b.Values));
        }
    }

    [Fact]
    public void Augmentation_FlipCropCutout_DoWhatTheySay()
    {
        // One 1×2×3 image: flip mirrors rows; crop by padding 1 shifts in pad values; cutout zeroes a square.
        float[] image = [1, 2, 3, 4, 5, 6];
        float[] pad = [-9, -9, -9, -9, -9, -9];
        bool sawFlip = false, sawShift = false;
        for (int seed = 0; seed < 50; seed++)
        {
            var copy = (float[])image.Clone();
            new Augmentation(Flip: true).Apply(copy, 1, 1, 2, 3, pad, new Rng(seed));
            Assert.True(copy.SequenceEqual(image) || copy.SequenceEqual([3f, 2, 1, 6, 5, 4]));
            sawFlip |= copy[0] == 3;

            copy = (float[])image.Clone();
            new Augmentation(CropPadding: 1).Apply(copy, 1, 1, 2, 3, pad, new Rng(seed));
            Assert.All(copy, v => Assert.True(v == -9 || image.Contains(v)));
            sawShift |= copy.Contains(-9);

            copy = (float[])image.Clone();
            new Augmentation(Cutout: 1).Apply(copy, 1, 1, 2, 3, pad, new Rng(seed));
            Assert.Equal(1, copy.Count(v => v == 0));
        }
        Assert.True(sawFlip && sawShift);
    }
}

using SharpVision.Data;
using SharpVision.Nn;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;

namespace SharpVision.Tests.Nn;

/// <summary>The inference form (batch norm folded, conv + ReLU + max pool fused) against the evaluation-mode network.</summary>
public class InferenceFormTests
{
    // Random parameters and batch-norm statistics far from the identity (BatchNormFoldingTests.Randomize).
    private static Sequential Randomized(string name, int seed)
    {
        var network = Networks.ByName(name, 1, 28, 28, 10);
        BatchNormFoldingTests.Randomize(network, new Rng(seed));
        return network;
    }

    [Theory]
    [InlineData("cnn2", 2)]
    [InlineData("resnet8", 1)]
    public void InferenceForm_MatchesEvaluationMode(string name, int blocks)
    {
        var network = Randomized(name, 7);
        var rng = new Rng(8);
        var x = new Tensor(new Shape(5, 1, 28, 28), Enumerable.Range(0, 5 * 784).Select(_ => rng.NextNormal()).ToArray());
        network.Eval();
        float[] expected, actual;
        using (GradMode.NoGrad()) expected = network.Forward(x).Data;
        var inference = InferenceForm.Of(network);
        using (GradMode.NoGrad()) actual = inference.Forward(x).Data;

        Assert.Equal(blocks, Flatten(inference).OfType<ConvBlock>().Count());
        Assert.DoesNotContain(Flatten(inference), m => m is BatchNorm);
        float scale = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f * scale, $"{name} output {i}: {actual[i]:R}, eval {expected[i]:R}");
    }

    [Fact]
    public void Frozen_PredictsAsTheModel_AndKeepsItsWeights()
    {
        var network = Randomized("cnn2", 11);
        var normalizer = new Normalizer(NormalizationMode.PerChannel, 1, 784, [0.3f], [3f]);
        var model = new NetworkClassifier("cnn2", network, ClassifierLoss.Softmax, normalizer, new ImagePreparation(1, 28, 28),
            Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray());
        var rng = new Rng(12);
        var images = Enumerable.Range(0, 9 * 784).Select(_ => (byte)rng.NextInt(256)).ToArray();
        var frozen = model.Frozen();
        var before = model.Predict(images, threads: 2);
        var fromFrozen = frozen.Predict(images, threads: 1);
        Assert.Same(frozen, frozen.Frozen());
        for (int i = 0; i < before.Probabilities.Length; i++) Assert.Equal(before.Probabilities[i], fromFrozen.Probabilities[i], 1e-6f);

        // Training the network afterwards moves the live model, not the frozen one.
        foreach (var p in network.Parameters()) for (int i = 0; i < p.Size; i++) p.Data[i] *= -1;
        var moved = model.Predict(images, threads: 2);
        var stillFrozen = frozen.Predict(images, threads: 2);
        Assert.NotEqual(before.Probabilities, moved.Probabilities);
        Assert.Equal(fromFrozen.Probabilities, stillFrozen.Probabilities);
    }

    [Fact]
    public void ConvBlock_RefusesInputsThatNeedAGradient()
    {
        var block = new ConvBlock(new Conv2d(1, 4, 3, 1, 1), relu: true, Pool2d.Max(2));
        var x = new Tensor(new Shape(1, 1, 4, 4), new float[16], requiresGrad: true);
        Assert.Throws<InvalidOperationException>(() => block.Forward(x));
        using (GradMode.NoGrad()) Assert.Equal(new Shape(1, 4, 2, 2), block.Forward(x).Shape);
        Assert.Throws<ArgumentException>(() => new ConvBlock(new Conv2d(1, 4, 3), relu: true, Pool2d.Average(2)));
    }

    private static IEnumerable<Module> Flatten(Module m) => new[] { m }.Concat(m.Children.SelectMany(c => Flatten(c.Module)));
}

using SharpVision.Nn;
using SharpVision.Tensors.Autograd;
using SharpVision.Tensors;

namespace SharpVision.Tests.Nn;

public class BatchNormFoldingTests
{
    // Random parameters and batch-norm statistics far from the identity (γ ≠ 1, β ≠ 0, mean ≠ 0, var ≠ 1), so a fold
    // that dropped any of the four terms would change the outputs.
    internal static void Randomize(Module network, Rng rng)
    {
        network.ResetParameters(rng);
        foreach (var (name, p) in network.NamedParameters())
            if (name.EndsWith("weight", StringComparison.Ordinal) && p.Shape.Rank == 1)
                for (int i = 0; i < p.Size; i++) p.Data[i] = 0.5f + rng.NextFloat();
            else if (p.Shape.Rank == 1)
                for (int i = 0; i < p.Size; i++) p.Data[i] = rng.NextNormal() * 0.3f;
        foreach (var (name, values) in network.NamedBuffers())
            for (int i = 0; i < values.Length; i++)
                values[i] = name.EndsWith("running_var", StringComparison.Ordinal) ? 0.2f + 2 * rng.NextFloat() : rng.NextNormal() * 0.5f;
    }

    public static TheoryData<string> Networks_() => new() { "cnn2", "resnet8", "resnet20" };

    [Theory]
    [MemberData(nameof(Networks_))]
    public void Folded_MatchesEvaluationMode_WithoutBatchNorms(string name)
    {
        var rng = new Rng(7);
        var network = Networks.ByName(name, 1, 28, 28, 10);
        Randomize(network, rng);
        var x = new Tensor(new Shape(6, 1, 28, 28), Enumerable.Range(0, 6 * 784).Select(_ => rng.NextNormal()).ToArray());

        network.Eval();
        float[] expected;
        using (GradMode.NoGrad()) expected = network.Forward(x).Data;
        var folded = BatchNormFolding.Fold(network);
        folded.Eval();
        float[] actual;
        using (GradMode.NoGrad()) actual = folded.Forward(x).Data;

        Assert.DoesNotContain(Flatten(folded), m => m is BatchNorm);
        Assert.Contains(Flatten(network), m => m is BatchNorm);
        float scale = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++) Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-4f * scale, $"{name} output {i}: folded {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void Folded_SharesNoParameterWithTheOriginal()
    {
        var rng = new Rng(3);
        var network = Networks.Resnet8(1, 10);
        Randomize(network, rng);
        var folded = BatchNormFolding.Fold(network);
        var original = network.NamedParameters().Select(p => p.Parameter.Data).ToHashSet(ReferenceEqualityComparer.Instance);
        // Layers without a batch norm after them (the classifier) are shared; every convolution is a fresh copy.
        foreach (var conv in Flatten(folded).OfType<Conv2d>()) Assert.DoesNotContain(conv.Weight.Data, original);
    }

    [Fact]
    public void LinearThenBatchNorm1d_IsFolded()
    {
        var rng = new Rng(5);
        var network = new Sequential(new Linear(12, 8), new BatchNorm(8, spatial: false), new Activation(ActivationKind.Relu), new Linear(8, 3));
        Randomize(network, rng);
        var x = new Tensor(new Shape(4, 12), Enumerable.Range(0, 48).Select(_ => rng.NextNormal()).ToArray());
        network.Eval();
        float[] expected;
        using (GradMode.NoGrad()) expected = network.Forward(x).Data;
        var folded = BatchNormFolding.Fold(network);
        float[] actual;
        using (GradMode.NoGrad()) actual = folded.Forward(x).Data;
        Assert.Equal(3, ((Sequential)folded).Layers.Count);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4f);
    }

    private static IEnumerable<Module> Flatten(Module m) => new[] { m }.Concat(m.Children.SelectMany(c => Flatten(c.Module)));
}

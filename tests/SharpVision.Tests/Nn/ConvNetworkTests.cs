using SharpVision.Nn;
using SharpVision.Optim;
using SharpVision.Serialization;
using SharpVision.Tensors;

namespace SharpVision.Tests.Nn;

public class ConvNetworkTests
{
    [Fact]
    public void Zoo_ParameterCounts_MatchTorchPeers()
    {
        // bench/peers/torch_peers.py prints these for its definitions on Fashion-MNIST (1×28×28, 10 classes).
        Assert.Equal(421_834, Networks.Cnn2(1, 28, 28, 10).ParameterCount());
        Assert.Equal(77_754, Networks.Resnet8(1, 10).ParameterCount());
        // He et al.'s ResNet-20 has 0.27M parameters with zero-padding shortcuts; the 1×1 projections add 2 × (conv + BN).
        long resnet20 = Networks.Resnet20(3, 10).ParameterCount();
        Assert.InRange(resnet20, 270_000, 280_000);
    }

    [Fact]
    public void Architecture_RoundTripsThroughJson_WithBuffers()
    {
        var net = Networks.Resnet8(1, 10);
        var again = Architecture.FromJson(Architecture.ToJson(net));
        Assert.Equal(net.NamedParameters().Select(p => (p.Name, p.Parameter.Shape)), again.NamedParameters().Select(p => (p.Name, p.Parameter.Shape)));
        Assert.Equal(net.NamedBuffers().Select(b => (b.Name, b.Values.Length)), again.NamedBuffers().Select(b => (b.Name, b.Values.Length)));
    }

    // The same closed form as tests/Fixtures/cnn/make_fixtures.py's fill().
    private static float[] Fill(string name, int n, bool batchNormGamma)
    {
        double a, b;
        if (batchNormGamma) (a, b) = (0.1, 1.0);
        else if (name.EndsWith("bias", StringComparison.Ordinal)) (a, b) = (0.05, 0.0);
        else (a, b) = (0.3 / Math.Sqrt(Math.Max(1, n / 16)), 0.0);
        return Enumerable.Range(0, n).Select(j => (float)(a * Math.Sin(0.37 * j + name.Length) + b)).ToArray();
    }

    [Fact]
    public void Resnet8_OneTrainingStep_MatchesPyTorch()
    {
        var fixture = SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "cnn", "resnet8_step.safetensors"));
        float[] Get(string name) => (fixture.Find(name) ?? throw new InvalidOperationException($"fixture lacks {name}")).ToSingle();

        var net = Networks.Resnet8(1, 10);
        var gammas = new HashSet<Tensor>(Collect(net).OfType<BatchNorm>().Select(bn => bn.Gamma), ReferenceEqualityComparer.Instance);
        foreach (var (name, p) in net.NamedParameters()) Fill(name, p.Size, gammas.Contains(p)).CopyTo(p.Data, 0);

        var x = new Tensor(new Shape(6, 1, 28, 28), Get("input"));
        var labels = fixture.Find("labels")!.ToInt32();
        net.Train(new Rng(0));
        var logits = net.Forward(x);
        var loss = Ops.SoftmaxCrossEntropy(logits, labels);
        var optimizer = new Sgd(net.Parameters(), new SgdOptions(0.05, 0.9, Nesterov: true, WeightDecay: 5e-4));
        optimizer.ZeroGrad();
        loss.Backward();

        AssertClose("logits", Get("logits"), logits.Data, 1e-4);
        AssertClose("loss", Get("loss"), [loss.Item()], 1e-5);
        foreach (var (name, p) in net.NamedParameters()) AssertClose("grad." + name, Get("grad." + name), p.Grad!, 2e-4);
        foreach (var (name, values) in net.NamedBuffers()) AssertClose("buffer." + name, Get("buffer." + name), values, 1e-4);
        optimizer.Step();
        foreach (var (name, p) in net.NamedParameters()) AssertClose("after." + name, Get("after." + name), p.Data, 1e-4);
    }

    private static IEnumerable<Module> Collect(Module m) => new[] { m }.Concat(m.Children.SelectMany(c => Collect(c.Module)));

    // |a − e| ≤ tolerance · (1 + max|e|) over the tensor: float32 summation order differs between the engines.
    private static void AssertClose(string what, float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 1 + expected.Max(v => Math.Abs(v));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"{what}[{i}]: PyTorch {expected[i]}, SharpVision {actual[i]}");
    }
}

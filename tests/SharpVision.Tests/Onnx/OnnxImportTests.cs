using Microsoft.ML.OnnxRuntime;
using SharpVision.IO;
using SharpVision.Onnx;
using SharpVision.Serialization;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;
using Tensor = SharpVision.Tensors.Tensor;

namespace SharpVision.Tests.Onnx;

/// <summary>
/// torch.onnx.export's files of one small network using every supported operator, at opsets 7, 9, 11, 13 and 17
/// (tests/Fixtures/onnx/make_fixtures.py), imported and run on the engine against PyTorch's output and ONNX Runtime.
/// </summary>
public class OnnxImportTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", name);

    private static readonly Lazy<SafeTensorsFile> Zoo = new(() => SafeTensorsFile.Read(Fixture("zoo.safetensors")));

    private static (Tensor X, float[] Y) ZooData()
    {
        var x = Zoo.Value.Find("x")!;
        return (new Tensor(new Shape(x.Shape.Select(d => (int)d).ToArray()), x.ToSingle()), Zoo.Value.Find("y")!.ToSingle());
    }

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(11)]
    [InlineData(13)]
    [InlineData(17)]
    public void Import_TorchExportAtOpset_EqualsPyTorchAndOnnxRuntime(int opset)
    {
        var path = Fixture($"zoo_opset{opset}.onnx");
        var network = OnnxNetwork.Load(path);
        Assert.Equal(opset, network.Model.DefaultOperatorSet);
        var (x, expected) = ZooData();
        float[] ours, folded;
        using (GradMode.NoGrad())
        {
            network.Eval();
            ours = network.Forward(x).Data;
            folded = network.Folded().Forward(x).Data;
        }
        ConvKernelTestsClose(expected, ours, "engine vs PyTorch");
        ConvKernelTestsClose(expected, folded, "folded vs PyTorch");
        using var session = new InferenceSession(path);
        var ort = ResNet18Tests.RunOrt(session, network.InputName, x.Data, x.Shape.ToArray());
        ConvKernelTestsClose(ort, ours, "engine vs ONNX Runtime");
    }

    private static void ConvKernelTestsClose(float[] expected, float[] actual, string what) =>
        SharpVision.Tests.Tensors.ConvKernelTests.AssertClose(expected, actual, what, relative: 1e-5, absolute: 1e-6);

    [Fact]
    public void Train_FrozenStages_OnlyTrainableLayersGetGradientsAndTheyAreRight()
    {
        var network = OnnxNetwork.Load(Fixture("zoo_opset13.onnx"));
        Assert.Equal(3, network.LastStage); // the stride-2 max pool, the stride-2 convolution, the 2×2 average pool
        network.Freeze(layer => layer.Stage < network.LastStage); // train the last stage only
        var (x, _) = ZooData();
        network.Train(new Rng(1));
        var trainable = network.Layers.Where(l => l.Stage == network.LastStage).SelectMany(l => l.Module.Parameters()).ToArray();
        Assert.NotEmpty(trainable);
        // Finite differences through the whole imported graph, for the trainable parameters (except the fc weight, for
        // time: Linear has its own checks) and the pixels of one image.
        var image = new Tensor(new Shape(1, 3, 16, 16), x.Data[..768], requiresGrad: true);
        var result = GradientChecker.Check(_ => network.Forward(image), [.. trainable.Where(p => p.Size < 1000), image], step: 1e-3f, tolerance: 1e-2);
        network.Forward(x).Backward(new float[15]);
        Assert.True(result.Passed, result.ToString());
        foreach (var layer in network.Layers.Where(l => l.Stage < network.LastStage))
            Assert.All(layer.Module.Parameters(), p => Assert.True(p.Grad is null && !p.RequiresGrad, $"{p.Name} is frozen but got a gradient"));
    }

    [Fact]
    public void Import_UnsupportedOperator_NamesNodeAndOperator()
    {
        var model = OnnxModels.Single("Lstm", "rnn1");
        var e = Assert.Throws<DataFormatException>(() => OnnxNetwork.Parse(OnnxFormat.ToBytes(model), "model.onnx"));
        Assert.StartsWith("model.onnx: ", e.Message);
        Assert.Contains("Lstm node 'rnn1'", e.Message);
        Assert.Contains("not supported", e.Message);
    }

    [Fact]
    public void Import_UnsupportedAttribute_NamesNodeAndAttribute()
    {
        var model = OnnxModels.Single("Relu", "act", OnnxAttribute.Of("beta", 2f));
        var e = Assert.Throws<DataFormatException>(() => OnnxNetwork.Parse(OnnxFormat.ToBytes(model), "model.onnx"));
        Assert.Contains("Relu node 'act': attribute 'beta' is not supported", e.Message);
        var grouped = OnnxModels.Conv(group: 2);
        e = Assert.Throws<DataFormatException>(() => OnnxNetwork.Parse(OnnxFormat.ToBytes(grouped), "conv.onnx"));
        Assert.Contains("Conv node 'conv': group=2", e.Message);
    }

    [Fact]
    public void Import_OperatorSetOutOfRange_IsRefused()
    {
        var model = OnnxModels.Single("Relu", "act", opset: 18);
        var e = Assert.Throws<DataFormatException>(() => OnnxNetwork.Parse(OnnxFormat.ToBytes(model), "new.onnx"));
        Assert.Contains("operator set 18 is outside the supported 7–17", e.Message);
    }
}

/// <summary>Small models built in test code.</summary>
internal static class OnnxModels
{
    /// <summary>One node of <paramref name="op"/> from input "x" (1×2×4×4) to output "y".</summary>
    public static OnnxModel Single(string op, string name, OnnxAttribute? attribute = null, long opset = 13) => new()
    {
        IrVersion = 7,
        OperatorSets = [new OnnxOperatorSet("", opset)],
        Graph = new OnnxGraph
        {
            Nodes = [new OnnxNode { OpType = op, Name = name, Inputs = ["x"], Outputs = ["y"], Attributes = attribute is null ? [] : [attribute] }],
            Inputs = [OnnxValueInfo.FloatTensor("x", 1, 2, 4, 4)],
            Outputs = [OnnxValueInfo.FloatTensor("y")],
        },
    };

    /// <summary>A 3×3 convolution of 2 channels into 2 named "conv".</summary>
    public static OnnxModel Conv(long group = 1) => new()
    {
        IrVersion = 7,
        OperatorSets = [new OnnxOperatorSet("", 13)],
        Graph = new OnnxGraph
        {
            Nodes = [new OnnxNode { OpType = "Conv", Name = "conv", Inputs = ["x", "w"], Outputs = ["y"], Attributes = [OnnxAttribute.Of("group", group)] }],
            Initializers = [OnnxTensor.FromSingles("w", new float[2 * (2 / (int)group) * 9], 2, 2 / group, 3, 3)],
            Inputs = [OnnxValueInfo.FloatTensor("x", 1, 2, 4, 4)],
            Outputs = [OnnxValueInfo.FloatTensor("y")],
        },
    };
}

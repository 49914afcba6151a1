using System.Text.Json;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tests.Tensors;

/// <summary>The convolutional primitives against PyTorch 1.13 on the same inputs (tests/Fixtures/conv/conv.json, made by make_fixtures.py).</summary>
public class ConvFixtureTests
{
    private static readonly Lazy<JsonElement> Cases = new(() =>
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "conv", "conv.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("cases").Clone();
    });

    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var c in Cases.Value.EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Primitive_MatchesPyTorch(string name)
    {
        var fixture = Cases.Value.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        var tensors = fixture.GetProperty("tensors");
        var options = fixture.GetProperty("options");
        string op = fixture.GetProperty("op").GetString()!;
        if (op == "erf")
        {
            var xs = tensors.GetProperty("x").GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var ys = tensors.GetProperty("y").GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            for (int i = 0; i < xs.Length; i++)
                Assert.True(Math.Abs(ErrorFunction.Erf(xs[i]) - ys[i]) <= 1e-15, $"erf({xs[i]:R}) = {ErrorFunction.Erf(xs[i]):R}, torch {ys[i]:R}");
            return;
        }

        Tensor Input(string key) => new(Shape(tensors.GetProperty(key)), Floats(tensors.GetProperty(key)), requiresGrad: true) { Name = key };
        int Option(string key) => options.GetProperty(key).GetInt32();
        var x = Input("x");
        var inputs = new List<Tensor> { x };
        float[]? runningMean = null, runningVar = null;
        Tensor y;
        switch (op)
        {
            case "conv2d":
                var weight = Input("weight");
                var bias = tensors.TryGetProperty("bias", out _) ? Input("bias") : null;
                inputs.Add(weight);
                if (bias is not null) inputs.Add(bias);
                y = Ops.Conv2d(x, weight, bias, Option("stride"), Option("padding"));
                break;
            case "max_pool2d":
                y = Ops.MaxPool2d(x, Option("kernel"), Option("stride"));
                break;
            case "avg_pool2d":
                y = Ops.AvgPool2d(x, Option("kernel"), Option("stride"));
                break;
            case "adaptive_avg_pool2d":
                y = Ops.GlobalAvgPool2d(x);
                break;
            case "gelu":
                y = Ops.Gelu(x);
                break;
            case "batch_norm":
                var gamma = Input("gamma");
                var beta = Input("beta");
                inputs.Add(gamma);
                inputs.Add(beta);
                runningMean = Floats(tensors.GetProperty("running_mean"));
                runningVar = Floats(tensors.GetProperty("running_var"));
                y = Ops.BatchNorm(x, gamma, beta, runningMean, runningVar, options.GetProperty("training").GetBoolean(),
                    options.GetProperty("momentum").GetSingle(), options.GetProperty("eps").GetSingle());
                break;
            default:
                throw new InvalidOperationException($"Unknown op '{op}' in the fixture.");
        }

        Assert.Equal(Shape(tensors.GetProperty("y")), y.Shape);
        AssertClose(Floats(tensors.GetProperty("y")), y.Data, $"{name} y");
        y.Backward(Floats(tensors.GetProperty("dy")));
        foreach (var input in inputs)
            AssertClose(Floats(tensors.GetProperty("d" + input.Name)), input.Grad!, $"{name} d{input.Name}");
        if (runningMean is not null)
        {
            AssertClose(Floats(tensors.GetProperty("running_mean_after")), runningMean, $"{name} running mean");
            AssertClose(Floats(tensors.GetProperty("running_var_after")), runningVar!, $"{name} running var");
        }
    }

    public static TheoryData<string> ConvNames
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var c in Cases.Value.EnumerateArray())
                if (c.GetProperty("op").GetString() == "conv2d") data.Add(c.GetProperty("name").GetString()!);
            return data;
        }
    }

    /// <summary>The managed kernels on the conv2d fixtures, whatever SHARPVISION_CONV picks for Ops.Conv2d.</summary>
    [Theory]
    [MemberData(nameof(ConvNames))]
    public void Conv2dKernels_Managed_MatchPyTorch(string name) => CheckKernels(name, Conv2dAlgorithm.Managed);

    /// <summary>oneDNN on the conv2d fixtures (skipped, with the reason, without libdnnl.so.2).</summary>
    [OneDnnTheory]
    [MemberData(nameof(ConvNames))]
    public void Conv2dKernels_OneDnn_MatchPyTorch(string name) => CheckKernels(name, Conv2dAlgorithm.OneDnn);

    private static void CheckKernels(string name, Conv2dAlgorithm algorithm)
    {
        var fixture = Cases.Value.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        var tensors = fixture.GetProperty("tensors");
        var options = fixture.GetProperty("options");
        var xShape = Shape(tensors.GetProperty("x"));
        var wShape = Shape(tensors.GetProperty("weight"));
        var g = new Conv2dGeometry(xShape[0], xShape[1], xShape[2], xShape[3], wShape[0], wShape[2], wShape[3],
            options.GetProperty("stride").GetInt32(), options.GetProperty("padding").GetInt32());
        bool withBias = tensors.TryGetProperty("bias", out var biasTensor);
        float[] x = Floats(tensors.GetProperty("x")), weight = Floats(tensors.GetProperty("weight")), dy = Floats(tensors.GetProperty("dy"));
        float[] bias = withBias ? Floats(biasTensor) : [];

        var y = new float[g.Batch * g.OutputImageSize];
        Conv2dKernels.Forward(g, x, weight, bias, y, 2, algorithm);
        AssertClose(Floats(tensors.GetProperty("y")), y, $"{name} {algorithm} y");
        var dx = new float[x.Length];
        var dw = new float[weight.Length];
        float[] db = withBias ? new float[g.Filters] : [];
        Conv2dKernels.Backward(g, dy, x, weight, dx, accumulateInput: true, dw, db, 2, algorithm);
        AssertClose(Floats(tensors.GetProperty("dx")), dx, $"{name} {algorithm} dx");
        AssertClose(Floats(tensors.GetProperty("dweight")), dw, $"{name} {algorithm} dweight");
        if (withBias) AssertClose(Floats(tensors.GetProperty("dbias")), db, $"{name} {algorithm} dbias");
    }

    private static Shape Shape(JsonElement t) => new(t.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray());

    private static float[] Floats(JsonElement t) => t.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    // float32 against float32 computed in another order: 1e-4 relative, plus 1e-5 of the tensor's largest magnitude
    // for elements that are sums of cancelling terms.
    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1, expected.Max(v => Math.Abs(v)));
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = 1e-4 * Math.Abs(expected[i]) + 1e-5 * scale;
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
                Assert.Fail($"{what}[{i}]: torch {expected[i]:R}, ours {actual[i]:R}.");
        }
    }
}

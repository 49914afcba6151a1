using SharpVision.Serialization;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;
using SharpVision.Tensors.Kernels.Reference;

namespace SharpVision.Tests.Tensors;

/// <summary>
/// The primitives added for imported graphs (padded max pooling, Concat, Slice, BroadcastTo, Pad2d): gradient checks,
/// the padded pooling kernel against its scalar twin, and PyTorch fixtures (tests/Fixtures/onnx/make_fixtures.py).
/// </summary>
public class LayoutPrimitiveTests
{
    private static Tensor Random(Rng rng, params int[] dims) => ConvPrimitiveTests.Random(rng, -1, 1, dims);

    private static Tensor DistinctValues(Rng rng, params int[] dims) => ConvPrimitiveTests.DistinctValues(rng, dims);

    public static TheoryData<string> Primitives => new()
    {
        "max_pool2d_padded", "max_pool2d_padded_stride1", "concat_channels", "concat_rows", "slice_channels", "slice_last", "broadcast_channel",
        "broadcast_both", "pad2d_asymmetric", "pad2d_then_conv",
    };

    [Theory]
    [MemberData(nameof(Primitives))]
    public void GradientChecker_LayoutPrimitive_AnalyticMatchesNumerical(string op)
    {
        var rng = new Rng(23);
        var (f, inputs) = op switch
        {
            "max_pool2d_padded" => Case(x => Ops.MaxPool2d(x[0], 3, 2, 1), DistinctValues(rng, 2, 2, 7, 6)),
            "max_pool2d_padded_stride1" => Case(x => Ops.MaxPool2d(x[0], 3, 1, 1), DistinctValues(rng, 1, 2, 5, 4)),
            "concat_channels" => Case(x => Ops.Concat([x[0], x[1]], 1), Random(rng, 2, 3, 2, 2), Random(rng, 2, 1, 2, 2)),
            "concat_rows" => Case(x => Ops.Concat([x[0], x[1], x[0]], -1), Random(rng, 3, 2), Random(rng, 3, 4)),
            "slice_channels" => Case(x => Ops.Slice(x[0], 1, 1, 2), Random(rng, 2, 4, 3, 2)),
            "slice_last" => Case(x => Ops.Slice(x[0], -1, 2, 3), Random(rng, 3, 5)),
            "broadcast_channel" => Case(x => Ops.Mul(x[0], Ops.BroadcastTo(x[1], x[0].Shape)), Random(rng, 2, 3, 2, 2), Random(rng, 3, 1, 1)),
            "broadcast_both" => Case(x => Ops.Add(Ops.BroadcastTo(x[0], new Shape(4, 3)), Ops.BroadcastTo(x[1], new Shape(4, 3))), Random(rng, 4, 1), Random(rng, 1, 3)),
            "pad2d_asymmetric" => Case(x => Ops.Pad2d(x[0], 0, 2, 1, 0, 0.5f), Random(rng, 2, 2, 3, 3)),
            "pad2d_then_conv" => Case(x => Ops.Conv2d(Ops.Pad2d(x[0], 0, 1, 0, 1), x[1], null, stride: 2), Random(rng, 2, 2, 5, 6), Random(rng, 3, 2, 3, 3)),
            _ => throw new ArgumentException(op),
        };
        var result = GradientChecker.Check(f, inputs);
        Assert.True(result.Passed, $"{op}:\n{result}");
        Assert.All(inputs, t => Assert.NotNull(t.Grad));
    }

    private static (Func<Tensor[], Tensor>, Tensor[]) Case(Func<Tensor[], Tensor> f, params Tensor[] inputs) => (f, inputs);

    [Theory]
    [InlineData(3, 112, 112, 3, 2, 1)]
    [InlineData(2, 7, 6, 3, 2, 1)]
    [InlineData(2, 5, 5, 5, 1, 2)]
    [InlineData(1, 1, 1, 1, 1, 0)]
    [InlineData(65, 9, 8, 2, 2, 1)]
    public void MaxForwardPadded_AwkwardGeometry_MatchesReferenceForAnyThreadCount(int planes, int h, int w, int kernel, int stride, int padding)
    {
        var rng = new Rng(planes + h);
        var x = new float[planes * h * w];
        for (int i = 0; i < x.Length; i++) x[i] = i % 5 == 0 ? x[Math.Max(0, i - 1)] : rng.NextFloat() * 2 - 1; // with ties
        int ho = (h + 2 * padding - kernel) / stride + 1, wo = (w + 2 * padding - kernel) / stride + 1;
        var expected = new float[planes * ho * wo];
        var expectedArgmax = new int[expected.Length];
        PoolingReference.MaxForward(x, planes, h, w, kernel, stride, padding, expected, expectedArgmax);
        foreach (int threads in new[] { 1, 2 })
        {
            var y = new float[expected.Length];
            var argmax = new int[expected.Length];
            PoolingKernels.MaxForward(x, planes, h, w, kernel, stride, padding, y, argmax, threads);
            Assert.Equal(expected, y);
            Assert.Equal(expectedArgmax, argmax);
        }
    }

    [Fact]
    public void MaxPool2dPadded_NaNInWindow_Propagates()
    {
        var y = Ops.MaxPool2d(Tensor.From([1f, float.NaN, 7f, 2f], 1, 1, 2, 2), 3, 2, 1);
        Assert.True(float.IsNaN(y.Data[0]));
        Assert.Throws<ArgumentException>(() => Ops.MaxPool2d(Tensor.Zeros(1, 1, 4, 4), 3, 1, 2)); // padding > kernel/2
    }

    private static readonly Lazy<SafeTensorsFile> Fixture = new(() => SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", "ops.safetensors")));

    private static Tensor Load(string name, bool grad = false)
    {
        var e = Fixture.Value.Find(name) ?? throw new KeyNotFoundException(name);
        return new Tensor(new Shape(e.Shape.Select(d => (int)d).ToArray()), e.ToSingle(), grad);
    }

    [Fact]
    public void MaxPool2dPadded_PyTorchFixture_ForwardAndGradientMatch()
    {
        var x = Load("maxpool.x", grad: true);
        var y = Ops.MaxPool2d(x, 3, 2, 1);
        Assert.Equal(Load("maxpool.y").Data, y.Data);
        y.Backward(Load("maxpool.dy").Data);
        Assert.Equal(Load("maxpool.dx").Data, x.Grad);
    }

    [Fact]
    public void Pad2dThenConv_PyTorchFixture_ForwardAndGradientsMatch()
    {
        var x = Load("padconv.x", grad: true);
        var w = Load("padconv.w", grad: true);
        var y = Ops.Conv2d(Ops.Pad2d(x, 0, 1, 0, 1), w, null, stride: 2);
        ConvKernelTests.AssertClose(Load("padconv.y").Data, y.Data, "y");
        y.Backward(Load("padconv.dy").Data);
        ConvKernelTests.AssertClose(Load("padconv.dx").Data, x.Grad!, "dx");
        ConvKernelTests.AssertClose(Load("padconv.dw").Data, w.Grad!, "dw");
    }

    [Fact]
    public void BroadcastShape_NumPyRules_AndRefusals()
    {
        Assert.Equal(new Shape(2, 3, 4, 5), Ops.BroadcastShape(new Shape(2, 3, 4, 5), new Shape(3, 1, 1)));
        Assert.Equal(new Shape(4, 3), Ops.BroadcastShape(new Shape(4, 1), new Shape(3)));
        Assert.Throws<ArgumentException>(() => Ops.BroadcastShape(new Shape(2, 3), new Shape(4)));
        Assert.Throws<ArgumentException>(() => Ops.Concat([Tensor.Zeros(2, 3), Tensor.Zeros(3, 3)], 1));
        Assert.Throws<ArgumentException>(() => Ops.Slice(Tensor.Zeros(2, 3), 1, 2, 2));
    }
}

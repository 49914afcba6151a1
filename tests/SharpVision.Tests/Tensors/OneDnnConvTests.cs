using System.Text.Json.Nodes;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;
using SharpVision.Tensors.Kernels.Reference;
using SharpVision.Tests.Support;

namespace SharpVision.Tests.Tensors;

/// <summary>
/// A [Fact] that xunit reports as skipped, with the reason, when libdnnl.so.2 is not usable; under CI=true it runs
/// anyway (and fails on the missing library), because .ci/run installs libdnnl2.
/// </summary>
public sealed class OneDnnFactAttribute : FactAttribute
{
    public OneDnnFactAttribute()
    {
        if (!Conv2dBackend.OneDnnAvailable && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = $"oneDNN is not available: {Conv2dBackend.OneDnnUnavailableReason}";
    }
}

/// <summary>The [Theory] twin of <see cref="OneDnnFactAttribute"/>.</summary>
public sealed class OneDnnTheoryAttribute : TheoryAttribute
{
    public OneDnnTheoryAttribute()
    {
        if (!Conv2dBackend.OneDnnAvailable && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = $"oneDNN is not available: {Conv2dBackend.OneDnnUnavailableReason}";
    }
}

/// <summary>The oneDNN convolution backend against the scalar reference and the managed kernels.</summary>
public class OneDnnConvTests
{
    // (N, C, H, W, K, kh, kw, stride, pad, bias). Every convolution of cnn2 and resnet8 on 1×28×28 and of resnet20 on
    // 3×32×32 (batch cut to keep the oracle quick), then odd ones: batch 1, stride 2 on odd sizes, non-square images,
    // 1×1 with stride 1 and 2, padding 0/1/2, filters and channels off oneDNN's 16-block, 5×5 and even kernels, stride 3.
    public static TheoryData<int, int, int, int, int, int, int, int, int, bool> Geometries => new()
    {
        { 4, 1, 28, 28, 32, 3, 3, 1, 1, true },    // cnn2 conv1
        { 4, 32, 14, 14, 64, 3, 3, 1, 1, true },   // cnn2 conv2
        { 4, 1, 28, 28, 16, 3, 3, 1, 1, false },   // resnet8 stem
        { 4, 16, 28, 28, 16, 3, 3, 1, 1, false },  // resnet8 stage 1
        { 4, 16, 28, 28, 32, 3, 3, 2, 1, false },  // resnet8 16→32 stride 2
        { 4, 32, 14, 14, 32, 3, 3, 1, 1, false },
        { 4, 32, 14, 14, 64, 3, 3, 2, 1, false },  // 14 → 7
        { 4, 64, 7, 7, 64, 3, 3, 1, 1, false },
        { 4, 16, 28, 28, 32, 1, 1, 2, 0, false },  // resnet8 projections
        { 4, 32, 14, 14, 64, 1, 1, 2, 0, false },
        { 2, 3, 32, 32, 16, 3, 3, 1, 1, false },   // resnet20 on CIFAR: stem
        { 2, 16, 32, 32, 16, 3, 3, 1, 1, false },
        { 2, 16, 32, 32, 32, 3, 3, 2, 1, false },
        { 2, 16, 32, 32, 32, 1, 1, 2, 0, false },
        { 2, 32, 16, 16, 64, 3, 3, 2, 1, false },
        { 2, 32, 16, 16, 64, 1, 1, 2, 0, false },
        { 2, 64, 8, 8, 64, 3, 3, 1, 1, false },
        { 1, 16, 7, 7, 32, 3, 3, 2, 1, true },     // batch 1, stride 2 on an odd size
        { 3, 5, 7, 5, 6, 3, 3, 2, 0, true },       // odd, non-square, no padding, K and C off the 16-block
        { 3, 7, 5, 5, 5, 1, 1, 1, 0, true },       // pointwise
        { 2, 7, 5, 6, 5, 1, 1, 2, 0, false },      // strided 1×1 dropping the last column
        { 2, 3, 9, 9, 4, 5, 5, 1, 2, true },       // 5×5, padding 2
        { 2, 4, 8, 9, 5, 4, 4, 3, 1, false },      // even kernel, stride 3
        { 1, 1, 1, 1, 1, 1, 1, 1, 0, true },       // one pixel
        { 2, 18, 6, 6, 20, 3, 3, 1, 1, true },     // channels and filters just past one 16-block
    };

    [OneDnnTheory]
    [MemberData(nameof(Geometries))]
    public void OneDnn_EveryPass_MatchesReferenceAndManaged(int n, int c, int h, int w, int k, int kh, int kw, int stride, int pad, bool withBias)
    {
        Assert.True(Conv2dBackend.OneDnnAvailable, Conv2dBackend.OneDnnUnavailableReason);
        var g = new Conv2dGeometry(n, c, h, w, k, kh, kw, stride, pad);
        var rng = new Rng(n * 7919 + c * 131 + h * 17 + k + kh + stride);
        var x = ConvKernelTests.RandomValues(rng, n * g.InputImageSize);
        var weight = ConvKernelTests.RandomValues(rng, k * g.PatchSize);
        float[] bias = withBias ? ConvKernelTests.RandomValues(rng, k) : [];
        var dy = ConvKernelTests.RandomValues(rng, n * g.OutputImageSize);
        var startDx = ConvKernelTests.RandomValues(rng, x.Length); // gradients accumulate onto what is there
        var startDw = ConvKernelTests.RandomValues(rng, weight.Length);
        var startDb = ConvKernelTests.RandomValues(rng, k);

        var expectedY = new float[dy.Length];
        Conv2dReference.Forward(g, x, weight, bias, expectedY);
        var expectedDx = (float[])startDx.Clone();
        Conv2dReference.BackwardData(g, dy, weight, expectedDx);
        var expectedDw = (float[])startDw.Clone();
        var expectedDb = (float[])startDb.Clone();
        Conv2dReference.BackwardWeight(g, dy, x, expectedDw, expectedDb);
        var freshDx = new float[x.Length];
        Conv2dReference.BackwardData(g, dy, weight, freshDx);

        foreach (var algorithm in new[] { Conv2dAlgorithm.OneDnn, Conv2dAlgorithm.Managed })
        {
            var y = new float[dy.Length];
            Conv2dKernels.Forward(g, x, weight, bias, y, 2, algorithm);
            ConvKernelTests.AssertClose(expectedY, y, $"{algorithm} y");

            // separate passes, accumulating
            var dx = (float[])startDx.Clone();
            Conv2dKernels.BackwardData(g, dy, weight, dx, 2, algorithm);
            ConvKernelTests.AssertClose(expectedDx, dx, $"{algorithm} dx (+=)");
            var dw = (float[])startDw.Clone();
            var db = withBias ? (float[])startDb.Clone() : [];
            Conv2dKernels.BackwardWeight(g, dy, x, dw, db, 2, algorithm);
            ConvKernelTests.AssertClose(expectedDw, dw, $"{algorithm} dW");
            if (withBias) ConvKernelTests.AssertClose(expectedDb, db, $"{algorithm} db");

            // both passes in one call (shared dy), dx overwritten: the NaNs in it must not survive
            var overwritten = new float[x.Length];
            Array.Fill(overwritten, float.NaN);
            var dw2 = (float[])startDw.Clone();
            var db2 = withBias ? (float[])startDb.Clone() : [];
            Conv2dKernels.Backward(g, dy, x, weight, overwritten, accumulateInput: false, dw2, db2, 2, algorithm);
            ConvKernelTests.AssertClose(freshDx, overwritten, $"{algorithm} dx (=)");
            ConvKernelTests.AssertClose(expectedDw, dw2, $"{algorithm} dW (with dx)");
            if (withBias) ConvKernelTests.AssertClose(expectedDb, db2, $"{algorithm} db (with dx)");
        }
    }

    [OneDnnFact]
    public void OneDnn_AnyThreadCountOrRepeat_GivesTheSameBits()
    {
        Assert.True(Conv2dBackend.OneDnnAvailable, Conv2dBackend.OneDnnUnavailableReason);
        // 100 images: uneven chunks (6 of 16–17), several per worker.
        var g = new Conv2dGeometry(100, 16, 14, 14, 32, 3, 3, 2, 1);
        var rng = new Rng(41);
        var x = ConvKernelTests.RandomValues(rng, g.Batch * g.InputImageSize);
        var weight = ConvKernelTests.RandomValues(rng, g.Filters * g.PatchSize);
        var bias = ConvKernelTests.RandomValues(rng, g.Filters);
        var dy = ConvKernelTests.RandomValues(rng, g.Batch * g.OutputImageSize);
        (float[] Y, float[] Dx, float[] Dw, float[] Db) Run(int threads)
        {
            var y = new float[dy.Length];
            var dx = new float[x.Length];
            var dw = new float[weight.Length];
            var db = new float[g.Filters];
            Conv2dKernels.Forward(g, x, weight, bias, y, threads, Conv2dAlgorithm.OneDnn);
            Conv2dKernels.Backward(g, dy, x, weight, dx, accumulateInput: false, dw, db, threads, Conv2dAlgorithm.OneDnn);
            return (y, dx, dw, db);
        }
        var first = Run(2);
        foreach (int threads in new[] { 2, 1, 3 })
        {
            var again = Run(threads);
            Assert.Equal(first.Y, again.Y);
            Assert.Equal(first.Dx, again.Dx);
            Assert.Equal(first.Dw, again.Dw);
            Assert.Equal(first.Db, again.Db);
        }
        Assert.Contains(first.Dw, v => v != 0);
    }

    [Fact]
    public void Chunks_CoverTheBatchInOrder_AtMostEightOfSixteenOrMore()
    {
        foreach (int batch in new[] { 1, 15, 16, 31, 32, 96, 100, 128, 1000 })
        {
            var chunks = OneDnnConv2d.Chunks(batch);
            Assert.InRange(chunks.Length, 1, 8);
            int next = 0;
            foreach (var (start, count) in chunks)
            {
                Assert.Equal(next, start);
                Assert.True(count >= Math.Min(batch, 16), $"batch {batch}: a chunk of {count}");
                next += count;
            }
            Assert.Equal(batch, next);
            Assert.True(chunks.Max(c => c.Count) - chunks.Min(c => c.Count) <= 1);
        }
    }

    [OneDnnFact]
    public void OneDnn_ReportsVersionAndAvx512Implementation()
    {
        Assert.True(Conv2dBackend.OneDnnAvailable, Conv2dBackend.OneDnnUnavailableReason);
        Assert.StartsWith("2.", Conv2dBackend.OneDnnVersion);
        Assert.Contains("OpenMP", Conv2dBackend.OneDnnVersion);
        var g = new Conv2dGeometry(8, 16, 14, 14, 32, 3, 3, 1, 1);
        string implementation = Conv2dBackend.OneDnn!.Implementation(g, Conv2dPass.Forward, bias: false);
        // A JIT kernel, not the reference or im2col fallback: the point of the backend.
        Assert.StartsWith("jit:", implementation);
    }

    [Fact]
    public void TryLoad_MissingLibrary_ReturnsNullAndNamesIt()
    {
        var native = OneDnnNative.TryLoad("libdnnl-not-installed.so.9", out string reason);
        Assert.Null(native);
        Assert.Contains("libdnnl-not-installed.so.9", reason);
        Assert.Contains("libdnnl2", reason);
    }

    [Fact]
    public void ChooseDefault_NamesTheMode_AndRejectsOthers()
    {
        Assert.Equal(Conv2dBackendMode.Auto, Conv2dBackend.ChooseDefault((string?)null));
        Assert.Equal(Conv2dBackendMode.Auto, Conv2dBackend.ChooseDefault(" AUTO "));
        Assert.Equal(Conv2dBackendMode.Managed, Conv2dBackend.ChooseDefault("managed"));
        if (Conv2dBackend.OneDnnAvailable)
            Assert.Equal(Conv2dBackendMode.OneDnn, Conv2dBackend.ChooseDefault("OneDNN"));
        else
            Assert.Contains(Conv2dBackend.OneDnnUnavailableReason, Assert.Throws<InvalidOperationException>(() => Conv2dBackend.ChooseDefault("onednn")).Message);
        var e = Assert.Throws<InvalidOperationException>(() => Conv2dBackend.ChooseDefault("cudnn"));
        Assert.Contains(Conv2dBackend.Variable, e.Message);
        Assert.Contains("'cudnn'", e.Message);
    }

    [Fact]
    public void Chooses_ManagedModeOrNoLibrary_NeverPicksOneDnn()
    {
        foreach (var g in new[] { new Conv2dGeometry(128, 16, 28, 28, 16, 3, 3, 1, 1), new Conv2dGeometry(128, 16, 28, 28, 32, 1, 1, 2, 0), new Conv2dGeometry(1, 1, 28, 28, 16, 3, 3, 1, 1) })
            foreach (var pass in Enum.GetValues<Conv2dPass>())
            {
                Assert.False(Conv2dBackend.Chooses(Conv2dBackendMode.Managed, oneDnnAvailable: true, g, pass));
                Assert.False(Conv2dBackend.Chooses(Conv2dBackendMode.Auto, oneDnnAvailable: false, g, pass));
                Assert.True(Conv2dBackend.Chooses(Conv2dBackendMode.OneDnn, oneDnnAvailable: true, g, pass));
                Assert.Equal(Conv2dBackend.PrefersOneDnn(g, pass), Conv2dBackend.Chooses(Conv2dBackendMode.Auto, oneDnnAvailable: true, g, pass));
            }
    }
}

/// <summary>Tests that change <see cref="Conv2dBackend.Mode"/>: they run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConvBackendModeCollection
{
    public const string Name = "Conv2dBackend.Mode";
}

/// <summary>Ops.Conv2d under each mode: the backend the mode names runs, gives what that backend's kernels give, and is reported.</summary>
[Collection(ConvBackendModeCollection.Name)]
public class ConvBackendModeTests
{
    [Fact]
    public void ManagedMode_RunsTheManagedKernels_AndSaysSo()
    {
        var (y, dx, dw) = TrainingStep(Conv2dBackendMode.Managed, out string used);
        Assert.Equal("managed", used);
        var expected = KernelStep(Conv2dAlgorithm.Managed);
        Assert.Equal(expected.Y, y); // the very same kernels: the same bits
        Assert.Equal(expected.Dx, dx);
        Assert.Equal(expected.Dw, dw);
    }

    [OneDnnFact]
    public void OneDnnMode_RunsOneDnn_AndSaysSo()
    {
        var (y, dx, dw) = TrainingStep(Conv2dBackendMode.OneDnn, out string used);
        Assert.Equal("onednn", used);
        var expected = KernelStep(Conv2dAlgorithm.OneDnn);
        Assert.Equal(expected.Y, y);
        Assert.Equal(expected.Dx, dx);
        Assert.Equal(expected.Dw, dw);
        var managed = KernelStep(Conv2dAlgorithm.Managed);
        ConvKernelTests.AssertClose(managed.Y, y, "y");
        ConvKernelTests.AssertClose(managed.Dx, dx, "dx");
        ConvKernelTests.AssertClose(managed.Dw, dw, "dW");
    }

    [Fact]
    public void Mode_OneDnnWithoutTheLibrary_Throws_ElseSticks()
    {
        var saved = Conv2dBackend.Mode;
        try
        {
            if (Conv2dBackend.OneDnnAvailable)
            {
                Conv2dBackend.Mode = Conv2dBackendMode.OneDnn;
                Assert.Equal(Conv2dBackendMode.OneDnn, Conv2dBackend.Mode);
                Assert.StartsWith("onednn 2.", Conv2dBackend.Describe());
            }
            else
            {
                Assert.Throws<InvalidOperationException>(() => Conv2dBackend.Mode = Conv2dBackendMode.OneDnn);
                Assert.Contains(Conv2dBackend.OneDnnUnavailableReason, Conv2dBackend.Describe());
            }
        }
        finally
        {
            Conv2dBackend.Mode = saved;
        }
    }

    [Theory]
    [InlineData(Conv2dBackendMode.Managed, "managed")]
    [InlineData(Conv2dBackendMode.OneDnn, "onednn")]
    public void Train_Cnn2_JsonBackendNamesTheConvolutionBackend(Conv2dBackendMode mode, string expected)
    {
        if (mode == Conv2dBackendMode.OneDnn && !Conv2dBackend.OneDnnAvailable)
        {
            Assert.Throws<InvalidOperationException>(() => Conv2dBackend.Mode = mode); // nothing to run; what it says is tested above
            return;
        }
        var saved = Conv2dBackend.Mode;
        try
        {
            Conv2dBackend.Mode = mode;
            using var temp = new TempFolder();
            var (code, output, err) = CliRunner.Run("train", "--data", CliRunner.SampleDir, "--model", "cnn2", "--epochs", "1", "--batch-size", "32",
                "--train-limit", "64", "--threads", "2", "--out", temp.Combine("run"), "--json");
            Assert.True(code == 0, err);
            Assert.EndsWith($"+conv-{expected}", (string)JsonNode.Parse(output)!["backend"]!);
            Assert.Contains($"conv {Conv2dBackend.Describe()}", err);
        }
        finally
        {
            Conv2dBackend.Mode = saved;
        }
    }

    private static readonly Conv2dGeometry Geometry = new(6, 16, 14, 14, 32, 3, 3, 2, 1);

    private static (float[] X, float[] W, float[] Dy) Inputs()
    {
        var rng = new Rng(2024);
        return (ConvKernelTests.RandomValues(rng, Geometry.Batch * Geometry.InputImageSize), ConvKernelTests.RandomValues(rng, Geometry.Filters * Geometry.PatchSize),
            ConvKernelTests.RandomValues(rng, Geometry.Batch * Geometry.OutputImageSize));
    }

    // One autograd forward + backward of Ops.Conv2d under the mode (Auto algorithm), and which backends ran.
    private static (float[] Y, float[] Dx, float[] Dw) TrainingStep(Conv2dBackendMode mode, out string used)
    {
        var saved = Conv2dBackend.Mode;
        try
        {
            Conv2dBackend.Mode = mode;
            Conv2dBackend.ResetUsed();
            var (xs, ws, dys) = Inputs();
            var g = Geometry;
            var x = new Tensor(new Shape(g.Batch, g.Channels, g.Height, g.Width), xs, requiresGrad: true);
            var w = new Tensor(new Shape(g.Filters, g.Channels, g.KernelHeight, g.KernelWidth), ws, requiresGrad: true);
            var y = Ops.Conv2d(x, w, null, g.Stride, g.Padding);
            y.Backward(dys);
            used = Conv2dBackend.Used;
            return (y.Data, x.Grad!, w.Grad!);
        }
        finally
        {
            Conv2dBackend.Mode = saved;
        }
    }

    private static (float[] Y, float[] Dx, float[] Dw) KernelStep(Conv2dAlgorithm algorithm)
    {
        var (x, w, dy) = Inputs();
        var g = Geometry;
        var y = new float[dy.Length];
        var dx = new float[x.Length];
        var dw = new float[w.Length];
        Conv2dKernels.Forward(g, x, w, [], y, Engine.Threads, algorithm);
        Conv2dKernels.Backward(g, dy, x, w, dx, accumulateInput: false, dw, [], Engine.Threads, algorithm);
        return (y, dx, dw);
    }
}

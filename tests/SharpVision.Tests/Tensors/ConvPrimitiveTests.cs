using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tests.Tensors;

/// <summary>The convolutional primitives (Conv2d, pooling, BatchNorm, Dropout2d, GELU) through the gradient checker, plus their contracts.</summary>
public class ConvPrimitiveTests
{
    internal static Tensor Random(Rng rng, float low, float high, params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        for (int i = 0; i < t.Size; i++) t.Data[i] = low + (high - low) * rng.NextFloat();
        t.RequiresGrad = true;
        return t;
    }

    // Distinct values 0.05 apart in random order: every pooling window has a unique maximum by more than twice the
    // checker's step, so the central difference never straddles a change of argmax.
    internal static Tensor DistinctValues(Rng rng, params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        var order = rng.Permutation(t.Size);
        for (int i = 0; i < t.Size; i++) t.Data[i] = (order[i] - t.Size / 2f) * 0.05f;
        t.RequiresGrad = true;
        return t;
    }

    public static TheoryData<string> Primitives => new()
    {
        "conv2d", "conv2d_stride2_pad1", "conv2d_c1_pad1", "conv2d_1x1", "conv2d_1x1_stride2", "conv2d_5x5_pad2_no_bias", "conv2d_nonsquare_kernel",
        "max_pool2d", "max_pool2d_overlapping", "avg_pool2d", "avg_pool2d_overlapping", "global_avg_pool2d",
        "batch_norm2d_train", "batch_norm1d_train", "batch_norm2d_eval", "gelu", "dropout2d", "conv_bn_relu_pool_block",
    };

    [Theory]
    [MemberData(nameof(Primitives))]
    public void GradientChecker_ConvPrimitive_AnalyticMatchesNumerical(string op)
    {
        var rng = new Rng(17);
        float[] mean = [0.1f, -0.2f, 0.3f], variance = [0.5f, 1.5f, 2f];
        var (f, inputs) = op switch
        {
            "conv2d" => Case(x => Ops.Conv2d(x[0], x[1], x[2]), Random(rng, -1, 1, 2, 3, 5, 4), Random(rng, -1, 1, 4, 3, 3, 3), Random(rng, -1, 1, 4)),
            "conv2d_stride2_pad1" => Case(x => Ops.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1), Random(rng, -1, 1, 2, 2, 7, 6), Random(rng, -1, 1, 3, 2, 3, 3), Random(rng, -1, 1, 3)),
            "conv2d_c1_pad1" => Case(x => Ops.Conv2d(x[0], x[1], x[2], padding: 1), Random(rng, -1, 1, 2, 1, 6, 5), Random(rng, -1, 1, 3, 1, 3, 3), Random(rng, -1, 1, 3)),
            "conv2d_1x1" => Case(x => Ops.Conv2d(x[0], x[1]), Random(rng, -1, 1, 2, 3, 4, 5), Random(rng, -1, 1, 4, 3, 1, 1)),
            "conv2d_1x1_stride2" => Case(x => Ops.Conv2d(x[0], x[1], stride: 2), Random(rng, -1, 1, 2, 3, 5, 5), Random(rng, -1, 1, 2, 3, 1, 1)),
            "conv2d_5x5_pad2_no_bias" => Case(x => Ops.Conv2d(x[0], x[1], padding: 2), Random(rng, -1, 1, 1, 2, 6, 6), Random(rng, -1, 1, 2, 2, 5, 5)),
            "conv2d_nonsquare_kernel" => Case(x => Ops.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1), Random(rng, -1, 1, 3, 2, 5, 8), Random(rng, -1, 1, 2, 2, 1, 3), Random(rng, -1, 1, 2)),
            "max_pool2d" => Case(x => Ops.MaxPool2d(x[0], 2, 2), DistinctValues(rng, 2, 3, 5, 6)),
            "max_pool2d_overlapping" => Case(x => Ops.MaxPool2d(x[0], 3, 2), DistinctValues(rng, 2, 2, 7, 6)),
            "avg_pool2d" => Case(x => Ops.AvgPool2d(x[0], 2, 2), Random(rng, -1, 1, 2, 3, 5, 6)),
            "avg_pool2d_overlapping" => Case(x => Ops.AvgPool2d(x[0], 3, 2), Random(rng, -1, 1, 2, 2, 7, 6)),
            "global_avg_pool2d" => Case(x => Ops.GlobalAvgPool2d(x[0]), Random(rng, -1, 1, 2, 3, 4, 5)),
            "batch_norm2d_train" => Case(x => Ops.BatchNorm(x[0], x[1], x[2], new float[3], new float[3], training: true),
                Random(rng, -2, 2, 4, 3, 3, 2), Random(rng, 0.5f, 1.5f, 3), Random(rng, -1, 1, 3)),
            "batch_norm1d_train" => Case(x => Ops.BatchNorm(x[0], x[1], x[2], new float[4], new float[4], training: true),
                Random(rng, -2, 2, 6, 4), Random(rng, 0.5f, 1.5f, 4), Random(rng, -1, 1, 4)),
            "batch_norm2d_eval" => Case(x => Ops.BatchNorm(x[0], x[1], x[2], mean, variance, training: false),
                Random(rng, -2, 2, 4, 3, 3, 2), Random(rng, 0.5f, 1.5f, 3), Random(rng, -1, 1, 3)),
            "gelu" => Case(x => Ops.Gelu(x[0]), Random(rng, -4, 4, 5, 7)),
            "dropout2d" => Case(x => Ops.Dropout2d(x[0], 0.5f, new Rng(3)), Random(rng, -1, 1, 3, 4, 2, 3)),
            // A cnn2 block end to end; pooling after ReLU on a few channels has enough distinct values at these seeds.
            "conv_bn_relu_pool_block" => Case(x => Ops.GlobalAvgPool2d(Ops.MaxPool2d(Ops.Relu(Ops.BatchNorm(
                    Ops.Conv2d(x[0], x[1], x[2], padding: 1), x[3], x[4], new float[2], new float[2], training: true)), 2, 2)),
                Random(rng, -1, 1, 3, 1, 4, 4), Random(rng, -1, 1, 2, 1, 3, 3), Random(rng, -1, 1, 2), Random(rng, 0.5f, 1.5f, 2), Random(rng, -1, 1, 2)),
            _ => throw new ArgumentException(op),
        };
        var result = GradientChecker.Check(f, inputs);
        Assert.True(result.Passed, $"{op}:\n{result}");
        Assert.All(inputs, t => Assert.NotNull(t.Grad));
    }

    private static (Func<Tensor[], Tensor>, Tensor[]) Case(Func<Tensor[], Tensor> f, params Tensor[] inputs) => (f, inputs);

    [Fact]
    public void Conv2d_OutputShape_FollowsPyTorchFormula()
    {
        var y = Ops.Conv2d(Tensor.Zeros(2, 3, 28, 27), Tensor.Zeros(5, 3, 3, 3), null, stride: 2, padding: 1);
        Assert.Equal(new Shape(2, 5, 14, 14), y.Shape); // ⌊(28 + 2 − 3)/2⌋ + 1 = 14, ⌊(27 + 2 − 3)/2⌋ + 1 = 14
    }

    [Fact]
    public void Conv2d_ChannelMismatch_NamesBothShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Ops.Conv2d(Tensor.Zeros(1, 3, 5, 5), Tensor.Zeros(4, 2, 3, 3)));
        Assert.Contains("(1, 3, 5, 5)", ex.Message);
        Assert.Contains("(4, 2, 3, 3)", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Conv2d(Tensor.Zeros(1, 3, 5, 5), Tensor.Zeros(4, 3, 3, 3), stride: 0));
    }

    [Fact]
    public void MaxPool2d_Ties_FirstMaximumInRowMajorOrderTakesTheGradient()
    {
        var x = Tensor.From([1f, 5f, 5f, 5f], 1, 1, 2, 2);
        x.RequiresGrad = true;
        var y = Ops.MaxPool2d(x, 2, 2);
        y.Backward([1f]);
        Assert.Equal(5f, y.Data[0]);
        Assert.Equal([0f, 1f, 0f, 0f], x.Grad!);
    }

    [Fact]
    public void MaxPool2d_NaNInWindow_Propagates()
    {
        var y = Ops.MaxPool2d(Tensor.From([1f, float.NaN, 7f, 2f], 1, 1, 2, 2), 2, 2);
        Assert.True(float.IsNaN(y.Data[0]));
    }

    [Fact]
    public void MaxPool2d_FloorMode_DropsTheRemainder()
    {
        Assert.Equal(new Shape(2, 3, 2, 3), Ops.MaxPool2d(Tensor.Zeros(2, 3, 5, 7), 2, 2).Shape);
        Assert.Throws<ArgumentException>(() => Ops.MaxPool2d(Tensor.Zeros(1, 1, 1, 5), 2, 2));
    }

    [Fact]
    public void BatchNorm_Training_UpdatesRunningStatsWithUnbiasedVariance()
    {
        // One channel, values 1, 2, 3, 4: mean 2.5, biased variance 1.25, unbiased 5/3.
        var x = Tensor.From([1f, 2f, 3f, 4f], 4, 1);
        float[] runningMean = [0f], runningVar = [1f];
        var y = Ops.BatchNorm(x, Tensor.From([1f], 1), Tensor.From([0f], 1), runningMean, runningVar, training: true, momentum: 0.1f, eps: 0f + 1e-5f);
        Assert.Equal(0.25f, runningMean[0], 6);
        Assert.Equal(0.9f + 0.1f * 5f / 3f, runningVar[0], 6);
        Assert.Equal((1 - 2.5) / Math.Sqrt(1.25 + 1e-5), y.Data[0], 5);
    }

    [Fact]
    public void BatchNorm_Training_LargeMeanDoesNotCancel()
    {
        // Values 10000 ± 0.01: a one-pass E[x²] − E[x]² in float32 would lose the variance entirely.
        var x = Tensor.From([10000.01f, 9999.99f, 10000.01f, 9999.99f], 4, 1);
        float[] runningMean = [0f], runningVar = [0f];
        var y = Ops.BatchNorm(x, Tensor.From([1f], 1), Tensor.From([0f], 1), runningMean, runningVar, training: true, eps: 1e-12f);
        Assert.Equal(1.0, y.Data[0], 2);
        Assert.Equal(-1.0, y.Data[1], 2);
    }

    [Fact]
    public void BatchNorm_TrainingWithOneValuePerChannel_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Ops.BatchNorm(Tensor.Zeros(1, 3), Tensor.Zeros(3), Tensor.Zeros(3), new float[3], new float[3], training: true));
        Assert.Contains("more than one value", ex.Message);
    }

    [Fact]
    public void BatchNorm_ResultsIndependentOfThreadCount()
    {
        var rng = new Rng(5);
        var x = Random(rng, -3, 3, 64, 32, 8, 8);
        var gamma = Random(rng, 0.5f, 1.5f, 32);
        var beta = Random(rng, -1, 1, 32);
        var upstream = ConvKernelTests.RandomValues(rng, x.Size);
        (float[] Y, float[] Dx, float[] Mean, float[] Var) Run(int threads)
        {
            int saved = Engine.Threads;
            Engine.Threads = threads;
            try
            {
                x.Grad = null;
                float[] m = new float[32], v = Enumerable.Repeat(1f, 32).ToArray();
                var y = Ops.BatchNorm(x, gamma, beta, m, v, training: true);
                y.Backward(upstream);
                return (y.Data, x.Grad!, m, v);
            }
            finally
            {
                Engine.Threads = saved;
            }
        }
        var one = Run(1);
        var two = Run(2);
        Assert.Equal(one.Y, two.Y);
        Assert.Equal(one.Dx, two.Dx);
        Assert.Equal(one.Mean, two.Mean);
        Assert.Equal(one.Var, two.Var);
    }

    [Fact]
    public void Dropout2d_ZeroesWholeChannelsAndScalesSurvivors()
    {
        var x = Tensor.Zeros(8, 16, 3, 3);
        Array.Fill(x.Data, 1f);
        var y = Ops.Dropout2d(x, 0.25f, new Rng(1));
        int dropped = 0;
        for (int plane = 0; plane < 8 * 16; plane++)
        {
            var values = y.Data.AsSpan(plane * 9, 9).ToArray();
            Assert.True(values.All(v => v == 0) || values.All(v => Math.Abs(v - 1 / 0.75f) < 1e-6), $"plane {plane} is mixed");
            if (values[0] == 0) dropped++;
        }
        Assert.InRange(dropped, 16, 48); // 128 planes at p = 0.25: expected 32
        Assert.Equal(y.Data, Ops.Dropout2d(x, 0.25f, new Rng(1)).Data); // same seed, same mask
    }

    [Fact]
    public void Gelu_MatchesDefinitionAtKnownPoints()
    {
        // GELU(x) = x·Φ(x): Φ(1) = 0.8413447460685429, Φ(−3) = 0.0013498980316301, Φ(0) = 1/2.
        var y = Ops.Gelu(Tensor.From([1f, -3f, 0f, 10f, -10f], 5));
        Assert.Equal(0.8413447460685429, y.Data[0], 6);
        Assert.Equal(-3 * 0.0013498980316301, y.Data[1], 7);
        Assert.Equal(0f, y.Data[2]);
        Assert.Equal(10f, y.Data[3]);
        Assert.Equal(-7.6198530241605e-23, y.Data[4], 1e-27);
    }

    [Fact]
    public void ErrorFunction_MatchesKnownValues()
    {
        // Reference values (Python's math.erf / math.erfc, correctly rounded doubles).
        (double X, double Erf)[] erf = [(0.1, 0.1124629160182849), (0.5, 0.5204998778130465), (1.0, 0.8427007929497149), (2.0, 0.9953222650189527), (-0.75, -0.7111556336535151)];
        foreach (var (x, expected) in erf) Assert.Equal(expected, ErrorFunction.Erf(x), 1e-15);
        Assert.Equal(1.5374597944280349e-12, ErrorFunction.Erfc(5.0), 1e-25);
        Assert.Equal(2.088487583762545e-45, ErrorFunction.Erfc(10.0), 1e-57);
        Assert.Equal(2.0, ErrorFunction.Erfc(-30.0));
    }
}

public class GradientBufferReuseTests
{
    // A residual block with fan-out: h feeds both the second convolution and the skip connection, so h's gradient is
    // written once and then accumulated; conv, batch norm, ReLU and add each see both a fresh and an existing gradient.
    private static (float[] Dx, float[] Dw1, float[] Dw2) Gradients(float[] xData, float[] w1Data, float[] w2Data, float[] upstream)
    {
        var x = new Tensor(new Shape(2, 8, 16, 16), (float[])xData.Clone(), requiresGrad: true);
        var w1 = new Tensor(new Shape(8, 8, 3, 3), (float[])w1Data.Clone(), requiresGrad: true);
        var w2 = new Tensor(new Shape(8, 8, 3, 3), (float[])w2Data.Clone(), requiresGrad: true);
        var gamma = Tensor.From(Enumerable.Repeat(1.2f, 8).ToArray(), 8);
        var beta = Tensor.From(Enumerable.Repeat(0.1f, 8).ToArray(), 8);
        var h = Ops.Relu(Ops.BatchNorm(Ops.Conv2d(x, w1, padding: 1), gamma, beta, new float[8], new float[8], training: true));
        var y = Ops.Relu(Ops.Add(Ops.BatchNorm(Ops.Conv2d(h, w2, padding: 1), gamma, beta, new float[8], new float[8], training: true), h));
        y.Backward(upstream);
        return (x.Grad!, w1.Grad!, w2.Grad!);
    }

    [Fact]
    public void Backward_InPooledStepWithDirtyBuffers_EqualsFreshAllocation()
    {
        var rng = new Rng(11);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => rng.NextNormal()).ToArray();
        float[] x = R(4096), w1 = R(576), w2 = R(576), dy = R(4096);
        var expected = Gradients(x, w1, w2, dy);

        // Fill the pool with NaN arrays of every length the step rents, so anything read before being written shows.
        using (BufferPool.Step())
            for (int i = 0; i < 64; i++) Array.Fill(BufferPool.Uninitialized<float>(4096), float.NaN);
        (float[] Dx, float[] Dw1, float[] Dw2) actual;
        using (BufferPool.Step())
        {
            var g = Gradients(x, w1, w2, dy);
            actual = ((float[])g.Dx.Clone(), (float[])g.Dw1.Clone(), (float[])g.Dw2.Clone());
        }
        Assert.All(actual.Dx, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(expected.Dx, actual.Dx);
        Assert.Equal(expected.Dw1, actual.Dw1);
        Assert.Equal(expected.Dw2, actual.Dw2);
    }
}

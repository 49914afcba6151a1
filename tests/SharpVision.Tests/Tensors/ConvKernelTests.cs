using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;
using SharpVision.Tensors.Kernels.Reference;

namespace SharpVision.Tests.Tensors;

/// <summary>The fast convolution and pooling kernels against their scalar twins in Kernels/Reference, and thread-count independence.</summary>
public class ConvKernelTests
{
    // (N, C, H, W, K, kh, kw, stride, pad): batch 1 and 3, C = 1/3/7, H, W = 1/5/28 (non-square too), kernels 1/3/5,
    // stride 1/2, padding 0/1/2, 1×1 pointwise and 1×1 strided projections, kernels as large as the padded input,
    // patches of ≤ 16 values, batches that exercise the image blocks and GEMM groups; every case runs under each
    // algorithm (the direct kernels for square kernels, any stride; the im2col + GEMM path for everything).
    public static TheoryData<int, int, int, int, int, int, int, int, int> Geometries => new()
    {
        { 1, 1, 1, 1, 1, 1, 1, 1, 0 },
        { 3, 1, 5, 5, 4, 3, 3, 1, 1 },
        { 1, 3, 5, 7, 2, 3, 3, 2, 1 },
        { 3, 7, 5, 5, 5, 1, 1, 1, 0 },
        { 3, 7, 5, 6, 5, 1, 1, 2, 0 },
        { 1, 3, 28, 28, 6, 5, 5, 1, 2 },
        { 3, 1, 28, 28, 8, 3, 3, 1, 1 },
        { 3, 3, 28, 28, 4, 3, 3, 2, 1 },
        { 1, 7, 1, 1, 3, 3, 3, 1, 1 },
        { 3, 3, 1, 5, 2, 1, 5, 1, 0 },
        { 1, 3, 5, 5, 3, 5, 5, 2, 2 },
        { 3, 7, 5, 5, 9, 3, 3, 1, 0 },
        { 9, 3, 6, 5, 4, 3, 3, 2, 0 },
        { 1, 1, 28, 28, 1, 1, 1, 1, 0 },
        { 20, 3, 5, 5, 4, 3, 3, 1, 1 },  // several images per GEMM group, uneven blocks
        { 40, 3, 28, 28, 2, 3, 3, 1, 1 }, // blocks of 5 images split into groups of 3 and 2
        { 11, 2, 7, 7, 3, 3, 3, 2, 0 },
        { 9, 5, 13, 11, 6, 3, 3, 1, 1 },  // direct path: filters not a multiple of 4, outputs not of 16, tiles of every width
        { 5, 6, 9, 9, 7, 3, 3, 3, 1 },    // stride 3: nine phase planes
        { 17, 2, 4, 30, 5, 3, 3, 1, 2 },  // weight-gradient groups of 17 images
        { 2, 3, 5, 5, 4, 3, 3, 2, 3 },    // padding as large as the kernel: border outputs see only zeros
        { 3, 4, 8, 9, 5, 4, 4, 3, 1 },    // even kernel, stride 3: phases with one and two taps per axis
        { 2, 3, 4, 4, 2, 2, 2, 3, 0 },    // stride above the kernel: phases without taps
        { 130, 16, 7, 7, 16, 3, 3, 1, 1 }, // resnet8's last stage shape, uneven blocks, several weight-gradient groups
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Conv2dKernels_AwkwardGeometry_MatchReferenceAndIgnoreThreadCount(int n, int c, int h, int w, int k, int kh, int kw, int stride, int pad)
    {
        var g = new Conv2dGeometry(n, c, h, w, k, kh, kw, stride, pad);
        var rng = new Rng(n * 1000 + c * 100 + h + kh);
        var x = RandomValues(rng, n * g.InputImageSize);
        var weight = RandomValues(rng, k * g.PatchSize);
        var bias = RandomValues(rng, k);
        var dy = RandomValues(rng, n * g.OutputImageSize);

        var expectedY = new float[dy.Length];
        Conv2dReference.Forward(g, x, weight, bias, expectedY);
        var expectedDx = RandomValues(new Rng(5), x.Length); // accumulate onto existing values
        var startDx = (float[])expectedDx.Clone();
        Conv2dReference.BackwardData(g, dy, weight, expectedDx);
        var expectedDw = new float[weight.Length];
        var expectedDb = new float[k];
        Conv2dReference.BackwardWeight(g, dy, x, expectedDw, expectedDb);

        // Every SIMD level this machine runs: the direct kernels' AVX-512 and AVX2 tiles, and on the scalar level
        // im2col + the GEMM's scalar micro-kernel.
        foreach (var level in SimdPaths.SupportedLevels)
        using (SimdPaths.Force(level))
        foreach (var algorithm in new[] { Conv2dAlgorithm.Managed, Conv2dAlgorithm.Im2ColGemm, Conv2dAlgorithm.Direct })
        {
            float[]? firstY = null, firstDx = null, firstDw = null, firstDb = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var y = new float[dy.Length];
                Conv2dKernels.Forward(g, x, weight, bias, y, threads, algorithm);
                var dx = (float[])startDx.Clone();
                Conv2dKernels.BackwardData(g, dy, weight, dx, threads, algorithm);
                var dw = new float[weight.Length];
                var db = new float[k];
                Conv2dKernels.BackwardWeight(g, dy, x, dw, db, threads, algorithm);

                AssertClose(expectedY, y, $"{level} {algorithm} y");
                AssertClose(expectedDx, dx, $"{level} {algorithm} dx");
                AssertClose(expectedDw, dw, $"{level} {algorithm} dW");
                AssertClose(expectedDb, db, $"{level} {algorithm} db");
                if (firstY is null)
                {
                    (firstY, firstDx, firstDw, firstDb) = (y, dx, dw, db);
                    continue;
                }
                Assert.Equal(firstY, y);
                Assert.Equal(firstDx, dx);
                Assert.Equal(firstDw, dw);
                Assert.Equal(firstDb, db);
            }
        }
    }

    [Fact]
    public void Conv2dKernels_NoBias_MatchesReference()
    {
        var g = new Conv2dGeometry(2, 3, 6, 5, 4, 3, 3, 1, 1);
        var rng = new Rng(9);
        var x = RandomValues(rng, 2 * g.InputImageSize);
        var weight = RandomValues(rng, 4 * g.PatchSize);
        var expected = new float[2 * g.OutputImageSize];
        Conv2dReference.Forward(g, x, weight, [], expected);
        var y = new float[expected.Length];
        Conv2dKernels.Forward(g, x, weight, [], y, 2);
        AssertClose(expected, y, "y");
    }

    [Fact]
    public void Conv2dKernels_TrainingSizedBatch_IsBitwiseIdenticalForOneAndTwoThreads()
    {
        // The managed kernels; large enough for every parallel path: 32 images, more than one weight-gradient block per worker.
        var g = new Conv2dGeometry(32, 16, 14, 14, 32, 3, 3, 2, 1);
        var rng = new Rng(77);
        var x = RandomValues(rng, g.Batch * g.InputImageSize);
        var weight = RandomValues(rng, g.Filters * g.PatchSize);
        var dy = RandomValues(rng, g.Batch * g.OutputImageSize);
        (float[] Y, float[] Dx, float[] Dw, float[] Db) Run(int threads)
        {
            var y = new float[dy.Length];
            var dx = new float[x.Length];
            var dw = new float[weight.Length];
            var db = new float[g.Filters];
            Conv2dKernels.Forward(g, x, weight, [], y, threads, Conv2dAlgorithm.Managed);
            Conv2dKernels.BackwardData(g, dy, weight, dx, threads, Conv2dAlgorithm.Managed);
            Conv2dKernels.BackwardWeight(g, dy, x, dw, db, threads, Conv2dAlgorithm.Managed);
            return (y, dx, dw, db);
        }
        var one = Run(1);
        var two = Run(2);
        Assert.Equal(one.Y, two.Y);
        Assert.Equal(one.Dx, two.Dx);
        Assert.Equal(one.Dw, two.Dw);
        Assert.Equal(one.Db, two.Db);
    }

    [Fact]
    public void Conv2dKernels_KernelLargerThanPaddedInput_ThrowsWithSizes()
    {
        var g = new Conv2dGeometry(1, 1, 2, 2, 1, 5, 5, 1, 1);
        var ex = Assert.Throws<ArgumentException>(() => Conv2dKernels.Forward(g, new float[4], new float[25], [], new float[1], 1));
        Assert.Contains("5×5", ex.Message);
    }

    // (planes, H, W, kernel, stride): the cnn2 2×2 pools, overlapping 3/2 windows, floor mode dropping a remainder,
    // one-pixel planes, a window as large as the input, and enough planes for the parallel path.
    public static TheoryData<int, int, int, int, int> PoolGeometries => new()
    {
        { 1, 1, 1, 1, 1 }, { 3, 5, 5, 2, 2 }, { 7, 28, 28, 2, 2 }, { 3, 7, 6, 3, 2 }, { 2, 5, 7, 5, 1 }, { 1, 5, 1, 1, 2 }, { 384, 14, 14, 2, 2 }, { 96, 28, 28, 3, 3 },
    };

    [Theory]
    [MemberData(nameof(PoolGeometries))]
    public void PoolingKernels_AwkwardGeometry_MatchReferenceAndIgnoreThreadCount(int planes, int h, int w, int kernel, int stride)
    {
        var rng = new Rng(planes + h * 31 + kernel);
        var x = RandomValues(rng, planes * h * w);
        for (int i = 0; i < x.Length; i += 7) x[i] = x[(i + 1) % x.Length]; // some ties
        int ho = PoolingKernels.OutputSize(h, kernel, stride), wo = PoolingKernels.OutputSize(w, kernel, stride);
        var dy = RandomValues(rng, planes * ho * wo);
        var expectedMax = new float[dy.Length];
        var expectedArgmax = new int[dy.Length];
        PoolingReference.MaxForward(x, planes, h, w, kernel, stride, expectedMax, expectedArgmax);
        var expectedMaxDx = new float[x.Length];
        PoolingReference.MaxBackward(dy, expectedArgmax, planes, h * w, expectedMaxDx);
        var expectedAvg = new float[dy.Length];
        PoolingReference.AverageForward(x, planes, h, w, kernel, stride, expectedAvg);
        var expectedAvgDx = new float[x.Length];
        PoolingReference.AverageBackward(dy, planes, h, w, kernel, stride, expectedAvgDx);
        foreach (int threads in new[] { 1, 2 })
        {
            var max = new float[dy.Length];
            var argmax = new int[dy.Length];
            PoolingKernels.MaxForward(x, planes, h, w, kernel, stride, max, argmax, threads);
            Assert.Equal(expectedMax, max);
            Assert.Equal(expectedArgmax, argmax);
            var maxDx = new float[x.Length];
            PoolingKernels.MaxBackward(dy, argmax, planes, h * w, maxDx, threads);
            Assert.Equal(expectedMaxDx, maxDx);
            var avg = new float[dy.Length];
            PoolingKernels.AverageForward(x, planes, h, w, kernel, stride, avg, threads);
            AssertClose(expectedAvg, avg, "avg");
            var avgDx = new float[x.Length];
            PoolingKernels.AverageBackward(dy, planes, h, w, kernel, stride, avgDx, threads);
            AssertClose(expectedAvgDx, avgDx, "avg dx");
        }
    }

    internal static float[] RandomValues(Rng rng, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = rng.NextFloat() * 2 - 1;
        return values;
    }

    // float32 sums of many products against a double oracle: 1e-5 relative, plus 1e-5 of the tensor's largest magnitude
    // (a weight-gradient entry sums N·P products and may cancel to a value far below their size).
    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double relative = 1e-5, double absolute = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 1;
        foreach (float v in expected) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = relative * Math.Abs(expected[i]) + absolute * scale;
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}.");
        }
    }
}

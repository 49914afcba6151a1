using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;
using SharpVision.Tensors.Kernels.Reference;

namespace SharpVision.Tests.Tensors;

/// <summary>The transformer kernels against their scalar twins in Kernels/Reference, on every SIMD path this machine runs.</summary>
public class TransformerKernelTests
{
    private static IEnumerable<SimdPath> Paths => Enum.GetValues<SimdPath>().Where(SimdPaths.IsSupported);

    private static float[] Uniform(Rng rng, int n, float low = -1, float high = 1)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = low + (high - low) * rng.NextFloat();
        return x;
    }

    // |a − e| ≤ tolerance·(|e| + scale): relative, plus a share of the largest magnitude for cancelling sums.
    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 1;
        foreach (float v in expected) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance * (Math.Abs(expected[i]) + scale)))
                Assert.Fail($"{what}[{i}]: reference {expected[i]:R}, kernel {actual[i]:R}.");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(5, 16)]
    [InlineData(4, 63)]
    [InlineData(2, 64)]
    [InlineData(2, 513)]
    public void LayerNorm_EveryPath_MatchesReference(int rows, int features)
    {
        var rng = new Rng(rows * 100 + features);
        float[] x = Uniform(rng, rows * features, 40, 44), gamma = Uniform(rng, features, 0.5f, 1.5f), beta = Uniform(rng, features);
        float[] g = Uniform(rng, rows * features);
        var expected = new float[x.Length];
        float[] expectedMean = new float[rows], expectedRstd = new float[rows], expectedDx = new float[x.Length];
        float[] expectedDgamma = Uniform(rng, features), expectedDbeta = Uniform(rng, features);
        float[] startDgamma = (float[])expectedDgamma.Clone(), startDbeta = (float[])expectedDbeta.Clone();
        LayerNormReference.Forward(x, rows, features, gamma, beta, 1e-5f, expected, expectedMean, expectedRstd);
        LayerNormReference.Backward(g, x, rows, features, gamma, 1e-5f, expectedDx, expectedDgamma, expectedDbeta);
        foreach (var path in Paths)
        {
            var y = new float[x.Length];
            float[] mean = new float[rows], rstd = new float[rows], dx = new float[x.Length];
            float[] dgamma = (float[])startDgamma.Clone(), dbeta = (float[])startDbeta.Clone();
            LayerNormKernels.Forward(x, rows, features, gamma, beta, 1e-5f, y, mean, rstd, path);
            LayerNormKernels.Backward(g, x, rows, features, gamma, mean, rstd, dx, accumulate: false, dgamma, dbeta, path);
            AssertClose(expected, y, 2e-5, $"{path} y");
            AssertClose(expectedMean, mean, 1e-6, $"{path} mean");
            AssertClose(expectedRstd, rstd, 2e-5, $"{path} rstd");
            AssertClose(expectedDx, dx, 5e-5, $"{path} dx");
            AssertClose(expectedDgamma, dgamma, 5e-5, $"{path} dgamma");
            AssertClose(expectedDbeta, dbeta, 1e-5, $"{path} dbeta");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(2, 16)]
    [InlineData(4, 50)]
    [InlineData(2, 63)]
    [InlineData(1, 513)]
    public void Softmax_EveryPath_MatchesReference(int rows, int length)
    {
        var rng = new Rng(rows * 1000 + length);
        float[] x = Uniform(rng, rows * length, -30, 30), g = Uniform(rng, rows * length);
        float[] expected = new float[x.Length], expectedDx = new float[x.Length];
        SoftmaxReference.Forward(x, rows, length, expected);
        SoftmaxReference.Backward(expected, g, rows, length, expectedDx);
        foreach (var path in Paths)
        {
            var y = new float[x.Length];
            var dx = Uniform(rng, x.Length);
            var start = (float[])dx.Clone();
            SoftmaxKernels.Forward(x, rows, length, y, path);
            SoftmaxKernels.Backward(y, g, rows, length, dx, accumulate: true, path);
            for (int i = 0; i < dx.Length; i++) dx[i] -= start[i];
            AssertClose(expected, y, 1e-5, $"{path} y");
            AssertClose(expectedDx, dx, 1e-5, $"{path} dx");
        }
    }

    [Theory]
    [InlineData(GeluApproximation.None)]
    [InlineData(GeluApproximation.Tanh)]
    public void Gelu_EveryPath_MatchesReference_IncludingTails(GeluApproximation approximation)
    {
        // Sweep [−12, 12] with an odd count (a scalar tail on every path), plus the extremes.
        var x = Enumerable.Range(0, 2401).Select(i => -12f + i * 0.01f).Concat([-100f, -30f, 30f, 100f, 0f]).ToArray();
        var g = Uniform(new Rng(3), x.Length);
        foreach (var path in Paths)
        {
            var y = new float[x.Length];
            var dx = new float[x.Length];
            GeluKernels.Forward(x, y, approximation, path);
            GeluKernels.Backward(x, g, dx, accumulate: false, approximation, path);
            for (int i = 0; i < x.Length; i++)
            {
                double value = GeluReference.Value(x[i], approximation), slope = g[i] * GeluReference.Slope(x[i], approximation);
                // relative 1e-6 where the value is not tiny; absolute 1e-7 near zero and in the far negative tail
                Assert.True(Math.Abs(y[i] - value) <= 1e-6 * Math.Abs(value) + 1e-7, $"{path} GELU({x[i]}) = {y[i]:R}, reference {value:R}");
                Assert.True(Math.Abs(dx[i] - slope) <= 2e-6 * Math.Abs(slope) + 2e-7, $"{path} GELU′({x[i]})·g = {dx[i]:R}, reference {slope:R}");
            }
        }
    }

    [Fact]
    public void Gelu_ExactTail_KeepsRelativePrecision()
    {
        // Φ(−10) = 7.6198530241605e-24: 1 + erf would give 0; the direct tail keeps the value to float precision.
        foreach (var path in Paths)
        {
            var y = new float[1];
            GeluKernels.Forward([-10f], y, GeluApproximation.None, path);
            Assert.Equal(-7.6198530241605e-23, y[0], 1e-28);
        }
    }

    // (B, H, T, d): single token, d below/at/above the vector widths, ViT's 50×16, a batch of 13-token problems.
    public static TheoryData<int, int, int, int, bool> AttentionShapes => new()
    {
        { 1, 1, 1, 1, false },
        { 2, 3, 7, 5, false },
        { 1, 2, 50, 16, false },
        { 3, 2, 13, 8, false },
        { 1, 1, 65, 17, false },
        { 2, 2, 9, 24, true },
        { 1, 3, 50, 16, true },
    };

    [Theory]
    [MemberData(nameof(AttentionShapes))]
    public void Attention_EveryPath_MatchesReference_PackedAndSeparate(int batch, int heads, int tokens, int headSize, bool dropout)
    {
        var shape = new AttentionShape(batch, heads, tokens, headSize);
        var rng = new Rng(batch * 7 + heads * 11 + tokens * 13 + headSize);
        var mask = dropout ? new AttentionDropout(0.2f, 12345) : AttentionDropout.None;
        float scale = 1 / MathF.Sqrt(headSize);
        int width = heads * headSize;
        // Packed (N, T, 3·H·d) projections in, merged (N, T, H·d) out, as the ViT block uses them.
        float[] packed = Uniform(rng, batch * tokens * 3 * width, -2, 2), g = Uniform(rng, batch * tokens * width);
        HeadLayout q = HeadLayout.Packed(heads, tokens, headSize, 0), k = HeadLayout.Packed(heads, tokens, headSize, 1);
        HeadLayout v = HeadLayout.Packed(heads, tokens, headSize, 2);
        var o = new HeadLayout(tokens * width, headSize, 0, width);
        float[] expected = new float[batch * tokens * width], expectedGradient = new float[packed.Length];
        AttentionReference.Forward(shape, packed, q, packed, k, packed, v, scale, mask, expected, o);
        AttentionReference.Backward(shape, packed, q, packed, k, packed, v, scale, mask, g, o, expectedGradient, expectedGradient, expectedGradient);
        foreach (var path in Paths)
        {
            foreach (int threads in new[] { 1, 2 })
            {
                var y = new float[expected.Length];
                var lse = new float[shape.Problems * tokens];
                var gradient = new float[packed.Length];
                AttentionKernels.Forward(shape, packed, q, packed, k, packed, v, scale, mask, y, o, lse, [], threads, path);
                AttentionKernels.Backward(shape, packed, q, packed, k, packed, v, scale, mask, y, o, lse, g, gradient, gradient, gradient, false,
                    threads, path);
                AssertClose(expected, y, 2e-5, $"{path}/{threads} O");
                AssertClose(expectedGradient, gradient, 5e-5, $"{path}/{threads} dQKV");
            }
        }
    }

    [Theory]
    [InlineData(2, 3, 13, 8, 0, false)]
    [InlineData(3, 2, 50, 16, 0, true)]
    [InlineData(1, 4, 9, 5, 7, false)]
    public void Attention_OneQuery_EveryPath_MatchesReference(int batch, int heads, int tokens, int headSize, int query, bool dropout)
    {
        // A single query row (a class token) against every token as key and value, read in place from packed projections.
        var shape = new AttentionShape(batch, heads, tokens, headSize, 1);
        var rng = new Rng(query * 31 + tokens);
        var mask = dropout ? new AttentionDropout(0.25f, 99) : AttentionDropout.None;
        int width = heads * headSize;
        float[] packed = Uniform(rng, batch * tokens * 3 * width, -2, 2), g = Uniform(rng, batch * width);
        var q = HeadLayout.Packed(heads, tokens, headSize, 0);
        q = q with { Offset = q.Offset + query * q.RowStride };
        HeadLayout k = HeadLayout.Packed(heads, tokens, headSize, 1), v = HeadLayout.Packed(heads, tokens, headSize, 2);
        var o = new HeadLayout(width, headSize, 0, width);
        float scale = 1 / MathF.Sqrt(headSize);
        float[] expected = new float[batch * width], expectedGradient = new float[packed.Length];
        AttentionReference.Forward(shape, packed, q, packed, k, packed, v, scale, mask, expected, o);
        AttentionReference.Backward(shape, packed, q, packed, k, packed, v, scale, mask, g, o, expectedGradient, expectedGradient, expectedGradient);
        foreach (var path in Paths)
        {
            var y = new float[expected.Length];
            var lse = new float[shape.Problems];
            var gradient = new float[packed.Length];
            AttentionKernels.Forward(shape, packed, q, packed, k, packed, v, scale, mask, y, o, lse, [], 2, path);
            AttentionKernels.Backward(shape, packed, q, packed, k, packed, v, scale, mask, y, o, lse, g, gradient, gradient, gradient, true, 2, path);
            AssertClose(expected, y, 2e-5, $"{path} O");
            AssertClose(expectedGradient, gradient, 5e-5, $"{path} dQKV");
        }
    }

    [Fact]
    public void Attention_Probabilities_AreTheSoftmaxOfScaledScores()
    {
        var shape = new AttentionShape(2, 2, 11, 6);
        var rng = new Rng(5);
        var layout = HeadLayout.Separate(2, 11, 6);
        float[] q = Uniform(rng, 2 * 2 * 11 * 6, -2, 2), k = Uniform(rng, q.Length, -2, 2), v = Uniform(rng, q.Length);
        foreach (var path in Paths)
        {
            var maps = new float[2 * 2 * 11 * 11];
            AttentionKernels.Forward(shape, q, layout, k, layout, v, layout, 0.4f, AttentionDropout.None, new float[q.Length], layout, new float[44],
                maps, 1, path);
            for (int b = 0; b < 2; b++)
                for (int h = 0; h < 2; h++)
                {
                    var p = AttentionReference.Probabilities(shape, q, layout, k, layout, 0.4f, b, h);
                    for (int i = 0; i < 11; i++)
                        for (int j = 0; j < 11; j++) Assert.Equal(p[i, j], maps[((b * 2 + h) * 11 + i) * 11 + j], 5e-6);
                }
        }
    }

    [Fact]
    public void Attention_RejectsTooShortSpans()
    {
        var shape = new AttentionShape(1, 1, 4, 4);
        var layout = HeadLayout.Separate(1, 4, 4);
        var ex = Assert.Throws<ArgumentException>(() => AttentionKernels.Forward(shape, new float[15], layout, new float[16], layout, new float[16],
            layout, 1, AttentionDropout.None, new float[16], layout, new float[4], [], 1, SimdPath.Scalar));
        Assert.Contains("q holds 15 values", ex.Message);
    }
}

public class FastExpTests
{
    [Fact]
    public void VectorExp_IsWithinTwoUlpsOfMathExp_AndZeroWhereFloatsTurnSubnormal()
    {
        var xs = Enumerable.Range(0, 18801).Select(i => -100f + i * 0.01f)
            .Concat([-87.33f, -87.34f, 0f, 88f, 100f, float.NegativeInfinity]).ToArray();
        foreach (var x in xs)
        {
            float expected = MathF.Exp(Math.Min(x, 88f)), actual = Lanes256.Exp(System.Runtime.Intrinsics.Vector256.Create(x))[0];
            if (x < -87.3365f) Assert.Equal(0f, actual);
            else Assert.True(Math.Abs(actual - expected) <= 2.5e-7 * expected, $"exp({x}) = {actual:R}, MathF.Exp {expected:R}");
        }
    }
}

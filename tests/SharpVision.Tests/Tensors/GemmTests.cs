using SharpVision.Tensors.Kernels;
using SharpVision.Tensors.Kernels.Reference;
using Xunit.Abstractions;

namespace SharpVision.Tests.Tensors;

public class GemmTests(ITestOutputHelper output)
{
    // (m, n, k) from {1, 7, 63, 513}: vectors, k = 1, edge tiles in both directions, several KC/MC blocks (513),
    // plus n = 2100 for more than one NC panel. Not all 64 combinations: 513³ would make the oracle the slow part.
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 7, 63), (1, 513, 7), (7, 1, 513), (7, 7, 1), (63, 63, 63), (63, 513, 7),
        (513, 7, 63), (513, 63, 1), (7, 513, 63), (63, 1, 7), (63, 63, 513), (1, 63, 513), (513, 1, 63), (7, 2100, 7),
        (4, 129, 3136), (5, 7, 63), // the dot path's widest A (a linear layer on 4 images) and the first shape past it
    ];

    private static readonly (bool A, bool B)[] Transposes = [(false, false), (false, true), (true, false), (true, true)];

    /// <summary>Every provider this machine can run: each managed instruction set, and OpenBLAS when installed.</summary>
    private static IEnumerable<IGemmProvider> Providers()
    {
        foreach (var set in Enum.GetValues<ManagedGemm.InstructionSet>())
            if (ManagedGemm.IsSupported(set))
                yield return new ManagedGemm(set);
        if (Gemm.OpenBlas is { } openBlas)
            yield return openBlas;
    }

    [Fact]
    public void Multiply_AwkwardShapesAllTransposes_MatchesReference()
    {
        var rng = new Random(7);
        var providers = Providers().ToList();
        foreach (var (m, n, k) in Shapes)
            foreach (var (ta, tb) in Transposes)
                foreach (float beta in new[] { 0f, 1f, 0.5f })
                {
                    var problem = new Problem(rng, ta, tb, m, n, k, alpha: -1.5f, beta);
                    foreach (var provider in providers)
                        problem.Check(provider, threads: 2);
                }
        output.WriteLine($"checked {string.Join(", ", providers.Select(p => p.Name))}");
    }

    [Fact]
    public void Multiply_BetaZero_IgnoresNaNInC()
    {
        var rng = new Random(11);
        foreach (var provider in Providers())
            foreach (var (ta, tb) in Transposes)
            {
                // 63×63×63 is over the parallel threshold for neither; 130×70×300 spreads tiles over two workers.
                foreach (var (m, n, k) in new[] { (63, 63, 63), (130, 70, 300) })
                {
                    var problem = new Problem(rng, ta, tb, m, n, k, alpha: 1f, beta: 0f);
                    problem.FillC(float.NaN);
                    problem.Check(provider, threads: 2);
                }
            }
    }

    [Fact]
    public void Multiply_ZeroDepthOrZeroAlpha_ScalesCByBeta()
    {
        foreach (var provider in Providers())
            foreach (var (k, alpha) in new[] { (0, 1f), (5, 0f) })
            {
                float[] a = new float[3 * Math.Max(k, 1)], b = new float[Math.Max(k, 1) * 4];
                float[] c = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
                provider.Multiply(false, false, 3, 4, k, alpha, a, Math.Max(k, 1), b, 4, 0.5f, c, 4, 1);
                Assert.Equal([0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f, 4, 4.5f, 5, 5.5f, 6], c);
                Array.Fill(c, float.NaN);
                provider.Multiply(false, false, 3, 4, k, alpha, a, Math.Max(k, 1), b, 4, 0f, c, 4, 1);
                Assert.All(c, x => Assert.Equal(0f, x));
            }
    }

    [Fact]
    public void Multiply_Managed_OneAndManyThreadsGiveSameBits()
    {
        var rng = new Random(3);
        foreach (var set in Enum.GetValues<ManagedGemm.InstructionSet>().Where(ManagedGemm.IsSupported))
        {
            var provider = new ManagedGemm(set);
            // Big enough to go parallel: rows split (513 rows), columns split (m = 7, n = 1100), β ≠ 0 updates, and
            // n = 10 (the AVX-512 narrow path, split over rows).
            // (2, 1100, 1000): the dot path for few rows of A, split over columns.
            foreach (var (m, n, k, beta) in new[] { (513, 63, 513, 0f), (7, 1100, 300, 0.5f), (200, 200, 784, 1f), (1000, 10, 300, 0.5f), (2, 1100, 1000, 0.5f) })
                foreach (var (ta, tb) in Transposes)
                {
                    var problem = new Problem(rng, ta, tb, m, n, k, alpha: 0.75f, beta);
                    float[] one = problem.Run(provider, threads: 1);
                    foreach (int threads in new[] { 2, 3 })
                        Assert.True(one.AsSpan().SequenceEqual(problem.Run(provider, threads)),
                            $"{provider.Name} {m}x{n}x{k} ta={ta} tb={tb}: {threads} threads differ from 1");
                }
        }
    }

    [Fact]
    public void Multiply_BadSpansOrLeadingDimensions_Throw()
    {
        float[] a = new float[6 * 5], b = new float[5 * 4], c = new float[6 * 4];
        foreach (var provider in Providers())
        {
            // Control: the exact sizes are accepted.
            provider.Multiply(false, false, 6, 4, 5, 1, a, 5, b, 4, 0, c, 4, 1);
            Assert.Throws<ArgumentException>(() => provider.Multiply(false, false, 6, 4, 5, 1, a.AsSpan(1), 5, b, 4, 0, c, 4, 1));
            Assert.Throws<ArgumentException>(() => provider.Multiply(false, false, 6, 4, 5, 1, a, 5, b.AsSpan(1), 4, 0, c, 4, 1));
            Assert.Throws<ArgumentException>(() => provider.Multiply(false, false, 6, 4, 5, 1, a, 5, b, 4, 0, c.AsSpan(1), 4, 1));
            Assert.Throws<ArgumentException>(() => provider.Multiply(false, false, 6, 4, 5, 1, a, 4, b, 4, 0, c, 4, 1)); // lda < k
            Assert.Throws<ArgumentException>(() => provider.Multiply(true, false, 6, 4, 5, 1, a, 5, b, 4, 0, c, 4, 1));  // lda < m
            Assert.Throws<ArgumentException>(() => provider.Multiply(false, true, 6, 4, 5, 1, a, 5, b, 4, 0, c, 4, 1));  // ldb < k
            Assert.Throws<ArgumentException>(() => provider.Multiply(false, false, 6, 4, 5, 1, a, 5, b, 4, 0, c, 3, 1)); // ldc < n
            Assert.Throws<ArgumentException>(() => provider.Multiply(false, false, 6, 4, 5, 1, a, 6, b, 4, 0, c, 4, 1)); // stride too long for A
            Assert.ThrowsAny<ArgumentException>(() => provider.Multiply(false, false, -1, 4, 5, 1, a, 5, b, 4, 0, c, 4, 1));
            Assert.ThrowsAny<ArgumentException>(() => provider.Multiply(false, false, 6, 4, 5, 1, a, 5, b, 4, 0, c, 4, 0));
        }
    }

    [RequiresFact(SystemComponent.OpenBlas)]
    public void OpenBlas_WhenInstalled_IsAvailable_ElseSkipped()
    {
        SystemComponents.Require(SystemComponent.OpenBlas);
        Assert.Equal("openblas", Gemm.OpenBlas!.Name);
    }

    [Fact]
    public void ChooseDefault_EnvironmentVariable_OverridesOrNamesItself()
    {
        string? saved = Environment.GetEnvironmentVariable(Gemm.ProviderVariable);
        try
        {
            Environment.SetEnvironmentVariable(Gemm.ProviderVariable, "managed");
            Assert.Same(Gemm.Managed, Gemm.ChooseDefault());
            Assert.StartsWith("managed-", Gemm.Managed.Name);
            if (Gemm.OpenBlas is not null)
            {
                Environment.SetEnvironmentVariable(Gemm.ProviderVariable, "OpenBLAS");
                Assert.Same(Gemm.OpenBlas, Gemm.ChooseDefault());
            }
            Environment.SetEnvironmentVariable(Gemm.ProviderVariable, "mkl");
            var e = Assert.Throws<InvalidOperationException>(() => Gemm.ChooseDefault());
            Assert.Contains(Gemm.ProviderVariable, e.Message);
            Assert.Contains("'mkl'", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Gemm.ProviderVariable, saved);
        }
    }

    /// <summary>
    /// Random operands stored with leading dimensions 3 larger than needed. The padding of A and B is NaN (a provider
    /// that reads it poisons its result), and C's padding is a sentinel a provider must not overwrite.
    /// </summary>
    private sealed class Problem
    {
        private const float Sentinel = 12345f;
        private readonly bool _ta, _tb;
        private readonly int _m, _n, _k, _lda, _ldb, _ldc;
        private readonly float _alpha, _beta;
        private readonly float[] _a, _b;

        public Problem(Random rng, bool ta, bool tb, int m, int n, int k, float alpha, float beta)
        {
            (_ta, _tb, _m, _n, _k, _alpha, _beta) = (ta, tb, m, n, k, alpha, beta);
            _lda = (ta ? m : k) + 3;
            _ldb = (tb ? k : n) + 3;
            _ldc = n + 3;
            _a = Matrix(rng, ta ? k : m, ta ? m : k, _lda, float.NaN);
            _b = Matrix(rng, tb ? n : k, tb ? k : n, _ldb, float.NaN);
            C = Matrix(rng, m, n, _ldc, Sentinel);
        }

        /// <summary>The initial C, padding included.</summary>
        public float[] C { get; }

        /// <summary>Sets every element of the initial C, not its padding (NaN for the β = 0 test).</summary>
        public void FillC(float value)
        {
            for (int i = 0; i < _m; i++)
                C.AsSpan(i * _ldc, _n).Fill(value);
        }

        public float[] Run(IGemmProvider provider, int threads)
        {
            float[] c = (float[])C.Clone();
            provider.Multiply(_ta, _tb, _m, _n, _k, _alpha, _a, _lda, _b, _ldb, _beta, c, _ldc, threads);
            return c;
        }

        /// <summary>Within 1e-5 of the error scale |α|·Σ|a||b| + |β·c| of the double-precision oracle; padding untouched.</summary>
        public void Check(IGemmProvider provider, int threads)
        {
            float[] expected = (float[])C.Clone();
            GemmReference.Multiply(_ta, _tb, _m, _n, _k, _alpha, _a, _lda, _b, _ldb, _beta, expected, _ldc);
            float[] scale = new float[C.Length];
            GemmReference.Multiply(_ta, _tb, _m, _n, _k, Math.Abs(_alpha), Abs(_a), _lda, Abs(_b), _ldb, 0, scale, _ldc);
            float[] actual = Run(provider, threads);
            string what = $"{provider.Name} {_m}x{_n}x{_k} ta={_ta} tb={_tb} α={_alpha} β={_beta}";
            for (int i = 0; i < _m; i++)
            {
                for (int j = 0; j < _n; j++)
                {
                    int at = i * _ldc + j;
                    double tolerance = 1e-5 * (scale[at] + (_beta == 0 ? 0 : Math.Abs(_beta * C[at]))) + 1e-30;
                    if (!(Math.Abs(actual[at] - expected[at]) <= tolerance))
                        Assert.Fail($"{what}: C[{i},{j}] = {actual[at]}, expected {expected[at]} ± {tolerance}");
                }
                for (int j = _n; j < _ldc && i * _ldc + j < actual.Length; j++)
                    Assert.True(actual[i * _ldc + j] == Sentinel, $"{what}: padding C[{i},{j}] was written");
            }
        }

        private static float[] Matrix(Random rng, int rows, int cols, int ld, float padding)
        {
            var x = new float[(rows - 1) * ld + cols];
            Array.Fill(x, padding);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    x[r * ld + c] = (float)(rng.NextDouble() * 2 - 1);
            return x;
        }

        private static float[] Abs(float[] x) => x.Select(Math.Abs).ToArray();
    }
}

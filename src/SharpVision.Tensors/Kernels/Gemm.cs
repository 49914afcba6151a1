namespace SharpVision.Tensors.Kernels;

/// <summary>
/// The engine's matrix multiply: one entry point, a managed SIMD provider that always works and OpenBLAS when
/// <c>libopenblas.so.0</c> is present. <see cref="Provider"/> is the one in use; logs and JSON report its name.
/// </summary>
public static class Gemm
{
    private static IGemmProvider? _provider;

    /// <summary>The managed provider (always available).</summary>
    public static IGemmProvider Managed { get; } = new ManagedGemm();

    /// <summary>The provider every engine operation uses. Set it to choose; the default is chosen by <see cref="ChooseDefault"/>.</summary>
    public static IGemmProvider Provider
    {
        get => _provider ??= ChooseDefault();
        set => _provider = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The default provider.</summary>
    public static IGemmProvider ChooseDefault() => Managed;

    /// <summary>C = α·op(A)·op(B) + β·C on <see cref="Provider"/> with <see cref="Engine.Threads"/> threads.</summary>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc) =>
        Provider.Multiply(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Engine.Threads);

    /// <summary>Checks that spans are long enough for the given shapes (shared by the providers).</summary>
    internal static void Validate(bool transposeA, bool transposeB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        int aRows = transposeA ? k : m, aCols = transposeA ? m : k;
        int bRows = transposeB ? n : k, bCols = transposeB ? k : n;
        Check("A", aRows, aCols, lda, aLength);
        Check("B", bRows, bCols, ldb, bLength);
        Check("C", m, n, ldc, cLength);

        static void Check(string name, int rows, int cols, int ld, int length)
        {
            if (ld < Math.Max(1, cols)) throw new ArgumentException($"Leading dimension of {name} ({ld}) is less than its {cols} columns.");
            if (rows > 0 && cols > 0 && (long)(rows - 1) * ld + cols > length)
                throw new ArgumentException($"{name} holds {length} elements; a {rows}×{cols} matrix with stride {ld} needs {(long)(rows - 1) * ld + cols}.");
        }
    }
}

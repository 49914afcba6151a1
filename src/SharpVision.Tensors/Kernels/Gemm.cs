namespace SharpVision.Tensors.Kernels;

/// <summary>
/// The engine's matrix multiply: one entry point, a managed SIMD provider that always works and OpenBLAS when
/// <c>libopenblas.so.0</c> is present. <see cref="Provider"/> is the one in use; logs and JSON report its name.
/// </summary>
public static class Gemm
{
    /// <summary>Environment variable that overrides the default provider: <c>managed</c> or <c>openblas</c>.</summary>
    public const string ProviderVariable = "SHARPVISION_GEMM";

    private static readonly Lazy<IGemmProvider?> LoadedOpenBlas = new(OpenBlasGemm.TryLoad);
    private static IGemmProvider? _provider;

    /// <summary>The managed provider (always available), on the widest instruction set of this machine.</summary>
    public static IGemmProvider Managed { get; } = new ManagedGemm();

    /// <summary>OpenBLAS's <c>cblas_sgemm</c>, or null when libopenblas.so.0 is not installed.</summary>
    public static IGemmProvider? OpenBlas => LoadedOpenBlas.Value;

    /// <summary>The provider every engine operation uses. Set it to choose; the default is chosen by <see cref="ChooseDefault"/>.</summary>
    public static IGemmProvider Provider
    {
        get => _provider ??= ChooseDefault();
        set => _provider = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The default provider: the one <see cref="ProviderVariable"/> names when set, else the managed one.</summary>
    /// <remarks>
    /// Managed by measurement (bench/gemm.sh, 2 threads, AMD Zen5 EPYC with AVX-512): managed-avx512 runs about
    /// 410–440 GFLOP/s at n = 512–2048 against 230–255 for Debian's OpenBLAS 0.3.21, which picks its AVX2 (Haswell)
    /// kernels on this CPU; on the MLP's 128×784×256 layer it is 1.3–1.5× faster in the NN, NT and TN forms.
    /// OpenBLAS is only ahead on very thin products (n = 10 output layer, ~20 µs calls) where packing dominates.
    /// The managed provider is also bitwise reproducible across thread counts and needs no native library.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The variable names an unknown provider, or OpenBLAS when it is not installed.</exception>
    public static IGemmProvider ChooseDefault()
    {
        string? requested = Environment.GetEnvironmentVariable(ProviderVariable);
        if (string.IsNullOrWhiteSpace(requested))
            return Managed;
        return requested.Trim().ToLowerInvariant() switch
        {
            "managed" => Managed,
            "openblas" => OpenBlas ?? throw new InvalidOperationException(
                $"{ProviderVariable}=openblas, but libopenblas.so.0 could not be loaded (install Debian's libopenblas0-pthread)."),
            _ => throw new InvalidOperationException(
                $"{ProviderVariable}='{requested}' is not a GEMM provider; use 'managed' or 'openblas', or unset it."),
        };
    }

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

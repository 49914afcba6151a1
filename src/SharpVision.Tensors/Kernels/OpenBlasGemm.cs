// Shape legend: op(A) is (m, k), op(B) is (k, n), C is (m, n), row-major (CblasRowMajor), strides lda, ldb, ldc.
using System.Runtime.InteropServices;

namespace SharpVision.Tensors.Kernels;

/// <summary>
/// GEMM through OpenBLAS's <c>cblas_sgemm</c> (libopenblas.so.0, Debian <c>libopenblas0-pthread</c>), loaded on first
/// use with <see cref="NativeLibrary.TryLoad(string, out nint)"/> so the toolkit runs without it.
/// </summary>
/// <remarks>
/// Shapes as in <see cref="IGemmProvider"/>. OpenBLAS keeps one process-wide thread count; it is set to the call's
/// <c>threads</c> whenever that differs from the last value set here. Deterministic for a given thread count and
/// OpenBLAS build (its kernels split k the same way every time), but 1 and N threads may differ in the last bits.
/// </remarks>
internal sealed unsafe class OpenBlasGemm : IGemmProvider
{
    private const int CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112;
    private const string LibraryName = "libopenblas.so.0";

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged<int, void> _setThreads;
    private readonly object _threadsLock = new();
    private int _threads;

    private OpenBlasGemm(nint sgemm, nint setThreads)
    {
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
        _setThreads = (delegate* unmanaged<int, void>)setThreads;
    }

    /// <summary>The provider, or null when libopenblas.so.0 (or one of its two entry points) is missing.</summary>
    public static OpenBlasGemm? TryLoad()
    {
        if (!NativeLibrary.TryLoad(LibraryName, out nint library))
            return null;
        if (!NativeLibrary.TryGetExport(library, "cblas_sgemm", out nint sgemm)
            || !NativeLibrary.TryGetExport(library, "openblas_set_num_threads", out nint setThreads))
            return null;
        return new OpenBlasGemm(sgemm, setThreads);
    }

    public string Name => "openblas";

    public void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads)
    {
        Gemm.Validate(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (m == 0 || n == 0)
            return;
        lock (_threadsLock)
        {
            // The setting is global to the library; changing it costs a pool resize, so only on change.
            if (_threads != threads)
            {
                _setThreads(threads);
                _threads = threads;
            }
        }
        fixed (float* pa = a, pb = b, pc = c)
        {
            _sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }
}

// Micro-kernels of ManagedGemm. Shape legend:
//   a: packed A sliver, kc steps of MR floats (column p of the MR-row sliver is a[p*MR .. p*MR+MR))
//   b: packed B sliver, kc steps of NR floats (row p of the NR-column sliver is b[p*NR .. p*NR+NR))
//   c: the MR×NR tile of C, row stride ldc.
// Each kernel keeps the whole MR×NR tile in registers and ends with c = α·acc (β = 0, old C never read) or
// c = fma(acc, α, β·c). The merge of edge tiles in ManagedGemm uses the same two formulas, so every element of C
// gets the same bits whether it lands in a full tile or an edge tile, whatever the thread partition.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpVision.Tensors.Kernels;

/// <summary>A register-blocked GEMM micro-kernel: C[MR×NR] = α·Σ_p a[:,p]·b[p,:] + β·C over packed slivers.</summary>
/// <remarks>Static abstract members so <c>ManagedGemm.Run&lt;TKernel&gt;</c> is specialized per kernel with no dispatch in the loops.</remarks>
internal interface IGemmMicroKernel
{
    /// <summary>MR: rows of the register tile (A is packed in slivers of this many rows).</summary>
    static abstract int Rows { get; }

    /// <summary>NR: columns of the register tile (B is packed in slivers of this many columns).</summary>
    static abstract int Columns { get; }

    /// <summary>Computes one full MR×NR tile from kc packed steps.</summary>
    static abstract unsafe void Run(nint kc, float* a, float* b, float* c, nint ldc, float alpha, float beta);

    /// <summary>
    /// True when the kernel can read a full MR-row sliver of A where it lies (<see cref="RunInPlace"/>) instead of from a
    /// packed copy: for thin products (k of 64–128, or n of 64–192 with k in the thousands, as in a transformer) packing
    /// A costs half as much as the multiply itself.
    /// </summary>
    static abstract bool ReadsAInPlace { get; }

    /// <summary>
    /// As <see cref="Run"/>, with A's element (row r, step p) at a[r·rowStride + p·depthStride]: (lda, 1) for A stored
    /// (m, k), (1, lda) for A stored (k, m). Same arithmetic in the same order as <see cref="Run"/>, so the same bits.
    /// </summary>
    static abstract unsafe void RunInPlace(nint kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc,
        float alpha, float beta);
}

/// <summary>AVX-512 14×32: 28 zmm accumulators; per k step 2 zmm loads of the B row and 14 broadcasts of A.</summary>
internal readonly struct Avx512Kernel14x32 : IGemmMicroKernel
{
    public static int Rows => 14;
    public static int Columns => 32;

    // 14 row streams would cost 14 address registers in the loop; this kernel keeps packing A.
    public static bool ReadsAInPlace => false;

    public static unsafe void RunInPlace(nint kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc,
        float alpha, float beta) =>
        throw new NotSupportedException("The AVX-512 kernel reads A packed.");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(nint kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c0_0 = default, c0_1 = default;
        Vector512<float> c1_0 = default, c1_1 = default;
        Vector512<float> c2_0 = default, c2_1 = default;
        Vector512<float> c3_0 = default, c3_1 = default;
        Vector512<float> c4_0 = default, c4_1 = default;
        Vector512<float> c5_0 = default, c5_1 = default;
        Vector512<float> c6_0 = default, c6_1 = default;
        Vector512<float> c7_0 = default, c7_1 = default;
        Vector512<float> c8_0 = default, c8_1 = default;
        Vector512<float> c9_0 = default, c9_1 = default;
        Vector512<float> c10_0 = default, c10_1 = default;
        Vector512<float> c11_0 = default, c11_1 = default;
        Vector512<float> c12_0 = default, c12_1 = default;
        Vector512<float> c13_0 = default, c13_1 = default;
        for (nint p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b + 0); Vector512<float> b1 = Vector512.Load(b + 16);
            { Vector512<float> ai = Vector512.Create(a[0]); c0_0 = Avx512F.FusedMultiplyAdd(ai, b0, c0_0); c0_1 = Avx512F.FusedMultiplyAdd(ai, b1, c0_1); }
            { Vector512<float> ai = Vector512.Create(a[1]); c1_0 = Avx512F.FusedMultiplyAdd(ai, b0, c1_0); c1_1 = Avx512F.FusedMultiplyAdd(ai, b1, c1_1); }
            { Vector512<float> ai = Vector512.Create(a[2]); c2_0 = Avx512F.FusedMultiplyAdd(ai, b0, c2_0); c2_1 = Avx512F.FusedMultiplyAdd(ai, b1, c2_1); }
            { Vector512<float> ai = Vector512.Create(a[3]); c3_0 = Avx512F.FusedMultiplyAdd(ai, b0, c3_0); c3_1 = Avx512F.FusedMultiplyAdd(ai, b1, c3_1); }
            { Vector512<float> ai = Vector512.Create(a[4]); c4_0 = Avx512F.FusedMultiplyAdd(ai, b0, c4_0); c4_1 = Avx512F.FusedMultiplyAdd(ai, b1, c4_1); }
            { Vector512<float> ai = Vector512.Create(a[5]); c5_0 = Avx512F.FusedMultiplyAdd(ai, b0, c5_0); c5_1 = Avx512F.FusedMultiplyAdd(ai, b1, c5_1); }
            { Vector512<float> ai = Vector512.Create(a[6]); c6_0 = Avx512F.FusedMultiplyAdd(ai, b0, c6_0); c6_1 = Avx512F.FusedMultiplyAdd(ai, b1, c6_1); }
            { Vector512<float> ai = Vector512.Create(a[7]); c7_0 = Avx512F.FusedMultiplyAdd(ai, b0, c7_0); c7_1 = Avx512F.FusedMultiplyAdd(ai, b1, c7_1); }
            { Vector512<float> ai = Vector512.Create(a[8]); c8_0 = Avx512F.FusedMultiplyAdd(ai, b0, c8_0); c8_1 = Avx512F.FusedMultiplyAdd(ai, b1, c8_1); }
            { Vector512<float> ai = Vector512.Create(a[9]); c9_0 = Avx512F.FusedMultiplyAdd(ai, b0, c9_0); c9_1 = Avx512F.FusedMultiplyAdd(ai, b1, c9_1); }
            { Vector512<float> ai = Vector512.Create(a[10]); c10_0 = Avx512F.FusedMultiplyAdd(ai, b0, c10_0); c10_1 = Avx512F.FusedMultiplyAdd(ai, b1, c10_1); }
            { Vector512<float> ai = Vector512.Create(a[11]); c11_0 = Avx512F.FusedMultiplyAdd(ai, b0, c11_0); c11_1 = Avx512F.FusedMultiplyAdd(ai, b1, c11_1); }
            { Vector512<float> ai = Vector512.Create(a[12]); c12_0 = Avx512F.FusedMultiplyAdd(ai, b0, c12_0); c12_1 = Avx512F.FusedMultiplyAdd(ai, b1, c12_1); }
            { Vector512<float> ai = Vector512.Create(a[13]); c13_0 = Avx512F.FusedMultiplyAdd(ai, b0, c13_0); c13_1 = Avx512F.FusedMultiplyAdd(ai, b1, c13_1); }
            a += 14;
            b += 32;
        }
        Vector512<float> va = Vector512.Create(alpha);
        if (beta == 0)
        {
            { float* r = c + 0 * ldc; Vector512.Store(c0_0 * va, r + 0); Vector512.Store(c0_1 * va, r + 16); }
            { float* r = c + 1 * ldc; Vector512.Store(c1_0 * va, r + 0); Vector512.Store(c1_1 * va, r + 16); }
            { float* r = c + 2 * ldc; Vector512.Store(c2_0 * va, r + 0); Vector512.Store(c2_1 * va, r + 16); }
            { float* r = c + 3 * ldc; Vector512.Store(c3_0 * va, r + 0); Vector512.Store(c3_1 * va, r + 16); }
            { float* r = c + 4 * ldc; Vector512.Store(c4_0 * va, r + 0); Vector512.Store(c4_1 * va, r + 16); }
            { float* r = c + 5 * ldc; Vector512.Store(c5_0 * va, r + 0); Vector512.Store(c5_1 * va, r + 16); }
            { float* r = c + 6 * ldc; Vector512.Store(c6_0 * va, r + 0); Vector512.Store(c6_1 * va, r + 16); }
            { float* r = c + 7 * ldc; Vector512.Store(c7_0 * va, r + 0); Vector512.Store(c7_1 * va, r + 16); }
            { float* r = c + 8 * ldc; Vector512.Store(c8_0 * va, r + 0); Vector512.Store(c8_1 * va, r + 16); }
            { float* r = c + 9 * ldc; Vector512.Store(c9_0 * va, r + 0); Vector512.Store(c9_1 * va, r + 16); }
            { float* r = c + 10 * ldc; Vector512.Store(c10_0 * va, r + 0); Vector512.Store(c10_1 * va, r + 16); }
            { float* r = c + 11 * ldc; Vector512.Store(c11_0 * va, r + 0); Vector512.Store(c11_1 * va, r + 16); }
            { float* r = c + 12 * ldc; Vector512.Store(c12_0 * va, r + 0); Vector512.Store(c12_1 * va, r + 16); }
            { float* r = c + 13 * ldc; Vector512.Store(c13_0 * va, r + 0); Vector512.Store(c13_1 * va, r + 16); }
        }
        else
        {
            Vector512<float> vb = Vector512.Create(beta);
            { float* r = c + 0 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c0_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c0_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 1 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c1_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c1_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 2 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c2_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c2_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 3 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c3_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c3_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 4 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c4_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c4_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 5 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c5_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c5_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 6 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c6_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c6_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 7 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c7_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c7_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 8 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c8_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c8_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 9 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c9_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c9_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 10 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c10_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c10_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 11 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c11_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c11_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 12 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c12_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c12_1, va, vb * Vector512.Load(r + 16)), r + 16); }
            { float* r = c + 13 * ldc; Vector512.Store(Avx512F.FusedMultiplyAdd(c13_0, va, vb * Vector512.Load(r + 0)), r + 0); Vector512.Store(Avx512F.FusedMultiplyAdd(c13_1, va, vb * Vector512.Load(r + 16)), r + 16); }
        }
    }
}

/// <summary>AVX2+FMA 6×16: 12 ymm accumulators; per k step 2 ymm loads of the B row and 6 broadcasts of A.</summary>
internal readonly struct Avx2Kernel6x16 : IGemmMicroKernel
{
    public static int Rows => 6;
    public static int Columns => 16;

    public static bool ReadsAInPlace => true;

    // Packed: row r of step p at a[p·6 + r].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(nint kc, float* a, float* b, float* c, nint ldc, float alpha, float beta) =>
        Core(kc, a, 1, 6, b, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void RunInPlace(nint kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc,
        float alpha, float beta) =>
        Core(kc, a, rowStride, depthStride, b, c, ldc, alpha, beta);

    // Too large for the JIT to inline into Run and RunInPlace: compiled optimized at once, so the first calls (a service's
    // first seconds) do not run quick-JIT code while tiering catches up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Core(nint kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, float alpha, float beta)
    {
        float* a0 = a, a1 = a + rowStride, a2 = a + 2 * rowStride, a3 = a + 3 * rowStride, a4 = a + 4 * rowStride, a5 = a + 5 * rowStride;
        nint at = 0;
        Vector256<float> c0_0 = default, c0_1 = default;
        Vector256<float> c1_0 = default, c1_1 = default;
        Vector256<float> c2_0 = default, c2_1 = default;
        Vector256<float> c3_0 = default, c3_1 = default;
        Vector256<float> c4_0 = default, c4_1 = default;
        Vector256<float> c5_0 = default, c5_1 = default;
        for (nint p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b + 0); Vector256<float> b1 = Vector256.Load(b + 8);
            { Vector256<float> ai = Vector256.Create(a0[at]); c0_0 = Fma.MultiplyAdd(ai, b0, c0_0); c0_1 = Fma.MultiplyAdd(ai, b1, c0_1); }
            { Vector256<float> ai = Vector256.Create(a1[at]); c1_0 = Fma.MultiplyAdd(ai, b0, c1_0); c1_1 = Fma.MultiplyAdd(ai, b1, c1_1); }
            { Vector256<float> ai = Vector256.Create(a2[at]); c2_0 = Fma.MultiplyAdd(ai, b0, c2_0); c2_1 = Fma.MultiplyAdd(ai, b1, c2_1); }
            { Vector256<float> ai = Vector256.Create(a3[at]); c3_0 = Fma.MultiplyAdd(ai, b0, c3_0); c3_1 = Fma.MultiplyAdd(ai, b1, c3_1); }
            { Vector256<float> ai = Vector256.Create(a4[at]); c4_0 = Fma.MultiplyAdd(ai, b0, c4_0); c4_1 = Fma.MultiplyAdd(ai, b1, c4_1); }
            { Vector256<float> ai = Vector256.Create(a5[at]); c5_0 = Fma.MultiplyAdd(ai, b0, c5_0); c5_1 = Fma.MultiplyAdd(ai, b1, c5_1); }
            at += depthStride;
            b += 16;
        }
        Vector256<float> va = Vector256.Create(alpha);
        if (beta == 0)
        {
            { float* r = c + 0 * ldc; Vector256.Store(c0_0 * va, r + 0); Vector256.Store(c0_1 * va, r + 8); }
            { float* r = c + 1 * ldc; Vector256.Store(c1_0 * va, r + 0); Vector256.Store(c1_1 * va, r + 8); }
            { float* r = c + 2 * ldc; Vector256.Store(c2_0 * va, r + 0); Vector256.Store(c2_1 * va, r + 8); }
            { float* r = c + 3 * ldc; Vector256.Store(c3_0 * va, r + 0); Vector256.Store(c3_1 * va, r + 8); }
            { float* r = c + 4 * ldc; Vector256.Store(c4_0 * va, r + 0); Vector256.Store(c4_1 * va, r + 8); }
            { float* r = c + 5 * ldc; Vector256.Store(c5_0 * va, r + 0); Vector256.Store(c5_1 * va, r + 8); }
        }
        else
        {
            Vector256<float> vb = Vector256.Create(beta);
            { float* r = c + 0 * ldc; Vector256.Store(Fma.MultiplyAdd(c0_0, va, vb * Vector256.Load(r + 0)), r + 0); Vector256.Store(Fma.MultiplyAdd(c0_1, va, vb * Vector256.Load(r + 8)), r + 8); }
            { float* r = c + 1 * ldc; Vector256.Store(Fma.MultiplyAdd(c1_0, va, vb * Vector256.Load(r + 0)), r + 0); Vector256.Store(Fma.MultiplyAdd(c1_1, va, vb * Vector256.Load(r + 8)), r + 8); }
            { float* r = c + 2 * ldc; Vector256.Store(Fma.MultiplyAdd(c2_0, va, vb * Vector256.Load(r + 0)), r + 0); Vector256.Store(Fma.MultiplyAdd(c2_1, va, vb * Vector256.Load(r + 8)), r + 8); }
            { float* r = c + 3 * ldc; Vector256.Store(Fma.MultiplyAdd(c3_0, va, vb * Vector256.Load(r + 0)), r + 0); Vector256.Store(Fma.MultiplyAdd(c3_1, va, vb * Vector256.Load(r + 8)), r + 8); }
            { float* r = c + 4 * ldc; Vector256.Store(Fma.MultiplyAdd(c4_0, va, vb * Vector256.Load(r + 0)), r + 0); Vector256.Store(Fma.MultiplyAdd(c4_1, va, vb * Vector256.Load(r + 8)), r + 8); }
            { float* r = c + 5 * ldc; Vector256.Store(Fma.MultiplyAdd(c5_0, va, vb * Vector256.Load(r + 0)), r + 0); Vector256.Store(Fma.MultiplyAdd(c5_1, va, vb * Vector256.Load(r + 8)), r + 8); }
        }
    }
}

/// <summary>Portable 4×4 kernel for machines without AVX2+FMA: plain multiply-add in the same k order.</summary>
internal readonly struct ScalarKernel4x4 : IGemmMicroKernel
{
    public static int Rows => 4;
    public static int Columns => 4;

    public static bool ReadsAInPlace => false;

    public static unsafe void RunInPlace(nint kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc,
        float alpha, float beta) =>
        throw new NotSupportedException("The scalar kernel reads A packed.");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(nint kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (nint p = 0; p < kc; p++)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            float a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            a += 4;
            b += 4;
        }
        Store(c, c00, c01, c02, c03, alpha, beta);
        Store(c + ldc, c10, c11, c12, c13, alpha, beta);
        Store(c + 2 * ldc, c20, c21, c22, c23, alpha, beta);
        Store(c + 3 * ldc, c30, c31, c32, c33, alpha, beta);
    }

    private static unsafe void Store(float* row, float x0, float x1, float x2, float x3, float alpha, float beta)
    {
        row[0] = GemmTile.Update(x0, row[0], alpha, beta);
        row[1] = GemmTile.Update(x1, row[1], alpha, beta);
        row[2] = GemmTile.Update(x2, row[2], alpha, beta);
        row[3] = GemmTile.Update(x3, row[3], alpha, beta);
    }
}

/// <summary>The scalar form of the kernels' final update, shared by edge tiles.</summary>
internal static class GemmTile
{
    /// <summary>α·acc when β = 0 (old C ignored, even NaN), else fma(acc, α, β·old): the vector kernels' exact arithmetic.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Update(float acc, float old, float alpha, float beta) =>
        beta == 0 ? acc * alpha : MathF.FusedMultiplyAdd(acc, alpha, beta * old);
}

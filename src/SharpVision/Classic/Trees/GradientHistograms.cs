using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Classic.Trees;

/// <summary>
/// The kernels of histogram gradient boosting over one feature's bins. A bin is a <see cref="Vector128{T}"/> of
/// (Σ gradient, Σ hessian, rows, 0) in single precision: one 16-byte add per row and feature.
/// </summary>
/// <remarks>
/// Shapes: <c>codes</c> (N) bytes of one feature, <c>rows</c> (m) row indices of a leaf, <c>ordered</c> (m) the rows'
/// (g, h, 1, 0) in leaf order, <c>histogram</c> (B) bins. <see cref="Reference.GradientHistogramsReference"/> is the
/// scalar twin the tests compare with; every path gives the same bits (no fused multiply-add, same operation order).
/// </remarks>
internal static class GradientHistograms
{
    /// <summary>
    /// Which instructions <see cref="BestThreshold"/> runs under the SIMD level in force: "avx2" (256-bit, also on
    /// AVX-512 CPUs: eight candidates per vector suit the 255 bins) or "scalar".
    /// </summary>
    public static string Path => UsesVectors(SimdPaths.Default) ? "avx2" : "scalar";

    private static bool UsesVectors(SimdPath path) => path != SimdPath.Scalar && Vector256.IsHardwareAccelerated;

    /// <summary>Adds ordered[i] to histogram[codes[rows[i]]] for each i, for four features at once (independent bins, so the adds overlap).</summary>
    public static void Accumulate4(ReadOnlySpan<byte> codes0, ReadOnlySpan<byte> codes1, ReadOnlySpan<byte> codes2, ReadOnlySpan<byte> codes3,
        Span<Vector128<float>> histogram0, Span<Vector128<float>> histogram1, Span<Vector128<float>> histogram2, Span<Vector128<float>> histogram3,
        ReadOnlySpan<int> rows, ReadOnlySpan<Vector128<float>> ordered)
    {
        if (ordered.Length < rows.Length) throw new ArgumentException("One ordered gradient per row is needed.", nameof(ordered));
        ref byte c0 = ref MemoryMarshal.GetReference(codes0), c1 = ref MemoryMarshal.GetReference(codes1);
        ref byte c2 = ref MemoryMarshal.GetReference(codes2), c3 = ref MemoryMarshal.GetReference(codes3);
        ref var h0 = ref MemoryMarshal.GetReference(histogram0);
        ref var h1 = ref MemoryMarshal.GetReference(histogram1);
        ref var h2 = ref MemoryMarshal.GetReference(histogram2);
        ref var h3 = ref MemoryMarshal.GetReference(histogram3);
        CheckCodes(codes0, histogram0.Length, rows);
        CheckCodes(codes1, histogram1.Length, rows);
        CheckCodes(codes2, histogram2.Length, rows);
        CheckCodes(codes3, histogram3.Length, rows);
        for (int i = 0; i < rows.Length; i++)
        {
            nint row = rows[i];
            var v = ordered[i];
            ref var b0 = ref Unsafe.Add(ref h0, Unsafe.Add(ref c0, row));
            b0 += v;
            ref var b1 = ref Unsafe.Add(ref h1, Unsafe.Add(ref c1, row));
            b1 += v;
            ref var b2 = ref Unsafe.Add(ref h2, Unsafe.Add(ref c2, row));
            b2 += v;
            ref var b3 = ref Unsafe.Add(ref h3, Unsafe.Add(ref c3, row));
            b3 += v;
        }
    }

    /// <summary>Adds ordered[i] to histogram[codes[rows[i]]] for each i (one feature).</summary>
    public static void Accumulate(ReadOnlySpan<byte> codes, Span<Vector128<float>> histogram, ReadOnlySpan<int> rows,
        ReadOnlySpan<Vector128<float>> ordered)
    {
        if (ordered.Length < rows.Length) throw new ArgumentException("One ordered gradient per row is needed.", nameof(ordered));
        CheckCodes(codes, histogram.Length, rows);
        ref byte c = ref MemoryMarshal.GetReference(codes);
        ref var h = ref MemoryMarshal.GetReference(histogram);
        for (int i = 0; i < rows.Length; i++)
        {
            ref var b = ref Unsafe.Add(ref h, Unsafe.Add(ref c, (nint)rows[i]));
            b += ordered[i];
        }
    }

    // The unchecked loops above index codes by row and bins by code: rows must lie in the column, and codes in the
    // histogram (the binning guarantees it; a debug build checks).
    [System.Diagnostics.Conditional("DEBUG")]
    private static void CheckCodes(ReadOnlySpan<byte> codes, int bins, ReadOnlySpan<int> rows)
    {
        foreach (int row in rows)
            if ((uint)row >= (uint)codes.Length || codes[row] >= bins) throw new ArgumentOutOfRangeException(nameof(rows));
    }

    /// <summary>larger[b] = parent[b] − smaller[b], written over <paramref name="parent"/> (the sibling by subtraction).</summary>
    public static void SubtractInPlace(Span<Vector128<float>> parent, ReadOnlySpan<Vector128<float>> smaller)
    {
        if (smaller.Length != parent.Length) throw new ArgumentException("Histograms of different sizes.", nameof(smaller));
        for (int b = 0; b < parent.Length; b++) parent[b] -= smaller[b];
    }

    /// <summary>
    /// The best threshold of one feature: over b in 0..B−2 (left = bins ≤ b), the largest
    /// score GL²/(HL+λ) + GR²/(HR+λ) among thresholds leaving at least <paramref name="minRows"/> rows and
    /// <paramref name="minHessian"/> hessian on each side; the lowest b wins ties. Returns (−1, −∞) when none qualifies.
    /// </summary>
    /// <param name="histogram">The feature's B bins.</param>
    /// <param name="total">(G, H, rows, 0) of the leaf.</param>
    /// <param name="lambda">L2 penalty on leaf values.</param>
    /// <param name="minRows">Fewest rows per side.</param>
    /// <param name="minHessian">Least hessian per side.</param>
    /// <param name="scratch">At least 3·B floats of workspace.</param>
    public static (int Bin, float Score) BestThreshold(ReadOnlySpan<Vector128<float>> histogram, Vector128<float> total, float lambda,
        float minRows, float minHessian,
        Span<float> scratch)
    {
        int candidates = histogram.Length - 1;
        if (candidates <= 0) return (-1, float.NegativeInfinity);
        if (scratch.Length < 3 * candidates) throw new ArgumentException("The scratch holds fewer than 3·(bins − 1) floats.", nameof(scratch));
        var gl = scratch[..candidates];
        var hl = scratch.Slice(candidates, candidates);
        var cl = scratch.Slice(2 * candidates, candidates);
        var left = Vector128<float>.Zero;
        for (int b = 0; b < candidates; b++)
        {
            left += histogram[b];
            gl[b] = left.GetElement(0);
            hl[b] = left.GetElement(1);
            cl[b] = left.GetElement(2);
        }
        float g = total.GetElement(0), h = total.GetElement(1), c = total.GetElement(2);
        int start = 0, bestBin = -1;
        float best = float.NegativeInfinity;
        if (candidates >= Vector256<float>.Count && UsesVectors(SimdPaths.Default))
        {
            var vg = Vector256.Create(g);
            var vh = Vector256.Create(h);
            var vc = Vector256.Create(c);
            var vl = Vector256.Create(lambda);
            var vMinRows = Vector256.Create(minRows);
            var vMinHessian = Vector256.Create(minHessian);
            var vBest = Vector256.Create(float.NegativeInfinity);
            var vBestIndex = Vector256<int>.Zero;
            var index = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            var step = Vector256.Create(Vector256<float>.Count);
            for (; start + Vector256<float>.Count <= candidates; start += Vector256<float>.Count)
            {
                var lg = Vector256.Create<float>(gl[start..]);
                var lh = Vector256.Create<float>(hl[start..]);
                var lc = Vector256.Create<float>(cl[start..]);
                var rg = vg - lg;
                var rh = vh - lh;
                var rc = vc - lc;
                var ok = Vector256.GreaterThanOrEqual(lc, vMinRows) & Vector256.GreaterThanOrEqual(rc, vMinRows)
                    & Vector256.GreaterThanOrEqual(lh, vMinHessian) & Vector256.GreaterThanOrEqual(rh, vMinHessian);
                var score = lg * lg / (lh + vl) + rg * rg / (rh + vl);
                var better = ok & Vector256.GreaterThan(score, vBest); // strictly: an earlier bin keeps a tie
                vBest = Vector256.ConditionalSelect(better, score, vBest);
                vBestIndex = Vector256.ConditionalSelect(better.AsInt32(), index, vBestIndex);
                index += step;
            }
            // Lanes hold the best of their own bins; the overall best is the largest score, lowest bin among equals.
            for (int lane = 0; lane < Vector256<float>.Count; lane++)
            {
                float s = vBest.GetElement(lane);
                int bin = vBestIndex.GetElement(lane);
                if (s > best || (s == best && s > float.NegativeInfinity && bin < bestBin)) (best, bestBin) = (s, bin);
            }
        }
        for (int b = start; b < candidates; b++)
        {
            float lg = gl[b], lh = hl[b], lc = cl[b];
            float rg = g - lg, rh = h - lh, rc = c - lc;
            if (!(lc >= minRows && rc >= minRows && lh >= minHessian && rh >= minHessian)) continue;
            float score = lg * lg / (lh + lambda) + rg * rg / (rh + lambda);
            if (score > best) (best, bestBin) = (score, b);
        }
        return (bestBin, best);
    }
}

namespace SharpVision.Classic.Trees.Reference;

/// <summary>
/// Plain scalar twins of <see cref="GradientHistograms"/>, written for clarity: the oracle the tests compare the fast
/// kernels with, bit for bit. Histograms here are arrays of (g, h, rows) float triples.
/// </summary>
internal static class GradientHistogramsReference
{
    /// <summary>histogram[codes[rows[i]]] += (g[i], h[i], 1) for each i, in order.</summary>
    public static void Accumulate(ReadOnlySpan<byte> codes, float[,] histogram, ReadOnlySpan<int> rows, ReadOnlySpan<float> g, ReadOnlySpan<float> h)
    {
        for (int i = 0; i < rows.Length; i++)
        {
            int bin = codes[rows[i]];
            histogram[bin, 0] += g[i];
            histogram[bin, 1] += h[i];
            histogram[bin, 2] += 1;
        }
    }

    /// <summary>The best threshold: left = bins ≤ b, the largest GL²/(HL+λ) + GR²/(HR+λ) with enough rows and hessian on each side, first b on
    /// ties.</summary>
    public static (int Bin, float Score) BestThreshold(float[,] histogram, float g, float h, float rows, float lambda, float minRows,
        float minHessian)
    {
        int bestBin = -1;
        float best = float.NegativeInfinity, lg = 0, lh = 0, lc = 0;
        for (int b = 0; b < histogram.GetLength(0) - 1; b++)
        {
            lg += histogram[b, 0];
            lh += histogram[b, 1];
            lc += histogram[b, 2];
            float rg = g - lg, rh = h - lh, rc = rows - lc;
            if (!(lc >= minRows && rc >= minRows && lh >= minHessian && rh >= minHessian)) continue;
            float score = lg * lg / (lh + lambda) + rg * rg / (rh + lambda);
            if (score > best)
            {
                best = score;
                bestBin = b;
            }
        }
        return (bestBin, best);
    }
}

namespace SharpVision.Data;

/// <summary>The one formula every standardization shares (pixels, channels, feature vectors).</summary>
internal static class Standardization
{
    /// <summary>
    /// Mean μ = Σx/n and the multiplier 1/σ with the population variance σ² = Σx²/n − μ² (sums accumulated in double by
    /// the caller); 1 where the value never varies (σ² ≤ 1e-12), as scikit-learn's StandardScaler does.
    /// </summary>
    public static (float Mean, float Scale) MeanAndInverseStd(double sum, double sumOfSquares, double count)
    {
        double mean = sum / count, variance = Math.Max(0, sumOfSquares / count - mean * mean);
        return ((float)mean, variance > 1e-12 ? (float)(1 / Math.Sqrt(variance)) : 1f);
    }
}

namespace SharpVision.Tensors.Kernels.Reference;

/// <summary>The scalar twin of <see cref="LayerNormKernels"/>: the textbook formulas in double. The test oracle, never fast.</summary>
public static class LayerNormReference
{
    /// <summary>y = γ ⊙ (x − μ)/√(σ² + ε) + β per row of (rows, D), σ² biased; also μ and rstd = 1/√(σ² + ε) per row.</summary>
    public static void Forward(ReadOnlySpan<float> x, int rows, int features, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float epsilon,
        Span<float> y, Span<float> mean, Span<float> rstd)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * features, features);
            double mu = 0, variance = 0;
            foreach (float v in row) mu += v;
            mu /= features;
            foreach (float v in row) variance += (v - mu) * (v - mu);
            variance /= features;
            double inverse = 1 / Math.Sqrt(variance + epsilon);
            for (int i = 0; i < features; i++) y[r * features + i] = (float)((row[i] - mu) * inverse * gamma[i] + beta[i]);
            mean[r] = (float)mu;
            rstd[r] = (float)inverse;
        }
    }

    /// <summary>
    /// dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)), ĝ = g ⊙ γ; dγ += Σ g ⊙ x̂; dβ += Σ g (statistics recomputed from x in double).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> g, ReadOnlySpan<float> x, int rows, int features, ReadOnlySpan<float> gamma, float epsilon,
        Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        var sumGamma = new double[features];
        var sumBeta = new double[features];
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * features, features);
            double mu = 0, variance = 0;
            foreach (float v in row) mu += v;
            mu /= features;
            foreach (float v in row) variance += (v - mu) * (v - mu);
            double inverse = 1 / Math.Sqrt(variance / features + epsilon);
            double meanG = 0, meanGX = 0;
            for (int i = 0; i < features; i++)
            {
                double xhat = (row[i] - mu) * inverse, gi = g[r * features + i];
                meanG += gi * gamma[i];
                meanGX += gi * gamma[i] * xhat;
                sumGamma[i] += gi * xhat;
                sumBeta[i] += gi;
            }
            meanG /= features;
            meanGX /= features;
            for (int i = 0; i < features; i++)
            {
                double xhat = (row[i] - mu) * inverse;
                dx[r * features + i] = (float)(inverse * (g[r * features + i] * gamma[i] - meanG - xhat * meanGX));
            }
        }
        for (int i = 0; i < features; i++)
        {
            dgamma[i] += (float)sumGamma[i];
            dbeta[i] += (float)sumBeta[i];
        }
    }
}

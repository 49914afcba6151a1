namespace SharpVision.Tensors.Kernels.Reference;

/// <summary>The scalar twin of <see cref="GeluKernels"/>: the definitions in double (Cephes erf, Math.Tanh). The test oracle.</summary>
public static class GeluReference
{
    /// <summary>GELU(x): x·Φ(x), or ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public static double Value(double x, GeluApproximation approximation) => approximation == GeluApproximation.Tanh
        ? 0.5 * x * (1 + Math.Tanh(SqrtTwoOverPi * (x + 0.044715 * x * x * x)))
        : x * Cdf(x);

    /// <summary>GELU′(x): Φ(x) + x·φ(x), or the derivative of the tanh form.</summary>
    public static double Slope(double x, GeluApproximation approximation)
    {
        if (approximation == GeluApproximation.Tanh)
        {
            double u = SqrtTwoOverPi * (x + 0.044715 * x * x * x), t = Math.Tanh(u);
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SqrtTwoOverPi * (1 + 3 * 0.044715 * x * x);
        }
        return Cdf(x) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);
    }

    /// <summary>y = GELU(x) elementwise.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, GeluApproximation approximation)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)Value(x[i], approximation);
    }

    /// <summary>dx = g·GELU′(x) elementwise.</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx, GeluApproximation approximation)
    {
        for (int i = 0; i < x.Length; i++) dx[i] = (float)(g[i] * Slope(x[i], approximation));
    }

    private const double SqrtTwoOverPi = 0.7978845608028653558798921198687637369517;

    // Φ(x) = ½·erfc(−x/√2): no cancellation for very negative x.
    private static double Cdf(double x) => 0.5 * ErrorFunction.Erfc(-x * 0.7071067811865475244008443621048490392848);
}

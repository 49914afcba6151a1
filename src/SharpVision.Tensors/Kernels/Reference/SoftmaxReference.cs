namespace SharpVision.Tensors.Kernels.Reference;

/// <summary>The scalar twin of <see cref="SoftmaxKernels"/>, in double. The test oracle, never fast.</summary>
public static class SoftmaxReference
{
    /// <summary>y = e^(x − max x)/Σ e^(x − max x) per row of (rows, K).</summary>
    public static void Forward(ReadOnlySpan<float> x, int rows, int length, Span<float> y)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * length, length);
            double max = double.NegativeInfinity, sum = 0;
            foreach (float v in row) max = Math.Max(max, v);
            foreach (float v in row) sum += Math.Exp(v - max);
            for (int i = 0; i < length; i++) y[r * length + i] = (float)(Math.Exp(row[i] - max) / sum);
        }
    }

    /// <summary>dx = y ⊙ (g − ⟨g, y⟩) per row.</summary>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, int rows, int length, Span<float> dx)
    {
        for (int r = 0; r < rows; r++)
        {
            double inner = 0;
            for (int i = 0; i < length; i++) inner += (double)g[r * length + i] * y[r * length + i];
            for (int i = 0; i < length; i++) dx[r * length + i] = (float)(y[r * length + i] * (g[r * length + i] - inner));
        }
    }
}

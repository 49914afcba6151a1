// Shape legend: x (N, C, H, W), weight (K, C, kh, kw), bias (K), y (N, K, Hp, Wp); see ConvBlockKernels.cs.
namespace SharpVision.Tensors.Kernels.Reference;

/// <summary>
/// The scalar twin of <see cref="ConvBlockKernels"/>: convolution, bias, ReLU and max pooling as nested loops over the
/// plain NCHW / OIHW layouts. Each convolution output is the FMA chain over e = (c, i, j) ascending with the padding's
/// zeros included, as the kernel computes it, so the two agree bit for bit. The test oracle, never fast.
/// </summary>
public static class ConvBlockReference
{
    /// <summary>
    /// y[n, k, py, px] = max over u, v &lt; pk of relu(b[k] + Σ_{c,i,j} W[k, c, i, j]·x[n, c, (py·ps + u)·s + i − pad, …] (0 outside)).
    /// <paramref name="bias"/> may be empty (no bias).
    /// </summary>
    public static void Forward(ConvBlockGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        var c = g.Convolution;
        int hp = g.OutputHeight, wp = g.OutputWidth;
        for (int n = 0; n < c.Batch; n++)
            for (int k = 0; k < c.Filters; k++)
                for (int py = 0; py < hp; py++)
                    for (int px = 0; px < wp; px++)
                    {
                        float max = 0;
                        for (int u = 0; u < g.PoolKernel; u++)
                            for (int v = 0; v < g.PoolKernel; v++)
                            {
                                float value = Convolution(c, x, weight, n, k, py * g.PoolStride + u, px * g.PoolStride + v)
                                              + (bias.Length == 0 ? 0 : bias[k]);
                                if (g.Relu) value = value > 0 ? value : 0;
                                max = u + v == 0 ? value : MathF.Max(max, value);
                            }
                        y[((n * c.Filters + k) * hp + py) * wp + px] = max;
                    }
    }

    // Σ_e W[k, e]·x at output pixel (oy, ox) of image n, as one FMA chain in ascending e (padding reads 0).
    private static float Convolution(Conv2dGeometry c, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, int n, int k, int oy, int ox)
    {
        float sum = 0;
        for (int ch = 0; ch < c.Channels; ch++)
            for (int i = 0; i < c.KernelHeight; i++)
                for (int j = 0; j < c.KernelWidth; j++)
                {
                    int iy = oy * c.Stride + i - c.Padding, ix = ox * c.Stride + j - c.Padding;
                    float value = iy < 0 || iy >= c.Height || ix < 0 || ix >= c.Width ? 0 : x[((n * c.Channels + ch) * c.Height + iy) * c.Width + ix];
                    sum = MathF.FusedMultiplyAdd(weight[((k * c.Channels + ch) * c.KernelHeight + i) * c.KernelWidth + j], value, sum);
                }
        return sum;
    }
}

// Shape legend: x (N, C, H, W), weight (K, C, kh, kw), bias (K), y (N, K, Ho, Wo); see Conv2dKernels.cs.
namespace SharpVision.Tensors.Kernels.Reference;

/// <summary>
/// The scalar twins of <see cref="Conv2dKernels"/>: the definition of cross-correlation as nested loops with double
/// accumulation. The test oracle, never fast.
/// </summary>
public static class Conv2dReference
{
    /// <summary>y[n, k, oy, ox] = b[k] + Σ_{c,i,j} W[k, c, i, j]·x[n, c, oy·s + i − pad, ox·s + j − pad] (0 outside).</summary>
    public static void Forward(Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        int ho = g.OutputHeight, wo = g.OutputWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int k = 0; k < g.Filters; k++)
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++)
                    {
                        double sum = bias.Length == 0 ? 0 : bias[k];
                        for (int c = 0; c < g.Channels; c++)
                            for (int i = 0; i < g.KernelHeight; i++)
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int iy = oy * g.Stride + i - g.Padding, ix = ox * g.Stride + j - g.Padding;
                                    if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                    sum += (double)weight[((k * g.Channels + c) * g.KernelHeight + i) * g.KernelWidth + j]
                                        * x[((n * g.Channels + c) * g.Height + iy) * g.Width + ix];
                                }
                        y[((n * g.Filters + k) * ho + oy) * wo + ox] = (float)sum;
                    }
    }

    /// <summary>dx[n, c, iy, ix] += Σ over every (k, oy, ox, i, j) that read x[n, c, iy, ix] of W[k, c, i, j]·dy[n, k, oy, ox].</summary>
    public static void BackwardData(Conv2dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx)
    {
        int ho = g.OutputHeight, wo = g.OutputWidth;
        var sums = new double[dx.Length];
        for (int n = 0; n < g.Batch; n++)
            for (int k = 0; k < g.Filters; k++)
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++)
                    {
                        double gradient = dy[((n * g.Filters + k) * ho + oy) * wo + ox];
                        for (int c = 0; c < g.Channels; c++)
                            for (int i = 0; i < g.KernelHeight; i++)
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int iy = oy * g.Stride + i - g.Padding, ix = ox * g.Stride + j - g.Padding;
                                    if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                    sums[((n * g.Channels + c) * g.Height + iy) * g.Width + ix] +=
                                        gradient * weight[((k * g.Channels + c) * g.KernelHeight + i) * g.KernelWidth + j];
                                }
                    }
        for (int e = 0; e < dx.Length; e++) dx[e] += (float)sums[e];
    }

    /// <summary>dW[k, c, i, j] += Σ_{n,oy,ox} dy[n, k, oy, ox]·x[n, c, oy·s + i − pad, ox·s + j − pad]; db[k] += Σ dy[n, k, ·, ·].</summary>
    public static void BackwardWeight(Conv2dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dw, Span<float> db)
    {
        int ho = g.OutputHeight, wo = g.OutputWidth;
        for (int k = 0; k < g.Filters; k++)
        {
            for (int c = 0; c < g.Channels; c++)
                for (int i = 0; i < g.KernelHeight; i++)
                    for (int j = 0; j < g.KernelWidth; j++)
                    {
                        double sum = 0;
                        for (int n = 0; n < g.Batch; n++)
                            for (int oy = 0; oy < ho; oy++)
                                for (int ox = 0; ox < wo; ox++)
                                {
                                    int iy = oy * g.Stride + i - g.Padding, ix = ox * g.Stride + j - g.Padding;
                                    if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                    sum += (double)dy[((n * g.Filters + k) * ho + oy) * wo + ox] * x[((n * g.Channels + c) * g.Height + iy) * g.Width + ix];
                                }
                        dw[((k * g.Channels + c) * g.KernelHeight + i) * g.KernelWidth + j] += (float)sum;
                    }
            if (db.Length == 0) continue;
            double biasSum = 0;
            for (int n = 0; n < g.Batch; n++)
                for (int p = 0; p < ho * wo; p++) biasSum += dy[(n * g.Filters + k) * ho * wo + p];
            db[k] += (float)biasSum;
        }
    }
}

// Shape legend: x (N·C planes, H, W) → y (planes, Ho, Wo), Ho = ⌊(H − kernel) / stride⌋ + 1; see PoolingKernels.cs.
namespace SharpVision.Tensors.Kernels.Reference;

/// <summary>The scalar twins of <see cref="PoolingKernels"/>: the definitions as plain loops. The test oracle, never fast.</summary>
public static class PoolingReference
{
    /// <summary>y = max of each window; argmax = flat index in the plane of its first maximum (row-major window order).</summary>
    public static void MaxForward(ReadOnlySpan<float> x, int planes, int height, int width, int kernel, int stride, Span<float> y, Span<int> argmax) =>
        MaxForward(x, planes, height, width, kernel, stride, 0, y, argmax);

    /// <summary>Max pooling over the input padded with −∞ (<paramref name="padding"/> on every side); argmax indexes the unpadded plane.</summary>
    public static void MaxForward(ReadOnlySpan<float> x, int planes, int height, int width, int kernel, int stride, int padding, Span<float> y, Span<int> argmax)
    {
        int ho = (height + 2 * padding - kernel) / stride + 1, wo = (width + 2 * padding - kernel) / stride + 1;
        for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                {
                    int best = -1;
                    for (int i = 0; i < kernel; i++)
                        for (int j = 0; j < kernel; j++)
                        {
                            int iy = oy * stride + i - padding, ix = ox * stride + j - padding;
                            if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                            int at = iy * width + ix;
                            if (best < 0 || x[p * height * width + at] > x[p * height * width + best]) best = at;
                        }
                    y[(p * ho + oy) * wo + ox] = x[p * height * width + best];
                    argmax[(p * ho + oy) * wo + ox] = best;
                }
    }

    /// <summary>dx[plane, argmax] += dy.</summary>
    public static void MaxBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, int planes, int planeSize, Span<float> dx)
    {
        int outputs = dy.Length / planes;
        for (int p = 0; p < planes; p++)
            for (int o = 0; o < outputs; o++) dx[p * planeSize + argmax[p * outputs + o]] += dy[p * outputs + o];
    }

    /// <summary>y = mean of each window (double sum).</summary>
    public static void AverageForward(ReadOnlySpan<float> x, int planes, int height, int width, int kernel, int stride, Span<float> y)
    {
        int ho = (height - kernel) / stride + 1, wo = (width - kernel) / stride + 1;
        for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                {
                    double sum = 0;
                    for (int i = 0; i < kernel; i++)
                        for (int j = 0; j < kernel; j++) sum += x[(p * height + oy * stride + i) * width + ox * stride + j];
                    y[(p * ho + oy) * wo + ox] = (float)(sum / (kernel * kernel));
                }
    }

    /// <summary>dx += dy / kernel² over each window.</summary>
    public static void AverageBackward(ReadOnlySpan<float> dy, int planes, int height, int width, int kernel, int stride, Span<float> dx)
    {
        int ho = (height - kernel) / stride + 1, wo = (width - kernel) / stride + 1;
        var sums = new double[dx.Length];
        for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int i = 0; i < kernel; i++)
                        for (int j = 0; j < kernel; j++)
                            sums[(p * height + oy * stride + i) * width + ox * stride + j] += (double)dy[(p * ho + oy) * wo + ox] / (kernel * kernel);
        for (int e = 0; e < dx.Length; e++) dx[e] += (float)sums[e];
    }
}

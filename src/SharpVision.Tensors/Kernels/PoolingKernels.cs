// Shape legend: x (N, C, H, W) seen as N·C planes of H×W; y (N, C, Ho, Wo) with Ho = ⌊(H + 2·pad − kernel) / stride⌋ + 1
// (floor mode; pad = 0 except for max pooling), likewise Wo. Window (oy, ox) covers rows oy·stride .. oy·stride + kernel − 1 and the same columns.
// Every kernel works plane by plane, so splitting planes over threads cannot change any result.
using System.Runtime.CompilerServices;

namespace SharpVision.Tensors.Kernels;

/// <summary>Max and average pooling over square windows, and global average pooling, parallel over planes.</summary>
public static class PoolingKernels
{
    /// <summary>Output side ⌊(size − kernel) / stride⌋ + 1.</summary>
    public static int OutputSize(int size, int kernel, int stride) => (size - kernel) / stride + 1;

    /// <summary>
    /// y = max over each window; <paramref name="argmax"/> receives the flat index (iy·W + ix) inside its plane of the
    /// element chosen: the first maximum in row-major window order (PyTorch's rule), or the first NaN, which propagates.
    /// </summary>
    public static void MaxForward(ReadOnlySpan<float> x, int planes, int height, int width, int kernel, int stride, Span<float> y, Span<int> argmax, int threads) =>
        MaxForward(x, planes, height, width, kernel, stride, 0, y, argmax, threads);

    /// <summary>
    /// Max pooling over an input padded by <paramref name="padding"/> elements of −∞ on every side (PyTorch's
    /// MaxPool2d(kernel, stride, padding), ONNX's MaxPool with symmetric pads): Ho = ⌊(H + 2·pad − kernel) / stride⌋ + 1.
    /// The padding is never chosen (pad ≤ kernel/2 leaves every window a real element); argmax indexes the unpadded plane.
    /// </summary>
    public static void MaxForward(ReadOnlySpan<float> x, int planes, int height, int width, int kernel, int stride, int padding, Span<float> y, Span<int> argmax,
        int threads)
    {
        int ho = OutputSize(height + 2 * padding, kernel, stride), wo = OutputSize(width + 2 * padding, kernel, stride);
        if (padding < 0 || padding > kernel / 2) throw new ArgumentException($"MaxPool2d: padding {padding} must be in [0, kernel/2 = {kernel / 2}].", nameof(padding));
        Check(x.Length, planes, height + 2 * padding, width + 2 * padding, y.Length, ho, wo, kernel, stride, height * width);
        if (argmax.Length != y.Length) throw new ArgumentException($"MaxPool2d: argmax holds {argmax.Length} values for {y.Length} outputs.", nameof(argmax));
        unsafe
        {
            fixed (float* px = x, py = y)
            fixed (int* pi = argmax)
            {
                nint ix = (nint)px, iy = (nint)py, ii = (nint)pi;
                WorkSplit.ForRanges(planes, height * width, threads, (first, end) =>
                {
                    for (int p = first; p < end; p++)
                    {
                        var plane = new ReadOnlySpan<float>((float*)ix + (long)p * height * width, height * width);
                        var output = new Span<float>((float*)iy + (long)p * ho * wo, ho * wo);
                        var chosen = new Span<int>((int*)ii + (long)p * ho * wo, ho * wo);
                        if (padding == 0) MaxPlane(plane, width, kernel, stride, ho, wo, output, chosen);
                        else MaxPlanePadded(plane, height, width, kernel, stride, padding, ho, wo, output, chosen);
                    }
                });
            }
        }
    }

    /// <summary>dx[plane, argmax] += dy: each output's gradient goes to the element its window chose.</summary>
    public static void MaxBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, int planes, int planeSize, Span<float> dx, int threads)
    {
        if (dy.Length != argmax.Length || dy.Length % Math.Max(1, planes) != 0 || dx.Length != (long)planes * planeSize)
            throw new ArgumentException("MaxPool2d backward: gradient, argmax and input sizes disagree.");
        int outputs = planes == 0 ? 0 : dy.Length / planes;
        unsafe
        {
            fixed (float* pdy = dy, pdx = dx)
            fixed (int* pi = argmax)
            {
                nint idy = (nint)pdy, idx = (nint)pdx, ii = (nint)pi;
                WorkSplit.ForRanges(planes, planeSize, threads, (first, end) =>
                {
                    for (int p = first; p < end; p++)
                    {
                        float* g = (float*)idy + (long)p * outputs, target = (float*)idx + (long)p * planeSize;
                        int* chosen = (int*)ii + (long)p * outputs;
                        for (int o = 0; o < outputs; o++) target[chosen[o]] += g[o]; // ∂/∂x[argmax] of y = x[argmax]
                    }
                });
            }
        }
    }

    /// <summary>y = (1/kernel²)·Σ over each window.</summary>
    public static void AverageForward(ReadOnlySpan<float> x, int planes, int height, int width, int kernel, int stride, Span<float> y, int threads)
    {
        int ho = OutputSize(height, kernel, stride), wo = OutputSize(width, kernel, stride);
        Check(x.Length, planes, height, width, y.Length, ho, wo, kernel, stride);
        float scale = 1f / (kernel * kernel);
        unsafe
        {
            fixed (float* px = x, py = y)
            {
                nint ix = (nint)px, iy = (nint)py;
                WorkSplit.ForRanges(planes, height * width, threads, (first, end) =>
                {
                    for (int p = first; p < end; p++)
                    {
                        float* plane = (float*)ix + (long)p * height * width, output = (float*)iy + (long)p * ho * wo;
                        for (int oy = 0; oy < ho; oy++)
                            for (int ox = 0; ox < wo; ox++)
                            {
                                float sum = 0;
                                for (int i = 0; i < kernel; i++)
                                {
                                    float* row = plane + (oy * stride + i) * width + ox * stride;
                                    for (int j = 0; j < kernel; j++) sum += row[j];
                                }
                                output[oy * wo + ox] = sum * scale;
                            }
                    }
                });
            }
        }
    }

    /// <summary>dx += dy / kernel² over each window (overlapping windows add up).</summary>
    public static void AverageBackward(ReadOnlySpan<float> dy, int planes, int height, int width, int kernel, int stride, Span<float> dx, int threads)
    {
        int ho = OutputSize(height, kernel, stride), wo = OutputSize(width, kernel, stride);
        Check(dx.Length, planes, height, width, dy.Length, ho, wo, kernel, stride);
        float scale = 1f / (kernel * kernel);
        unsafe
        {
            fixed (float* pdy = dy, pdx = dx)
            {
                nint idy = (nint)pdy, idx = (nint)pdx;
                WorkSplit.ForRanges(planes, height * width, threads, (first, end) =>
                {
                    for (int p = first; p < end; p++)
                    {
                        float* target = (float*)idx + (long)p * height * width, g = (float*)idy + (long)p * ho * wo;
                        for (int oy = 0; oy < ho; oy++)
                            for (int ox = 0; ox < wo; ox++)
                            {
                                float share = g[oy * wo + ox] * scale; // ∂/∂x of y = (1/k²)·Σ window
                                for (int i = 0; i < kernel; i++)
                                {
                                    float* row = target + (oy * stride + i) * width + ox * stride;
                                    for (int j = 0; j < kernel; j++) row[j] += share;
                                }
                            }
                    }
                });
            }
        }
    }

    private static unsafe void MaxPlane(ReadOnlySpan<float> planeSpan, int width, int kernel, int stride, int ho, int wo, Span<float> ySpan, Span<int> argmaxSpan)
    {
        fixed (float* plane = planeSpan, y = ySpan)
        fixed (int* argmax = argmaxSpan)
        {
            if (kernel == 2 && stride == 2)
            {
                // cnn2's pool: the four candidates in window order (top-left, top-right, bottom-left, bottom-right)
                for (int oy = 0; oy < ho; oy++)
                {
                    float* top = plane + 2 * oy * width, bottom = top + width;
                    int rowStart = 2 * oy * width;
                    for (int ox = 0; ox < wo; ox++)
                    {
                        int j = 2 * ox;
                        float a = top[j], b = top[j + 1], c = bottom[j], d = bottom[j + 1];
                        float best = MathF.Max(MathF.Max(a, b), MathF.Max(c, d));
                        int at;
                        if (float.IsNaN(best))
                        {
                            at = float.IsNaN(a) ? 0 : float.IsNaN(b) ? 1 : float.IsNaN(c) ? width : width + 1; // rare: the first NaN wins
                        }
                        else
                        {
                            // The first of a, b, c, d (window order) equal to the maximum, computed without branches:
                            // on random data the comparisons are coin flips, and mispredicted branches cost 5× the work.
                            int isA = Unsafe.BitCast<bool, byte>(a == best), isB = Unsafe.BitCast<bool, byte>(b == best), isC = Unsafe.BitCast<bool, byte>(c == best);
                            at = (1 - isA) * (isB + (1 - isB) * (width + 1 - isC));
                        }
                        y[oy * wo + ox] = top[j + at]; // the chosen element itself (keeps −0 vs +0 as PyTorch does)
                        argmax[oy * wo + ox] = rowStart + j + at;
                    }
                }
                return;
            }
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    int start = oy * stride * width + ox * stride;
                    float best = float.NegativeInfinity;
                    int bestAt = start;
                    for (int i = 0; i < kernel; i++)
                    {
                        int at = start + i * width;
                        for (int j = 0; j < kernel; j++, at++)
                        {
                            float v = plane[at];
                            // strictly greater: the first maximum wins ties; NaN wins and propagates (as PyTorch)
                            if (v > best || float.IsNaN(v))
                            {
                                best = v;
                                bestAt = at;
                                if (float.IsNaN(v)) goto done;
                            }
                        }
                    }
                done:
                    y[oy * wo + ox] = best;
                    argmax[oy * wo + ox] = bestAt;
                }
            }
        }
    }

    // A window of the padded input (oy, ox): the first maximum in row-major order among its real elements, or the
    // first NaN (once best is NaN nothing compares greater, so it stays). Pointers: this runs on the 112×112 planes of
    // an ImageNet stem, where bounds checks cost as much as the comparisons.
    private static unsafe void MaxPlanePadded(ReadOnlySpan<float> planeSpan, int height, int width, int kernel, int stride, int padding, int ho, int wo,
        Span<float> ySpan, Span<int> argmaxSpan)
    {
        fixed (float* plane = planeSpan, y = ySpan)
        fixed (int* argmax = argmaxSpan)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                int top = oy * stride - padding, rowFirst = Math.Max(0, top), rowEnd = Math.Min(height, top + kernel);
                for (int ox = 0; ox < wo; ox++)
                {
                    int left = ox * stride - padding, colFirst = Math.Max(0, left), colEnd = Math.Min(width, left + kernel);
                    int bestAt = rowFirst * width + colFirst;
                    float best = plane[bestAt];
                    for (int iy = rowFirst; iy < rowEnd; iy++)
                    {
                        float* row = plane + iy * width;
                        for (int ix = colFirst; ix < colEnd; ix++)
                        {
                            // Branch-free (conditional moves): on real activations the comparison is a coin flip.
                            float v = row[ix];
                            bool take = (v > best) | (float.IsNaN(v) & !float.IsNaN(best));
                            best = take ? v : best;
                            bestAt = take ? iy * width + ix : bestAt;
                        }
                    }
                    y[oy * wo + ox] = best;
                    argmax[oy * wo + ox] = bestAt;
                }
            }
        }
    }

    private static void Check(int inputLength, int planes, int height, int width, int outputLength, int ho, int wo, int kernel, int stride) =>
        Check(inputLength, planes, height, width, outputLength, ho, wo, kernel, stride, height * width);

    // height and width are the padded sizes; planeSize is the unpadded plane the input holds.
    private static void Check(int inputLength, int planes, int height, int width, int outputLength, int ho, int wo, int kernel, int stride, int planeSize)
    {
        if (kernel < 1 || stride < 1) throw new ArgumentException($"Pooling: kernel ({kernel}) and stride ({stride}) must be at least 1.");
        if (kernel > height || kernel > width) throw new ArgumentException($"Pooling: kernel {kernel} is larger than the input {height}×{width}.");
        if (inputLength != (long)planes * planeSize) throw new ArgumentException($"Pooling: input holds {inputLength} values, {planes} planes of {planeSize} need {(long)planes * planeSize}.");
        if (outputLength != (long)planes * ho * wo) throw new ArgumentException($"Pooling: output holds {outputLength} values, {planes} planes of {ho}×{wo} need {(long)planes * ho * wo}.");
    }
}

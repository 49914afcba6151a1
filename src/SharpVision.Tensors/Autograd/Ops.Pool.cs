using System.Numerics.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tensors;

// Pooling. Shapes: x (N, C, H, W) → (N, C, Ho, Wo) with Ho = ⌊(H + 2·pad − kernel) / stride⌋ + 1 (floor mode; padding for max only),
// and GlobalAvgPool2d (N, C, H, W) → (N, C). Kernels in Kernels/PoolingKernels.cs.
public static partial class Ops
{
    /// <summary>PyTorch's MaxPool2d(kernel, stride) without padding: y = max over each kernel×kernel window.</summary>
    /// <remarks>
    /// Shape: (N, C, H, W) → (N, C, Ho, Wo). On ties the first maximum in row-major window order takes the gradient
    /// (as PyTorch); a NaN in a window is the maximum. Saves the chosen indices (one int per output) for backward.
    /// </remarks>
    /// <exception cref="ArgumentException">x is not 4-D or the window is larger than the input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">kernel or stride &lt; 1.</exception>
    public static Tensor MaxPool2d(Tensor x, int kernel, int stride) => MaxPool2d(x, kernel, stride, 0);

    /// <summary>
    /// PyTorch's MaxPool2d(kernel, stride, padding): y = max over each kernel×kernel window of x padded with −∞.
    /// </summary>
    /// <remarks>
    /// Shape: (N, C, H, W) → (N, C, ⌊(H + 2·padding − kernel)/stride⌋ + 1, likewise W). Ties and NaN as the unpadded
    /// overload; the padding never takes the gradient.
    /// </remarks>
    /// <exception cref="ArgumentException">x is not 4-D, the window is larger than the padded input, or padding &gt; kernel/2.</exception>
    /// <exception cref="ArgumentOutOfRangeException">kernel or stride &lt; 1, or padding &lt; 0.</exception>
    public static Tensor MaxPool2d(Tensor x, int kernel, int stride, int padding)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        var (planes, h, w, ho, wo) = PoolShape(x, kernel, stride, nameof(MaxPool2d), padding);
        var y = BufferPool.Uninitialized<float>(planes * ho * wo); // fully written
        var argmax = BufferPool.Uninitialized<int>(y.Length);
        PoolingKernels.MaxForward(x.Data, planes, h, w, kernel, stride, padding, y, argmax, Engine.Threads);
        var result = new Tensor(new Shape(x.Shape[0], x.Shape[1], ho, wo), y);
        return result.Record("max_pool2d", [x], () =>
        {
            // y = x[argmax]: ∂/∂x[argmax] += g
            PoolingKernels.MaxBackward(result.Grad!, argmax, planes, h * w, x.EnsureGrad(), Engine.Threads);
        });
    }

    /// <summary>PyTorch's AvgPool2d(kernel, stride) without padding: y = (1/kernel²)·Σ over each window.</summary>
    /// <remarks>Shape: (N, C, H, W) → (N, C, Ho, Wo).</remarks>
    /// <exception cref="ArgumentException">x is not 4-D or the window is larger than the input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">kernel or stride &lt; 1.</exception>
    public static Tensor AvgPool2d(Tensor x, int kernel, int stride)
    {
        var (planes, h, w, ho, wo) = PoolShape(x, kernel, stride, nameof(AvgPool2d));
        var y = BufferPool.Uninitialized<float>(planes * ho * wo); // fully written
        PoolingKernels.AverageForward(x.Data, planes, h, w, kernel, stride, y, Engine.Threads);
        var result = new Tensor(new Shape(x.Shape[0], x.Shape[1], ho, wo), y);
        return result.Record("avg_pool2d", [x], () =>
        {
            // y = (1/k²)·Σ window: ∂/∂x = g/k² on every element of the window
            PoolingKernels.AverageBackward(result.Grad!, planes, h, w, kernel, stride, x.EnsureGrad(), Engine.Threads);
        });
    }

    /// <summary>Global average pooling, y[n, c] = (1/(H·W))·Σ x[n, c, ·, ·] (PyTorch's AdaptiveAvgPool2d(1) then Flatten).</summary>
    /// <remarks>Shape: (N, C, H, W) → (N, C).</remarks>
    /// <exception cref="ArgumentException">x is not 4-D or has an empty plane.</exception>
    public static Tensor GlobalAvgPool2d(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Shape.Rank != 4) throw new ArgumentException($"GlobalAvgPool2d: input must be (N, C, H, W), got {x.Shape}.", nameof(x));
        int planes = x.Shape[0] * x.Shape[1], planeSize = x.Shape[2] * x.Shape[3];
        if (planeSize == 0) throw new ArgumentException($"GlobalAvgPool2d: input {x.Shape} has empty planes.", nameof(x));
        var y = new float[planes];
        for (int p = 0; p < planes; p++) y[p] = TensorPrimitives.Sum(x.Data.AsSpan(p * planeSize, planeSize)) / planeSize;
        var result = new Tensor(new Shape(x.Shape[0], x.Shape[1]), y);
        return result.Record("global_avg_pool2d", [x], () =>
        {
            var g = result.Grad!;
            var gx = x.EnsureGrad();
            for (int p = 0; p < planes; p++)
            {
                var plane = gx.AsSpan(p * planeSize, planeSize);
                TensorPrimitives.Add(plane, g[p] / planeSize, plane); // y = mean(plane): ∂/∂x = g/(H·W)
            }
        });
    }

    private static (int Planes, int H, int W, int Ho, int Wo) PoolShape(Tensor x, int kernel, int stride, string op, int padding = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        if (x.Shape.Rank != 4) throw new ArgumentException($"{op}: input must be (N, C, H, W), got {x.Shape}.", nameof(x));
        int h = x.Shape[2], w = x.Shape[3];
        if (kernel > h + 2 * padding || kernel > w + 2 * padding)
            throw new ArgumentException($"{op}: kernel {kernel} is larger than the {(padding > 0 ? "padded " : "")}input {h + 2 * padding}×{w + 2 * padding}.", nameof(kernel));
        if (padding > kernel / 2) throw new ArgumentException($"{op}: padding {padding} is more than half the kernel {kernel}.", nameof(padding));
        return (x.Shape[0] * x.Shape[1], h, w, PoolingKernels.OutputSize(h + 2 * padding, kernel, stride), PoolingKernels.OutputSize(w + 2 * padding, kernel, stride));
    }
}

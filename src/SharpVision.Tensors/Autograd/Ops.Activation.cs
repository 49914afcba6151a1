using SharpVision.Tensors.Kernels;

namespace SharpVision.Tensors;

// Channel dropout for convolutional networks. Shapes: Dropout2d takes and returns (N, C, H, W).
public static partial class Ops
{
    /// <summary>
    /// Channel dropout (PyTorch's Dropout2d in training): each (sample, channel) plane is zeroed with probability
    /// <paramref name="p"/> and survivors are scaled by 1/(1 − p). Draws one number per plane, sample-major.
    /// </summary>
    /// <remarks>Shape: (N, C, H, W) → the same. p = 0 returns a copy; evaluation simply does not call it.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">p outside [0, 1).</exception>
    /// <exception cref="ArgumentException">x is not 4-D.</exception>
    public static Tensor Dropout2d(Tensor x, float p, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(rng);
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        if (x.Shape.Rank != 4) throw new ArgumentException($"Dropout2d: input must be (N, C, H, W), got {x.Shape}.", nameof(x));
        int planes = x.Shape[0] * x.Shape[1], planeSize = x.Shape[2] * x.Shape[3];
        float keep = 1 / (1 - p);
        var mask = BufferPool.Uninitialized<float>(planes);
        for (int i = 0; i < planes; i++) mask[i] = rng.NextFloat() >= p ? keep : 0f;
        var y = BufferPool.Uninitialized<float>(x.Size); // fully written
        for (int i = 0; i < planes; i++)
            System.Numerics.Tensors.TensorPrimitives.Multiply(x.Data.AsSpan(i * planeSize, planeSize), mask[i], y.AsSpan(i * planeSize, planeSize));
        var result = new Tensor(x.Shape, y);
        return result.Record("dropout2d", [x], () =>
        {
            var g = result.Grad!;
            var gx = x.EnsureGrad();
            for (int i = 0; i < planes; i++)
            {
                if (mask[i] == 0) continue;
                var target = gx.AsSpan(i * planeSize, planeSize);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(g.AsSpan(i * planeSize, planeSize), mask[i], target, target); // ∂/∂x = g·mask
            }
        });
    }
}

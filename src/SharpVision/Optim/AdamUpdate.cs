using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SharpVision.Optim;

/// <summary>The moment update <see cref="Adam"/> and <see cref="AdamW"/> share (torch 1.13 _single_tensor_adam/adamw, amsgrad off).</summary>
internal static class AdamUpdate
{
    /// <summary>
    /// m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε).
    /// <paramref name="scratch"/> (parameter length) may alias <paramref name="gradient"/>'s storage only if the gradient is no longer needed after the moments.
    /// </summary>
    public static void Apply(Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, Span<float> scratch,
                             long step, double learningRate, double beta1, double beta2, double epsilon)
    {
        // Each torch in-place op rounds once; the same sequence of roundings keeps us within a few ulps of it.
        TensorPrimitives.Multiply(m, (float)beta1, m);
        TensorPrimitives.FusedMultiplyAdd(gradient, (float)(1 - beta1), m, m);            // m.mul_(β1).add_(g, alpha=1−β1)
        TensorPrimitives.Multiply(v, (float)beta2, v);
        TensorPrimitives.Multiply(gradient, (float)(1 - beta2), scratch);
        TensorPrimitives.MultiplyAdd(scratch, gradient, v, v);                             // v.mul_(β2).addcmul_(g, g, value=1−β2)

        // Bias corrections in double, as torch computes them with Python floats.
        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, step));
        double stepSize = learningRate / biasCorrection1;

        TensorPrimitives.Sqrt(v, scratch);
        TensorPrimitives.Divide(scratch, (float)biasCorrection2Sqrt, scratch);
        TensorPrimitives.Add(scratch, (float)epsilon, scratch);                            // denom = √v/√bc2 + ε
        TensorPrimitives.Divide(m, scratch, scratch);
        TensorPrimitives.FusedMultiplyAdd(scratch, (float)-stepSize, parameter, parameter); // p.addcdiv_(m, denom, value=−lr/bc1)
    }
}

using System.Numerics.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tensors;

// Matrix primitives on the engine's GEMM. Shapes: MatMul (m, k)·(k, n) → (m, n); Linear (N, in)·(out, in)ᵀ + (out) → (N, out).
public static partial class Ops
{
    /// <summary>Y = A·B for 2-D tensors: (m, k)·(k, n) → (m, n).</summary>
    /// <exception cref="ArgumentException">Inner dimensions differ or an operand is not 2-D.</exception>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        Require2D(a, nameof(a));
        Require2D(b, nameof(b));
        int m = a.Shape[0], k = a.Shape[1], n = b.Shape[1];
        if (b.Shape[0] != k) throw new ArgumentException($"MatMul: {a.Shape}·{b.Shape}: inner dimensions differ.");
        var y = BufferPool.Uninitialized<float>(m * n);
        Gemm.Multiply(false, false, m, n, k, 1, a.Data, k, b.Data, n, 0, y, n);
        var result = new Tensor(new Shape(m, n), y);
        return result.Record("matmul", [a, b], () =>
        {
            var g = result.Grad!;
            if (a.RequiresGrad) Gemm.Multiply(false, true, m, k, n, 1, g, n, b.Data, n, 1, a.EnsureGrad(), k);  // ∂/∂A = G·Bᵀ
            if (b.RequiresGrad) Gemm.Multiply(true, false, k, n, m, 1, a.Data, k, g, n, 1, b.EnsureGrad(), n);  // ∂/∂B = Aᵀ·G
        });
    }

    /// <summary>
    /// The fully connected layer y = x·Wᵀ + b, fused: one GEMM forward, two backward (PyTorch's weight layout (out, in)).
    /// </summary>
    /// <remarks>Shapes: x (N, in), weight (out, in), bias (out) or null → (N, out).</remarks>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        Require2D(x, nameof(x));
        Require2D(weight, nameof(weight));
        int batch = x.Shape[0], inputs = x.Shape[1], outputs = weight.Shape[0];
        if (weight.Shape[1] != inputs) throw new ArgumentException($"Linear: input {x.Shape} does not match weight {weight.Shape} (expected (out, {inputs})).");
        if (bias is not null && bias.Size != outputs) throw new ArgumentException($"Linear: bias {bias.Shape} does not match {outputs} outputs.");
        var y = BufferPool.Uninitialized<float>(batch * outputs);
        if (bias is not null) RowKernels.Broadcast(bias.Data, batch, y);
        Gemm.Multiply(false, true, batch, outputs, inputs, 1, x.Data, inputs, weight.Data, inputs, bias is null ? 0 : 1, y, outputs);
        var result = new Tensor(new Shape(batch, outputs), y);
        Tensor[] parents = bias is null ? [x, weight] : [x, weight, bias];
        return result.Record("linear", parents, () =>
        {
            var g = result.Grad!;
            if (x.RequiresGrad)
            {
                var gx = x.GradToWrite(out bool accumulate); // β = 0 overwrites a fresh buffer: no zeroing pass
                Gemm.Multiply(false, false, batch, inputs, outputs, 1, g, outputs, weight.Data, inputs, accumulate ? 1 : 0, gx, inputs); // ∂/∂x = G·W
            }
            if (weight.RequiresGrad) // ∂/∂W = Gᵀ·x
                Gemm.Multiply(true, false, outputs, inputs, batch, 1, g, outputs, x.Data, inputs, 1, weight.EnsureGrad(), inputs);
            if (bias is { RequiresGrad: true }) RowKernels.AddColumnSums(g, batch, outputs, bias.EnsureGrad()); // ∂/∂b = Σ_rows G
        });
    }

    private static void Require2D(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (t.Shape.Rank != 2) throw new ArgumentException($"Expected a 2-D tensor, got {t.Shape}.", name);
    }
}

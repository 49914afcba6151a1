using System.Numerics.Tensors;

namespace SharpVision.Tensors;

// Reductions to a scalar (rank 0), and the row-wise sum (N, D) → (D).
public static partial class Ops
{
    /// <summary>y = Σ x (a scalar). Summed in double so the result does not depend on vector width.</summary>
    public static Tensor Sum(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        double sum = 0;
        foreach (float v in x.Data) sum += v;
        var result = Tensor.Scalar((float)sum);
        return result.Record("sum", [x], () =>
        {
            var gx = x.EnsureGrad();
            TensorPrimitives.Add(gx, result.Grad![0], gx); // ∂/∂x = g·1
        });
    }

    /// <summary>y = (1/n)·Σ x (a scalar).</summary>
    public static Tensor Mean(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Size == 0) throw new ArgumentException("Mean of an empty tensor.", nameof(x));
        double sum = 0;
        foreach (float v in x.Data) sum += v;
        var result = Tensor.Scalar((float)(sum / x.Size));
        return result.Record("mean", [x], () =>
        {
            var gx = x.EnsureGrad();
            TensorPrimitives.Add(gx, result.Grad![0] / x.Size, gx); // ∂/∂x = g/n
        });
    }

    /// <summary>Column sums of a 2-D tensor: (N, D) → (D).</summary>
    public static Tensor SumRows(Tensor x)
    {
        Require2D(x, nameof(x));
        int rows = x.Shape[0], cols = x.Shape[1];
        var y = new float[cols];
        for (int i = 0; i < rows; i++) TensorPrimitives.Add(y, x.Data.AsSpan(i * cols, cols), y);
        var result = new Tensor(new Shape(cols), y);
        return result.Record("sum_rows", [x], () =>
        {
            var gx = x.EnsureGrad();
            for (int i = 0; i < rows; i++) TensorPrimitives.Add(gx.AsSpan(i * cols, cols), result.Grad!, gx.AsSpan(i * cols, cols)); // ∂/∂x[i,:] = g
        });
    }
}

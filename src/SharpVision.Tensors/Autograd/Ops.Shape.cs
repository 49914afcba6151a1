using System.Numerics.Tensors;

namespace SharpVision.Tensors;

// Shape primitives: Reshape is a view (same storage), Transpose copies.
public static partial class Ops
{
    /// <summary>The same values seen with other dimensions; one dimension may be −1 (inferred).</summary>
    /// <exception cref="ArgumentException">The element counts differ.</exception>
    public static Tensor Reshape(Tensor x, ReadOnlySpan<int> dims)
    {
        ArgumentNullException.ThrowIfNull(x);
        var resolved = dims.ToArray();
        int inferred = Array.IndexOf(resolved, -1);
        if (inferred >= 0)
        {
            long known = 1;
            for (int i = 0; i < resolved.Length; i++) if (i != inferred) known *= resolved[i];
            if (known <= 0 || x.Size % known != 0) throw new ArgumentException($"Cannot reshape {x.Shape} to ({string.Join(", ", dims.ToArray())}).");
            resolved[inferred] = (int)(x.Size / known);
        }
        var shape = new Shape(resolved);
        if (shape.Size != x.Size) throw new ArgumentException($"Cannot reshape {x.Shape} ({x.Size} values) to {shape} ({shape.Size}).");
        var result = new Tensor(shape, x.Data);
        return result.Record("reshape", [x], () =>
        {
            // Same layout: ∂/∂x = g. An intermediate x without a gradient yet takes g's buffer itself (result's backward
            // is the last reader of it), so a view costs no pass in backward either; a leaf keeps its own buffer.
            if (x.Grad is null && x.Operation is not null) x.Grad = result.Grad;
            else AddOrCopy(result.Grad!, x);
        });
    }

    /// <summary>Yᵀ of a 2-D tensor: (m, n) → (n, m).</summary>
    public static Tensor Transpose(Tensor x)
    {
        Require2D(x, nameof(x));
        int m = x.Shape[0], n = x.Shape[1];
        var y = BufferPool.Uninitialized<float>(x.Size);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) y[j * m + i] = x.Data[i * n + j];
        var result = new Tensor(new Shape(n, m), y);
        return result.Record("transpose", [x], () =>
        {
            var gx = x.EnsureGrad();
            var g = result.Grad!;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) gx[i * n + j] += g[j * m + i]; // ∂/∂x = gᵀ
        });
    }
}

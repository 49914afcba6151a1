using System.Numerics.Tensors;

namespace SharpVision.Tensors;

// Layout primitives for imported graphs (ONNX Concat, Split, broadcasting arithmetic, asymmetric padding).
// Shapes: an axis splits a tensor into outer = Π dims before it, the axis itself, and inner = Π dims after it; a
// block of the axis is `inner` contiguous values, so concatenation and slicing copy runs of axis·inner values.
public static partial class Ops
{
    /// <summary>Joins tensors along <paramref name="axis"/>: y = [x₀ | x₁ | …] (ONNX Concat, torch.cat).</summary>
    /// <remarks>Shape: every input has the same dimensions except along the axis, whose sizes add up.</remarks>
    /// <exception cref="ArgumentException">No inputs, ranks or other dimensions differ, or the axis is out of range.</exception>
    public static Tensor Concat(IReadOnlyList<Tensor> inputs, int axis)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("Concat needs at least one input.", nameof(inputs));
        var first = inputs[0].Shape;
        axis = NormalizeAxis(axis, first.Rank, nameof(Concat));
        var dims = first.ToArray();
        int total = 0;
        foreach (var t in inputs)
        {
            bool same = t.Shape.Rank == first.Rank;
            for (int d = 0; same && d < first.Rank; d++) same = d == axis || t.Shape[d] == first[d];
            if (!same) throw new ArgumentException($"Concat along axis {axis}: {t.Shape} does not match {first} outside that axis.", nameof(inputs));
            total += t.Shape[axis];
        }
        dims[axis] = total;
        var shape = new Shape(dims);
        var (outer, _, inner) = Split3(shape, axis);
        var y = BufferPool.Uninitialized<float>(shape.Size);
        int row = total * inner, offset = 0;
        foreach (var t in inputs)
        {
            int run = t.Shape[axis] * inner;
            for (int o = 0; o < outer; o++) t.Data.AsSpan(o * run, run).CopyTo(y.AsSpan(o * row + offset, run));
            offset += run;
        }
        var result = new Tensor(shape, y);
        return result.Record("concat", [.. inputs], () =>
        {
            // y = [x₀ | x₁ | …]: ∂/∂xᵢ is xᵢ's block of g
            var g = result.Grad!;
            int at = 0;
            foreach (var t in inputs)
            {
                int run = t.Shape[axis] * inner;
                if (t.RequiresGrad)
                {
                    var gt = t.EnsureGrad();
                    for (int o = 0; o < outer; o++) TensorPrimitives.Add(gt.AsSpan(o * run, run), g.AsSpan(o * row + at, run), gt.AsSpan(o * run, run));
                }
                at += run;
            }
        });
    }

    /// <summary>The part of x from <paramref name="start"/> to start + length along <paramref name="axis"/> (ONNX Split, Slice).</summary>
    /// <remarks>Shape: x's dimensions with the axis's size replaced by length.</remarks>
    /// <exception cref="ArgumentException">The range or axis is outside x.</exception>
    public static Tensor Slice(Tensor x, int axis, int start, int length)
    {
        ArgumentNullException.ThrowIfNull(x);
        axis = NormalizeAxis(axis, x.Shape.Rank, nameof(Slice));
        if (start < 0 || length < 0 || start + length > x.Shape[axis])
            throw new ArgumentException($"Slice [{start}, {start + length}) is outside axis {axis} of {x.Shape}.");
        var (outer, size, inner) = Split3(x.Shape, axis);
        var dims = x.Shape.ToArray();
        dims[axis] = length;
        var y = BufferPool.Uninitialized<float>(outer * length * inner);
        int run = length * inner;
        for (int o = 0; o < outer; o++) x.Data.AsSpan((o * size + start) * inner, run).CopyTo(y.AsSpan(o * run, run));
        var result = new Tensor(new Shape(dims), y);
        return result.Record("slice", [x], () =>
        {
            var gx = x.EnsureGrad();
            var g = result.Grad!;
            for (int o = 0; o < outer; o++) // y = x[range]: ∂/∂x[range] = g, 0 elsewhere
                TensorPrimitives.Add(gx.AsSpan((o * size + start) * inner, run), g.AsSpan(o * run, run), gx.AsSpan((o * size + start) * inner, run));
        });
    }

    /// <summary>
    /// x repeated to <paramref name="shape"/> by NumPy's rules (ONNX multidirectional broadcasting): dimensions are
    /// aligned at the end and each of x's dimensions is 1 or the target's.
    /// </summary>
    /// <remarks>Backward sums the gradient over the repeats. Shape: x → shape.</remarks>
    /// <exception cref="ArgumentException">x does not broadcast to the shape.</exception>
    public static Tensor BroadcastTo(Tensor x, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Shape == shape) return x;
        var strides = BroadcastStrides(x.Shape, shape);
        int rank = shape.Rank, size = shape.Size;
        var source = new int[size];
        var index = new int[rank];
        for (int i = 0; i < size; i++)
        {
            int at = 0;
            for (int d = 0; d < rank; d++) at += index[d] * strides[d];
            source[i] = at;
            for (int d = rank - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
        }
        var y = BufferPool.Uninitialized<float>(size);
        for (int i = 0; i < size; i++) y[i] = x.Data[source[i]];
        var result = new Tensor(shape, y);
        return result.Record("broadcast", [x], () =>
        {
            var gx = x.EnsureGrad();
            var g = result.Grad!;
            for (int i = 0; i < size; i++) gx[source[i]] += g[i]; // y[i] = x[source(i)]: ∂/∂x sums over every i reading it
        });
    }

    /// <summary>The shape NumPy broadcasting gives two operands.</summary>
    /// <exception cref="ArgumentException">A pair of aligned dimensions differs and neither is 1.</exception>
    public static Shape BroadcastShape(Shape a, Shape b)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Rank ? 1 : a[i - (rank - a.Rank)], db = i < rank - b.Rank ? 1 : b[i - (rank - b.Rank)];
            if (da != db && da != 1 && db != 1) throw new ArgumentException($"Shapes {a} and {b} do not broadcast (dimension {i}: {da} vs {db}).");
            dims[i] = da == 1 ? db : da;
        }
        return new Shape(dims);
    }

    /// <summary>
    /// x padded with <paramref name="value"/>: <paramref name="top"/> rows above, <paramref name="bottom"/> below,
    /// <paramref name="left"/> and <paramref name="right"/> columns beside each plane (ONNX's asymmetric pads).
    /// </summary>
    /// <remarks>Shape: (N, C, H, W) → (N, C, H + top + bottom, W + left + right). Backward crops the gradient.</remarks>
    /// <exception cref="ArgumentException">x is not 4-D.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative pad.</exception>
    public static Tensor Pad2d(Tensor x, int top, int bottom, int left, int right, float value = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Shape.Rank != 4) throw new ArgumentException($"Pad2d: input must be (N, C, H, W), got {x.Shape}.", nameof(x));
        ArgumentOutOfRangeException.ThrowIfNegative(Math.Min(Math.Min(top, bottom), Math.Min(left, right)), "pad");
        int planes = x.Shape[0] * x.Shape[1], h = x.Shape[2], w = x.Shape[3], ph = h + top + bottom, pw = w + left + right;
        var y = BufferPool.Uninitialized<float>(planes * ph * pw);
        y.AsSpan().Fill(value);
        for (int p = 0; p < planes; p++)
            for (int r = 0; r < h; r++) x.Data.AsSpan((p * h + r) * w, w).CopyTo(y.AsSpan((p * ph + r + top) * pw + left, w));
        var result = new Tensor(new Shape(x.Shape[0], x.Shape[1], ph, pw), y);
        return result.Record("pad2d", [x], () =>
        {
            var gx = x.EnsureGrad();
            var g = result.Grad!;
            for (int p = 0; p < planes; p++) // y[inner] = x: ∂/∂x = the gradient's inner window
                for (int r = 0; r < h; r++)
                {
                    var target = gx.AsSpan((p * h + r) * w, w);
                    TensorPrimitives.Add(target, g.AsSpan((p * ph + r + top) * pw + left, w), target);
                }
        });
    }

    // Per target dimension, x's stride (0 where x repeats).
    private static int[] BroadcastStrides(Shape from, Shape to)
    {
        if (from.Rank > to.Rank) throw new ArgumentException($"Cannot broadcast {from} to {to}: more dimensions.");
        var strides = new int[to.Rank];
        int stride = 1, offset = to.Rank - from.Rank;
        for (int d = to.Rank - 1; d >= 0; d--)
        {
            if (d < offset) continue;
            int size = from[d - offset];
            if (size != 1 && size != to[d]) throw new ArgumentException($"Cannot broadcast {from} to {to} (dimension {d}: {size} vs {to[d]}).");
            strides[d] = size == 1 ? 0 : stride;
            stride *= size;
        }
        return strides;
    }

    private static (int Outer, int Size, int Inner) Split3(Shape shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Rank; d++) inner *= shape[d];
        return (outer, shape[axis], inner);
    }

    private static int NormalizeAxis(int axis, int rank, string op)
    {
        int normalized = axis < 0 ? axis + rank : axis;
        if (normalized < 0 || normalized >= rank) throw new ArgumentException($"{op}: axis {axis} is outside a rank-{rank} tensor.", nameof(axis));
        return normalized;
    }
}

using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tensors;

// Elementwise primitives. Shapes: y has x's shape. Binary operations take a second operand b whose shape is
// x's shape, a suffix of it ((N, D) with (D)), or a scalar; b is repeated over x's leading dimensions and its
// gradient sums over the repeats.
public static partial class Ops
{
    /// <summary>y = a + b (b broadcast over a's leading dimensions).</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        int repeat = BroadcastRepeats(a, b, nameof(Add));
        var y = BufferPool.Uninitialized<float>(a.Size);
        if (repeat == 1) TensorPrimitives.Add(a.Data, b.Data, y);
        else for (int r = 0; r < repeat; r++) TensorPrimitives.Add(a.Data.AsSpan(r * b.Size, b.Size), b.Data, y.AsSpan(r * b.Size, b.Size));
        var result = new Tensor(a.Shape, y);
        return result.Record("add", [a, b], () =>
        {
            // ∂/∂a = g, ∂/∂b = Σ over repeats of g
            var g = result.Grad!;
            if (a.RequiresGrad) AddOrCopy(g, a);
            if (b.RequiresGrad)
            {
                if (repeat == 1) AddOrCopy(g, b);
                else AccumulateRepeated(b.EnsureGrad(), g, repeat);
            }
        });
    }

    // x's gradient += g, or = g when x has none yet (no zeroing pass, no read of zeros).
    private static void AddOrCopy(float[] g, Tensor x)
    {
        var gx = x.GradToWrite(out bool accumulate);
        if (accumulate) TensorPrimitives.Add(gx, g, gx);
        else g.AsSpan(0, x.Size).CopyTo(gx);
    }

    /// <summary>y = a − b (b broadcast over a's leading dimensions).</summary>
    public static Tensor Sub(Tensor a, Tensor b)
    {
        int repeat = BroadcastRepeats(a, b, nameof(Sub));
        var y = BufferPool.Uninitialized<float>(a.Size);
        for (int r = 0; r < repeat; r++) TensorPrimitives.Subtract(a.Data.AsSpan(r * b.Size, b.Size), b.Data, y.AsSpan(r * b.Size, b.Size));
        var result = new Tensor(a.Shape, y);
        return result.Record("sub", [a, b], () =>
        {
            // ∂/∂a = g, ∂/∂b = −Σ over repeats of g
            var g = result.Grad!;
            if (a.RequiresGrad) TensorPrimitives.Add(a.EnsureGrad(), g, a.Grad!);
            if (b.RequiresGrad)
            {
                var gb = new float[b.Size];
                AccumulateRepeated(gb, g, repeat);
                TensorPrimitives.Subtract(b.EnsureGrad(), gb, b.Grad!);
            }
        });
    }

    /// <summary>y = a ⊙ b (b broadcast over a's leading dimensions).</summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        int repeat = BroadcastRepeats(a, b, nameof(Mul));
        var y = BufferPool.Uninitialized<float>(a.Size);
        for (int r = 0; r < repeat; r++) TensorPrimitives.Multiply(a.Data.AsSpan(r * b.Size, b.Size), b.Data, y.AsSpan(r * b.Size, b.Size));
        var result = new Tensor(a.Shape, y);
        return result.Record("mul", [a, b], () =>
        {
            // ∂/∂a = g ⊙ b, ∂/∂b = Σ over repeats of g ⊙ a
            var g = result.Grad!;
            if (a.RequiresGrad)
            {
                var ga = a.EnsureGrad();
                for (int r = 0; r < repeat; r++)
                    TensorPrimitives.MultiplyAdd(g.AsSpan(r * b.Size, b.Size), b.Data, ga.AsSpan(r * b.Size, b.Size), ga.AsSpan(r * b.Size, b.Size));
            }
            if (b.RequiresGrad)
            {
                var gb = b.EnsureGrad();
                for (int r = 0; r < repeat; r++)
                    TensorPrimitives.MultiplyAdd(g.AsSpan(r * b.Size, b.Size), a.Data.AsSpan(r * b.Size, b.Size), gb, gb);
            }
        });
    }

    /// <summary>y = a ⊘ b (b broadcast over a's leading dimensions).</summary>
    public static Tensor Div(Tensor a, Tensor b)
    {
        int repeat = BroadcastRepeats(a, b, nameof(Div));
        var y = BufferPool.Uninitialized<float>(a.Size);
        for (int r = 0; r < repeat; r++) TensorPrimitives.Divide(a.Data.AsSpan(r * b.Size, b.Size), b.Data, y.AsSpan(r * b.Size, b.Size));
        var result = new Tensor(a.Shape, y);
        return result.Record("div", [a, b], () =>
        {
            // ∂/∂a = g / b, ∂/∂b = −Σ over repeats of g·a / b² = −Σ g·y / b
            var g = result.Grad!;
            for (int r = 0; r < repeat; r++)
            {
                for (int i = 0; i < b.Size; i++)
                {
                    int at = r * b.Size + i;
                    float gi = g[at] / b.Data[i];
                    if (a.RequiresGrad) a.EnsureGrad()[at] += gi;
                    if (b.RequiresGrad) b.EnsureGrad()[i] -= gi * y[at];
                }
            }
        });
    }

    /// <summary>y = s·x.</summary>
    public static Tensor Scale(Tensor x, float s)
    {
        var y = BufferPool.Uninitialized<float>(x.Size);
        TensorPrimitives.Multiply(x.Data, s, y);
        var result = new Tensor(x.Shape, y);
        return result.Record("scale", [x], () =>
        {
            var gx = x.EnsureGrad();
            TensorPrimitives.MultiplyAdd(result.Grad!, s, gx, gx); // ∂/∂x = s·g
        });
    }

    /// <summary>y = eˣ.</summary>
    public static Tensor Exp(Tensor x)
    {
        var y = BufferPool.Uninitialized<float>(x.Size);
        TensorPrimitives.Exp(x.Data, y);
        var result = new Tensor(x.Shape, y);
        return result.Record("exp", [x], () =>
        {
            var gx = x.EnsureGrad();
            TensorPrimitives.MultiplyAdd(result.Grad!, y, gx, gx); // ∂/∂x = g·eˣ = g·y
        });
    }

    /// <summary>y = ln x.</summary>
    public static Tensor Log(Tensor x)
    {
        var y = BufferPool.Uninitialized<float>(x.Size);
        TensorPrimitives.Log(x.Data, y);
        var result = new Tensor(x.Shape, y);
        return result.Record("log", [x], () =>
        {
            var gx = x.EnsureGrad();
            var g = result.Grad!;
            for (int i = 0; i < gx.Length; i++) gx[i] += g[i] / x.Data[i]; // ∂/∂x = g / x
        });
    }

    /// <summary>y = |x| (subgradient 0 at 0).</summary>
    public static Tensor Abs(Tensor x)
    {
        var y = BufferPool.Uninitialized<float>(x.Size);
        TensorPrimitives.Abs(x.Data, y);
        var result = new Tensor(x.Shape, y);
        return result.Record("abs", [x], () =>
        {
            var gx = x.EnsureGrad();
            var g = result.Grad!;
            for (int i = 0; i < gx.Length; i++) gx[i] += g[i] * MathF.Sign(x.Data[i]); // ∂/∂x = g·sign(x)
        });
    }

    /// <summary>y = x².</summary>
    public static Tensor Square(Tensor x)
    {
        var y = BufferPool.Uninitialized<float>(x.Size);
        TensorPrimitives.Multiply(x.Data, x.Data, y);
        var result = new Tensor(x.Shape, y);
        return result.Record("square", [x], () =>
        {
            var gx = x.EnsureGrad();
            var g = result.Grad!;
            for (int i = 0; i < gx.Length; i++) gx[i] += 2 * x.Data[i] * g[i]; // ∂/∂x = 2x·g
        });
    }

    /// <summary>y = max(0, x) (gradient 0 at 0, as in PyTorch).</summary>
    public static Tensor Relu(Tensor x)
    {
        var y = BufferPool.Uninitialized<float>(x.Size);
        TensorPrimitives.Max(x.Data, 0f, y);
        var result = new Tensor(x.Shape, y);
        return result.Record("relu", [x], () =>
        {
            var gx = x.GradToWrite(out bool accumulate);
            var g = result.Grad!;
            // ∂/∂x = g·[x > 0]: branch-free (a data-dependent branch mispredicts about half the time)
            var path = SimdPaths.Default;
            WorkSplit.ForRanges((gx.Length + ReluChunk - 1) / ReluChunk, ReluChunk, Engine.Threads, (first, end) =>
            {
                int start = first * ReluChunk, stop = Math.Min(gx.Length, end * ReluChunk);
                ReluBackward(y.AsSpan(start, stop - start), g.AsSpan(start, stop - start), gx.AsSpan(start, stop - start), accumulate, path);
            });
        });
    }

    // Elements per unit of parallel work in ReLU's backward pass.
    private const int ReluChunk = 1 << 14;

    // dx += g where y > 0 (dx = g·[y > 0] when not accumulating).
    private static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx, bool accumulate, SimdPath path)
    {
        int i = 0;
        if (path == SimdPath.Avx2)
        {
            for (; i + 8 <= dx.Length; i += 8)
            {
                var mask = Vector256.GreaterThan(Vector256.Create(y.Slice(i, 8)), Vector256<float>.Zero);
                var masked = Vector256.Create(g.Slice(i, 8)) & mask;
                (accumulate ? Vector256.Create(dx.Slice(i, 8)) + masked : masked).CopyTo(dx.Slice(i, 8));
            }
        }
        if (path == SimdPath.Avx512)
        {
            if (accumulate)
            {
                for (; i + 16 <= dx.Length; i += 16)
                {
                    var mask = Vector512.GreaterThan(Vector512.Create(y.Slice(i, 16)), Vector512<float>.Zero);
                    (Vector512.Create(dx.Slice(i, 16)) + (Vector512.Create(g.Slice(i, 16)) & mask)).CopyTo(dx.Slice(i, 16));
                }
            }
            else
            {
                for (; i + 16 <= dx.Length; i += 16)
                {
                    var mask = Vector512.GreaterThan(Vector512.Create(y.Slice(i, 16)), Vector512<float>.Zero);
                    (Vector512.Create(g.Slice(i, 16)) & mask).CopyTo(dx.Slice(i, 16));
                }
            }
        }
        for (; i < dx.Length; i++) dx[i] = (accumulate ? dx[i] : 0f) + (y[i] > 0 ? g[i] : 0f);
    }

    /// <summary>y = x for x &gt; 0, else slope·x.</summary>
    public static Tensor LeakyRelu(Tensor x, float slope = 0.01f)
    {
        var y = BufferPool.Uninitialized<float>(x.Size);
        for (int i = 0; i < y.Length; i++) y[i] = x.Data[i] > 0 ? x.Data[i] : slope * x.Data[i];
        var result = new Tensor(x.Shape, y);
        return result.Record("leaky_relu", [x], () =>
        {
            var gx = x.EnsureGrad();
            var g = result.Grad!;
            for (int i = 0; i < gx.Length; i++) gx[i] += x.Data[i] > 0 ? g[i] : slope * g[i]; // ∂/∂x = g·(x > 0 ? 1 : slope)
        });
    }

    /// <summary>y = tanh x.</summary>
    public static Tensor Tanh(Tensor x)
    {
        var y = BufferPool.Uninitialized<float>(x.Size);
        TensorPrimitives.Tanh(x.Data, y);
        var result = new Tensor(x.Shape, y);
        return result.Record("tanh", [x], () =>
        {
            var gx = x.EnsureGrad();
            var g = result.Grad!;
            for (int i = 0; i < gx.Length; i++) gx[i] += g[i] * (1 - y[i] * y[i]); // ∂/∂x = g·(1 − y²)
        });
    }

    /// <summary>y = σ(x) = 1 / (1 + e⁻ˣ).</summary>
    public static Tensor Sigmoid(Tensor x)
    {
        var y = BufferPool.Uninitialized<float>(x.Size);
        TensorPrimitives.Sigmoid(x.Data, y);
        var result = new Tensor(x.Shape, y);
        return result.Record("sigmoid", [x], () =>
        {
            var gx = x.EnsureGrad();
            var g = result.Grad!;
            for (int i = 0; i < gx.Length; i++) gx[i] += g[i] * y[i] * (1 - y[i]); // ∂/∂x = g·y(1 − y)
        });
    }

    /// <summary>
    /// Inverted dropout: each element is zeroed with probability <paramref name="p"/> and survivors are scaled by
    /// 1/(1 − p), so the expected value is unchanged and inference needs no rescaling.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, Rng rng)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        ArgumentNullException.ThrowIfNull(rng);
        var mask = BufferPool.Uninitialized<float>(x.Size);
        float keep = 1 / (1 - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextFloat() >= p ? keep : 0f;
        var y = BufferPool.Uninitialized<float>(x.Size);
        TensorPrimitives.Multiply(x.Data, mask, y);
        var result = new Tensor(x.Shape, y);
        return result.Record("dropout", [x], () =>
        {
            var gx = x.EnsureGrad();
            TensorPrimitives.MultiplyAdd(result.Grad!, mask, gx, gx); // ∂/∂x = g·mask
        });
    }

    // How many times b repeats over a (1 when shapes are equal); throws when b is not a suffix of a or a scalar.
    private static int BroadcastRepeats(Tensor a, Tensor b, string op)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (b.Size == 1 && a.Size != 1)
        {
            if (b.Shape.Rank <= a.Shape.Rank) return a.Size;
        }
        int offset = a.Shape.Rank - b.Shape.Rank;
        bool suffix = offset >= 0;
        for (int i = 0; suffix && i < b.Shape.Rank; i++) suffix = a.Shape[offset + i] == b.Shape[i];
        if (!suffix || b.Size == 0 && a.Size != 0)
            throw new ArgumentException($"{op}: shape {b.Shape} does not broadcast over {a.Shape} (it must equal a's trailing dimensions or be a scalar).");
        return b.Size == 0 ? 0 : a.Size / b.Size;
    }

    private static void AccumulateRepeated(Span<float> destination, ReadOnlySpan<float> gradient, int repeat)
    {
        int n = destination.Length;
        for (int r = 0; r < repeat; r++) TensorPrimitives.Add(destination, gradient.Slice(r * n, n), destination);
    }
}

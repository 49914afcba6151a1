// Shape legend: x, y, g, dx are (rows, K) row-major; softmax runs along each row (the last axis).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpVision.Tensors.Kernels;

/// <summary>
/// Softmax over the last axis, y = e^(x − max x) / Σ e^(x − max x) per row, and its gradient
/// ∂/∂x = y ⊙ (g − ⟨g, y⟩). <see cref="Reference.SoftmaxReference"/> is the oracle.
/// </summary>
/// <remarks>Subtracting the row maximum keeps every exponent ≤ 0, so no row overflows however large its values.</remarks>
public static unsafe class SoftmaxKernels
{
    /// <summary>y = softmax(x) per row of (rows, K).</summary>
    /// <exception cref="ArgumentException">A span is shorter than rows·K.</exception>
    public static void Forward(ReadOnlySpan<float> x, int rows, int length, Span<float> y, SimdPath path)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        LayerNormKernels.Require(x.Length, (long)rows * length, nameof(x));
        LayerNormKernels.Require(y.Length, (long)rows * length, nameof(y));
        fixed (float* px = x, py = y)
        {
            for (int r = 0; r < rows; r++)
            {
                float* source = px + (nint)r * length, destination = py + (nint)r * length;
                switch (path)
                {
                    case SimdPath.Avx512: Row<Lanes512, Vector512<float>>(source, length, destination); break;
                    case SimdPath.Avx2: Row<Lanes256, Vector256<float>>(source, length, destination); break;
                    default: Row<Lanes1, float>(source, length, destination); break;
                }
            }
        }
    }

    /// <summary>dx (+)= y ⊙ (g − ⟨g, y⟩) per row.</summary>
    /// <exception cref="ArgumentException">A span is shorter than rows·K.</exception>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, int rows, int length, Span<float> dx, bool accumulate, SimdPath path)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        LayerNormKernels.Require(y.Length, (long)rows * length, nameof(y));
        LayerNormKernels.Require(g.Length, (long)rows * length, nameof(g));
        LayerNormKernels.Require(dx.Length, (long)rows * length, nameof(dx));
        fixed (float* py = y, pg = g, pdx = dx)
        {
            for (int r = 0; r < rows; r++)
            {
                nint at = (nint)r * length;
                switch (path)
                {
                    case SimdPath.Avx512: RowBackward<Lanes512, Vector512<float>>(py + at, pg + at, length, pdx + at, accumulate); break;
                    case SimdPath.Avx2: RowBackward<Lanes256, Vector256<float>>(py + at, pg + at, length, pdx + at, accumulate); break;
                    default: RowBackward<Lanes1, float>(py + at, pg + at, length, pdx + at, accumulate); break;
                }
            }
        }
    }

    /// <summary>One row: y = e^(x − max)/Σ; returns log Σ e^x (the row's log-sum-exp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Row<TL, TV>(float* x, int length, float* y) where TL : struct, ILanes<TV> where TV : struct
    {
        int w = TL.Count, full = length - length % w, i = 0;
        float max = float.NegativeInfinity;
        if (full > 0)
        {
            var m = TL.Load(x);
            for (i = w; i < full; i += w) m = TL.Max(m, TL.Load(x + i));
            max = TL.MaxAcross(m);
        }
        for (; i < length; i++) max = MathF.Max(max, x[i]);
        var mv = TL.Broadcast(max);
        var sum = TL.Zero;
        for (i = 0; i < full; i += w)
        {
            var e = TL.Exp(TL.Subtract(TL.Load(x + i), mv));
            TL.Store(e, y + i);
            sum = TL.Add(sum, e);
        }
        float total = TL.Sum(sum);
        for (; i < length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            y[i] = e;
            total += e;
        }
        var scale = TL.Broadcast(1f / total);
        for (i = 0; i < full; i += w) TL.Store(TL.Multiply(TL.Load(y + i), scale), y + i);
        float inverse = 1f / total;
        for (; i < length; i++) y[i] *= inverse;
        return max + MathF.Log(total);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowBackward<TL, TV>(float* y, float* g, int length, float* dx, bool accumulate)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int w = TL.Count, full = length - length % w, i = 0;
        var dot = TL.Zero;
        for (; i < full; i += w) dot = TL.MultiplyAdd(TL.Load(g + i), TL.Load(y + i), dot);
        float inner = TL.Sum(dot);
        for (; i < length; i++) inner += g[i] * y[i];
        var iv = TL.Broadcast(inner);
        for (i = 0; i < full; i += w)
        {
            var value = TL.Multiply(TL.Load(y + i), TL.Subtract(TL.Load(g + i), iv)); // ∂/∂x = y ⊙ (g − ⟨g, y⟩)
            TL.Store(accumulate ? TL.Add(value, TL.Load(dx + i)) : value, dx + i);
        }
        for (; i < length; i++)
        {
            float value = y[i] * (g[i] - inner);
            dx[i] = accumulate ? dx[i] + value : value;
        }
    }
}

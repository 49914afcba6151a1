// Shape legend: x (N, C, S) with S = H·W (S = 1 for (N, C)): channel c is N planes of S contiguous values, plane (n, c)
// at offset (n·C + c)·S. Statistics per channel over M = N·S values. Each helper works on one plane; callers sum the
// planes of a channel in double, in plane order, so results do not depend on how channels are split over threads.
using System.Numerics;

namespace SharpVision.Tensors.Kernels;

/// <summary>Fused single-pass loops for batch normalization (each reads its planes once; memory traffic is the cost).</summary>
public static class BatchNormKernels
{
    /// <summary>(Σ (x − shift), Σ (x − shift)²) of one plane. A shift near the mean keeps E[v²] − E[v]² from cancelling.</summary>
    public static (double Sum, double SumOfSquares) ShiftedMoments(ReadOnlySpan<float> plane, float shift)
    {
        var sum = Vector<float>.Zero;
        var squares = Vector<float>.Zero;
        var k = new Vector<float>(shift);
        int i = 0;
        for (; i <= plane.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(plane.Slice(i)) - k;
            sum += v;
            squares += v * v;
        }
        double s = Vector.Sum(sum), q = Vector.Sum(squares);
        for (; i < plane.Length; i++)
        {
            double v = plane[i] - shift;
            s += v;
            q += v * v;
        }
        return (s, q);
    }

    /// <summary>y = a·x + b (the normalization and affine map folded into one scale and offset per channel).</summary>
    public static void Affine(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        var va = new Vector<float>(a);
        var vb = new Vector<float>(b);
        int i = 0;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            (new Vector<float>(x.Slice(i)) * va + vb).CopyTo(y.Slice(i));
        for (; i < x.Length; i++) y[i] = a * x[i] + b;
    }

    /// <summary>(Σ g, Σ g·(x − mean)) of one plane.</summary>
    public static (double SumG, double SumGCentered) GradientMoments(ReadOnlySpan<float> g, ReadOnlySpan<float> x, float mean)
    {
        var sum = Vector<float>.Zero;
        var dot = Vector<float>.Zero;
        var m = new Vector<float>(mean);
        int i = 0;
        for (; i <= g.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var gv = new Vector<float>(g.Slice(i));
            sum += gv;
            dot += gv * (new Vector<float>(x.Slice(i)) - m);
        }
        double s = Vector.Sum(sum), d = Vector.Sum(dot);
        for (; i < g.Length; i++)
        {
            s += g[i];
            d += (double)g[i] * (x[i] - mean);
        }
        return (s, d);
    }

    /// <summary>
    /// dx += α·g + β·(x − mean) + γ (or dx = … when <paramref name="accumulate"/> is false): the batch-norm input
    /// gradient with per-channel constants.
    /// </summary>
    public static void InputGradient(ReadOnlySpan<float> g, ReadOnlySpan<float> x, float mean, float alpha, float beta, float gamma, Span<float> dx, bool accumulate)
    {
        var va = new Vector<float>(alpha);
        var vb = new Vector<float>(beta);
        var vc = new Vector<float>(gamma);
        var m = new Vector<float>(mean);
        int i = 0;
        if (accumulate)
        {
            for (; i <= g.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(dx.Slice(i)) + va * new Vector<float>(g.Slice(i)) + vb * (new Vector<float>(x.Slice(i)) - m) + vc).CopyTo(dx.Slice(i));
        }
        else
        {
            for (; i <= g.Length - Vector<float>.Count; i += Vector<float>.Count)
                (va * new Vector<float>(g.Slice(i)) + vb * (new Vector<float>(x.Slice(i)) - m) + vc).CopyTo(dx.Slice(i));
        }
        for (; i < g.Length; i++) dx[i] = (accumulate ? dx[i] : 0f) + alpha * g[i] + beta * (x[i] - mean) + gamma;
    }
}

// Shape legend: x, y, g, dx are flat spans of n values (GELU is elementwise).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpVision.Tensors.Kernels;

/// <summary>How GELU is computed: PyTorch's approximate='none' or approximate='tanh'.</summary>
public enum GeluApproximation
{
    /// <summary>y = x·Φ(x) = ½·x·(1 + erf(x/√2)), Φ the standard normal distribution function.</summary>
    None,

    /// <summary>y = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (Hendrycks &amp; Gimpel's approximation, BERT's and GPT-2's GELU).</summary>
    Tanh,
}

/// <summary>
/// Vectorized GELU and its derivative in float32. <see cref="Reference.GeluReference"/> (double, Cephes erf) is the oracle.
/// </summary>
/// <remarks>
/// Exact form: Φ(x) = ½·erfc(−x/√2), with erfc from Numerical Recipes' Chebyshev fit (erfcc: fractional error below
/// 1.2e-7 everywhere), evaluated on |x| so the tail Φ(x) for x ≪ 0 keeps its relative precision instead of being
/// 1 − (almost 1). Backward: ∂y/∂x = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
/// Tanh form, rewritten without cancellation: ½·(1 + tanh u) = σ(2u), so y = x/(1 + e^(−2u)) and
/// ∂y/∂x = s + 2x·s·(1 − s)·u′ with s = σ(2u), u′ = √(2/π)·(1 + 3·0.044715·x²).
/// </remarks>
public static unsafe class GeluKernels
{
    /// <summary>y = GELU(x).</summary>
    /// <exception cref="ArgumentException">y is shorter than x.</exception>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, GeluApproximation approximation, SimdPath path)
    {
        LayerNormKernels.Require(y.Length, x.Length, nameof(y));
        fixed (float* px = x, py = y)
        {
            switch (path)
            {
                case SimdPath.Avx512: Run<Lanes512, Vector512<float>>(px, null, py, x.Length, approximation, false, false); break;
                case SimdPath.Avx2: Run<Lanes256, Vector256<float>>(px, null, py, x.Length, approximation, false, false); break;
                default: Run<Lanes1, float>(px, null, py, x.Length, approximation, false, false); break;
            }
        }
    }

    /// <summary>dx (+)= g·GELU′(x).</summary>
    /// <exception cref="ArgumentException">g or dx is shorter than x.</exception>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx, bool accumulate, GeluApproximation approximation,
        SimdPath path)
    {
        LayerNormKernels.Require(g.Length, x.Length, nameof(g));
        LayerNormKernels.Require(dx.Length, x.Length, nameof(dx));
        fixed (float* px = x, pg = g, pdx = dx)
        {
            switch (path)
            {
                case SimdPath.Avx512: Run<Lanes512, Vector512<float>>(px, pg, pdx, x.Length, approximation, true, accumulate); break;
                case SimdPath.Avx2: Run<Lanes256, Vector256<float>>(px, pg, pdx, x.Length, approximation, true, accumulate); break;
                default: Run<Lanes1, float>(px, pg, pdx, x.Length, approximation, true, accumulate); break;
            }
        }
    }

    // Forward (g null): destination = GELU(x). Backward: destination (+)= g·GELU′(x). The tail runs the scalar lanes.
    private static void Run<TL, TV>(float* x, float* g, float* destination, int n, GeluApproximation approximation, bool backward, bool accumulate)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int w = TL.Count, full = n - n % w;
        if (approximation == GeluApproximation.Tanh)
        {
            Loop<TL, TV, TanhForm<TL, TV>>(x, g, destination, 0, full, backward, accumulate);
            Loop<Lanes1, float, TanhForm<Lanes1, float>>(x, g, destination, full, n, backward, accumulate);
        }
        else
        {
            Loop<TL, TV, ErfForm<TL, TV>>(x, g, destination, 0, full, backward, accumulate);
            Loop<Lanes1, float, ErfForm<Lanes1, float>>(x, g, destination, full, n, backward, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Loop<TL, TV, TForm>(float* x, float* g, float* destination, int start, int end, bool backward, bool accumulate)
        where TL : struct, ILanes<TV> where TV : struct where TForm : struct, IGeluForm<TV>
    {
        int w = TL.Count;
        if (!backward)
        {
            for (int i = start; i < end; i += w) TL.Store(TForm.Value(TL.Load(x + i)), destination + i);
            return;
        }
        for (int i = start; i < end; i += w)
        {
            var value = TL.Multiply(TL.Load(g + i), TForm.Slope(TL.Load(x + i)));
            TL.Store(accumulate ? TL.Add(value, TL.Load(destination + i)) : value, destination + i);
        }
    }

    private interface IGeluForm<TV> where TV : struct
    {
        static abstract TV Value(TV x);

        static abstract TV Slope(TV x);
    }

    private readonly struct ErfForm<TL, TV> : IGeluForm<TV> where TL : struct, ILanes<TV> where TV : struct
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Value(TV x) => TL.Multiply(x, Cdf(x));

        // y = x·Φ(x): ∂/∂x = Φ(x) + x·φ(x)
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Slope(TV x)
        {
            var density = TL.Multiply(TL.Exp(TL.Multiply(TL.Multiply(x, x), TL.Broadcast(-0.5f))), TL.Broadcast(InverseSqrtTwoPi));
            return TL.MultiplyAdd(x, density, Cdf(x));
        }

        // Φ(x) = ½·erfc(−x/√2): the small tail c = ½·erfc(|x|/√2) is computed directly; Φ = c for x < 0, 1 − c otherwise.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TV Cdf(TV x)
        {
            var z = TL.Multiply(TL.Abs(x), TL.Broadcast(InverseSqrtTwo));
            var one = TL.Broadcast(1f);
            var t = TL.Divide(one, TL.MultiplyAdd(z, TL.Broadcast(0.5f), one));
            var p = TL.Broadcast(0.17087277f);
            p = TL.MultiplyAdd(p, t, TL.Broadcast(-0.82215223f));
            p = TL.MultiplyAdd(p, t, TL.Broadcast(1.48851587f));
            p = TL.MultiplyAdd(p, t, TL.Broadcast(-1.13520398f));
            p = TL.MultiplyAdd(p, t, TL.Broadcast(0.27886807f));
            p = TL.MultiplyAdd(p, t, TL.Broadcast(-0.18628806f));
            p = TL.MultiplyAdd(p, t, TL.Broadcast(0.09678418f));
            p = TL.MultiplyAdd(p, t, TL.Broadcast(0.37409196f));
            p = TL.MultiplyAdd(p, t, TL.Broadcast(1.00002368f));
            p = TL.MultiplyAdd(p, t, TL.Broadcast(-1.26551223f));
            var tail = TL.Multiply(TL.Multiply(t, TL.Exp(TL.Subtract(p, TL.Multiply(z, z)))), TL.Broadcast(0.5f)); // ½·erfc(z)
            return TL.SelectPositive(x, TL.Subtract(one, tail), tail);
        }
    }

    private readonly struct TanhForm<TL, TV> : IGeluForm<TV> where TL : struct, ILanes<TV> where TV : struct
    {
        // y = x·σ(2u) = x / (1 + e^(−2u)), u = √(2/π)·(x + 0.044715·x³)
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Value(TV x) => TL.Multiply(x, Sigmoid2U(x));

        // ∂/∂x = s + 2x·s·(1 − s)·√(2/π)·(1 + 0.134145·x²), s = σ(2u)
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Slope(TV x)
        {
            var s = Sigmoid2U(x);
            var one = TL.Broadcast(1f);
            var inner = TL.Multiply(TL.MultiplyAdd(TL.Multiply(x, x), TL.Broadcast(3 * Cubic), one), TL.Broadcast(2 * SqrtTwoOverPi));
            return TL.MultiplyAdd(TL.Multiply(TL.Multiply(x, s), TL.Subtract(one, s)), inner, s);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TV Sigmoid2U(TV x)
        {
            var one = TL.Broadcast(1f);
            var u = TL.Multiply(TL.MultiplyAdd(TL.Multiply(TL.Multiply(x, x), x), TL.Broadcast(Cubic), x), TL.Broadcast(SqrtTwoOverPi));
            return TL.Divide(one, TL.Add(one, TL.Exp(TL.Multiply(u, TL.Broadcast(-2f)))));
        }
    }

    private const float InverseSqrtTwo = 0.70710678118654752f;
    private const float InverseSqrtTwoPi = 0.39894228040143268f;
    private const float SqrtTwoOverPi = 0.79788456080286536f;
    private const float Cubic = 0.044715f;
}

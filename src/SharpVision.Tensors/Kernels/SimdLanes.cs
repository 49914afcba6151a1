// Lane types for kernels written once and run at three widths. A kernel is a generic method over
// <TLanes, TVector> (TLanes : struct, ILanes<TVector>); the JIT compiles one specialization per lane type, so the
// abstraction costs nothing in the loops. Shape legend: a vector holds Count consecutive floats.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpVision.Tensors.Kernels;

/// <summary>Vector operations at one width (<see cref="Count"/> floats), for kernels generic over the width.</summary>
internal unsafe interface ILanes<TVector> where TVector : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    static abstract TVector Zero { get; }

    static abstract TVector Load(float* source);

    static abstract void Store(TVector value, float* destination);

    static abstract TVector Broadcast(float value);

    static abstract TVector Add(TVector a, TVector b);

    static abstract TVector Subtract(TVector a, TVector b);

    static abstract TVector Multiply(TVector a, TVector b);

    static abstract TVector Divide(TVector a, TVector b);

    static abstract TVector Max(TVector a, TVector b);

    static abstract TVector Min(TVector a, TVector b);

    /// <summary>a·b + c with one rounding.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    /// <summary>
    /// eˣ per lane: Cephes' expf on the vector paths (about 1 ulp; 0 below −87.3, where floats turn subnormal),
    /// MathF.Exp on the scalar one.
    /// </summary>
    static abstract TVector Exp(TVector x);

    static abstract TVector Abs(TVector x);

    /// <summary>The sign bit of <paramref name="sign"/> copied onto <paramref name="magnitude"/>.</summary>
    static abstract TVector CopySign(TVector magnitude, TVector sign);

    /// <summary>Where x &gt; 0: a, else b.</summary>
    static abstract TVector SelectPositive(TVector x, TVector a, TVector b);

    /// <summary>Lane sum, in a fixed order (so a result does not depend on anything but the lane type).</summary>
    static abstract float Sum(TVector x);

    static abstract float MaxAcross(TVector x);
}

/// <summary>AVX-512: 16 floats.</summary>
internal readonly unsafe struct Lanes512 : ILanes<Vector512<float>>
{
    public static int Count => 16;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* source) => Vector512.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, float* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        // Cephes' expf: eˣ = 2ⁿ·e^r, n = round(x·log₂e), r = x − n·ln 2 in two parts, e^r by a degree-6 polynomial.
        var clamped = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpPolynomial.Lowest)), Vector512.Create(ExpPolynomial.Highest));
        var n = Vector512.Floor(Vector512.FusedMultiplyAdd(clamped, Vector512.Create(ExpPolynomial.Log2E), Vector512.Create(0.5f)));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-ExpPolynomial.Ln2High), clamped);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-ExpPolynomial.Ln2Low), r);
        var p = Vector512.Create(ExpPolynomial.C6);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(ExpPolynomial.C5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(ExpPolynomial.C4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(ExpPolynomial.C3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(ExpPolynomial.C2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        var scale = (Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23;
        var result = p * scale.AsSingle();
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpPolynomial.Lowest)), Vector512<float>.Zero, result);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Abs(Vector512<float> x) => Vector512.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> CopySign(Vector512<float> magnitude, Vector512<float> sign) => Vector512.CopySign(magnitude, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SelectPositive(Vector512<float> x, Vector512<float> a, Vector512<float> b) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> x) => Lanes256.Sum(x.GetLower() + x.GetUpper());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector512<float> x) => Lanes256.MaxAcross(Vector256.Max(x.GetLower(), x.GetUpper()));
}

/// <summary>AVX2: 8 floats.</summary>
internal readonly unsafe struct Lanes256 : ILanes<Vector256<float>>
{
    public static int Count => 8;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* source) => Vector256.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, float* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        // Cephes' expf: eˣ = 2ⁿ·e^r, n = round(x·log₂e), r = x − n·ln 2 in two parts, e^r by a degree-6 polynomial.
        var clamped = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpPolynomial.Lowest)), Vector256.Create(ExpPolynomial.Highest));
        var n = Vector256.Floor(Vector256.FusedMultiplyAdd(clamped, Vector256.Create(ExpPolynomial.Log2E), Vector256.Create(0.5f)));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-ExpPolynomial.Ln2High), clamped);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-ExpPolynomial.Ln2Low), r);
        var p = Vector256.Create(ExpPolynomial.C6);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(ExpPolynomial.C5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(ExpPolynomial.C4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(ExpPolynomial.C3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(ExpPolynomial.C2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5f));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        var scale = (Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23;
        var result = p * scale.AsSingle();
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpPolynomial.Lowest)), Vector256<float>.Zero, result);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Abs(Vector256<float> x) => Vector256.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> CopySign(Vector256<float> magnitude, Vector256<float> sign) => Vector256.CopySign(magnitude, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SelectPositive(Vector256<float> x, Vector256<float> a, Vector256<float> b) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), a, b);

    // Pairwise: (0+4, 1+5, 2+6, 3+7), then (01, 23), then the two halves.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> x)
    {
        var half = x.GetLower() + x.GetUpper();
        var quarter = half + Vector128.Shuffle(half, Vector128.Create(2, 3, 0, 1));
        return quarter.ToScalar() + quarter.GetElement(1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector256<float> x)
    {
        var half = Vector128.Max(x.GetLower(), x.GetUpper());
        var quarter = Vector128.Max(half, Vector128.Shuffle(half, Vector128.Create(2, 3, 0, 1)));
        return MathF.Max(quarter.ToScalar(), quarter.GetElement(1));
    }
}

/// <summary>Scalar: one float, for machines without AVX2 and as a path tests can force.</summary>
internal readonly unsafe struct Lanes1 : ILanes<float>
{
    public static int Count => 1;
    public static float Zero => 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(float* source) => *source;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float value, float* destination) => *destination = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Broadcast(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Subtract(float a, float b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Multiply(float a, float b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Divide(float a, float b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Max(float a, float b) => MathF.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Min(float a, float b) => MathF.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MultiplyAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Exp(float x) => MathF.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Abs(float x) => MathF.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float CopySign(float magnitude, float sign) => MathF.CopySign(magnitude, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float SelectPositive(float x, float a, float b) => x > 0 ? a : b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(float x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(float x) => x;
}

/// <summary>
/// Constants of Cephes' expf (S. L. Moshier): eˣ = 2ⁿ·e^r with n = round(x·log₂e) and r = x − n·ln 2 (ln 2 split in
/// two so r is exact), e^r ≈ 1 + r + r²·P(r) with P of degree 5 (relative error about 1.2e-7 on |r| ≤ ½·ln 2).
/// The runtime's Vector256.Exp is accurate but five times slower, and softmax and GELU call it millions of times a step.
/// </summary>
internal static class ExpPolynomial
{
    /// <summary>Below this eˣ is subnormal: the vector paths return 0.</summary>
    public const float Lowest = -87.33654f;

    /// <summary>Above this 2ⁿ could overflow the exponent: larger x give e^88 (finite, about 1.65e38).</summary>
    public const float Highest = 88f;

    public const float Log2E = 1.44269504088896341f;
    public const float Ln2High = 0.693359375f;
    public const float Ln2Low = -2.12194440e-4f;
    public const float C2 = 1.6666665459e-1f;
    public const float C3 = 4.1665795894e-2f;
    public const float C4 = 8.3334519073e-3f;
    public const float C5 = 1.3981999507e-3f;
    public const float C6 = 1.9875691500e-4f;
}

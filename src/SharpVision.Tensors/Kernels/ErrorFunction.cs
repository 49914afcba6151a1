namespace SharpVision.Tensors.Kernels;

/// <summary>
/// The error function erf x = (2/√π)·∫₀ˣ e^(−t²) dt and its complement erfc x = 1 − erf x, in double precision
/// (.NET has neither). Cephes' rational approximations (S. L. Moshier): relative error about 1e-16 in IEEE double,
/// far inside the 1e-7 that float32 GELU needs.
/// </summary>
/// <remarks>
/// |x| &lt; 1: erf x = x·T(x²)/U(x²). 1 ≤ |x| &lt; 8: erfc x = e^(−x²)·P(x)/Q(x); |x| ≥ 8: e^(−x²)·R(x)/S(x).
/// erfc is computed directly for large |x| rather than as 1 − erf, which would lose every digit in the tail.
/// </remarks>
public static class ErrorFunction
{
    private static readonly double[] T = [9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3, 7.00332514112805075473E3, 5.55923013010394962768E4];
    private static readonly double[] U = [1.0, 3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3, 2.26290000613890934246E4, 4.92673942608635921086E4];
    private static readonly double[] P =
    [
        2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0, 4.86371970985681366614E1, 1.96520832956077098242E2,
        5.26445194995477358631E2, 9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2,
    ];
    private static readonly double[] Q =
    [
        1.0, 1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2, 9.75708501743205489753E2, 1.82390916687909736289E3,
        2.24633760818710981792E3, 1.65666309194161350182E3, 5.57535340817727675546E2,
    ];
    private static readonly double[] R = [5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0, 6.16021097993053585195E0, 7.40974269950448939160E0, 2.97886665372100240670E0];
    private static readonly double[] S = [1.0, 2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1, 1.70814450747565897222E1, 9.60896809063285878198E0, 3.36907645100081516050E0];

    // e^(−x²) underflows to 0 in double beyond this |x|.
    private const double Underflow = 26.6;

    /// <summary>erf x.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (Math.Abs(x) >= 1) return 1 - Erfc(x);
        double z = x * x;
        return x * Polynomial(z, T) / Polynomial(z, U);
    }

    /// <summary>erfc x = 1 − erf x, accurate in the tail (erfc 10 ≈ 2.1e-45).</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        double a = Math.Abs(x);
        if (a < 1) return 1 - Erf(x);
        if (a > Underflow) return x < 0 ? 2 : 0;
        double e = Math.Exp(-x * x);
        double y = a < 8 ? e * Polynomial(a, P) / Polynomial(a, Q) : e * Polynomial(a, R) / Polynomial(a, S);
        return x < 0 ? 2 - y : y;
    }

    // Horner: c[0]·xⁿ + c[1]·xⁿ⁻¹ + … + c[n].
    private static double Polynomial(double x, double[] c)
    {
        double sum = c[0];
        for (int i = 1; i < c.Length; i++) sum = sum * x + c[i];
        return sum;
    }
}

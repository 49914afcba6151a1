using System.Globalization;
using System.Text.Json.Nodes;

namespace SharpVision.Classic.Svm;

/// <summary>The kernel of a kernel SVM (libsvm's <c>-t</c>).</summary>
public enum KernelKind
{
    /// <summary>K(x, z) = x·z.</summary>
    Linear,

    /// <summary>K(x, z) = (γ·x·z + coef0)^degree.</summary>
    Polynomial,

    /// <summary>K(x, z) = exp(−γ·‖x − z‖²), the radial basis function.</summary>
    Rbf,
}

/// <summary>How γ is chosen (scikit-learn's <c>gamma</c>).</summary>
public enum GammaRule
{
    /// <summary>γ = 1 / (D · Var(X)), the variance of every training value (scikit-learn's "scale", its default); 1 when Var(X) = 0.</summary>
    Scale,

    /// <summary>γ = 1 / D (scikit-learn's "auto").</summary>
    Auto,

    /// <summary>A given value.</summary>
    Fixed,
}

/// <summary>γ: "scale", "auto" or a positive number.</summary>
public readonly record struct GammaSetting(GammaRule Rule, double Value = 0)
{
    public static GammaSetting Scale => new(GammaRule.Scale);

    public static GammaSetting Auto => new(GammaRule.Auto);

    /// <summary>A fixed γ &gt; 0.</summary>
    public static GammaSetting Of(double gamma) => new(GammaRule.Fixed, gamma);

    /// <summary>γ for N×D training values <paramref name="x"/>.</summary>
    public double Resolve(ReadOnlySpan<float> x, int dimension)
    {
        if (Rule == GammaRule.Fixed) return Value;
        if (Rule == GammaRule.Auto) return 1.0 / dimension;
        double sum = 0, sumSquares = 0;
        foreach (float v in x)
        {
            sum += v;
            sumSquares += (double)v * v;
        }
        double mean = sum / x.Length, variance = Math.Max(0, sumSquares / x.Length - mean * mean);
        return variance > 0 ? 1.0 / (dimension * variance) : 1.0;
    }

    /// <summary>Parses "scale", "auto" or a positive number.</summary>
    /// <exception cref="FormatException">Anything else.</exception>
    public static GammaSetting Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "scale") return Scale;
        if (t == "auto") return Auto;
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v)) return Of(v);
        throw new FormatException($"'{text}' is not a gamma: use scale, auto or a positive number.");
    }

    public override string ToString() => Rule switch
    {
        GammaRule.Scale => "scale",
        GammaRule.Auto => "auto",
        _ => Value.ToString("R", CultureInfo.InvariantCulture),
    };
}

/// <summary>How pairwise decision values become probabilities before pairwise coupling.</summary>
public enum ProbabilityCalibration
{
    /// <summary>
    /// Platt's sigmoid fitted on the decision values of a validation split when the trainer gets one, else on the
    /// training rows' own decision values (free, but overconfident: training rows sit on or beyond the margin).
    /// </summary>
    Auto,

    /// <summary>Platt's sigmoid fitted on decision values from a 5-fold cross-validation of each pair (libsvm's <c>-b 1</c>; about 4× the
    /// training time).</summary>
    CrossValidation,
}

/// <summary>The settings of a C-support vector classifier (libsvm's C-SVC; scikit-learn's <c>SVC</c>).</summary>
/// <param name="Kernel">Linear, polynomial or RBF.</param>
/// <param name="C">Cost of a margin violation.</param>
/// <param name="Gamma">γ of the RBF and polynomial kernels.</param>
/// <param name="Degree">Degree of the polynomial kernel.</param>
/// <param name="Coef0">Constant of the polynomial kernel.</param>
/// <param name="Tolerance">Stop when the maximal violating pair's gap falls below this (libsvm's <c>-e</c>, scikit-learn's <c>tol</c>).</param>
/// <param name="Shrinking">Shrink variables that are unlikely to move (libsvm's <c>-h</c>).</param>
/// <param name="CacheMegabytes">
/// Kernel memory: when the whole training kernel matrix fits, it is computed once (by GEMM) and every pair reads it;
/// else each pair's own matrix when it fits its share; else each pair keeps its most recently used kernel columns in its share.
/// </param>
/// <param name="Probability">How the pairwise probabilities for coupling are calibrated.</param>
/// <param name="MaxIterations">SMO iterations per pair (null: libsvm's max(10⁷, 100·l)).</param>
public sealed record KernelSvmOptions(KernelKind Kernel = KernelKind.Rbf, double C = 1, GammaSetting Gamma = default, int Degree = 3,
    double Coef0 = 0,
    double Tolerance = 1e-3, bool Shrinking = true, int CacheMegabytes = 2000, ProbabilityCalibration Probability = ProbabilityCalibration.Auto,
    int? MaxIterations = null)
{
    /// <summary>The options as run folders and model files record them (scikit-learn's names).</summary>
    public JsonObject ToJson() => new()
    {
        ["kernel"] = KernelSvmModelFile.KernelName(Kernel),
        ["c"] = C,
        ["gamma"] = Gamma.ToString(),
        ["degree"] = Degree,
        ["coef0"] = Coef0,
        ["tol"] = Tolerance,
        ["shrinking"] = Shrinking,
        ["cache_mb"] = CacheMegabytes,
        ["probability"] = Probability == ProbabilityCalibration.CrossValidation ? "cross-validation" : "auto",
        ["max_iter"] = MaxIterations,
    };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kernel)) throw new ArgumentOutOfRangeException(nameof(Kernel), Kernel, "Unknown kernel.");
        if (!(C > 0 && double.IsFinite(C))) throw new ArgumentOutOfRangeException(nameof(C), C, "C must be positive and finite.");
        if (!Enum.IsDefined(Gamma.Rule) || (Gamma.Rule == GammaRule.Fixed && !(Gamma.Value > 0 && double.IsFinite(Gamma.Value))))
            throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma.Value, "γ must be 'scale', 'auto' or positive.");
        if (Degree is < 1 or > 20) throw new ArgumentOutOfRangeException(nameof(Degree), Degree, "The polynomial degree must be in 1..20.");
        if (!double.IsFinite(Coef0)) throw new ArgumentOutOfRangeException(nameof(Coef0), Coef0, "coef0 must be finite.");
        if (!(Tolerance > 0 && double.IsFinite(Tolerance)))
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "The tolerance must be positive.");
        if (CacheMegabytes < 1)
            throw new ArgumentOutOfRangeException(nameof(CacheMegabytes), CacheMegabytes, "The kernel cache needs at least 1 MB.");
        if (!Enum.IsDefined(Probability)) throw new ArgumentOutOfRangeException(nameof(Probability), Probability, "Unknown probability calibration.");
        if (MaxIterations is < 1) throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, "At least one iteration is needed.");
    }
}

/// <summary>A kernel with its parameters resolved (γ a number).</summary>
/// <param name="Kind">Linear, polynomial or RBF.</param>
/// <param name="Gamma">γ.</param>
/// <param name="Degree">Polynomial degree.</param>
/// <param name="Coef0">Polynomial constant.</param>
public sealed record KernelFunction(KernelKind Kind, double Gamma, int Degree, double Coef0)
{
    /// <summary>K(x, z) from x·z and the squared norms ‖x‖², ‖z‖².</summary>
    public double Evaluate(double dot, double squaredNormX, double squaredNormZ) => Kind switch
    {
        KernelKind.Linear => dot,
        KernelKind.Polynomial => Math.Pow(Gamma * dot + Coef0, Degree),
        _ => Math.Exp(-Gamma * (squaredNormX + squaredNormZ - 2 * dot)),
    };

    /// <summary>
    /// Turns dot products into kernel values in place: row[j] = K from x·z_j = row[j], ‖x‖² and ‖z_j‖² (single precision,
    /// vectorized; the RBF distance is clamped at 0 against rounding).
    /// </summary>
    public void Apply(Span<float> row, float squaredNormX, ReadOnlySpan<float> squaredNormsZ)
    {
        switch (Kind)
        {
            case KernelKind.Linear:
                return;
            case KernelKind.Polynomial:
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, (float)Gamma, row);
                System.Numerics.Tensors.TensorPrimitives.Add(row, (float)Coef0, row);
                for (int j = 0; j < row.Length; j++) row[j] = (float)Math.Pow(row[j], Degree);
                return;
            default:
                // −γ·(‖x‖² + ‖z‖² − 2·x·z), distance clamped at 0, then exp.
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, -2f, row);
                System.Numerics.Tensors.TensorPrimitives.Add(row, squaredNormsZ, row);
                System.Numerics.Tensors.TensorPrimitives.Add(row, squaredNormX, row);
                System.Numerics.Tensors.TensorPrimitives.Max(row, 0f, row);
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, (float)-Gamma, row);
                System.Numerics.Tensors.TensorPrimitives.Exp(row, row);
                return;
        }
    }
}

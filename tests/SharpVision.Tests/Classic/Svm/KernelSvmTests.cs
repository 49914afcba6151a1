using System.Globalization;
using SharpVision.Classic.Svm;
using SharpVision.Tests.Classic.Trees;

namespace SharpVision.Tests.Classic.Svm;

public class KernelSvmTests
{
    public static TheoryData<string, int> Cases => new()
    {
        { "rbf_c1", 2000 },
        { "rbf_c10", 2000 },
        { "poly3", 2000 },
        { "linear", 2000 },
        { "rbf_c10", 0 }, // too small for dense matrices: each pair keeps a least-recently-used cache of kernel rows
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fit_SmallProblem_ScikitLearnsSupportVectorsDualCoefficientsAndDecisions(string name, int cacheMegabytes)
    {
        var f = TreeFixtures.Svm;
        var x = f.Floats("x");
        var y = f.Ints("y");
        var test = f.Floats("xtest");
        string Meta(string key) => f.Metadata[$"{name}.{key}"];
        var kernel = Meta("kernel") switch { "rbf" => KernelKind.Rbf, "poly" => KernelKind.Polynomial, _ => KernelKind.Linear };
        var options = new KernelSvmOptions(kernel, C: double.Parse(Meta("C"), CultureInfo.InvariantCulture),
            Degree: kernel == KernelKind.Polynomial ? int.Parse(Meta("degree"), CultureInfo.InvariantCulture) : 3,
            Coef0: kernel == KernelKind.Polynomial ? double.Parse(Meta("coef0"), CultureInfo.InvariantCulture) : 0,
            Tolerance: 1e-8, CacheMegabytes: Math.Max(1, cacheMegabytes));
        if (cacheMegabytes == 0) options = options with { CacheMegabytes = 1 };

        var model = KernelSvm.Fit(x, 5, y, 3, options, threads: 2);

        if (kernel != KernelKind.Linear) Assert.Equal(double.Parse(Meta("gamma_value"), CultureInfo.InvariantCulture), model.Kernel.Gamma, 6);
        Assert.Equal(f.Ints($"{name}.n_support"), model.SupportCounts);
        Assert.Equal(f.Ints($"{name}.support"), model.SupportIndices);
        var coefficients = f.Doubles($"{name}.dual_coef");
        for (int i = 0; i < coefficients.Length; i++)
            Assert.True(Math.Abs(coefficients[i] - model.Coefficients[i]) <= 1e-3 * Math.Max(1, Math.Abs(coefficients[i])),
                $"coefficient {i}: {model.Coefficients[i]}, scikit-learn {coefficients[i]}");
        var rho = f.Doubles($"{name}.rho");
        for (int p = 0; p < 3; p++) Assert.Equal(rho[p], model.Rho[p], 3);
        var decisions = model.DecisionValues(test, 2);
        var expected = f.Doubles($"{name}.decision");
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - decisions[i]) <= 1e-3,
            $"decision {i}: {decisions[i]}, scikit-learn {expected[i]}");
        var votes = model.Votes(decisions);
        var predicted = f.Ints($"{name}.predict");
        for (int i = 0; i < predicted.Length; i++) Assert.Equal(predicted[i], ArgMaxFirst(votes.AsSpan(i * 3, 3)));
    }

    [Fact]
    public void Fit_TwoPointsLinearKernel_TheHardMarginSolution()
    {
        // x₁ = (1, 0) in class 0, x₂ = (−1, 0) in class 1: w = (1, 0), b = 0, and w = α(x₁ − x₂) gives α = ½ for both.
        var model = KernelSvm.Fit([1, 0, -1, 0], 2, [0, 1], 2, new KernelSvmOptions(KernelKind.Linear, C: 10, Tolerance: 1e-10));
        Assert.Equal([1, 1], model.SupportCounts);
        Assert.Equal(0.5, model.Coefficients[0], 9);
        Assert.Equal(-0.5, model.Coefficients[1], 9);
        Assert.Equal(0, model.Rho[0], 9);
        var decisions = model.DecisionValues([0.25f, 7f, -3f, 0f], 1);
        Assert.Equal(0.25, decisions[0], 6);
        Assert.Equal(-3, decisions[1], 6);
    }

    [Fact]
    public void GammaScale_IsOneOverDimensionTimesVariance()
    {
        float[] x = [0, 2, 4, 6];
        // Mean 3, variance (9 + 1 + 1 + 9)/4 = 5, D = 2: γ = 1/10.
        Assert.Equal(0.1, GammaSetting.Scale.Resolve(x, 2), 12);
        Assert.Equal(0.5, GammaSetting.Auto.Resolve(x, 2), 12);
        Assert.Equal(1.0, GammaSetting.Scale.Resolve([3, 3, 3, 3], 2), 12);
        Assert.Equal(GammaSetting.Of(0.25), GammaSetting.Parse("0.25"));
        Assert.Throws<FormatException>(() => GammaSetting.Parse("-1"));
    }

    [Fact]
    public void PlattScaling_FitsTheSigmoidThatMinimizesTheRegularizedLogLoss()
    {
        var rng = new Random(3);
        int n = 400;
        var decisions = new double[n];
        var labels = new double[n];
        for (int i = 0; i < n; i++)
        {
            decisions[i] = rng.NextDouble() * 6 - 3;
            labels[i] = rng.NextDouble() < 1 / (1 + Math.Exp(-2 * decisions[i] + 0.5)) ? 1 : -1;
        }
        var (a, b) = PlattScaling.Fit(decisions, labels);
        // The gradient of Σ −t·log p − (1 − t)·log(1 − p) with Platt's regularized targets vanishes at the optimum.
        double positives = labels.Count(l => l > 0), negatives = n - positives, ga = 0, gb = 0;
        for (int i = 0; i < n; i++)
        {
            double t = labels[i] > 0 ? (positives + 1) / (positives + 2) : 1 / (negatives + 2);
            double p = PlattScaling.Predict(decisions[i], a, b);
            ga += decisions[i] * (t - p);
            gb += t - p;
        }
        Assert.True(Math.Abs(ga) < 1e-4 && Math.Abs(gb) < 1e-4, $"gradient ({ga}, {gb})");
        Assert.InRange(a, -2.6, -1.4); // the generating slope is −2 (P = 1/(1 + exp(A·f + B)))
    }

    [Fact]
    public void PairwiseCoupling_ConsistentPairwiseProbabilities_RecoverTheClassProbabilities()
    {
        double[] truth = [0.5, 0.3, 0.15, 0.05];
        var r = new double[4, 4];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                if (i != j) r[i, j] = truth[i] / (truth[i] + truth[j]);
        var p = new double[4];
        PairwiseCoupling.Couple(r, p);
        for (int k = 0; k < 4; k++) Assert.True(Math.Abs(truth[k] - p[k]) < 2e-3,
            $"class {k}: {p[k]}, expected {truth[k]}"); // libsvm stops at 0.005/K
        Assert.Equal(1.0, p.Sum(), 9);
    }

    [Fact]
    public void Probabilities_RowsSumToOneAndFollowTheVotesOnClearCases()
    {
        var f = TreeFixtures.Svm;
        var model = KernelSvm.Fit(f.Floats("x"), 5, f.Ints("y"), 3, new KernelSvmOptions(C: 1));
        var decisions = model.DecisionValues(f.Floats("x"), 1);
        var probabilities = model.Probabilities(decisions);
        var votes = model.Votes(decisions);
        int agree = 0;
        for (int i = 0; i < probabilities.Length / 3; i++)
        {
            var row = probabilities.AsSpan(i * 3, 3);
            Assert.Equal(1.0, row.ToArray().Sum(), 6);
            if (votes[i * 3 + ArgMaxFirst(row.ToArray().Select(v => (int)(v * 1e6)).ToArray())] == 2) agree++;
        }
        Assert.True(agree > probabilities.Length / 3 * 0.9);
    }

    [Fact]
    public void Fit_BadInput_IsRefusedWithAClearMessage()
    {
        Assert.Contains("single class", Assert.Throws<ArgumentException>(() => KernelSvm.Fit([1, 2], 1, [0, 0], 2, new KernelSvmOptions())).Message);
        Assert.Contains("Class 1 has no training rows", Assert.Throws<ArgumentException>(() => KernelSvm.Fit([1, 2, 3], 1, [0, 2, 2], 3,
            new KernelSvmOptions())).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => KernelSvm.Fit([1, float.NaN], 1, [0, 1], 2, new KernelSvmOptions())).Message);
        Assert.Equal("C", Assert.Throws<ArgumentOutOfRangeException>(() => new KernelSvmOptions(C: 0).Validate()).ParamName);
        Assert.Equal("Gamma", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new KernelSvmOptions(Gamma: GammaSetting.Of(-1)).Validate()).ParamName);
    }

    private static int ArgMaxFirst(ReadOnlySpan<int> values)
    {
        int best = 0;
        for (int k = 1; k < values.Length; k++)
            if (values[k] > values[best]) best = k;
        return best;
    }
}

using SharpVision.Serialization;
using SharpVision.Optim;
using SharpVision.Training;

namespace SharpVision.Tests.Training;

/// <summary>
/// The one-vs-rest squared-hinge SVM solver against scikit-learn's LinearSVC (tests/Fixtures/svm/make_fixtures.py:
/// 600 Fashion-MNIST images, pixels / 255, solved to tol 1e-10) and against the optimality conditions themselves.
/// </summary>
public class DualCoordinateDescentTests
{
    private static readonly Lazy<SafeTensorsFile> Fixture = new(() =>
        SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "svm", "svm.safetensors")));

    private static (float[] X, int[] Labels) Pixels()
    {
        var images = Fixture.Value.Find("images")!.Data;
        var x = new float[images.Length];
        for (int i = 0; i < x.Length; i++) x[i] = images[i] / 255f;
        return (x, Fixture.Value.Find("labels")!.ToInt32());
    }

    private static double[] Doubles(string name) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(Fixture.Value.Find(name)!.Data).ToArray();

    [Theory]
    [InlineData("c0.01")]
    [InlineData("c0.1")]
    [InlineData("c1")]
    public void Fit_TenClasses_ReachesLinearSvcsOptimum(string name)
    {
        var (x, labels) = Pixels();
        double c = double.Parse(Fixture.Value.Metadata[$"{name}.c"], System.Globalization.CultureInfo.InvariantCulture);
        var result = DualCoordinateDescent.Fit(x, labels, 784, 10, new DualCoordinateDescentOptions(c, Tolerance: 1e-5, MaxPasses: 100_000), threads: 2);
        Assert.All(result.Converged, Assert.True);
        AssertWeightsClose(Doubles($"{name}.coef"), Doubles($"{name}.intercept"), result.Weights, result.Biases, 10, 784, name);
    }

    [Fact]
    public void Fit_TwoClasses_EachScoreIsLinearSvcsBinaryModel()
    {
        // scikit-learn fits one model for two classes (class 1 positive); one-vs-rest fits both, and the class-0 problem
        // is the class-1 problem with every target negated, so its optimum is exactly the negation.
        var (all, allLabels) = Pixels();
        var rows = Enumerable.Range(0, allLabels.Length).Where(i => allLabels[i] is 0 or 6).ToArray();
        var x = rows.SelectMany(i => all.AsSpan(i * 784, 784).ToArray()).ToArray();
        var labels = rows.Select(i => allLabels[i] == 6 ? 1 : 0).ToArray();
        var result = DualCoordinateDescent.Fit(x, labels, 784, 2, new DualCoordinateDescentOptions(0.1, Tolerance: 1e-5, MaxPasses: 100_000));
        var coef = Doubles("binary_c0.1.coef");
        var intercept = Doubles("binary_c0.1.intercept");
        AssertWeightsClose(coef, intercept, result.Weights.AsSpan(784).ToArray(), [result.Biases[1]], 1, 784, "class 1");
        AssertWeightsClose(coef.Select(v => -v).ToArray(), [-intercept[0]], result.Weights.AsSpan(0, 784).ToArray(), [result.Biases[0]], 1, 784, "class 0");
    }

    [Fact]
    public void Fit_SatisfiesPrimalStationarity()
    {
        // At the optimum of ½‖ŵ‖² + C·Σ max(0, 1 − t·ŵ·x̂)², the gradient ŵ − 2C·Σ max(0, 1 − t·ŵ·x̂)·t·x̂ vanishes (x̂ = (x, 1)).
        var (x, labels) = Pixels();
        const double c = 0.05;
        var result = DualCoordinateDescent.Fit(x, labels, 784, 10, new DualCoordinateDescentOptions(c, Tolerance: 1e-6, MaxPasses: 100_000), threads: 2);
        for (int k = 0; k < 10; k++)
        {
            var gradient = new double[785];
            for (int j = 0; j < 784; j++) gradient[j] = result.Weights[k * 784 + j];
            gradient[784] = result.Biases[k];
            double scale = 0;
            for (int i = 0; i < labels.Length; i++)
            {
                double t = labels[i] == k ? 1 : -1, score = result.Biases[k];
                for (int j = 0; j < 784; j++) score += result.Weights[k * 784 + j] * x[i * 784 + j];
                double slack = Math.Max(0, 1 - t * score);
                if (slack == 0) continue;
                for (int j = 0; j < 784; j++) gradient[j] -= 2 * c * slack * t * x[i * 784 + j];
                gradient[784] -= 2 * c * slack * t;
            }
            foreach (double w in result.Weights.AsSpan(k * 784, 784)) scale = Math.Max(scale, Math.Abs(w));
            double worst = gradient.Max(Math.Abs);
            Assert.True(worst < 1e-3 * Math.Max(scale, 1), $"class {k}: largest gradient component {worst:G3} (weights up to {scale:G3})");
        }
    }

    [Fact]
    public void Fit_WarmStartedFromAnotherC_ReachesTheSameOptimum()
    {
        var (x, labels) = Pixels();
        var small = DualCoordinateDescent.Fit(x, labels, 784, 10, new DualCoordinateDescentOptions(0.01, Tolerance: 1e-5, MaxPasses: 100_000), threads: 2);
        var warm = DualCoordinateDescent.Fit(x, labels, 784, 10, new DualCoordinateDescentOptions(0.1, Tolerance: 1e-5, MaxPasses: 100_000), threads: 2, warmStart: small.Alphas);
        Assert.All(warm.Converged, Assert.True);
        AssertWeightsClose(Doubles("c0.1.coef"), Doubles("c0.1.intercept"), warm.Weights, warm.Biases, 10, 784, "warm-started from C = 0.01");
        Assert.Throws<ArgumentException>(() => DualCoordinateDescent.Fit(x, labels, 784, 10, new DualCoordinateDescentOptions(), warmStart: small.Alphas[..9]));
        var negative = small.Alphas.Select(a => (double[])a.Clone()).ToArray();
        negative[3][5] = -1;
        Assert.Throws<ArgumentException>(() => DualCoordinateDescent.Fit(x, labels, 784, 10, new DualCoordinateDescentOptions(), warmStart: negative));
    }

    [Fact]
    public void Fit_SameResultForAnyThreadCount()
    {
        var (x, labels) = Pixels();
        var options = new DualCoordinateDescentOptions(0.1, Seed: 3);
        var one = DualCoordinateDescent.Fit(x, labels, 784, 10, options, threads: 1);
        var two = DualCoordinateDescent.Fit(x, labels, 784, 10, options, threads: 2);
        Assert.Equal(one.Weights, two.Weights);
        Assert.Equal(one.Biases, two.Biases);
    }

    [Fact]
    public void Fit_BadArguments_Throw()
    {
        var (x, labels) = Pixels();
        Assert.Throws<ArgumentOutOfRangeException>(() => DualCoordinateDescent.Fit(x, labels, 784, 10, new DualCoordinateDescentOptions(C: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => DualCoordinateDescent.Fit(x, labels, 784, 10, new DualCoordinateDescentOptions(Tolerance: 0)));
        Assert.Throws<ArgumentException>(() => DualCoordinateDescent.Fit(x, labels, 783, 10, new DualCoordinateDescentOptions()));
        Assert.Throws<ArgumentException>(() => DualCoordinateDescent.Fit(x, labels, 784, 5, new DualCoordinateDescentOptions())); // labels up to 9
    }

    private static void AssertWeightsClose(double[] coef, double[] intercept, float[] weights, float[] biases, int classes, int dimension, string what)
    {
        for (int k = 0; k < classes; k++)
        {
            double scale = 0;
            for (int j = 0; j < dimension; j++) scale = Math.Max(scale, Math.Abs(coef[k * dimension + j]));
            for (int j = 0; j < dimension; j++)
            {
                double expected = coef[k * dimension + j], actual = weights[k * dimension + j];
                if (!(Math.Abs(expected - actual) <= 2e-3 * scale))
                    Assert.Fail($"{what}, class {k}, weight {j}: {actual:G6}, LinearSVC {expected:G6} (largest |w| {scale:G4})");
            }
            Assert.True(Math.Abs(intercept[k] - biases[k]) <= 2e-3 * Math.Max(scale, Math.Abs(intercept[k])), $"{what}, class {k} bias: {biases[k]:G6}, LinearSVC {intercept[k]:G6}");
        }
    }
}

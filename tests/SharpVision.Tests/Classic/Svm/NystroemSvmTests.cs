using SharpVision.Classic.Svm;
using SharpVision.Optim;
using SharpVision.Tests.Classic.Trees;

namespace SharpVision.Tests.Classic.Svm;

public class NystroemSvmTests
{
    // scikit-learn's Nystroem(kernel="rbf", gamma=0.3, n_components=40, random_state=0) on the fixture's blobs, with its
    // landmark rows given to ours: the same map, whose transform of the test rows must agree.
    private static NystroemMap ScikitLearnsLandmarks(out TreeFixtures f)
    {
        f = TreeFixtures.Svm;
        return NystroemMap.Fit(f.Floats("x"), 5, new KernelFunction(KernelKind.Rbf, 0.3, 3, 0), 0, 0, threads: 2,
            landmarkRows: f.Ints("nystroem.indices"));
    }

    [Fact]
    public void Transform_SameLandmarks_ScikitLearnsInnerProducts()
    {
        // Ours is C⁻ᵀ, scikit-learn's K^(−1/2): the features differ by a rotation, their inner products must not.
        var map = ScikitLearnsLandmarks(out var f);
        var expected = f.Floats("nystroem.xtest");
        var actual = map.Transform(f.Floats("xtest"), 2);
        Assert.Equal(40, map.Components);
        Assert.Equal(expected.Length, actual.Length);
        int q = expected.Length / 40;
        for (int i = 0; i < q; i++)
            for (int j = 0; j <= i; j++)
            {
                double ours = 0, theirs = 0;
                for (int t = 0; t < 40; t++)
                {
                    ours += (double)actual[i * 40 + t] * actual[j * 40 + t];
                    theirs += (double)expected[i * 40 + t] * expected[j * 40 + t];
                }
                Assert.True(Math.Abs(ours - theirs) <= 1e-4 * Math.Max(1, Math.Abs(theirs)), $"rows {i}, {j}: {ours}, scikit-learn {theirs}");
            }
    }

    [Fact]
    public void LinearSvmOnTheMap_ScikitLearnsLinearSvcDecisions()
    {
        var map = ScikitLearnsLandmarks(out var f);
        var y = f.Ints("y");
        var solved = DualCoordinateDescent.Fit(map.Transform(f.Floats("x"), 2), y, 40, 3, new DualCoordinateDescentOptions(1, 1e-8, 1_000_000),
            threads: 2);
        var test = map.Transform(f.Floats("xtest"), 2);
        var expected = f.Doubles("nystroem.decision");
        for (int i = 0; i < expected.Length / 3; i++)
            for (int c = 0; c < 3; c++)
            {
                double decision = solved.Biases[c];
                for (int j = 0; j < 40; j++) decision += solved.Weights[c * 40 + j] * test[i * 40 + j];
                Assert.True(Math.Abs(expected[i * 3 + c] - decision) <= 2e-3, $"row {i} class {c}: {decision}, scikit-learn {expected[i * 3 + c]}");
            }
    }

    [Fact]
    public void Map_OnItsLandmarks_ReproducesTheKernel()
    {
        // Φ(l_i)·Φ(l_j) = K(l_i, l_j) exactly for landmarks (first principles: Φ(L) = K_LL·K_LL^(−1/2) = K_LL^(1/2)).
        var map = ScikitLearnsLandmarks(out _);
        var phi = map.Transform(map.Landmarks, 2);
        int m = map.Components;
        for (int i = 0; i < m; i += 7)
            for (int j = 0; j < m; j += 5)
            {
                double dot = 0, squared = 0;
                for (int t = 0; t < m; t++) dot += phi[i * m + t] * phi[j * m + t];
                for (int t = 0; t < 5; t++) squared += Math.Pow(map.Landmarks[i * 5 + t] - map.Landmarks[j * 5 + t], 2);
                Assert.Equal(Math.Exp(-0.3 * squared), dot, 3);
            }
    }

    [Fact]
    public void Options_OutOfRange_NameTheSetting()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new NystroemSvmTrainer(new NystroemSvmOptions(Components: 0)));
        Assert.Equal("Components", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new NystroemSvmTrainer(new NystroemSvmOptions(C: -1)));
    }
}

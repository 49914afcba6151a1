using SharpVision.Optim;
using SharpVision.Tensors;

namespace SharpVision.Tests.Optim;

public sealed class RandomSearchTests
{
    // L(w) = Σ (w − target)², minimized at the target; candidates are N(0, 1).
    private static readonly float[] Target = [0.5f, -0.25f, 1f];

    private static double Loss(Tensor w) => w.Data.Zip(Target, (a, b) => (double)(a - b) * (a - b)).Sum();

    [Fact]
    public void Step_ManyCandidates_ParametersAlwaysHoldTheBestSeen()
    {
        var w = new Tensor(new Shape(3), [5f, 5f, 5f]);
        var seen = new List<(double Loss, float[] Values)>();
        var search = new RandomSearch([w], () =>
        {
            double l = Loss(w);
            seen.Add((l, (float[])w.Data.Clone()));
            return l;
        }, scale: 1f, new Rng(3));

        double previous = double.PositiveInfinity;
        for (int i = 0; i < 200; i++)
        {
            search.Step();
            var best = seen.MinBy(s => s.Loss);
            Assert.Equal(best.Loss, search.BestLoss);
            Assert.Equal(best.Values, w.Data);
            Assert.True(search.BestLoss <= previous);
            previous = search.BestLoss;
        }
        Assert.Equal(200, search.Trials);
        Assert.Equal(201, seen.Count); // the initial values were scored once, then one evaluation per candidate
        Assert.True(search.Improvements > 1);
        Assert.True(search.BestLoss < 0.5, $"best loss {search.BestLoss}");
    }

    [Fact]
    public void Step_WorseCandidate_RestoresTheIncumbentAndReturnsFalse()
    {
        var w = new Tensor(new Shape(3), (float[])Target.Clone()); // already optimal: no candidate can win
        var search = new RandomSearch([w], () => Loss(w), scale: 1f, new Rng(1));
        Assert.False(search.Step());
        Assert.Equal(Target, w.Data);
        Assert.Equal(0, search.BestLoss);
    }

    [Fact]
    public void Step_SameSeed_SameResult()
    {
        float[] RunOnce()
        {
            var w = new Tensor(new Shape(3), new float[3]);
            var search = new RandomSearch([w], () => Loss(w), scale: 0.5f, new Rng(42));
            for (int i = 0; i < 20; i++) search.Step();
            return w.Data;
        }
        Assert.Equal(RunOnce(), RunOnce());
    }

    [Fact]
    public void Step_NaNLoss_NeverKept()
    {
        var w = new Tensor(new Shape(1), [1f]);
        bool first = true;
        var search = new RandomSearch([w], () => { bool f = first; first = false; return f ? 1.0 : double.NaN; }, 1f, new Rng(5));
        Assert.False(search.Step());
        Assert.Equal([1f], w.Data);
        Assert.Equal(1.0, search.BestLoss);
    }

    [Fact]
    public void Constructor_InvalidArguments_Throw()
    {
        var w = new Tensor(new Shape(1), [0f]);
        Assert.Equal("scale", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomSearch([w], () => 0, 0f, new Rng(1))).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => new RandomSearch([], () => 0, 1f, new Rng(1))).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => new RandomSearch([w, w], () => 0, 1f, new Rng(1))).ParamName);
    }
}

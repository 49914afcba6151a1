using System.Text.Json;
using SharpVision.Optim;

namespace SharpVision.Tests.Optim;

/// <summary>Schedules against PyTorch 1.13's schedulers (tests/Fixtures/optim/schedules.json), plus warm-up and range checks.</summary>
public sealed class ScheduleTests
{
    private static (JsonElement Args, double[] Rates) Fixture(string name)
    {
        var fixture = OptimFixtures.Case("schedules.json", name);
        return (fixture.GetProperty("args"), OptimFixtures.Doubles(fixture.GetProperty("lrs")));
    }

    private static void AssertRates(double[] expected, LearningRateSchedule schedule, string name)
    {
        Assert.Equal(expected.Length, schedule.TotalSteps);
        for (int t = 0; t < expected.Length; t++) OptimFixtures.AssertClose(expected[t], schedule.At(t), $"{name} step {t}");
    }

    [Fact]
    public void StepSchedule_StepLR_MatchesPyTorch()
    {
        var (args, rates) = Fixture("step");
        var schedule = new StepSchedule(args.GetProperty("lr").GetDouble(), args.GetProperty("total_steps").GetInt64(),
                                        args.GetProperty("step_size").GetInt64(), args.GetProperty("gamma").GetDouble());
        AssertRates(rates, schedule, "step");
    }

    [Fact]
    public void ExponentialSchedule_ExponentialLRPerStep_MatchesPyTorch()
    {
        var (args, rates) = Fixture("exponential");
        var schedule = new ExponentialSchedule(args.GetProperty("lr").GetDouble(), args.GetProperty("total_steps").GetInt64(), args.GetProperty("gamma").GetDouble());
        AssertRates(rates, schedule, "exponential");
    }

    [Theory]
    [InlineData("cosine")]
    [InlineData("cosine_to_zero")]
    public void CosineSchedule_CosineAnnealingLR_MatchesPyTorch(string name)
    {
        var (args, rates) = Fixture(name);
        var schedule = new CosineSchedule(args.GetProperty("lr").GetDouble(), args.GetProperty("total_steps").GetInt64(), args.GetProperty("eta_min").GetDouble());
        AssertRates(rates, schedule, name);
    }

    [Theory]
    [InlineData("one_cycle")]
    [InlineData("one_cycle_custom")]
    public void OneCycleSchedule_OneCycleLR_MatchesPyTorchRatesAndMomenta(string name)
    {
        var fixture = OptimFixtures.Case("schedules.json", name);
        var args = fixture.GetProperty("args");
        var schedule = new OneCycleSchedule(args.GetProperty("max_lr").GetDouble(), args.GetProperty("total_steps").GetInt64(),
                                            OptimFixtures.Option(args, "pct_start", 0.3), OptimFixtures.Option(args, "div_factor", 25),
                                            OptimFixtures.Option(args, "final_div_factor", 1e4), OptimFixtures.Option(args, "base_momentum", 0.85),
                                            OptimFixtures.Option(args, "max_momentum", 0.95));
        AssertRates(OptimFixtures.Doubles(fixture.GetProperty("lrs")), schedule, name);
        var momenta = OptimFixtures.Doubles(fixture.GetProperty("momenta"));
        for (int t = 0; t < momenta.Length; t++) OptimFixtures.AssertClose(momenta[t], schedule.MomentumAt(t), $"{name} momentum step {t}");
    }

    [Fact]
    public void OneCycleSchedule_Defaults_StartAtMaxOver25AndEndAtThatOver1e4()
    {
        var schedule = new OneCycleSchedule(0.4, totalSteps: 100);
        Assert.Equal(0.4 / 25, schedule.At(0), 15);
        Assert.Equal(0.4 / 25 / 1e4, schedule.At(99), 15);
        Assert.Equal(0.95, schedule.MomentumAt(0), 15);
        Assert.Equal(0.95, schedule.MomentumAt(99), 15);
    }

    [Fact]
    public void OneCycleSchedule_FirstPhaseOfLengthZero_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new OneCycleSchedule(0.1, totalSteps: 10, pctStart: 0.1));
        Assert.Equal("pctStart", error.ParamName);
    }

    [Fact]
    public void WarmupSchedule_FirstSteps_RampLinearlyThenFollowInner()
    {
        var inner = new CosineSchedule(0.1, totalSteps: 20);
        var schedule = new WarmupSchedule(inner, warmupSteps: 4);
        Assert.Equal(20, schedule.TotalSteps);
        for (int t = 0; t < 4; t++) Assert.Equal(inner.At(t) * (t + 1) / 4, schedule.At(t), 15);
        for (int t = 4; t < 20; t++) Assert.Equal(inner.At(t), schedule.At(t));
        Assert.Equal(0.1 / 4, schedule.At(0), 15);
    }

    [Fact]
    public void WarmupSchedule_ConstantInner_ReachesTheRateOnStepWMinus1()
    {
        var schedule = new WarmupSchedule(new ConstantSchedule(0.5, totalSteps: 10), warmupSteps: 5);
        Assert.Equal([0.1, 0.2, 0.3, 0.4, 0.5, 0.5], Enumerable.Range(0, 6).Select(t => Math.Round(schedule.At(t), 12)));
    }

    [Fact]
    public void WarmupSchedule_LongerThanInner_Throws()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new WarmupSchedule(new ConstantSchedule(0.1, 5), warmupSteps: 6));
        Assert.Equal("warmupSteps", error.ParamName);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10)]
    public void At_StepOutsideRun_Throws(long step)
    {
        var schedule = new ConstantSchedule(0.1, totalSteps: 10);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => schedule.At(step));
        Assert.Equal("step", error.ParamName);
    }

    [Fact]
    public void Constructors_InvalidArguments_NameTheArgument()
    {
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantSchedule(0, 10)).ParamName);
        Assert.Equal("totalSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantSchedule(0.1, 0)).ParamName);
        Assert.Equal("stepSize", Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0.1, 10, stepSize: 0)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialSchedule(0.1, 10, gamma: double.NaN)).ParamName);
        Assert.Equal("minLearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1, 10, minLearningRate: -1)).ParamName);
        Assert.Equal("pctStart", Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(0.1, 10, pctStart: 1.5)).ParamName);
        Assert.Equal("maxMomentum", Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(0.1, 10, maxMomentum: 1)).ParamName);
    }
}

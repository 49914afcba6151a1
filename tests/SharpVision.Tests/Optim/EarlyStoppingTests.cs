using SharpVision.Optim;

namespace SharpVision.Tests.Optim;

public sealed class EarlyStoppingTests
{
    [Fact]
    public void Report_MaximizeWithPatience2_StopsAfterTwoEpochsWithoutImprovement()
    {
        var stopping = new EarlyStopping(MetricGoal.Maximize, patience: 2);
        Assert.True(stopping.Report(0.50));
        Assert.True(stopping.Report(0.60));
        Assert.False(stopping.Report(0.55));
        Assert.False(stopping.ShouldStop);
        Assert.True(stopping.Report(0.61)); // an improvement resets the count
        Assert.Equal(0, stopping.BadEpochs);
        Assert.False(stopping.Report(0.61)); // equal is not better
        Assert.False(stopping.ShouldStop);
        Assert.False(stopping.Report(0.40));
        Assert.True(stopping.ShouldStop);
        Assert.Equal(0.61, stopping.BestValue);
        Assert.Equal(3, stopping.BestEpoch);
        Assert.Equal(6, stopping.Epochs);
    }

    [Fact]
    public void Report_MinimizeWithMinDelta_SmallGainsAreNotImprovements()
    {
        var stopping = new EarlyStopping(MetricGoal.Minimize, patience: 3, minDelta: 0.01);
        Assert.True(stopping.Report(1.0));
        Assert.False(stopping.IsImprovement(0.995));
        Assert.True(stopping.IsImprovement(0.98));
        Assert.False(stopping.Report(0.995));
        Assert.False(stopping.Report(0.991)); // the best stays 1.0: gains below δ do not accumulate a new best
        Assert.True(stopping.Report(0.985));
        Assert.Equal(0.985, stopping.BestValue);
        Assert.Equal(3, stopping.BestEpoch);
    }

    [Fact]
    public void Report_NaN_IsABadEpoch()
    {
        var stopping = new EarlyStopping(MetricGoal.Minimize, patience: 1);
        Assert.False(stopping.IsImprovement(double.NaN));
        Assert.False(stopping.Report(double.NaN));
        Assert.Null(stopping.BestValue);
        Assert.Null(stopping.BestEpoch);
        Assert.True(stopping.ShouldStop);
    }

    [Fact]
    public void ImportState_Exported_ContinuesTheSame()
    {
        var first = new EarlyStopping(MetricGoal.Maximize, patience: 3);
        foreach (double v in new[] { 0.1, 0.3, 0.2 }) first.Report(v);
        var state = first.ExportState();
        Assert.Equal(new EarlyStoppingState(0.3, 1, 1, 3), state);

        var resumed = new EarlyStopping(MetricGoal.Maximize, patience: 3);
        resumed.ImportState(state);
        foreach (var s in new[] { first, resumed }) { s.Report(0.25); s.Report(0.2); }
        Assert.Equal(first.ExportState(), resumed.ExportState());
        Assert.True(resumed.ShouldStop);
    }

    [Theory]
    [InlineData(0.5, null, 0, 1, "BestValue and BestEpoch must both be set or both be null.")]
    [InlineData(0.5, 3, 0, 3, "BestEpoch 3 is outside [0, 3).")]
    [InlineData(0.5, 0, 0, 3, "BadEpochs is 0 but 3 epochs with the best at 0 imply 2.")]
    [InlineData(null, null, -1, 0, "Epoch counts must be ≥ 0 (Epochs 0, BadEpochs -1).")]
    public void ImportState_Inconsistent_Throws(double? best, int? bestEpoch, int bad, int epochs, string message)
    {
        var stopping = new EarlyStopping(MetricGoal.Maximize, patience: 2);
        var error = Assert.Throws<ArgumentException>(() => stopping.ImportState(new EarlyStoppingState(best, bestEpoch, bad, epochs)));
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void Constructor_InvalidArguments_Throw()
    {
        Assert.Equal("patience", Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(MetricGoal.Minimize, 0)).ParamName);
        Assert.Equal("minDelta", Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(MetricGoal.Minimize, 1, -0.1)).ParamName);
        Assert.Equal("goal", Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping((MetricGoal)7, 1)).ParamName);
    }
}

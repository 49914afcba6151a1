using SharpVision.Cli;
using SharpVision.Cli.Commands;
using SharpVision.Runs;

namespace SharpVision.Tests.Runs;

public class LadderBudgetTests
{
    [Theory]
    [InlineData(100.0, 30.0, 20, 3)]     // 3 whole epochs fit
    [InlineData(1000.0, 30.0, 20, 20)]   // never more than the recipe
    [InlineData(10.0, 30.0, 20, 1)]      // at least one (the time limit then stops it)
    [InlineData(-5.0, 30.0, 20, 1)]      // the budget is already spent
    [InlineData(90.0, 30.0, 20, 3)]      // exactly three
    public void Epochs_AreWhatFitsBetweenOneAndTheRecipe(double available, double epochSeconds, int recipe, int expected) =>
        Assert.Equal(expected, LadderBudget.Epochs(available, epochSeconds, recipe));

    [Fact]
    public void Affords_CountsOneMoreCandidateAndTheFinalFit()
    {
        var cap = TimeSpan.FromSeconds(10);
        Assert.True(LadderBudget.Affords(TimeSpan.FromSeconds(4), cap, 3, 3));
        Assert.False(LadderBudget.Affords(TimeSpan.FromSeconds(4), cap, 3, 3.5));
    }

    [Fact]
    public void Cap_IsTheRungsShare_AndTheCnnGetsWhatIsLeft()
    {
        var budget = new LadderBudget(TimeSpan.FromMinutes(20), alreadyUsed: TimeSpan.FromMinutes(2));
        Assert.Equal(60, budget.Cap("knn").TotalSeconds, 0);   // 5 % of 20 minutes
        Assert.Equal(180, budget.Cap("mlp").TotalSeconds, 0);  // 15 %
        double left = budget.Cap("cnn").TotalSeconds;
        Assert.InRange(left, 17 * 60 - 5, 18 * 60);            // the 18 minutes left (less what this test took)
        Assert.True(new LadderBudget(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)).Cap("knn") == TimeSpan.Zero); // spent: nothing left
        Assert.Throws<ArgumentOutOfRangeException>(() => new LadderBudget(TimeSpan.Zero));
    }

    [Theory]
    [InlineData("20m", 1200)]
    [InlineData("90s", 90)]
    [InlineData("1h30m", 5400)]
    [InlineData("1.5h", 5400)]
    [InlineData(" 2M ", 120)]
    [InlineData("1m30s", 90)]
    public void ParseBudget_ReadsDurationsWithUnits(string text, double seconds) =>
        Assert.Equal(seconds, LadderCommand.ParseBudget(text).TotalSeconds);

    [Theory]
    [InlineData("20", "with units")]
    [InlineData("abc", "with units")]
    [InlineData("10x", "with units")]
    [InlineData("-5m", "positive")]
    [InlineData("1e3s", "with units")]
    [InlineData("5m10", "with units")]
    [InlineData("", "with units")]
    [InlineData("0m", "positive")]
    [InlineData("0s0m", "positive")]
    [InlineData("169h", "at most 168h")]
    public void ParseBudget_Bad_IsAUsageErrorThatNamesTheFlag(string text, string reason)
    {
        var e = Assert.Throws<UsageException>(() => LadderCommand.ParseBudget(text));
        Assert.StartsWith("--budget must", e.Message);
        Assert.Contains(reason, e.Message);
        Assert.Contains($"'{text}'", e.Message);
    }
}

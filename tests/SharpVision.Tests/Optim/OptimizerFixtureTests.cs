namespace SharpVision.Tests.Optim;

/// <summary>Every optimizer against PyTorch 1.13 on the same parameters and gradients (tests/Fixtures/optim/optimizers.json).</summary>
public sealed class OptimizerFixtureTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in OptimFixtures.Load("optimizers.json").EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_FixtureCase_MatchesPyTorchAfterEveryStep(string name)
    {
        var fixture = OptimFixtures.Case("optimizers.json", name);
        var parameters = OptimFixtures.Parameters(fixture);
        var optimizer = OptimFixtures.Optimizer(fixture, parameters);
        int k = 0;
        foreach (var step in fixture.GetProperty("steps").EnumerateArray())
        {
            OptimFixtures.PrepareStep(step, optimizer);
            optimizer.Step();
            var after = step.GetProperty("params_after");
            foreach (var p in parameters) OptimFixtures.AssertClose(OptimFixtures.Floats(after.GetProperty(p.Name!)), p.Data, $"{name} step {k} {p.Name}");
            k++;
        }
        Assert.Equal(k, optimizer.StepCount);
    }
}

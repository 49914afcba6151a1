using SharpVision.Fuzz;

namespace SharpVision.Tests.Fuzz;

/// <summary>
/// A short deterministic run of every fuzz target (fuzz/README.md): its seeds, then seeded mutants, each giving a result
/// or a DataFormatException within the time and memory bounds. Then every file under tests/Fixtures/fuzz/TARGET (inputs
/// that once crashed, hung or overspent) is replayed. The long, coverage-guided runs are fuzz/run.sh's.
/// </summary>
public class FuzzTargetTests
{
    private static readonly string FixturesDir = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    /// <summary>Mutants per target: about two seconds each here (the model and run-folder targets are the slow ones).</summary>
    private static int Mutations(string name) => name switch
    {
        "safetensors" or "checkpoint" => 150,
        "run-folder" => 100,
        _ => 400,
    };

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var target in FuzzTargets.All) data.Add(target.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Target_SeedsAndMutants_GiveAResultOrADataFormatError_WithinBounds(string name)
    {
        var target = FuzzTargets.Find(name);
        if (target.Unavailable is not null)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", $"{name}: {target.Unavailable}");
            Console.WriteLine($"skipped: {target.Unavailable}");
            return;
        }
        var seeds = target.Seeds(FixturesDir);
        Assert.NotEmpty(seeds);
        Assert.All(seeds, s => Assert.Equal(FuzzVerdict.Accepted, FuzzEngine.Check(target, s).Verdict)); // the seeds are valid inputs
        var (executed, bug) = FuzzEngine.RunDeterministic(target, seeds, Mutations(name), randomSeed: name.Length * 7919);
        if (bug is { } b)
        {
            // Kept for reproduction (`SharpVision.Fuzz run TARGET FILE`) and, once fixed, for tests/Fixtures/fuzz/TARGET/.
            var saved = Path.Combine(Path.GetTempPath(), $"sharpvision-fuzz-{name}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(b.Input))[..12]}");
            File.WriteAllBytes(saved, b.Input);
            Assert.Fail($"{name}: {b.Outcome}\ninput saved as {saved}");
        }
        Assert.Equal(seeds.Count + Mutations(name), executed);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Target_ReplaysEveryCorpusFileFoundByFuzzing(string name)
    {
        var target = FuzzTargets.Find(name);
        var dir = Path.Combine(FixturesDir, "fuzz", name);
        if (target.Unavailable is not null || !Directory.Exists(dir)) return;
        foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
        {
            var outcome = FuzzEngine.Check(target, File.ReadAllBytes(file));
            Assert.False(outcome.IsBug, $"{file}: {outcome}");
        }
    }
}

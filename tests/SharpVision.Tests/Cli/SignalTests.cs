using SharpVision.Cli;
using SharpVision.Serialization;
using SharpVision.Training;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>
/// Every gradient-trained model kind is stopped by SIGTERM, then SIGINT, then SIGKILL at random points of `train` (a
/// child process each, resumed with --resume in between), then resumed to the end: the final weights and the per-step log
/// are bit for bit those of an uninterrupted run, the exit codes are 143, 130 and 137, and nothing is left over (no
/// temporary file, lock file or staging folder). The kinds run side by side on tiny data, so the test takes seconds.
/// </summary>
public class SignalTests
{
    private static readonly string[] Signals = ["TERM", "INT", "KILL"];

    private static string[] TrainArgs(string kind, string run)
    {
        var args = new List<string>
        {
            "train", "--data", SampleDir, "--model", kind, "--epochs", "2", "--batch-size", "8", "--threads", "1",
            "--checkpoint-every", "1", "--validation-fraction", "0", "--train-limit", Recipes.Convolutional.Contains(kind) ? "32" : "96", "--out", run,
        };
        if (kind == "logistic") args.AddRange(["--classes", "0,6"]);
        if (kind == "mlp") args.AddRange(["--hidden", "16"]);
        return [.. args];
    }

    private static Dictionary<string, byte[]> Parameters(string modelPath) =>
        SafeTensorsFile.Read(modelPath).Tensors.Where(t => t.Name.StartsWith("param.", StringComparison.Ordinal) || t.Name.StartsWith("buffer.", StringComparison.Ordinal))
            .ToDictionary(t => t.Name, t => t.Data);

    // Runs one kind: the reference in process, then the three signals, then the final resume; returns what went wrong, or null.
    private static string? Interrupt(string kind, string root, int seed)
    {
        var reference = Path.Combine(root, $"{kind}-reference");
        var (code, _, err) = Run(TrainArgs(kind, reference));
        if (code != 0) return $"{kind}: reference run failed: {err}";
        var run = Path.Combine(root, kind);
        var checkpoint = Path.Combine(run, Checkpoint.FileName);
        var random = new Random(seed);
        var exits = new List<string>();
        foreach (var signal in Signals)
        {
            using var child = CliProcess.Start(File.Exists(checkpoint) ? ["train", "--resume", run, "--threads", "1"] : TrainArgs(kind, run));
            long before = File.Exists(checkpoint) ? new FileInfo(checkpoint).LastWriteTimeUtc.Ticks : 0;
            child.WaitUntil(() => File.Exists(checkpoint) && new FileInfo(checkpoint).LastWriteTimeUtc.Ticks != before);
            Thread.Sleep(random.Next(0, 40));
            if (!child.HasExited) child.Signal(signal);
            int exit = child.WaitForExit();
            exits.Add($"{signal}→{exit}");
            if (exit == 0) break; // finished before the signal: nothing left to interrupt
            int expected = signal switch { "TERM" => CliApp.Terminated, "INT" => CliApp.Interrupted, _ => 128 + 9 };
            if (exit != expected) return $"{kind}: SIGTERM/INT/KILL exits {string.Join(", ", exits)}; stderr: {child.Err}";
            if (child.Err.Contains("   at ", StringComparison.Ordinal)) return $"{kind}: a stack trace after SIG{signal}: {child.Err}";
        }
        if (!File.Exists(Path.Combine(run, "model.safetensors")))
        {
            var finish = Run("train", "--resume", run, "--threads", "1");
            if (finish.Code != 0) return $"{kind}: final resume failed ({string.Join(", ", exits)}): {finish.Err}";
        }
        var expectedParameters = Parameters(Path.Combine(reference, "model.safetensors"));
        var actualParameters = Parameters(Path.Combine(run, "model.safetensors"));
        if (!expectedParameters.Keys.Order().SequenceEqual(actualParameters.Keys.Order())) return $"{kind}: different tensors";
        foreach (var (name, bytes) in expectedParameters)
            if (!bytes.AsSpan().SequenceEqual(actualParameters[name])) return $"{kind}: {name} differs after {string.Join(", ", exits)}";
        if (File.ReadAllText(Path.Combine(reference, StepLog.FileName)) != File.ReadAllText(Path.Combine(run, StepLog.FileName)))
            return $"{kind}: steps.jsonl differs after {string.Join(", ", exits)}";
        var files = Directory.GetFiles(run).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        var expectedFiles = Directory.GetFiles(reference).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        if (!files.SequenceEqual(expectedFiles)) return $"{kind}: files [{string.Join(", ", files)}], expected [{string.Join(", ", expectedFiles)}]";
        return null;
    }

    [Fact]
    public async Task TermIntKill_AtRandomPoints_EveryGradientKind_ResumesToTheSameBits_LeavingNothingBehind()
    {
        using var temp = new TempFolder();
        var results = await Task.WhenAll(Recipes.Kinds.Select((kind, i) => Task.Run(() => Interrupt(kind, temp.Path, 1000 + i))));
        var problems = results.Where(f => f is not null).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // Beside the run folders: nothing (no lock file, no staging or removed-run folder).
        var leftovers = Directory.GetFileSystemEntries(temp.Path).Select(f => Path.GetFileName(f)!)
            .Where(n => !Recipes.Kinds.Any(k => n == k || n == $"{k}-reference")).ToList();
        Assert.True(leftovers.Count == 0, string.Join(", ", leftovers));
    }
}

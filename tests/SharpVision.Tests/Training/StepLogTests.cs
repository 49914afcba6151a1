using SharpVision.IO;
using SharpVision.Training;
using static SharpVision.Tests.Training.TrainingFixtures;

namespace SharpVision.Tests.Training;

public class StepLogTests
{
    private static readonly TrainingOptions Options = new(Epochs: 3, BatchSize: 16, Optimizer: "nesterov", LearningRate: 0.05, Schedule: "onecycle", CheckpointEvery: 5);

    [Fact]
    public void Fit_WritesOneLinePerStep_WithEpochsAndScheduleOfTheRun()
    {
        using var dir = new TempFolder();
        var (model, train) = Setup("softmax", Blobs(100, 4, 1), 3);
        var result = new Trainer(Options).Fit(model, train, null, dir.Path);
        var steps = StepLog.Read(Path.Combine(dir.Path, StepLog.FileName));

        int perEpoch = (100 + 15) / 16; // 7 minibatches of 16, the last one of 4
        Assert.Equal(3 * perEpoch, steps.Count);
        Assert.Equal(Enumerable.Range(1, 3 * perEpoch).Select(s => (long)s), steps.Select(s => s.Step));
        Assert.Equal(Enumerable.Range(0, 3 * perEpoch).Select(s => 1 + s / perEpoch), steps.Select(s => s.Epoch));
        // The epoch's mean training loss is the images-weighted mean of its steps' losses; the last step of epoch e is
        // metrics.jsonl's step for e, with its learning rate.
        for (int e = 0; e < 3; e++)
        {
            var epoch = steps.Skip(e * perEpoch).Take(perEpoch).ToList();
            double weighted = epoch.Select((s, i) => s.Loss * (i == perEpoch - 1 ? 4 : 16)).Sum() / 100;
            Assert.Equal(result.Epochs[e].TrainLoss, weighted, 9);
            double accuracy = epoch.Select((s, i) => s.Accuracy * (i == perEpoch - 1 ? 4 : 16)).Sum() / 100;
            Assert.Equal(result.Epochs[e].TrainAccuracy, accuracy, 9);
            Assert.Equal(result.Epochs[e].Step, epoch[^1].Step);
            Assert.Equal(result.Epochs[e].LearningRate, epoch[^1].LearningRate);
        }
        // One-cycle: the rate rises, then falls below where it started.
        int peak = steps.Select((s, i) => (s.LearningRate, i)).Max().i;
        Assert.InRange(peak, 1, steps.Count - 2);
        Assert.True(steps[^1].LearningRate < steps[0].LearningRate);
    }

    [Fact]
    public void Resume_AfterCrashWithTornLineAndStepsPastTheCheckpoint_LogsEveryStepExactlyOnce()
    {
        using var referenceDir = new TempFolder();
        var data = Blobs(100, 4, 1);
        var (reference, train) = Setup("mlp", data, 7);
        new Trainer(Options).Fit(reference, train, null, referenceDir.Path);
        var expected = File.ReadAllText(Path.Combine(referenceDir.Path, StepLog.FileName));

        using var dir = new TempFolder();
        var (model, _) = Setup("mlp", data, 7);
        using var cancel = new CancellationTokenSource();
        int steps = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => new Trainer(Options) { OnStep = _ => { if (++steps == 9) cancel.Cancel(); } }.Fit(model, train, null, dir.Path, null, cancel.Token));
        var checkpoint = Checkpoint.Load(Path.Combine(dir.Path, Checkpoint.FileName));
        Assert.Equal(9, checkpoint.Position.GlobalStep);

        // What a SIGKILL can leave: steps the checkpoint does not know about, then half a line.
        var log = Path.Combine(dir.Path, StepLog.FileName);
        var lines = expected.Split('\n');
        File.AppendAllText(log, lines[9] + "\n" + lines[10] + "\n" + lines[11][..20]);
        Assert.Equal(11, StepLog.Read(log).Count); // the torn line is ignored by readers

        var (resumed, _) = Setup("mlp", data, 99);
        new Trainer(Options).Fit(resumed, train, null, dir.Path, checkpoint);
        Assert.Equal(expected, File.ReadAllText(log));
    }

    [Theory]
    [InlineData(false, "missing")]
    [InlineData(true, "holds 4 complete steps")]
    public void Resume_WithAStepLogShorterThanTheCheckpoint_IsAClearErrorNamingTheFile(bool keepSome, string message)
    {
        using var dir = new TempFolder();
        var (model, train) = Setup("softmax", Blobs(100, 4, 1), 3);
        using var cancel = new CancellationTokenSource();
        int steps = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => new Trainer(Options) { OnStep = _ => { if (++steps == 6) cancel.Cancel(); } }.Fit(model, train, null, dir.Path, null, cancel.Token));
        var log = Path.Combine(dir.Path, StepLog.FileName);
        if (keepSome) File.WriteAllLines(log, File.ReadAllLines(log).Take(4));
        else File.Delete(log);

        var checkpoint = Checkpoint.Load(Path.Combine(dir.Path, Checkpoint.FileName));
        var e = Assert.Throws<DataFormatException>(() => new Trainer(Options).Fit(model, train, null, dir.Path, checkpoint));
        Assert.Contains(log, e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Read_StepOutOfSequence_IsAnErrorWithTheLineNumber()
    {
        using var dir = new TempFolder();
        var path = dir.Combine(StepLog.FileName);
        File.WriteAllLines(path, [new StepMetrics(1, 1, 2.3, 0.1, 0.05).ToJsonLine(), new StepMetrics(3, 1, 2.2, 0.1, 0.05).ToJsonLine()]);
        var e = Assert.Throws<DataFormatException>(() => StepLog.Read(path));
        Assert.Contains("line 2 records step 3; expected step 2", e.Message);
        File.WriteAllLines(path, [new StepMetrics(1, 1, 2.3, 0.1, 0.05).ToJsonLine(), "{\"step\": \"two\"}", new StepMetrics(3, 1, 2.2, 0.1, 0.05).ToJsonLine()]);
        Assert.Contains("line 2 is not a step record", Assert.Throws<DataFormatException>(() => StepLog.Read(path)).Message);
    }

    [Fact]
    public void Read_LineWithADuplicateKey_IsADataFormatErrorNamingTheLine()
    {
        // Found by the run-folder fuzz target (tests/Fixtures/fuzz/run-folder): a repeated key threw ArgumentException
        // from JsonObject on first access instead of being refused as malformed.
        using var temp = new TempFolder();
        var path = temp.Combine(StepLog.FileName);
        File.WriteAllText(path, "{\"step\":1,\"epoch\":1,\"loss\":2.5,\"accuracy\":0.1,\"lr\":0.05}\n" +
            "{\"step\":2,\"epoch\":1,\"loss\":2.4,\"accuracy\":0.2,\"lr\":0.05,\"lr\":9}\n{\"step\":3}\n");
        var e = Assert.Throws<SharpVision.IO.DataFormatException>(() => StepLog.Read(path));
        Assert.Contains("line 2", e.Reason);
    }
}

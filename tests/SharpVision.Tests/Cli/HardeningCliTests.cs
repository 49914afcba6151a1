using System.Diagnostics;
using System.Globalization;
using SharpVision.Cli;
using SharpVision.Serialization;
using SharpVision.Training;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>Issue 14's command-line cases: signals, misuse, checkpoints as data, run folders shared or reused.</summary>
public class HardeningCliTests
{
    private static string[] Softmax(string run, int epochs = 1) =>
        ["train", "--data", SampleDir, "--model", "softmax", "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--train-limit", "400", "--threads", "2", "--out", run];

    private static Dictionary<string, byte[]> Parameters(string modelPath) =>
        SafeTensorsFile.Read(modelPath).Tensors.Where(t => t.Name.StartsWith("param.", StringComparison.Ordinal)).ToDictionary(t => t.Name, t => t.Data);

    private static void AssertNoStackTrace(string err) => Assert.DoesNotContain("   at ", err);

    [Fact]
    public void Sigterm_DuringTraining_SavesACheckpointAndExits143_ThenResumeMatches()
    {
        using var temp = new TempFolder();
        string[] Mlp(string run) => ["train", "--data", SampleDir, "--model", "mlp", "--hidden", "32", "--epochs", "4", "--train-limit", "600",
            "--batch-size", "16", "--threads", "2", "--checkpoint-every", "1", "--out", run];
        var reference = temp.Combine("reference");
        var (code, _, err) = Run(Mlp(reference));
        Assert.True(code == 0, err);

        var run = temp.Combine("run");
        using var child = CliProcess.Start(Mlp(run));
        child.WaitUntil(() => File.Exists(Path.Combine(run, Checkpoint.FileName)));
        child.Signal("TERM");
        int exit = child.WaitForExit();
        if (exit == 0) return; // finished before the signal (a very fast machine): nothing to resume
        Assert.True(exit == CliApp.Terminated, $"exit {exit}; stderr: {child.Err}");
        Assert.Contains($"--resume {run}", child.Err);
        AssertNoStackTrace(child.Err);
        var resumed = Run("train", "--resume", run, "--threads", "2");
        Assert.True(resumed.Code == 0, resumed.Err);
        var expected = Parameters(Path.Combine(reference, "model.safetensors"));
        foreach (var (name, bytes) in Parameters(Path.Combine(run, "model.safetensors"))) Assert.True(bytes.AsSpan().SequenceEqual(expected[name]), name);
    }

    [Fact]
    public void Cv_MoreFoldsThanImages_IsAUsageErrorNamingTheLimit()
    {
        using var temp = new TempFolder();
        var (code, _, err) = Run("cv", "--data", SampleDir, "--folds", "100000", "--train-limit", "100", "--out", temp.Combine("cv"));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--folds", err);
        Assert.Contains("100000", err);
        AssertNoStackTrace(err);
    }

    // Trains a 1-epoch softmax into RUN and rewrites its checkpoint's cli_arguments metadata.
    private static string CheckpointRecording(TempFolder temp, string arguments)
    {
        var run = temp.Combine("run");
        var trained = Run(Softmax(run));
        Assert.True(trained.Code == 0, trained.Err);
        var path = Path.Combine(run, Checkpoint.FileName);
        var file = SafeTensorsFile.Read(path);
        var metadata = file.Metadata.ToDictionary();
        metadata["cli_arguments"] = arguments;
        SafeTensorsFile.Write(path, metadata, file.Tensors);
        return run;
    }

    [Fact]
    public void Resume_CheckpointWhoseCliArgumentsIsNotJson_IsADataFormatError()
    {
        using var temp = new TempFolder();
        var run = CheckpointRecording(temp, "train --model softmax");
        var (code, _, err) = Run("train", "--resume", run);
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Contains(Path.Combine(run, Checkpoint.FileName), err);
        Assert.Contains("cli_arguments", err);
        AssertNoStackTrace(err);
    }

    [Theory]
    [InlineData("[\"predict\",\"--model\",\"m.safetensors\",\"x.png\"]")]   // another command
    [InlineData("[\"train\",\"--model\",\"softmax\",\"--bogus\"]")]          // an unknown flag
    [InlineData("[\"train\",\"@/etc/passwd\"]")]                             // a response file
    [InlineData("[\"train\",\"--model\",\"softmax\",\"stray\"]")]            // a stray word
    [InlineData("[\"train\",7]")]                                            // not a string
    [InlineData("{\"train\":1}")]                                            // not an array
    public void Resume_CliArgumentsThatAreNotATrainCommandLine_AreRefusedNotRun(string arguments)
    {
        using var temp = new TempFolder();
        var run = CheckpointRecording(temp, arguments);
        var (code, output, err) = Run("train", "--resume", run);
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Equal("", output);
        Assert.Contains("cli_arguments", err);
        AssertNoStackTrace(err);
    }

    [Fact]
    public void TwoTrainings_IntoOneFolder_TheSecondIsRefusedWhileTheFirstRuns()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        using var first = CliProcess.Start(["train", "--data", SampleDir, "--model", "mlp", "--hidden", "32", "--epochs", "50", "--batch-size", "16",
            "--threads", "1", "--out", run]);
        first.WaitUntil(() => File.Exists(Path.Combine(run, "config.json")));
        Assert.False(first.HasExited, first.Err);
        var (code, _, err) = Run("train", "--data", SampleDir, "--model", "knn", "--k", "1", "--out", run);
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Contains($"is being written by process {first.Id}", err);
        var cv = Run("cv", "--data", SampleDir, "--k", "1", "--folds", "2", "--train-limit", "100", "--out", run, "--force");
        Assert.Equal(CliApp.RuntimeFailure, cv.Code);
        Assert.Contains("is being written by process", cv.Err);
        first.Signal("KILL");
        first.WaitForExit();
        Assert.False(File.Exists(Path.Combine(run, "model.safetensors"))); // nothing else wrote into the folder
    }

    [Fact]
    public void StaleLock_FromADeadProcess_IsTakenOverWithANotice()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        int dead;
        using (var gone = Process.Start("true")!)
        {
            gone.WaitForExit();
            dead = gone.Id;
        }
        var lockPath = temp.Combine(".run.lock");
        File.WriteAllText(lockPath, dead.ToString(CultureInfo.InvariantCulture) + "\n");
        var (code, _, err) = Run("train", "--data", SampleDir, "--model", "knn", "--k", "1", "--train-limit", "100", "--out", run);
        Assert.True(code == 0, err);
        Assert.Contains($"took over the lock of {run} left by process {dead}", err);
        Assert.False(File.Exists(lockPath));
    }

    [Fact]
    public void Train_KnnOrCv_IntoAnExistingRun_IsRefused_UnlessForce_ThenReplacedWhole()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        Assert.Equal(0, Run(Softmax(run)).Code);
        var before = File.ReadAllBytes(Path.Combine(run, "model.safetensors"));
        var knn = Run("train", "--data", SampleDir, "--model", "knn", "--k", "1", "--train-limit", "100", "--out", run);
        Assert.Equal(CliApp.UsageError, knn.Code);
        Assert.Contains("--force", knn.Err);
        var cv = Run("cv", "--data", SampleDir, "--k", "1", "--folds", "2", "--train-limit", "100", "--test", "--out", run);
        Assert.Equal(CliApp.UsageError, cv.Code);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run, "model.safetensors")));

        var forced = Run("train", "--data", SampleDir, "--model", "knn", "--k", "1", "--train-limit", "100", "--out", run, "--force");
        Assert.True(forced.Code == 0, forced.Err);
        Assert.Equal("knn", SharpVision.Models.ModelFile.Load(Path.Combine(run, "model.safetensors")).Kind);
        // Nothing of the softmax run is left beside the new one, and no staging folder beside it.
        Assert.Equal(["config.json", "metrics.json", "model.safetensors", "report.html"], Directory.GetFiles(run).Select(f => Path.GetFileName(f)!).Order().ToArray());
        Assert.Equal(["run"], Directory.GetFileSystemEntries(temp.Path).Select(f => Path.GetFileName(f)!).ToArray());

        var cvForced = Run("cv", "--data", SampleDir, "--k", "1", "--folds", "2", "--train-limit", "100", "--out", run, "--force");
        Assert.True(cvForced.Code == 0, cvForced.Err);
        Assert.False(File.Exists(Path.Combine(run, "model.safetensors"))); // cv without --test writes no model: the k-NN run is gone whole
        var softmaxAgain = Run([.. Softmax(run), "--force"]);
        Assert.True(softmaxAgain.Code == 0, softmaxAgain.Err);
        Assert.Equal("softmax", SharpVision.Models.ModelFile.Load(Path.Combine(run, "model.safetensors")).Kind);
    }

    [Fact]
    public void ParseError_NamesTheExpectedKind_NotADotNetType()
    {
        var (code, _, err) = Run("train", "--train-limit", "abc");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("a whole number", err);
        Assert.DoesNotContain("System.", err);
    }

    [Fact]
    public void TrainLimit_BelowTheClassCount_IsAUsageError()
    {
        var (code, _, err) = Run("train", "--data", SampleDir, "--model", "knn", "--train-limit", "5");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("fewer than the 10 classes", err);
    }

    [Fact]
    public void Warmup_LongerThanTraining_IsAUsageError()
    {
        var (code, _, err) = Run("train", "--data", SampleDir, "--model", "softmax", "--epochs", "2", "--warmup", "1e9");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("must not exceed the 2 epochs", err);
    }

    [Fact]
    public void Out_WhereNoFolderCanBeMade_SaysSo()
    {
        var (code, _, err) = Run("train", "--data", SampleDir, "--model", "knn", "--train-limit", "100", "--out", "/proc/sharpvision-run");
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Contains("/proc/sharpvision-run: cannot write a run folder there", err);
        AssertNoStackTrace(err);
    }

    [Fact]
    public void ClassNamesWithEscapeSequences_AreShownNotSent()
    {
        using var temp = new TempFolder();
        string hostile = "evil\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202e";
        foreach (var name in new[] { "plain", hostile })
        {
            Directory.CreateDirectory(temp.Combine(name));
            for (int i = 0; i < 3; i++)
                SharpVision.Imaging.PngEncoder.Save(TestImages.RandomGray(8, 8, i + name.Length), temp.Combine(name, $"{i}.png"));
        }
        var (code, output, err) = Run("datasets", "info", temp.Path);
        Assert.True(code == 0, err);
        Assert.Contains("evil\\x1B]0;pwned\\x07\\x1B[2J\\x9B31m\\u202E", output);
        Assert.DoesNotContain('\u001b', output + err);
        Assert.DoesNotContain('\u0007', output + err);
    }
}

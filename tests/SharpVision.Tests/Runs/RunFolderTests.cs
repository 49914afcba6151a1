using SharpVision.IO;
using SharpVision.Runs;

namespace SharpVision.Tests.Runs;

/// <summary>The run folder policy in the library: one writer, whole replacement, stale leftovers removed.</summary>
public class RunFolderTests
{
    [Fact]
    public void Lock_RemovesTemporaryFilesAKilledWriteLeft_AndSaysSo()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        Directory.CreateDirectory(run);
        var stale = Path.Combine(run, $".checkpoint.safetensors.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(stale, "torn");
        var keep = Path.Combine(run, ".notes.tmp"); // not an atomic write's name: left alone
        File.WriteAllText(keep, "mine");
        var notices = new List<string>();
        using (RunFolder.Lock(run, notices.Add))
        {
            Assert.False(File.Exists(stale));
            Assert.True(File.Exists(keep));
            Assert.True(File.Exists(RunFolder.LockPath(run)));
        }
        Assert.Contains(notices, n => n.Contains("removed 1 temporary file(s)", StringComparison.Ordinal));
        Assert.False(File.Exists(RunFolder.LockPath(run)));
    }

    [Fact]
    public void Lock_TakenAgainInTheSameProcess_Nests()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        var outer = RunFolder.Lock(run);
        using (RunFolder.Lock(run)) Assert.True(RunFolder.IsHeld(run));
        Assert.True(RunFolder.IsHeld(run));
        outer.Dispose();
        Assert.False(RunFolder.IsHeld(run));
    }

    [Fact]
    public void Write_IntoAnExistingRun_IsRefusedUnlessReplacing_ThenNothingOldIsLeft()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        RunFolder.Write(run, dir => File.WriteAllText(Path.Combine(dir, "a.txt"), "old"));
        Assert.Throws<RunFolderExistsException>(() => RunFolder.Write(run, dir => File.WriteAllText(Path.Combine(dir, "b.txt"), "new")));
        Assert.Equal("old", File.ReadAllText(Path.Combine(run, "a.txt")));
        // A failing fill leaves the old run as it was.
        Assert.Throws<InvalidOperationException>(() => RunFolder.Write(run, _ => throw new InvalidOperationException("boom"), replace: true));
        Assert.Equal("old", File.ReadAllText(Path.Combine(run, "a.txt")));
        RunFolder.Write(run, dir => File.WriteAllText(Path.Combine(dir, "b.txt"), "new"), replace: true);
        Assert.Equal(["b.txt"], Directory.GetFiles(run).Select(f => Path.GetFileName(f)!).ToArray());
        Assert.Equal(["run"], Directory.GetFileSystemEntries(temp.Path).Select(f => Path.GetFileName(f)!).ToArray());
    }

    [Fact]
    public void AtomicFile_TemporaryNames_AreRecognizedExactly()
    {
        Assert.True(AtomicFile.IsTemporaryName($".model.safetensors.{Guid.NewGuid():N}.tmp"));
        Assert.False(AtomicFile.IsTemporaryName("model.safetensors"));
        Assert.False(AtomicFile.IsTemporaryName(".x.tmp"));
        Assert.False(AtomicFile.IsTemporaryName($".model.{Guid.NewGuid():N}X.tmp"));
    }
}

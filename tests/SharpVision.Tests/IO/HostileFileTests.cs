using System.Diagnostics;
using SharpVision.Cli;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.IO;
using SharpVision.Serialization;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.IO;

/// <summary>
/// Issue 14's files that are not files: FIFOs, devices, folders, dangling and looping links, huge files. Every read of
/// an outside file goes through <see cref="BoundedFile"/>, so each is refused by name, at once, without reading.
/// </summary>
public class HostileFileTests
{
    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path])!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    // Runs `read` with a time limit: a reader that blocks on a FIFO fails the test instead of hanging it (and is then
    // released by opening the FIFO for writing, so no thread stays blocked).
    private static Exception? WithinSeconds(Action read, string? fifo = null, int seconds = 20)
    {
        var task = Task.Run(() =>
        {
            try
            {
                read();
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        });
        if (task.Wait(TimeSpan.FromSeconds(seconds))) return task.Result;
        if (fifo is not null) _ = Task.Run(() => { using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write); });
        Assert.Fail($"still reading after {seconds} s (blocked)");
        return null;
    }

    private static void MakeClasses(string root, int perClass = 3)
    {
        foreach (var name in new[] { "a", "b" })
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (int i = 0; i < perClass; i++)
                PngEncoder.Save(TestImages.RandomGray(8, 8, i + (name == "a" ? 0 : 10)), Path.Combine(root, name, $"{i}.png"));
        }
    }

    [Fact]
    public void Fifo_AsImageModelOrClassFile_IsRefusedWithoutHanging()
    {
        using var temp = new TempFolder();
        var fifo = temp.Combine("pipe.png");
        MakeFifo(fifo);
        var e = WithinSeconds(() => ImageDecoder.Load(fifo), fifo);
        Assert.Contains("FIFO", Assert.IsType<DataFormatException>(e).Reason);
        e = WithinSeconds(() => SharpVision.Models.ModelFile.Load(fifo), fifo);
        Assert.Contains("FIFO", Assert.IsType<DataFormatException>(e).Reason);

        var root = temp.Combine("images");
        MakeClasses(root);
        var inside = Path.Combine(root, "a", "zz.png");
        MakeFifo(inside);
        e = WithinSeconds(() => ImageFolderLoader.Load(root, new ImageFolderOptions()), inside);
        Assert.Equal(inside, Assert.IsType<DataFormatException>(e).Path);
        ImageFolderResult? result = null;
        Assert.Null(WithinSeconds(() => result = ImageFolderLoader.Load(root, new ImageFolderOptions(SkipCorrupt: true)), inside));
        Assert.Equal(inside, Assert.Single(result!.Skipped).Path);
        Assert.Equal(6, result.Splits.Train.Count + result.Splits.Test.Count);
    }

    [Fact]
    public void ImageFolder_SymlinkLoopOrDanglingLink_IsNamedOrSkipped()
    {
        using var temp = new TempFolder();
        var root = temp.Path;
        MakeClasses(root);
        var loop = Path.Combine(root, "a", "loop.png");
        File.CreateSymbolicLink(loop, loop);
        var dangling = Path.Combine(root, "b", "gone.png");
        File.CreateSymbolicLink(dangling, Path.Combine(root, "nowhere.png"));

        var e = Assert.Throws<DataFormatException>(() => ImageFolderLoader.Load(root, new ImageFolderOptions()));
        Assert.Contains(e.Path, new[] { loop, dangling });
        Assert.Contains("--skip-corrupt", e.Message);
        var result = ImageFolderLoader.Load(root, new ImageFolderOptions(SkipCorrupt: true));
        Assert.Equal(new[] { loop, dangling }.Order(), result.Skipped.Select(s => s.Path).Order());
        Assert.Contains(result.Skipped, s => s.Path == loop && s.Reason.Contains("loop", StringComparison.Ordinal));
        Assert.Contains(result.Skipped, s => s.Path == dangling && s.Reason.Contains("does not exist", StringComparison.Ordinal));

        // The commands that load folders report it as one line, exit 1 (or skip with --skip-corrupt).
        var (code, _, err) = Run("datasets", "info", root);
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.StartsWith("error: ", err);
        Assert.DoesNotContain("   at ", err);
        var skipped = Run("train", "--dataset", root, "--model", "knn", "--k", "1", "--test-fraction", "0.5", "--skip-corrupt", "--out", temp.Combine("run"));
        Assert.True(skipped.Code == 0, skipped.Err);
        Assert.Contains("skipped 2 unreadable file(s)", skipped.Err);
    }

    [Fact]
    public void Predict_DevZero_IsRefusedAsADevice()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "knn", "--k", "1", "--train-limit", "100", "--out", run).Code);
        var (code, output, err) = Run("predict", "--model", Path.Combine(run, "model.safetensors"), "/dev/zero");
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Equal("", output);
        Assert.Contains("/dev/zero: is a device", err);
        var model = Run("predict", "--model", "/dev/zero", Path.Combine(run, "config.json"));
        Assert.Equal(CliApp.RuntimeFailure, model.Code);
        Assert.Contains("/dev/zero: is a device", model.Err);
    }

    [Fact]
    public void Image_OverTheSizeLimit_NamesThePathAndTheLimit()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("huge.png");
        using (var file = File.Create(path))
        {
            file.Write(TestImages.PngHeaderClaiming(100, 100));
            file.SetLength(3_000_000_000); // sparse
        }
        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Load(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("3,000,000,000 bytes", e.Reason);
        Assert.Contains("allowed for an image", e.Reason);
    }

    [Fact]
    public void Image_AFolderGivenAsAnImage_SaysItIsAFolder()
    {
        using var temp = new TempFolder();
        var (code, _, err) = Run("predict", "--model", temp.Path, temp.Path);
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Contains($"{temp.Path}: is a folder, not a file", err);
        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Load(temp.Path));
        Assert.Equal("is a folder, not a file", e.Reason);
    }
}

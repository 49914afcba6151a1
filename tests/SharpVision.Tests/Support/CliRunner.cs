using SharpVision.Cli;

namespace SharpVision.Tests.Support;

/// <summary>Runs the real command tree in process, capturing stdout and stderr.</summary>
internal static class CliRunner
{
    /// <summary>The shipped Fashion-MNIST sample, copied next to the tests.</summary>
    public static readonly string SampleDir = Path.Combine(AppContext.BaseDirectory, "sample", "fashion-mnist");

    /// <summary>The repository's root: the nearest folder above the test binaries that holds SharpVision.slnx.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SharpVision.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"No SharpVision.slnx above {AppContext.BaseDirectory}.");
    }

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.RunAsync(args, stdout, stderr).GetAwaiter().GetResult();
        return (code, stdout.ToString(), stderr.ToString());
    }
}

using SharpVision.Cli;

namespace SharpVision.Tests.Support;

/// <summary>Runs the real command tree in process, capturing stdout and stderr.</summary>
internal static class CliRunner
{
    /// <summary>The shipped Fashion-MNIST sample, copied next to the tests.</summary>
    public static readonly string SampleDir = Path.Combine(AppContext.BaseDirectory, "sample", "fashion-mnist");

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.RunAsync(args, stdout, stderr).GetAwaiter().GetResult();
        return (code, stdout.ToString(), stderr.ToString());
    }
}

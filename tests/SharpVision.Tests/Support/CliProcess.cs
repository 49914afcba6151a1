using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SharpVision.Tests.Support;

/// <summary>The real `sharpvision` as a child process (for signals and concurrent runs), its output captured.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();

    private CliProcess(Process process) => Process = process;

    public Process Process { get; }

    public int Id => Process.Id;

    /// <summary>Starts `dotnet SharpVision.Cli.dll ARGS` from the test's output folder.</summary>
    public static CliProcess Start(params string[] args) => StartWith(new Dictionary<string, string>(), args);

    /// <summary>As <see cref="Start"/>, with <paramref name="environment"/> added to the child's environment.</summary>
    public static CliProcess StartWith(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment) info.Environment[name] = value;
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SharpVision.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        var child = new CliProcess(Process.Start(info)!);
        child.Process.OutputDataReceived += (_, e) => { lock (child._out) if (e.Data is not null) child._out.AppendLine(e.Data); };
        child.Process.ErrorDataReceived += (_, e) => { lock (child._err) if (e.Data is not null) child._err.AppendLine(e.Data); };
        child.Process.BeginOutputReadLine();
        child.Process.BeginErrorReadLine();
        return child;
    }

    public string Out
    {
        get { lock (_out) return _out.ToString(); }
    }

    public string Err
    {
        get { lock (_err) return _err.ToString(); }
    }

    public bool HasExited => Process.HasExited;

    /// <summary>Sends a signal by name ("TERM", "INT", "KILL").</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, Id.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    /// <summary>Waits for the exit and returns the exit code; fails the test after <paramref name="timeoutMs"/>.</summary>
    public int WaitForExit(int timeoutMs = 120_000)
    {
        Assert.True(Process.WaitForExit(timeoutMs), $"the child did not exit within {timeoutMs} ms; stderr: {Err}");
        Process.WaitForExit(); // drains the output readers
        return Process.ExitCode;
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the child exits; fails after <paramref name="timeoutMs"/>.</summary>
    public void WaitUntil(Func<bool> condition, int timeoutMs = 120_000)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && !Process.HasExited)
        {
            Assert.True(clock.ElapsedMilliseconds < timeoutMs, $"timed out; stderr: {Err}");
            Thread.Sleep(5);
        }
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            Process.WaitForExit();
        }
        Process.Dispose();
    }
}

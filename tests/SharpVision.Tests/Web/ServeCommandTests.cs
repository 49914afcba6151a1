using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Web;

/// <summary>`sharpvision serve` itself: its usage errors, and a real process that serves, takes SIGTERM and exits 0.</summary>
public partial class ServeCommandTests
{
    [Fact]
    public void Serve_WithoutModel_IsAUsageError()
    {
        var (code, _, err) = Run("serve");
        Assert.Equal(2, code);
        Assert.Contains("--model", err);
    }

    [Fact]
    public void Serve_BatchSizeZero_IsAUsageErrorNamingTheFlag()
    {
        using var folder = new TestModelFolder();
        var (code, _, err) = Run("serve", "--model", folder.Path, "--max-batch-size", "0");
        Assert.Equal(2, code);
        Assert.Contains("--max-batch-size: The batch size must be 1-4096.", err);
    }

    [Fact]
    public void Serve_TwoModelsWithOneName_IsAUsageError()
    {
        using var folder = new TestModelFolder();
        var (code, _, err) = Run("serve", "--model", $"a={folder.Path}", "--model", $"a={folder.Path}");
        Assert.Equal(2, code);
        Assert.Contains("--model: Model name 'a' is given twice.", err);
    }

    [Fact]
    public void Serve_MissingModelFile_FailsNamingIt()
    {
        using var temp = new TempFolder();
        var missing = temp.Combine("none.safetensors");
        var (code, _, err) = Run("serve", "--model", missing, "--port", "0");
        Assert.Equal(1, code);
        Assert.Contains(missing, err);
    }

    [Fact]
    public void Serve_HelpExplainsEndpointsLimitsAndExamples()
    {
        var (code, output, _) = Run("serve", "--help");
        Assert.Equal(0, code);
        foreach (var text in new[] { "POST /v1/models/NAME/predict", "--max-batch-wait-ms", "--queue-length", "--max-body-size", "--timeout-ms", "503", "Examples:", "SIGTERM" })
            Assert.Contains(text, output);
    }

    [Fact]
    public async Task ServeProcess_AnswersThenTakesSigterm_AndExitsZero()
    {
        using var folder = new TestModelFolder();
        var cli = Path.Combine(AppContext.BaseDirectory, "SharpVision.Cli.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { cli, "serve", "--model", folder.Path, "--port", "0", "--threads", "2", "--reload-interval-ms", "0" }) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stderr = new System.Text.StringBuilder();
        var url = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            if (ServingLine().Match(e.Data) is { Success: true } m) url.TrySetResult(m.Groups[1].Value);
        };
        process.BeginErrorReadLine();
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        try
        {
            string address;
            try
            {
                address = await url.Task.WaitAsync(TimeSpan.FromSeconds(90));
            }
            catch (TimeoutException)
            {
                lock (stderr) Assert.Fail($"serve printed no 'serving ... at URL' line within 90 s (exited: {process.HasExited}); its stderr:\n{stderr}");
                throw;
            }
            using var client = new HttpClient { BaseAddress = new Uri(address) };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
            var answer = await client.PostAsync("/predict", TestService.Raw(TestModelFolder.Png(1), name: "one.png"));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Contains("\"path\":\"one.png\"", await answer.Content.ReadAsStringAsync());

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Assert.True(process.WaitForExit(30_000), "serve did not stop within 30 s of SIGTERM");
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            string log;
            lock (stderr) log = stderr.ToString();
            Assert.Contains("\"event\":\"stopping\"", log);
            Assert.Contains("\"event\":\"stopped\"", log);
            Assert.Contains("\"path\":\"/predict\"", log);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [GeneratedRegex(@"^serving .* at (http://\S+) ")]
    private static partial Regex ServingLine();
}

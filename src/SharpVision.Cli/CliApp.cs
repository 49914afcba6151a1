using SharpVision.IO;
using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using SharpVision.Cli.Commands;
using SharpVision.Data;

namespace SharpVision.Cli;

/// <summary>A wrong flag value or combination: exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The `sharpvision` command tree, and the one place that maps failures to messages and exit codes.</summary>
public static class CliApp
{
    public const int Success = 0;
    public const int RuntimeFailure = 1;
    public const int UsageError = 2;

    /// <summary>Stopped by Ctrl-C (SIGINT): 128 + 2, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>Stopped by SIGTERM (kill, systemd, docker stop): 128 + 15, as shells report it.</summary>
    public const int Terminated = 143;

    /// <summary>What --help says about exit codes.</summary>
    internal const string ExitCodesHelp = "Exit codes: 0 success, 1 runtime failure (bad file, missing data, I/O error), 2 usage error (a flag or combination), " +
        "130 interrupted (Ctrl-C, SIGINT), 143 terminated (SIGTERM). On Ctrl-C or SIGTERM, training writes a checkpoint first and says how to --resume; " +
        "a second Ctrl-C stops at once.";

    /// <summary>Runs the command line; results go to <paramref name="stdout"/>, progress and errors to <paramref name="stderr"/>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var console = new CliConsole(stdout, stderr);
        (stdout, stderr) = (console.Out, console.Error); // every line below shows control characters instead of sending them
        // A plain command named for the tool rather than RootCommand, whose name is the entry assembly's ("SharpVision.Cli").
        var root = new Command("sharpvision", "SharpVision: image classification for .NET, from k-nearest neighbours up.\n\nExamples:\n  sharpvision ladder --dataset fashion-mnist      (kNN → linear → HOG → MLP → CNN, compared in one report)\n  sharpvision train --dataset fashion-mnist --model knn --k 5 --metric l1\n  sharpvision cv --dataset fashion-mnist --k 1,3,5,7,9 --metric l1,l2 --folds 5 --train-limit 10000\n  sharpvision predict --model runs/latest/model.safetensors shirt.png\n  sharpvision report runs/latest      (the run's report.html: curves, confusion matrix, mistakes, what the model learned)\n  sharpvision serve --model runs/latest/model.safetensors      (a web page and an HTTP API with batching and metrics)\n\n" + ExitCodesHelp);
        root.Options.Add(new System.CommandLine.Help.HelpOption());
        root.Options.Add(new VersionOption());
        root.Subcommands.Add(DatasetsCommand.Create(console));
        root.Subcommands.Add(TrainCommand.Create(console));
        var grid = new CvGrid();
        root.Subcommands.Add(CvCommand.Create(console, grid));
        root.Subcommands.Add(EvaluateCommand.Create(console));
        root.Subcommands.Add(PredictCommand.Create(console));
        root.Subcommands.Add(ExportCommand.Create(console));
        root.Subcommands.Add(ExportCommand.CreateImport(console));
        root.Subcommands.Add(TemplatesCommand.Create(console));
        root.Subcommands.Add(FeaturesCommand.Create(console));
        root.Subcommands.Add(EmbedCommand.Create(console));
        root.Subcommands.Add(ReportCommand.Create(console));
        root.Subcommands.Add(LadderCommand.Create(console));
        root.Subcommands.Add(ServeCommand.Create(console));

        try
        {
            args = grid.Extract(ResumeArguments.ExpandResume(args));
        }
        catch (Exception e) when (Describe(e) is { } failure)
        {
            stderr.WriteLine($"error: {failure.Message}");
            return failure.ExitCode;
        }
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) stderr.WriteLine($"error: {FriendlyTypeNames(error.Message)}");
            stderr.WriteLine("Run 'sharpvision --help' (or the command with --help) for usage.");
            return UsageError;
        }
        // SIGINT and SIGTERM cancel the command's token (training checkpoints, then stops); a second one ends the
        // process at once. System.CommandLine's own handling is off: it would force an exit after two seconds.
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        int signalExitCode = 0;
        void OnSignal(PosixSignalContext context)
        {
            if (Interlocked.CompareExchange(ref signalExitCode, context.Signal == PosixSignal.SIGTERM ? Terminated : Interrupted, 0) != 0) return;
            context.Cancel = true;
            try
            {
                interrupt.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The command has just finished.
            }
        }
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
                Output = stdout,
                Error = stderr,
            }, interrupt.Token);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            int code = signalExitCode == 0 ? Interrupted : signalExitCode;
            stderr.WriteLine(code == Terminated ? "terminated" : "interrupted");
            return code;
        }
        catch (Exception e) when (Describe(e) is { } failure)
        {
            stderr.WriteLine($"error: {failure.Message}");
            return failure.ExitCode;
        }
    }

    // System.CommandLine names the option's .NET type ("System.Nullable`1[System.Int32]"); users want "a whole number".
    private static string FriendlyTypeNames(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"as expected type '([^']+)'\.?", m => "as " + FriendlyTypeName(m.Groups[1].Value) + ".");

    private static string FriendlyTypeName(string type)
    {
        var inner = System.Text.RegularExpressions.Regex.Match(type, @"^System\.Nullable`1\[(.+)\]$");
        if (inner.Success) type = inner.Groups[1].Value;
        return type switch
        {
            "System.Int32" or "System.Int64" or "System.Int16" => "a whole number",
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.Boolean" => "true or false",
            _ when type.EndsWith("[]", StringComparison.Ordinal) => "a list",
            _ => "a value of the expected kind",
        };
    }

    // Known failures become one clear line; anything else is a bug and keeps its stack trace.
    private static (string Message, int ExitCode)? Describe(Exception e) => e switch
    {
        UsageException or SharpVision.Runs.RunFolderExistsException => (e.Message, UsageError),
        ModelSetupException m => (ModelFlags.FlagMessage(m), UsageError),
        DataFormatException or DatasetNotFoundException => (e.Message, RuntimeFailure),
        SharpVision.Training.TrainingDivergedException => ($"training diverged: {e.Message}", RuntimeFailure),
        FileNotFoundException f => (f.Message.Contains(f.FileName ?? "\0") ? f.Message : $"{f.FileName}: file not found", RuntimeFailure),
        DirectoryNotFoundException or UnauthorizedAccessException or IOException => (e.Message, RuntimeFailure),
        HttpRequestException h => (h.StatusCode is HttpStatusCode code ? $"{h.Message} ({(int)code})" : h.Message, RuntimeFailure),
        _ => null,
    };
}

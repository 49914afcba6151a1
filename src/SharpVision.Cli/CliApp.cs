using SharpVision.IO;
using System.CommandLine;
using System.Net;
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
    public const int Interrupted = 130;

    /// <summary>Runs the command line; results go to <paramref name="stdout"/>, progress and errors to <paramref name="stderr"/>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var console = new CliConsole(stdout, stderr);
        // A plain command named for the tool rather than RootCommand, whose name is the entry assembly's ("SharpVision.Cli").
        var root = new Command("sharpvision", "SharpVision: image classification for .NET, from k-nearest neighbours up.\n\nExamples:\n  sharpvision ladder --dataset fashion-mnist      (kNN → linear → HOG → MLP → CNN, compared in one report)\n  sharpvision train --dataset fashion-mnist --model knn --k 5 --metric l1\n  sharpvision cv --dataset fashion-mnist --k 1,3,5,7,9 --metric l1,l2 --folds 5 --train-limit 10000\n  sharpvision predict --model runs/latest/model.safetensors shirt.png\n  sharpvision report runs/latest      (the run's report.html: curves, confusion matrix, mistakes, what the model learned)");
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
            foreach (var error in parse.Errors) stderr.WriteLine($"error: {error.Message}");
            stderr.WriteLine("Run 'sharpvision --help' (or the command with --help) for usage.");
            return UsageError;
        }
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = stdout, Error = stderr }, interrupt.Token);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            stderr.WriteLine("interrupted");
            return Interrupted;
        }
        catch (Exception e) when (Describe(e) is { } failure)
        {
            stderr.WriteLine($"error: {failure.Message}");
            return failure.ExitCode;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    // Known failures become one clear line; anything else is a bug and keeps its stack trace.
    private static (string Message, int ExitCode)? Describe(Exception e) => e switch
    {
        UsageException => (e.Message, UsageError),
        ModelSetupException m => (ModelFlags.FlagMessage(m), UsageError),
        DataFormatException or DatasetNotFoundException => (e.Message, RuntimeFailure),
        SharpVision.Training.TrainingDivergedException => ($"training diverged: {e.Message}", RuntimeFailure),
        FileNotFoundException f => (f.Message.Contains(f.FileName ?? "\0") ? f.Message : $"{f.FileName}: file not found", RuntimeFailure),
        DirectoryNotFoundException or UnauthorizedAccessException or IOException => (e.Message, RuntimeFailure),
        HttpRequestException h => (h.StatusCode is HttpStatusCode code ? $"{h.Message} ({(int)code})" : h.Message, RuntimeFailure),
        _ => null,
    };
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace SharpVision.Cli;

/// <summary>
/// Where output goes: results to stdout, everything else to stderr; progress bars only when stderr is a terminal.
/// Both go through <see cref="NeutralizingWriter"/>: text from files (class names, paths, messages quoting a header)
/// never reaches the terminal as control characters or escape sequences.
/// </summary>
public sealed class CliConsole(TextWriter stdout, TextWriter stderr)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly TextWriter _rawOut = stdout;
    private readonly TextWriter _rawError = stderr;

    public TextWriter Out { get; } = NeutralizingWriter.Wrap(stdout);
    public TextWriter Error { get; } = NeutralizingWriter.Wrap(stderr);

    /// <summary>True when stderr is an interactive terminal (and we are writing to the real console).</summary>
    public bool Interactive => ReferenceEquals(_rawError, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>True when stdout is a terminal (tables may then use its width and colors).</summary>
    public bool OutIsTerminal => ReferenceEquals(_rawOut, Console.Out) && !Console.IsOutputRedirected;

    /// <summary>A progress/log line on stderr.</summary>
    public void Log(string message) => Error.WriteLine(message);

    /// <summary>Prints the one JSON document of a --json run.</summary>
    public void Json(JsonNode document) => Out.WriteLine(document.ToJsonString(Indented));

    /// <summary>Runs <paramref name="work"/> with a progress bar on stderr when interactive, plain log lines otherwise.</summary>
    public async Task ProgressAsync(string description, Func<IProgress<(long Done, long? Total)>, Task> work)
    {
        if (!Interactive)
        {
            Log(description + " ...");
            await work(new Progress<(long, long?)>(_ => { }));
            return;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description));
                await work(new SynchronousProgress(p =>
                {
                    if (p.Total is long total && total > 0) task.MaxValue = total;
                    task.Value = p.Done;
                }));
                task.Value = task.MaxValue;
            });
    }

    /// <summary>
    /// Runs synchronous step-wise work with a bar on stderr when interactive (the work reports (done, total, label));
    /// without a terminal it runs silently and the work logs its own milestones.
    /// </summary>
    public T Steps<T>(string description, Func<Action<long, long, string>, T> work)
    {
        if (!Interactive) return work((_, _, _) => { });
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description));
                result = work((done, total, label) =>
                {
                    task.MaxValue = Math.Max(1, total);
                    task.Value = done;
                    task.Description = Markup.Escape(label);
                });
            });
        return result;
    }

    private sealed class SynchronousProgress(Action<(long Done, long? Total)> report) : IProgress<(long Done, long? Total)>
    {
        public void Report((long Done, long? Total) value) => report(value);
    }
}

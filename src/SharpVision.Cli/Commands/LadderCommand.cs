using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using SharpVision.Reports;
using SharpVision.Runs;
using SharpVision.Tensors;
using Spectre.Console;
using Markup = Spectre.Console.Markup;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision ladder`: the lectures' ladder of classifiers on one dataset, under one time budget.</summary>
internal static partial class LadderCommand
{
    /// <summary>The longest budget accepted.</summary>
    public static readonly TimeSpan MaxBudget = TimeSpan.FromDays(7);

    public static Command Create(CliConsole console)
    {
        var data = new DataOptions();
        var budget = new Option<string>("--budget") { Description = "Time for the whole ladder, data loading included: e.g. 20m, 90s, 1h30m, 1.5h. Cheap rungs get what they need (each capped at a share); the CNN gets the rest", DefaultValueFactory = _ => "20m" };
        var output = new Option<string?>("--out") { Description = "Folder for the rungs' run folders, ladder.json and ladder.html; must be new or empty (default: runs/<time>-ladder-<dataset>)" };
        var seed = new Option<int>("--seed") { Description = "Seed for the validation split and every rung's training", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Worker threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (ladder.json's content) instead of the table" };
        var rungs = new Option<string?>("--rungs") { Description = $"Only these rungs, comma-separated (default: all, in this order): {string.Join(", ", Ladder.RungNames)}" };
        var command = new Command("ladder",
            "Run the lectures' ladder on one dataset: (1) k-NN on pixels, (2) a linear SVM and (3) softmax on pixels, (4) HOG (+ a color histogram " +
            "for color images) with a linear SVM, (5) an MLP, (6) the default CNN. Each rung picks its hyperparameters from a small grid by accuracy " +
            "on a stratified validation split of the training set, is refitted on the whole training set (the CNN keeps its model), and is " +
            "evaluated once on the test split. Writes one run folder per rung (like train's), ladder.json and a self-contained ladder.html.\n\n" +
            "Examples:\n  sharpvision ladder --dataset fashion-mnist\n  sharpvision ladder --dataset fashion-mnist --budget 30m --out runs/ladder\n" +
            "  sharpvision ladder --dataset cifar-10 --budget 1h --json\n  sharpvision ladder --data data/sample --budget 2m --rungs knn,svm,softmax,hog-svm");
        data.AddTo(command);
        var force = new Option<bool>("--force") { Description = "Replace --out if it is not empty (everything in it is removed first)" };
        foreach (var option in new Option[] { budget, output, force, seed, threads, json, rungs }) command.Options.Add(option);
        command.SetAction(async (parse, token) =>
        {
            var clock = Stopwatch.StartNew();
            var total = ParseBudget(parse.GetValue(budget)!);
            int seedValue = parse.GetValue(seed), threadCount = parse.GetValue(threads);
            if (threadCount is < 1 or > 1024) throw new UsageException($"--threads must be between 1 and 1024, got {threadCount}.");
            var selected = ParseRungs(parse.GetValue(rungs));
            var explicitOut = parse.GetValue(output);
            bool replace = parse.GetValue(force);
            if (explicitOut is not null && !replace) RefuseNonEmpty(explicitOut);

            var (splits, location) = await data.LoadAsync(parse, console, seedValue, null, token);
            var directory = Path.GetFullPath(explicitOut ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-ladder-{location.Name}"));
            using var hold = RunFolder.Lock(directory, console.Log);
            if (replace) RunFolder.Clear(directory, replace: true);
            else RefuseNonEmpty(directory);

            LadderResult result;
            Ladder? ladder = null;
            try
            {
                result = new FitDisplay(console, indent: "  ").Run("ladder", events =>
                {
                    ladder = new Ladder(new LadderOptions(total, seedValue, threadCount, selected)) { Log = console.Log, Events = events };
                    return ladder.Run(splits, location, directory, clock.Elapsed, token);
                });
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                console.Log($"ladder interrupted during the {ladder?.CurrentRung ?? "last"} rung, which leaves no folder; " +
                            (ladder is null || ladder.Finished.Count == 0 ? "no rung had finished." : $"the {ladder.Finished.Count} finished rung(s) ({string.Join(", ", ladder.Finished.Select(r => r.Name))}) are in {directory}; no ladder.json was written."));
                throw;
            }

            if (parse.GetValue(json)) console.Json(result.Document);
            else PrintTable(console, result);
            return CliApp.Success;
        });
        return command;
    }

    [GeneratedRegex(@"^(?:(\d+(?:\.\d+)?)(h|m|s))+$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    /// <summary>Parses a duration such as 20m, 90s, 1h30m or 1.5h.</summary>
    /// <exception cref="UsageException">Not a duration, not positive, or longer than <see cref="MaxBudget"/>; the message names --budget.</exception>
    public static TimeSpan ParseBudget(string text)
    {
        var trimmed = text.Trim().ToLowerInvariant();
        var match = DurationPattern().Match(trimmed);
        if (!match.Success)
            throw new UsageException(trimmed.StartsWith('-') && DurationPattern().IsMatch(trimmed[1..])
                ? $"--budget must be positive; got '{text}'."
                : $"--budget must be a duration with units, like 20m, 90s, 1h30m or 1.5h; got '{text}'.");
        double seconds = 0;
        for (int i = 0; i < match.Groups[1].Captures.Count; i++)
        {
            double value = double.Parse(match.Groups[1].Captures[i].Value, CultureInfo.InvariantCulture);
            seconds += value * match.Groups[2].Captures[i].Value switch { "h" => 3600, "m" => 60, _ => 1 };
        }
        if (!(seconds > 0)) throw new UsageException($"--budget must be positive; got '{text}'.");
        if (!(seconds <= MaxBudget.TotalSeconds)) throw new UsageException($"--budget must be at most {MaxBudget.TotalHours:0}h; got '{text}'.");
        return TimeSpan.FromSeconds(seconds);
    }

    private static string[]? ParseRungs(string? text)
    {
        if (text is null) return null;
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => n.ToLowerInvariant()).Distinct().ToArray();
        if (names.Length == 0) throw new UsageException($"--rungs needs at least one of {string.Join(", ", Ladder.RungNames)}.");
        foreach (var name in names)
            if (!Ladder.RungNames.Contains(name)) throw new UsageException($"--rungs: unknown rung '{name}' (known: {string.Join(", ", Ladder.RungNames)}).");
        return names;
    }

    private static void RefuseNonEmpty(string directory)
    {
        if (File.Exists(directory)) throw new UsageException($"--out {Path.GetFullPath(directory)} is a file; the ladder needs a new or empty folder.");
        if (RunFolder.IsNonEmpty(directory))
            throw new UsageException($"--out {Path.GetFullPath(directory)} already exists and is not empty; choose a new folder, or pass --force to replace it (the ladder does not mix its runs with other files).");
    }

    private static void PrintTable(CliConsole console, LadderResult result)
    {
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(console.Out),
            Ansi = console.OutIsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = console.OutIsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!console.OutIsTerminal) ansi.Profile.Width = 160;
        var dataset = result.Document["dataset"]!;
        ansi.WriteLine($"ladder on {result.Location.Name}{(result.Location.IsSample ? " [shipped sample]" : "")}: {(int)dataset["train_count"]!:N0} train ({(int)result.Document["validation"]!["validation_count"]!:N0} held out for validation) / {(int)dataset["test_count"]!:N0} test");
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var (header, right) in new[] { ("#", true), ("rung", false), ("chosen", false), ("val acc", true), ("test acc", true), ("train", true), ("predict/img", true), ("model", true), ("params", true) })
        {
            var column = new TableColumn(header);
            table.AddColumn(right ? column.RightAligned() : column);
        }
        for (int i = 0; i < result.Rungs.Count; i++)
        {
            var r = result.Rungs[i];
            table.AddRow(
                (i + 1).ToString(CultureInfo.InvariantCulture),
                Markup.Escape(r.Title + (r.CutShort ? " (cut short)" : "")),
                Markup.Escape(r.HyperparameterText),
                r.ValidationAccuracy?.ToString("P2", CultureInfo.InvariantCulture) ?? "—",
                r.TestAccuracy.ToString("P2", CultureInfo.InvariantCulture),
                Markup.Escape(Ladder.Duration(TimeSpan.FromSeconds(r.TrainSeconds))),
                Markup.Escape(LadderPage.Micro(r.PredictMicrosecondsPerImage)),
                Markup.Escape(LadderPage.Bytes(r.ModelBytes)),
                r.ParameterCount.ToString("N0", CultureInfo.InvariantCulture));
        }
        ansi.Write(table);
        foreach (var r in result.Rungs)
            foreach (var note in r.Notes.Where(Ladder.IsBudgetNote)) ansi.WriteLine($"{r.Name}: {note}");
        ansi.WriteLine($"total {Ladder.Duration(result.Total)} of a {Ladder.Duration(result.Budget)} budget");
        ansi.WriteLine($"ladder folder: {result.Directory} (ladder.json, ladder.html, one run folder per rung)");
    }
}

using SharpVision.IO;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Serialization;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;
using SharpVision.Runs;
using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision train --model svm|softmax|logistic|mlp`: gradient training with checkpoints and resume.</summary>
internal static class NetworkTraining
{
    /// <summary>Metadata key of the normalized command line stored in checkpoints (what --resume replays).</summary>
    public const string ArgumentsKey = "cli_arguments";

    public static async Task<int> RunAsync(CliConsole console, ParseResult parse, DataOptions data, TrainingFlags training, NetworkOptions net, FeatureOptions featureOptions, string kind, CancellationToken token)
    {
        var total = Stopwatch.StartNew();
        int seed = parse.GetValue(training.Seed);
        int threads = training.GetThreads(parse);
        bool json = parse.GetValue(training.Json);
        Engine.Threads = threads;
        var recipe = net.Recipe(parse, training, kind, seed);
        var resumeDir = parse.GetValue(net.Resume);
        if (resumeDir is not null && parse.GetValue(net.Solver)?.ToLowerInvariant() == "dual")
            throw new UsageException("--resume: the dual solver writes no checkpoints (a fit takes seconds); train again instead.");
        Checkpoint? checkpoint = null;
        if (resumeDir is not null)
        {
            var path = Path.Combine(resumeDir, Checkpoint.FileName);
            if (!File.Exists(path)) throw new UsageException($"--resume {resumeDir}: no {Checkpoint.FileName} there (nothing to resume).");
            checkpoint = Checkpoint.Load(path);
            if (checkpoint.Options != recipe) throw new UsageException($"--resume {resumeDir}: the checkpoint was written with another recipe; resume with `sharpvision train --resume DIR` alone.");
        }

        var load = Stopwatch.StartNew();
        var (splits, location) = await data.LoadAsync(parse, console, seed, null, token);
        if (net.ClassSelection(parse, splits.Train.ClassNames) is { } selection)
            splits = splits with { Train = splits.Train.SelectClasses(selection), Test = splits.Test.SelectClasses(selection) };
        if (kind == "logistic" && splits.Train.ClassNames.Count != 2)
            throw new UsageException($"--model logistic separates two classes: pass --classes A,B (e.g. --classes 0,6 for {splits.Train.ClassNames[0]} vs {splits.Train.ClassNames[Math.Min(6, splits.Train.ClassNames.Count - 1)]}).");
        double validationFraction = net.Validation(parse, recipe, kind);
        var solver = net.SolverName(parse, kind);
        if (solver == "dual") net.RejectGradientFlags(parse, training);
        var dual = solver == "dual" ? net.DualOptions(parse) : null;
        if (dual is { CValues.Count: > 1 } && validationFraction == 0)
            throw new UsageException("--c with several values chooses among them on the validation split: keep --validation-fraction above 0, or give one value.");
        var spec = new NetworkSpec(kind, net.Normalization(parse, kind), kind == "mlp" ? net.HiddenSizes(parse) : null,
            kind == "mlp" ? net.ActivationKind(parse) : Nn.ActivationKind.Relu, kind == "mlp" ? net.DropoutProbability(parse) : 0, FeaturePipelineOf(parse, featureOptions, kind), solver);
        var runDir = Path.GetFullPath(resumeDir ?? parse.GetValue(training.Out) ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-{kind}-{location.Name}"));
        // Held for the run's life; taking it removes temporary files a killed run left (a checkpoint torn mid-write).
        using var hold = RunFolder.Lock(runDir, console.Log);
        if (checkpoint is null)
        {
            if (RunFolder.IsNonEmpty(runDir) && !parse.GetValue(training.Force))
                throw new UsageException($"{runDir} already holds a run; choose another --out, continue it with --resume {runDir}, or pass --force to replace it.");
            RunFolder.Clear(runDir, replace: true);
        }
        load.Stop();
        var options = new NetworkRunOptions(spec, recipe, validationFraction, net.FlipAveraging(parse, kind), threads, Resume: checkpoint,
            CheckpointMetadata: new Dictionary<string, string> { [ArgumentsKey] = ReplayArguments(parse) }, Dataset: data.RunJson(parse, splits, location),
            UseFeatureCache: featureOptions.Cache(parse) is not null, Dual: dual);
        var run = PrepareRun(options, splits, location, runDir, load.Elapsed, token);
        if (run.Inputs.Features is { } features) console.Log($"features {features.Pipeline.CanonicalConfig}: {features.Length} per image ({(options.UseFeatureCache ? $"cache {new FeatureCache().Directory}" : "no cache")})");
        console.Log(run.Description);
        var result = spec.UsesDualSolver ? TrainDualWithProgress(console, run, token) : TrainWithProgress(console, run, token);
        if (result.StoppedEarly) console.Log($"early stopping: no validation improvement for {recipe.Patience} epochs; keeping epoch {result.BestEpoch}'s weights");
        var outcome = run.Finish();
        total.Stop();

        var resultJson = outcome.Document;
        var reportPath = RunReports.WriteAfterRun(console, run.RunDirectory, threads, outcome.Model, splits.Test, outcome.Predictions);
        if (reportPath is not null) resultJson["report"] = reportPath;
        if (json)
        {
            console.Json(resultJson);
        }
        else
        {
            var (model, report, fit, predict) = (outcome.Model, outcome.Test, outcome.Fit, outcome.Predict);
            double epochSeconds = result.Epochs.Count == 0 ? 0 : result.Epochs.Average(e => e.Seconds);
            var train = run.Inputs.Preparation;
            console.Out.WriteLine($"dataset: {location.Name} ({location.Origin}: {location.Directory}){(location.IsSample ? " [shipped sample]" : "")}, {run.TrainCount:N0} train{(run.ValidationCount == 0 ? "" : $" / {run.ValidationCount:N0} validation")} / {splits.Test.Count:N0} test, {train.Channels}×{train.Height}×{train.Width}");
            console.Out.WriteLine($"model:   {kind} ({ModelStore.LossName(model.Loss)} loss, {model.Network.ParameterCount():N0} parameters, preprocess {Normalizer.Name(spec.Normalization)}; {RunJson.NetworkBackendDescription(model.Network)}, {threads} threads)");
            var fitDetail = spec.UsesDualSolver ? "dual coordinate descent" : string.Create(CultureInfo.InvariantCulture,
                $"{result.Epochs.Count} epochs, {epochSeconds:F2} s/epoch, {run.TrainCount / Math.Max(epochSeconds, 1e-9):N0} images/s");
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"time:    fit {fit.TotalSeconds:F2} s ({fitDetail}), predict {predict.TotalSeconds:F2} s, total {total.Elapsed.TotalSeconds:F2} s"));
            console.Out.WriteLine();
            console.Out.Write(Reporting.MetricsText("test", report));
            console.Out.WriteLine();
            console.Out.WriteLine($"run folder: {run.RunDirectory}");
            if (reportPath is not null) console.Out.WriteLine($"report:     {reportPath}");
        }
        return CliApp.Success;
    }

    /// <summary>Prepares a network run, turning settings that do not fit the data into usage errors that name the flag.</summary>
    public static NetworkRun PrepareRun(NetworkRunOptions options, DatasetSplits splits, DatasetLocation location, string runDir, TimeSpan loading, CancellationToken token)
    {
        try
        {
            return NetworkRun.Prepare(options, splits, location, runDir, loading, token);
        }
        catch (RunSetupException e)
        {
            throw new UsageException(e.Setting == "features" ? $"--features: {e.Message}" : e.Message);
        }
    }

    /// <summary>Trains with a progress bar (on a terminal) and a log line per epoch; on Ctrl-C says where the checkpoint is.</summary>
    /// <param name="console">Where the bar and the lines go.</param>
    /// <param name="run">A prepared run.</param>
    /// <param name="token">Ctrl-C.</param>
    /// <param name="timeLimit">Stop training after this long (the ladder's budget).</param>
    /// <param name="resumable">Say how to resume after Ctrl-C (the ladder removes an interrupted rung instead).</param>
    /// <param name="epochLines">Log a line per epoch (with <paramref name="indent"/> before it).</param>
    /// <param name="indent">Prefix of the epoch lines.</param>
    public static TrainingResult TrainWithProgress(CliConsole console, NetworkRun run, CancellationToken token, TimeSpan? timeLimit = null, bool resumable = true,
        bool epochLines = true, string indent = "")
    {
        var recipe = run.Options.Recipe;
        try
        {
            return console.Steps($"training {run.Options.Spec.Kind}", report => run.Train(
                s => report((long)s.Epoch * s.StepsPerEpoch + s.Step + 1, (long)s.Epochs * s.StepsPerEpoch,
                    string.Create(CultureInfo.InvariantCulture, $"epoch {s.Epoch + 1}/{s.Epochs} loss {s.Loss:F4}")),
                m => { if (epochLines) console.Log(indent + EpochLine(m, recipe.Epochs, run.TrainCount)); },
                timeLimit, token));
        }
        catch (OperationCanceledException) when (resumable)
        {
            console.Log($"checkpoint saved in {run.RunDirectory}; continue with: sharpvision train --resume {run.RunDirectory}");
            throw;
        }
    }

    /// <summary>Fits a dual-solver run with a progress bar (one step per class and value of C) and a line per candidate C.</summary>
    public static TrainingResult TrainDualWithProgress(CliConsole console, NetworkRun run, CancellationToken token, string indent = "")
    {
        var outcome = console.Steps("training svm (dual coordinate descent)", report => run.TrainDual((done, total, what) => report(done, total, what), token));
        foreach (var k in outcome.Candidates)
            console.Log(indent + string.Create(CultureInfo.InvariantCulture,
                $"C {k.C:G4}: validation accuracy {k.ValidationAccuracy:P2}, {k.Seconds:F2} s, up to {k.Passes} passes{(k.Converged ? "" : " (pass limit reached)")}"));
        console.Log(indent + string.Create(CultureInfo.InvariantCulture,
            $"C {outcome.C:G4}{(outcome.Refit ? $" chosen, refitted on {outcome.Examples:N0} examples" : "")}: train accuracy {outcome.TrainAccuracy:P2}, up to {outcome.Passes.Max()} passes, {outcome.SupportVectors.Average():N0} support vectors per class, {outcome.Seconds:F2} s{(outcome.Converged ? "" : "; the pass limit stopped some classes before the tolerance")}"));
        return run.TrainingResult!;
    }

    private static FeaturePipeline? FeaturePipelineOf(ParseResult parse, FeatureOptions features, string kind)
    {
        if (features.Pipeline(parse) is not { } pipeline) return null;
        if (kind is not ("svm" or "softmax" or "logistic" or "mlp")) throw new UsageException($"--features works with knn, svm, softmax, logistic and mlp, not {kind}.");
        return pipeline;
    }

    private static string EpochLine(EpochMetrics m, int epochs, int images)
    {
        var validation = m.ValidationAccuracy is double va ? FormattableString.Invariant($", val loss {m.ValidationLoss:F4} acc {va:P2}") : "";
        return FormattableString.Invariant($"epoch {m.Epoch}/{epochs}: train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2}{validation}, lr {m.LearningRate:G3}, {m.Seconds:F2} s ({images / Math.Max(m.Seconds, 1e-9):N0} images/s)");
    }

    // The command line as --resume replays it: absolute --data, without --resume/--out/--threads/--json (given anew).
    private static string ReplayArguments(ParseResult parse)
    {
        var tokens = parse.Tokens.Select(t => t.Value).ToList();
        var kept = new JsonArray();
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t is "--resume" or "--out" or "--threads") { i++; continue; }
            if (t is "--json" or "--force") continue;
            if (t == "--data" && i + 1 < tokens.Count)
            {
                kept.Add("--data");
                kept.Add(Path.GetFullPath(tokens[++i]));
                continue;
            }
            kept.Add(t);
        }
        return kept.ToJsonString();
    }

    // Flags a recorded command line may not hold: --resume gives them anew, and help/version would not train.
    private static readonly HashSet<string> NotRecorded = new(StringComparer.Ordinal) { "--resume", "--out", "--threads", "--json", "--force", "--help", "-h", "-?", "--version" };

    /// <summary>
    /// The checkpoint's recorded command line, checked as data: a JSON array of strings that starts with "train" and
    /// holds only train's own flags, each followed by its value where it takes one. Nothing else (another command, an
    /// unknown flag, a response file "@FILE", a stray word) is ever handed to the parser.
    /// </summary>
    /// <exception cref="DataFormatException">The metadata is not such an array (named with the checkpoint's path).</exception>
    internal static List<string> RecordedArguments(string path, string recorded)
    {
        JsonArray array;
        try
        {
            array = JsonNode.Parse(recorded) as JsonArray ?? throw new DataFormatException(path, $"'{ArgumentsKey}' is not a JSON array");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new DataFormatException(path, $"'{ArgumentsKey}' is not valid JSON ({e.Message})", e);
        }
        var tokens = new List<string>(array.Count);
        foreach (var node in array)
        {
            if (node is not JsonValue value || !value.TryGetValue<string>(out var token))
                throw new DataFormatException(path, $"'{ArgumentsKey}' holds {node?.ToJsonString() ?? "null"}, not a string");
            tokens.Add(token);
        }
        if (tokens.Count == 0 || tokens[0] != "train")
            throw new DataFormatException(path, $"'{ArgumentsKey}' does not record a `train` command line");
        var options = TrainCommand.Create(new CliConsole(TextWriter.Null, TextWriter.Null)).Options
            .SelectMany(o => o.Aliases.Append(o.Name).Select(name => (Name: name, Option: o)))
            .Where(o => !NotRecorded.Contains(o.Name)).ToDictionary(o => o.Name, o => o.Option, StringComparer.Ordinal);
        for (int i = 1; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token.StartsWith('@')) throw new DataFormatException(path, $"'{ArgumentsKey}' holds a response-file reference '{Shorten(token)}'");
            if (!options.TryGetValue(token, out var option))
                throw new DataFormatException(path, $"'{ArgumentsKey}' holds '{Shorten(token)}', which is not a flag of `train` {(NotRecorded.Contains(token) ? "that a checkpoint records" : "")}".TrimEnd());
            bool flag = option.Arity.MinimumNumberOfValues == 0;
            bool hasValue = i + 1 < tokens.Count && (!flag || tokens[i + 1] is "true" or "false");
            if (!flag && !hasValue) throw new DataFormatException(path, $"'{ArgumentsKey}': {token} has no value");
            if (!hasValue) continue;
            var value = tokens[++i];
            if (value.StartsWith('@')) throw new DataFormatException(path, $"'{ArgumentsKey}' holds a response-file reference '{Shorten(value)}'");
        }
        return tokens;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>
    /// Expands `train --resume DIR [--threads N] [--json]` into the checkpoint's recorded command line, so the resumed
    /// run rebuilds exactly the same data, model and recipe. Other flags next to --resume are a usage error.
    /// </summary>
    public static string[] ExpandResume(string[] args)
    {
        if (args.Length == 0 || args[0] != "train" || !args.Contains("--resume")) return args;
        string? dir = null, threads = null;
        bool json = false;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--resume" when i + 1 < args.Length: dir = args[++i]; break;
                case "--threads" when i + 1 < args.Length: threads = args[++i]; break;
                case "--json": json = true; break;
                default: throw new UsageException($"with --resume the recipe comes from the checkpoint; only --threads and --json may be given (got '{args[i]}').");
            }
        }
        if (dir is null) throw new UsageException("--resume needs a run folder.");
        var path = Path.Combine(dir, Checkpoint.FileName);
        if (!File.Exists(path)) throw new UsageException($"--resume {dir}: no {Checkpoint.FileName} there (nothing to resume).");
        var checkpoint = Checkpoint.Load(path);
        if (!checkpoint.Metadata.TryGetValue(ArgumentsKey, out var recorded))
            throw new DataFormatException(path, $"the checkpoint does not record its command line ('{ArgumentsKey}')");
        var expanded = RecordedArguments(path, recorded);
        expanded.AddRange(["--resume", dir, "--out", dir]);
        if (threads is not null) expanded.AddRange(["--threads", threads]);
        if (json) expanded.Add("--json");
        return expanded.ToArray();
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using SharpVision.IO;
using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary>How `train --resume DIR` rebuilds a run: the checkpoint records the command line that made it.</summary>
internal static class ResumeArguments
{
    /// <summary>Metadata key of the normalized command line stored in checkpoints (what --resume replays).</summary>
    public const string Key = "cli_arguments";

    // The command line as --resume replays it: absolute --data, without --resume/--out/--threads/--json (given anew).
    public static string Replay(ParseResult parse)
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
        if (!checkpoint.Metadata.TryGetValue(Key, out var recorded))
            throw new DataFormatException(path, $"the checkpoint does not record its command line ('{Key}')");
        var expanded = Recorded(path, recorded);
        expanded.AddRange(["--resume", dir, "--out", dir]);
        if (threads is not null) expanded.AddRange(["--threads", threads]);
        if (json) expanded.Add("--json");
        return expanded.ToArray();
    }

    // Flags a recorded command line may not hold: --resume gives them anew, and help/version would not train.
    private static readonly HashSet<string> NotRecorded = new(StringComparer.Ordinal) { "--resume", "--out", "--threads", "--json", "--force", "--help", "-h", "-?", "--version" };

    /// <summary>
    /// The checkpoint's recorded command line, checked as data: a JSON array of strings that starts with "train" and
    /// holds only train's own flags, each followed by its value where it takes one. Nothing else (another command, an
    /// unknown flag, a response file "@FILE", a stray word) is ever handed to the parser.
    /// </summary>
    /// <exception cref="DataFormatException">The metadata is not such an array (named with the checkpoint's path).</exception>
    internal static List<string> Recorded(string path, string recorded)
    {
        JsonArray array;
        try
        {
            array = JsonNode.Parse(recorded) as JsonArray ?? throw new DataFormatException(path, $"'{Key}' is not a JSON array");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new DataFormatException(path, $"'{Key}' is not valid JSON ({e.Message})", e);
        }
        var tokens = new List<string>(array.Count);
        foreach (var node in array)
        {
            if (node is not JsonValue value || !value.TryGetValue<string>(out var token))
                throw new DataFormatException(path, $"'{Key}' holds {node?.ToJsonString() ?? "null"}, not a string");
            tokens.Add(token);
        }
        if (tokens.Count == 0 || tokens[0] != "train")
            throw new DataFormatException(path, $"'{Key}' does not record a `train` command line");
        var options = TrainCommand.Create(new CliConsole(TextWriter.Null, TextWriter.Null)).Options
            .SelectMany(o => o.Aliases.Append(o.Name).Select(name => (Name: name, Option: o)))
            .Where(o => !NotRecorded.Contains(o.Name)).ToDictionary(o => o.Name, o => o.Option, StringComparer.Ordinal);
        for (int i = 1; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token.StartsWith('@')) throw new DataFormatException(path, $"'{Key}' holds a response-file reference '{Shorten(token)}'");
            if (!options.TryGetValue(token, out var option))
                throw new DataFormatException(path, $"'{Key}' holds '{Shorten(token)}', which is not a flag of `train`{(NotRecorded.Contains(token) ? " that a checkpoint records" : "")}");
            bool flag = option.Arity.MinimumNumberOfValues == 0;
            bool hasValue = i + 1 < tokens.Count && (!flag || tokens[i + 1] is "true" or "false");
            if (!flag && !hasValue) throw new DataFormatException(path, $"'{Key}': {token} has no value");
            if (!hasValue) continue;
            var value = tokens[++i];
            if (value.StartsWith('@')) throw new DataFormatException(path, $"'{Key}' holds a response-file reference '{Shorten(value)}'");
        }
        return tokens;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

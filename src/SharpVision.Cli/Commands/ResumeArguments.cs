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
            if (t == "--json") continue;
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
        if (!checkpoint.Metadata.TryGetValue(Key, out var recorded) || JsonNode.Parse(recorded) is not JsonArray array)
            throw new DataFormatException(path, $"the checkpoint does not record its command line ('{Key}')");
        var expanded = array.Select(n => (string)n!).ToList();
        expanded.AddRange(["--resume", dir, "--out", dir]);
        if (threads is not null) expanded.AddRange(["--threads", threads]);
        if (json) expanded.Add("--json");
        return expanded.ToArray();
    }
}

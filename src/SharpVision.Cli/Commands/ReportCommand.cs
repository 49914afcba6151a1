using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.IO;
using SharpVision.Reports;
using SharpVision.Runs;
using SharpVision.Serialization;
using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision report RUN_DIR`: (re)writes a run folder's self-contained report.html.</summary>
internal static class ReportCommand
{
    public static Command Create(CliConsole console)
    {
        var runDir = new Argument<string>("RUN_DIR") { Description = "A run folder written by `train` or `cv`, or a ladder folder (`ladder`)" };
        var all = new Option<bool>("--all") { Description = "Ladder folders: also rewrite every rung's report.html (ladder.html alone otherwise)" };
        var data = new Option<string?>("--data") { Description = "Folder holding the dataset's files, when it is no longer where config.json says" };
        var output = new Option<string?>("--out") { Description = "Where to write the report (default: RUN_DIR/report.html)" };
        var threads = new Option<int>("--threads") { Description = "Worker threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (the report's path and size)" };
        var command = new Command("report", "Write a run folder's report.html: training curves per step and per epoch, learning rate, confusion matrix, per-class precision/recall, " +
            "the most confused pairs and misclassified images, k-NN neighbours, linear templates or CNN filters and feature maps, cross-validation curves. " +
            "One self-contained file (inline SVG, images as data: URIs) that opens offline. Loads the model and the dataset recorded in config.json.\n\n" +
            "Given a ladder folder (it holds ladder.json), rewrites its ladder.html from ladder.json, and with --all every rung's " +
            "report.html too.\n\n" +
            "Examples:\n  sharpvision report runs/knn-l1\n  sharpvision report runs/cnn2 --data /mnt/datasets/fashion-mnist --out /tmp/cnn2.html\n" +
            "  sharpvision report runs/ladder --all      (ladder.html and each rung's report.html)");
        command.Arguments.Add(runDir);
        command.Options.Add(all);
        command.Options.Add(data);
        command.Options.Add(output);
        command.Options.Add(threads);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            int threadCount = parse.GetValue(threads);
            if (threadCount < 1 || threadCount > 1024) throw new UsageException($"--threads must be between 1 and 1024, got {threadCount}.");
            var dir = Path.GetFullPath(parse.GetValue(runDir)!);
            if (RunReports.IsLadder(dir))
            {
                if (parse.GetValue(output) is not null)
                    throw new UsageException("--out applies to a run folder's report; ladder.html is rewritten in its ladder folder, " +
                                             "beside the rung folders it links.");
                var pages = RunReports.WriteLadder(dir, threadCount, parse.GetValue(data), parse.GetValue(all));
                if (parse.GetValue(json))
                    console.Json(new JsonObject
                    {
                        ["command"] = "report", ["ladder_dir"] = dir, ["reports"] = new JsonArray(pages.Select(p => (JsonNode)p).ToArray()),
                    });
                else
                    foreach (var page in pages) console.Out.WriteLine(page);
                return CliApp.Success;
            }
            if (parse.GetValue(all)) throw new UsageException($"--all applies to ladder folders; {dir} holds no ladder.json.");
            var path = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(dir, RunReports.FileName));
            var input = RunReports.Load(dir, threadCount, parse.GetValue(data));
            var html = RunReports.Write(path, input);
            if (parse.GetValue(json))
                console.Json(new JsonObject { ["command"] = "report", ["run_dir"] = dir, ["report"] = path, ["bytes"] = System.Text.Encoding.UTF8.GetByteCount(html) });
            else
                console.Out.WriteLine(path);
            return CliApp.Success;
        });
        return command;
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Data.Download;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision datasets list|info|fetch`.</summary>
internal static class DatasetsCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("datasets", "List, inspect and download datasets.\n\nExamples:\n  sharpvision datasets list\n  sharpvision datasets info fashion-mnist\n  sharpvision datasets fetch cifar-10");
        command.Subcommands.Add(List(console));
        command.Subcommands.Add(Info(console));
        command.Subcommands.Add(Fetch(console));
        return command;
    }

    private static Command List(CliConsole console)
    {
        var data = new Option<string?>("--data") { Description = "Also look in this folder" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var command = new Command("list", "Known datasets and where each one was found (search order: --data, $SHARPVISION_DATA, system locations, " +
            "cache, shipped sample), then the samples shipped with SharpVision (a 2,000/500 Fashion-MNIST sample), listed whether or not " +
            "the full set is installed.");
        command.Options.Add(data);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var locator = new DatasetLocator(parse.GetValue(data));
            var items = new JsonArray();
            foreach (var known in KnownDatasets.All)
            {
                DatasetLocation? found = null;
                try { found = locator.Locate(known.Name); } catch (DatasetNotFoundException) { }
                items.Add(new JsonObject
                {
                    ["name"] = known.Name,
                    ["description"] = known.Description,
                    ["found"] = found is not null,
                    ["path"] = found?.Directory,
                    ["origin"] = found?.Origin,
                    ["is_sample"] = found?.IsSample ?? false,
                });
            }
            // The shipped samples, listed even when the full set is installed (then they are used only when named by path).
            var samples = new JsonArray();
            foreach (var known in KnownDatasets.All)
            {
                if (locator.ShippedSample(known) is not { } sample) continue;
                var splits = DatasetLoader.Load(sample);
                samples.Add(new JsonObject
                {
                    ["name"] = known.Name,
                    ["path"] = sample.Directory,
                    ["train_count"] = splits.Train.Count,
                    ["test_count"] = splits.Test.Count,
                    ["used_by_default"] = items.Any(i => (string?)i!["name"] == known.Name && (bool)i["is_sample"]!),
                });
            }
            if (parse.GetValue(json))
            {
                console.Json(new JsonObject { ["datasets"] = items, ["shipped_samples"] = samples, ["cache"] = locator.CacheDirectory });
                return CliApp.Success;
            }
            foreach (var item in items)
            {
                var where = (bool)item!["found"]! ? $"{item["path"]} ({item["origin"]}{((bool)item["is_sample"]! ? ", small sample" : "")})" : "not found: `sharpvision datasets fetch " + item["name"] + "`";
                console.Out.WriteLine($"{(string)item["name"]!,-14} {where}");
                console.Out.WriteLine($"{"",-14} {item["description"]}");
            }
            foreach (var sample in samples)
                console.Out.WriteLine($"{(string)sample!["name"]!,-14} shipped sample: {sample["path"]} " +
                    $"({(int)sample["train_count"]!:N0} train / {(int)sample["test_count"]!:N0} test images; " +
                    ((bool)sample["used_by_default"]! ? "used because the full set was not found)"
                        : $"the full set above is used by default; for the sample pass --data {sample["path"]})"));
            console.Out.WriteLine($"cache: {locator.CacheDirectory}");
            return CliApp.Success;
        });
        return command;
    }

    private static Command Info(CliConsole console)
    {
        var name = new Argument<string>("dataset") { Description = "A known dataset name or a folder", DefaultValueFactory = _ => "fashion-mnist" };
        var data = new Option<string?>("--data") { Description = "Folder holding the dataset's files" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var command = new Command("info", "Load a dataset (validating every file) and print its splits, image shape and class counts.");
        command.Arguments.Add(name);
        command.Options.Add(data);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var location = new DatasetLocator(parse.GetValue(data)).Locate(parse.GetValue(name)!);
            var splits = DatasetLoader.Load(location);
            var trainCounts = splits.Train.ClassCounts();
            var testCounts = splits.Test.ClassCounts();
            if (parse.GetValue(json))
            {
                var classes = new JsonArray();
                for (int c = 0; c < splits.Train.ClassNames.Count; c++)
                    classes.Add(new JsonObject { ["index"] = c, ["name"] = splits.Train.ClassNames[c], ["train"] = trainCounts[c], ["test"] = testCounts[c] });
                var doc = Reporting.DatasetJson(splits, location);
                doc["classes"] = classes;
                console.Json(doc);
                return CliApp.Success;
            }
            var o = console.Out;
            o.WriteLine($"{location.Name}: {location.Format} files in {location.Directory} ({location.Origin}){(location.IsSample ? " [shipped sample]" : "")}");
            o.WriteLine($"images: {splits.Train.Channels}×{splits.Train.Height}×{splits.Train.Width} (C×H×W), {splits.Train.Count:N0} train, {splits.Test.Count:N0} test");
            o.WriteLine();
            int width = Math.Max(5, splits.Train.ClassNames.Max(n => n.Length));
            o.WriteLine($"  #  {"class".PadRight(width)}   train    test");
            for (int c = 0; c < splits.Train.ClassNames.Count; c++)
                o.WriteLine($"{c,3}  {splits.Train.ClassNames[c].PadRight(width)} {trainCounts[c],7:N0} {testCounts[c],7:N0}");
            return CliApp.Success;
        });
        return command;
    }

    private static Command Fetch(CliConsole console)
    {
        var name = new Argument<string>("dataset") { Description = $"One of: {string.Join(", ", DatasetSources.All.Select(s => s.Name))}" };
        var target = new Option<string?>("--data") { Description = "Download into this folder instead of the cache" };
        var command = new Command("fetch", "Download a dataset from its official URL, verify its published checksum, and unpack it safely (into the cache unless --data is given).");
        command.Arguments.Add(name);
        command.Options.Add(target);
        command.SetAction(async (parse, token) =>
        {
            var source = DatasetSources.Find(parse.GetValue(name)!)
                ?? throw new UsageException($"unknown dataset '{parse.GetValue(name)}' (known: {string.Join(", ", DatasetSources.All.Select(s => s.Name))}).");
            var locator = new DatasetLocator();
            var directory = Path.GetFullPath(parse.GetValue(target) ?? Path.Combine(locator.CacheDirectory, source.Name));
            await FetchAsync(console, source, directory, token);
            console.Out.WriteLine($"{source.Name}: ready in {directory}");
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>Downloads with a progress bar on stderr (plain lines when not a terminal).</summary>
    public static async Task FetchAsync(CliConsole console, DatasetSource source, string directory, CancellationToken token)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("SharpVision/0.1");
        var fetcher = new DatasetFetcher(http);
        await console.ProgressAsync($"downloading {source.Name} to {directory}", async progress =>
        {
            long done = 0;
            var perFile = new Dictionary<string, long>();
            long? total = null;
            await fetcher.FetchAsync(source, directory, new InlineProgress(p =>
            {
                perFile[p.FileName] = p.BytesReceived;
                done = perFile.Values.Sum();
                if (p.TotalBytes is long t && !perFile.ContainsKey(p.FileName + "\0total"))
                {
                    perFile[p.FileName + "\0total"] = 0;
                    total = (total ?? 0) + t;
                }
                progress.Report((done, total));
            }), token);
        });
    }

    private sealed class InlineProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}

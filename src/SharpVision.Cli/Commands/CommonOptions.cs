using System.CommandLine;
using System.Globalization;
using SharpVision.Data;
using SharpVision.Data.Download;
using SharpVision.Runs;

namespace SharpVision.Cli.Commands;

/// <summary>Flags shared by the commands that read a dataset.</summary>
internal sealed class DataOptions
{
    public Option<string> Dataset { get; } = new("--dataset") { Description = "A known dataset (fashion-mnist, mnist, cifar-10, cifar-100) or a folder (IDX files, CIFAR batches, or one subfolder of images per class)", DefaultValueFactory = _ => "fashion-mnist" };
    public Option<string?> Data { get; } = new("--data") { Description = "Folder holding the dataset's files (overrides $SHARPVISION_DATA, system locations and the cache)" };
    public Option<bool> Download { get; } = new("--download") { Description = "Download a known dataset (with checksum) when it is not found locally" };
    public Option<int?> TrainLimit { get; } = new("--train-limit") { Description = "Use only N training images (a seeded stratified subset)" };
    public Option<double> TestFraction { get; } = new("--test-fraction") { Description = "Image folders without train/ and test/: share held out for testing (stratified)", DefaultValueFactory = _ => 0.2 };
    public Option<string?> ImageSize { get; } = new("--image-size") { Description = "Image folders: resize every image to HxW (default: the most common size)" };
    public Option<string> Color { get; } = new("--color") { Description = "Image folders: gray, rgb, or auto (gray when every image is gray)", DefaultValueFactory = _ => "auto" };
    public Option<bool> SkipCorrupt { get; } = new("--skip-corrupt") { Description = "Image folders: skip unreadable files (and report how many) instead of failing" };

    public void AddTo(Command command, bool withTrainLimit = true)
    {
        command.Options.Add(Dataset);
        command.Options.Add(Data);
        command.Options.Add(Download);
        if (withTrainLimit) command.Options.Add(TrainLimit);
        command.Options.Add(TestFraction);
        command.Options.Add(ImageSize);
        command.Options.Add(Color);
        command.Options.Add(SkipCorrupt);
    }

    /// <summary>Finds and loads the dataset, with notices on stderr (sample fallback, skipped files).</summary>
    public async Task<(DatasetSplits Splits, DatasetLocation Location)> LoadAsync(
        ParseResult parse, CliConsole console, int seed, ImagePreparation? forcedPreparation, CancellationToken cancellationToken)
    {
        var name = parse.GetValue(Dataset)!;
        var locator = new DatasetLocator(parse.GetValue(Data));
        DatasetLocation location;
        try
        {
            location = locator.Locate(name);
        }
        catch (DatasetNotFoundException) when (parse.GetValue(Download) && DatasetSources.Find(name) is { } source)
        {
            var target = Path.Combine(locator.CacheDirectory, source.Name);
            await DatasetsCommand.FetchAsync(console, source, target, cancellationToken);
            location = locator.Locate(name);
        }
        if (location.IsSample)
            console.Log($"notice: the full {location.Name} dataset was not found; using the small sample shipped with SharpVision ({location.Directory}). " +
                        "Install Debian's dataset-fashion-mnist, run `sharpvision datasets fetch fashion-mnist`, or pass --data DIR for the full set.");

        DatasetSplits splits;
        if (location.Format == "folder")
        {
            var options = FolderOptions(parse, seed, forcedPreparation);
            var result = ImageFolderLoader.Load(location.Directory, options);
            if (result.Skipped.Count > 0)
            {
                console.Log($"skipped {result.Skipped.Count} unreadable file(s):");
                foreach (var (path, reason) in result.Skipped.Take(10)) console.Log($"  {path}: {reason}");
            }
            if (result.Resized > 0) console.Log($"resized {result.Resized} image(s) to {result.Splits.Train.Height}×{result.Splits.Train.Width}");
            splits = result.Splits;
        }
        else
        {
            splits = DatasetLoader.Load(location);
        }
        if (parse.GetValue(TrainLimit) is int limit)
        {
            if (limit < 1) throw new UsageException("--train-limit must be at least 1.");
            int classes = splits.Train.ClassCounts().Count(c => c > 0);
            if (limit < classes && limit < splits.Train.Count)
                throw new UsageException($"--train-limit {limit} is fewer than the {classes} classes of the training split; the subset is stratified and keeps at least one image per class, so use at least {classes}.");
            int available = splits.Train.Count;
            splits = splits with { Train = splits.Train.Take(limit, seed) };
            if (splits.Train.Count != Math.Min(limit, available))
                console.Log($"notice: --train-limit {limit}: the stratified subset holds {splits.Train.Count} images (each class's share is rounded)");
        }
        return (splits, location);
    }

    /// <summary>The dataset's entry of config.json: where it was found and, for image folders, how it was split (what `report` reloads).</summary>
    public System.Text.Json.Nodes.JsonObject RunJson(ParseResult parse, DatasetSplits splits, DatasetLocation location)
    {
        var json = Reporting.DatasetJson(splits, location);
        if (location.Format == "folder")
        {
            json["test_fraction"] = parse.GetValue(TestFraction);
            json["skip_corrupt"] = parse.GetValue(SkipCorrupt);
        }
        return json;
    }

    private ImageFolderOptions FolderOptions(ParseResult parse, int seed, ImagePreparation? forced)
    {
        double fraction = parse.GetValue(TestFraction);
        if (!(fraction > 0 && fraction < 1)) throw new UsageException($"--test-fraction must be between 0 and 1 (exclusive), got {fraction.ToString(CultureInfo.InvariantCulture)}.");
        int? channels = parse.GetValue(Color)?.ToLowerInvariant() switch
        {
            "auto" => null,
            "gray" or "grey" => 1,
            "rgb" or "color" => 3,
            var other => throw new UsageException($"--color must be gray, rgb or auto, got '{other}'."),
        };
        int? height = null, width = null;
        if (parse.GetValue(ImageSize) is { } size)
        {
            var parts = size.ToLowerInvariant().Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], out int h) || !int.TryParse(parts[1], out int w) || h < 1 || w < 1 || h > 4096 || w > 4096)
                throw new UsageException($"--image-size must look like 32x32 (HxW, 1..4096), got '{size}'.");
            (height, width) = (h, w);
        }
        if (forced is not null) (channels, height, width) = (forced.Channels, forced.Height, forced.Width);
        return new ImageFolderOptions(channels, height, width, fraction, seed, parse.GetValue(SkipCorrupt));
    }
}

/// <summary>Flags every training command shares (some models ignore some of them, and say so).</summary>
internal sealed class TrainingFlags
{
    public Option<int?> Epochs { get; } = new("--epochs") { Description = "Passes over the training data (gradient-trained models)" };
    public Option<int?> BatchSize { get; } = new("--batch-size") { Description = "Minibatch size (gradient-trained models)" };
    public Option<double?> LearningRate { get; } = new("--lr") { Description = "Learning rate (gradient-trained models)" };
    public Option<int> Seed { get; } = new("--seed") { Description = "Seed for every random choice (splits, subsets, shuffling)", DefaultValueFactory = _ => 0 };
    public Option<int> Threads { get; } = new("--threads") { Description = "Worker threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
    public Option<string?> Out { get; } = new("--out") { Description = "Run folder for config, metrics and model (default: runs/<time>-<model>-<dataset>)" };
    public Option<bool> Json { get; } = new("--json") { Description = "Print one JSON document with the results instead of tables" };
    public Option<bool> Force { get; } = new("--force") { Description = "Replace the run folder --out if it already holds a run (the old run is removed whole; without --force an existing run is never touched)" };

    public void AddTo(Command command, bool withOut = true)
    {
        command.Options.Add(Epochs);
        command.Options.Add(BatchSize);
        command.Options.Add(LearningRate);
        command.Options.Add(Seed);
        command.Options.Add(Threads);
        if (withOut)
        {
            command.Options.Add(Out);
            command.Options.Add(Force);
        }
        command.Options.Add(Json);
    }

    public int GetThreads(ParseResult parse)
    {
        int threads = parse.GetValue(Threads);
        if (threads < 1 || threads > 1024) throw new UsageException($"--threads must be between 1 and 1024, got {threads}.");
        return threads;
    }

    /// <summary>
    /// Takes <paramref name="runDir"/>'s lock for the command's life (see <see cref="RunFolder"/>) and refuses a folder
    /// that already holds a run unless --force was given (an existing run is then replaced whole when the run is written).
    /// </summary>
    /// <exception cref="RunFolderInUseException">Another process is writing it.</exception>
    /// <exception cref="RunFolderExistsException">It holds a run and --force was not given.</exception>
    public IDisposable HoldRunFolder(ParseResult parse, CliConsole console, string runDir)
    {
        var hold = RunFolder.Lock(runDir, console.Log);
        if (!parse.GetValue(Force) && RunFolder.IsNonEmpty(runDir))
        {
            hold.Dispose();
            throw new RunFolderExistsException(Path.GetFullPath(runDir));
        }
        return hold;
    }

    /// <summary>Tells the user which shared flags this model does not use.</summary>
    public void WarnUnused(ParseResult parse, CliConsole console, string model)
    {
        foreach (var (name, given) in new[] { ("--epochs", parse.GetValue(Epochs) is not null), ("--batch-size", parse.GetValue(BatchSize) is not null), ("--lr", parse.GetValue(LearningRate) is not null) })
            if (given) console.Log($"warning: {name} has no effect on --model {model} (it has no gradient training)");
    }
}

using SharpVision.IO;
using SharpVision.Imaging;

namespace SharpVision.Data;

/// <summary>Options for loading a folder of images.</summary>
/// <param name="Channels">1 or 3; null chooses 1 when every image is gray, else 3.</param>
/// <param name="Height">Target height; null uses the most common image size (ties: the larger area).</param>
/// <param name="Width">Target width; set together with <paramref name="Height"/>.</param>
/// <param name="TestFraction">For the one-tree layout (ROOT/&lt;class&gt;): the stratified share held out as test.</param>
/// <param name="Seed">Seed of that split.</param>
/// <param name="SkipCorrupt">Skip (and count) files that fail to decode instead of failing.</param>
/// <param name="MaxPixels">Images whose header claims more pixels are refused before decoding.</param>
public sealed record ImageFolderOptions(
    int? Channels = null, int? Height = null, int? Width = null, double TestFraction = 0.2, int Seed = 0,
    bool SkipCorrupt = false, long MaxPixels = ImageDecoder.DefaultMaxPixels);

/// <summary>What loading a folder did besides producing the data.</summary>
/// <param name="Splits">The train and test sets.</param>
/// <param name="Skipped">Files skipped under <see cref="ImageFolderOptions.SkipCorrupt"/>, with the reason.</param>
/// <param name="Resized">How many images were resized to the common size.</param>
public sealed record ImageFolderResult(DatasetSplits Splits, IReadOnlyList<(string Path, string Reason)> Skipped, int Resized);

/// <summary>
/// Loads <c>ROOT/train/&lt;class&gt;/*</c> + <c>ROOT/test/&lt;class&gt;/*</c>, or <c>ROOT/&lt;class&gt;/*</c> with a seeded
/// stratified test split. Classes are the subfolder names in ordinal order; hidden files (".*") are ignored; every other
/// file must be a PNG, JPEG, GIF, BMP or WebP (read by content, whatever its name).
/// </summary>
public static class ImageFolderLoader
{
    /// <exception cref="DataFormatException">
    /// An empty class folder, or an undecodable or unreadable file (unless skipped): not a regular file (FIFO, device,
    /// dangling or looping link), too large, permission denied.
    /// </exception>
    public static ImageFolderResult Load(string root, ImageFolderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if ((options.Height is null) != (options.Width is null))
            throw new ArgumentException("Height and width are given together.", nameof(options));
        if (options.Channels is not (null or 1 or 3))
            throw new ArgumentOutOfRangeException(nameof(options), options.Channels, "Channels must be 1 or 3.");
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: folder not found.");

        var trainRoot = Path.Combine(root, "train");
        var testRoot = Path.Combine(root, "test");
        bool presplit = Directory.Exists(trainRoot) && Directory.Exists(testRoot);
        var classNames = (presplit ? ClassFolders(trainRoot).Concat(ClassFolders(testRoot)) : ClassFolders(root))
            .Distinct().Order(StringComparer.Ordinal).ToArray();
        if (classNames.Length == 0) throw new DataFormatException(root, "no class subfolders found");

        var files = new List<(string Path, int Label, bool IsTest)>();
        void Collect(string tree, bool isTest)
        {
            for (int c = 0; c < classNames.Length; c++)
            {
                var dir = Path.Combine(tree, classNames[c]);
                if (!Directory.Exists(dir)) continue;
                var images = Directory.EnumerateFiles(dir).Where(f => !Path.GetFileName(f).StartsWith('.'))
                    .Order(StringComparer.Ordinal).ToList();
                if (images.Count == 0) throw new DataFormatException(dir, $"class folder '{classNames[c]}' holds no images");
                files.AddRange(images.Select(f => (f, c, isTest)));
            }
        }
        if (presplit)
        {
            Collect(trainRoot, false);
            Collect(testRoot, true);
        }
        else
        {
            Collect(root, false);
        }

        // Decode in parallel; order is kept by index so results don't depend on scheduling.
        var decoded = new Image?[files.Count];
        var errors = new string?[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            try
            {
                decoded[i] = ImageDecoder.Load(files[i].Path, options.MaxPixels);
            }
            catch (DataFormatException e)
            {
                errors[i] = e.Reason;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Vanished, unreadable (permissions) or otherwise failing files are reported like corrupt ones, by name.
                errors[i] = $"cannot be read ({e.Message.Replace(files[i].Path + ": ", "", StringComparison.Ordinal).TrimEnd('.')})";
            }
        });
        var skipped = new List<(string, string)>();
        for (int i = 0; i < files.Count; i++)
        {
            if (errors[i] is null) continue;
            if (!options.SkipCorrupt)
                throw new DataFormatException(files[i].Path, errors[i]! + " (use --skip-corrupt to skip such files)");
            skipped.Add((files[i].Path, errors[i]!));
        }
        var kept = Enumerable.Range(0, files.Count).Where(i => decoded[i] is not null).ToArray();
        if (kept.Length == 0) throw new DataFormatException(root, "no readable images");
        for (int c = 0; c < classNames.Length; c++)
            if (!kept.Any(i => files[i].Label == c))
                throw new DataFormatException(Path.Combine(presplit ? trainRoot : root, classNames[c]), $"class '{classNames[c]}' has no readable images");

        int channels = options.Channels ?? (kept.All(i => decoded[i]!.Channels == 1) ? 1 : 3);
        var (height, width) = options.Height is int h ? (h, options.Width!.Value) : MostCommonSize(kept.Select(i => decoded[i]!));
        var preparation = new ImagePreparation(channels, height, width);
        int sampleSize = channels * height * width;
        var pixels = new byte[(long)kept.Length * sampleSize];
        var labels = new int[kept.Length];
        int resized = 0;
        Parallel.For(0, kept.Length, j =>
        {
            var image = decoded[kept[j]]!;
            if (image.Width != width || image.Height != height) Interlocked.Increment(ref resized);
            preparation.Prepare(image).CopyTo(pixels.AsSpan(j * sampleSize, sampleSize));
            labels[j] = files[kept[j]].Label;
        });
        var all = new ImageDataset(Path.GetFileName(Path.GetFullPath(root).TrimEnd('/')), channels, height, width, pixels, labels, classNames);

        int[] trainIdx, testIdx;
        if (presplit)
        {
            trainIdx = Enumerable.Range(0, kept.Length).Where(j => !files[kept[j]].IsTest).ToArray();
            testIdx = Enumerable.Range(0, kept.Length).Where(j => files[kept[j]].IsTest).ToArray();
        }
        else
        {
            (testIdx, trainIdx) = Splits.StratifiedSplit(labels, options.TestFraction, options.Seed);
        }
        var splits = new DatasetSplits(all.Subset(trainIdx, all.Name + "/train"), all.Subset(testIdx, all.Name + "/test"), Path.GetFullPath(root), "folder");
        return new ImageFolderResult(splits, skipped, resized);
    }

    private static IEnumerable<string> ClassFolders(string dir) =>
        Directory.EnumerateDirectories(dir).Select(Path.GetFileName).Where(n => n is not null && !n.StartsWith('.')).Select(n => n!);

    private static (int Height, int Width) MostCommonSize(IEnumerable<Image> images) =>
        images.GroupBy(i => (i.Height, i.Width))
            .OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key.Height * g.Key.Width).ThenBy(g => g.Key.Height)
            .First().Key;
}

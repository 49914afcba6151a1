using SharpVision.IO;
namespace SharpVision.Data;

/// <summary>Loads a located dataset into train/test <see cref="ImageDataset"/>s, validating every file on the way.</summary>
public static class DatasetLoader
{
    /// <summary>
    /// Finds a dataset by name or folder with a default <see cref="DatasetLocator"/> and loads it. For
    /// <c>"fashion-mnist"</c> that is the full set where it is installed (<c>$SHARPVISION_DATA</c>, Debian's
    /// dataset-fashion-mnist, the cache) and else the 2,000/500-image sample shipped with SharpVision
    /// (<see cref="DatasetSplits.IsSample"/> says which).
    /// </summary>
    /// <example><code>
    /// var data = DatasetLoader.Load("fashion-mnist");
    /// var model = new KNearestNeighbors(new KNearestNeighborsOptions(K: 5)).Fit(data.Train);
    /// </code></example>
    /// <param name="nameOrPath">A known dataset ("fashion-mnist", "mnist", "cifar-10", "cifar-100") or a folder of IDX
    /// files, CIFAR batches or class subfolders of images.</param>
    /// <param name="folderOptions">Options for image folders (ignored for other formats).</param>
    /// <exception cref="DatasetNotFoundException">Nothing found; the message says where it looked and how to get the data.</exception>
    /// <exception cref="DataFormatException">A file is malformed (named in the message).</exception>
    public static DatasetSplits Load(string nameOrPath, ImageFolderOptions? folderOptions = null) =>
        Load(new DatasetLocator().Locate(nameOrPath), folderOptions);

    /// <summary>Loads the dataset at <paramref name="location"/>.</summary>
    /// <param name="location">From <see cref="DatasetLocator.Locate"/>.</param>
    /// <param name="folderOptions">Options for image folders (ignored for other formats).</param>
    /// <exception cref="DataFormatException">A file is malformed (named in the message).</exception>
    public static DatasetSplits Load(DatasetLocation location, ImageFolderOptions? folderOptions = null)
    {
        var splits = location.Format switch
        {
            "idx" => LoadIdx(location),
            "cifar-10" => LoadCifar10(location),
            "cifar-100" => LoadCifar100(location),
            "folder" => ImageFolderLoader.Load(location.Directory, folderOptions ?? new ImageFolderOptions()).Splits,
            _ => throw new ArgumentException($"Unknown dataset format '{location.Format}'.", nameof(location)),
        };
        return splits with { IsSample = location.IsSample };
    }

    private static DatasetSplits LoadIdx(DatasetLocation location)
    {
        var dir = location.Directory;
        var known = KnownDatasets.Find(location.Name);
        ImageDataset Part(string images, string labels, string name)
        {
            var imagePath = DatasetFiles.FindIdx(dir, images) ?? throw new FileNotFoundException($"{Path.Combine(dir, images)}(.gz) not found.");
            var labelPath = DatasetFiles.FindIdx(dir, labels) ?? throw new FileNotFoundException($"{Path.Combine(dir, labels)}(.gz) not found.");
            var (count, rows, cols, pixels) = IdxReader.ReadImages(imagePath);
            var labelBytes = IdxReader.ReadLabels(labelPath);
            if (labelBytes.Length != count)
                throw new DataFormatException(labelPath, $"{labelBytes.Length} labels but {imagePath} holds {count} images");
            var classNames = known?.ClassNames ?? Enumerable.Range(0, labelBytes.Length == 0 ? 1 : labelBytes.Max() + 1).Select(i => i.ToString()).ToArray();
            var labelInts = new int[count];
            for (int i = 0; i < count; i++)
            {
                if (labelBytes[i] >= classNames.Count)
                    throw new DataFormatException(labelPath, $"label {labelBytes[i]} of item {i} is outside 0..{classNames.Count - 1}");
                labelInts[i] = labelBytes[i];
            }
            return new ImageDataset(name, 1, rows, cols, pixels, labelInts, classNames);
        }
        var train = Part(DatasetFiles.IdxNames[0], DatasetFiles.IdxNames[1], location.Name + "/train");
        var test = Part(DatasetFiles.IdxNames[2], DatasetFiles.IdxNames[3], location.Name + "/test");
        if (train.Height != test.Height || train.Width != test.Width)
            throw new DataFormatException(dir, $"train images are {train.Height}×{train.Width} but test images are {test.Height}×{test.Width}");
        return new DatasetSplits(train, test, dir, "idx");
    }

    private static DatasetSplits LoadCifar10(DatasetLocation location)
    {
        var dir = DatasetFiles.FindCifar10(location.Directory) ?? throw new DataFormatException(location.Directory, "CIFAR-10 batches not found");
        const int perBatch = 10_000;
        var names = File.Exists(Path.Combine(dir, "batches.meta.txt"))
            ? CifarReader.ReadNames(Path.Combine(dir, "batches.meta.txt"), 10)
            : KnownDatasets.Cifar10.ClassNames.ToArray();
        var trainPixels = new byte[5L * perBatch * CifarReader.ImageBytes];
        var trainLabels = new int[5 * perBatch];
        for (int b = 0; b < 5; b++)
        {
            var (pixels, labels, _) = CifarReader.ReadBatch(Path.Combine(dir, DatasetFiles.Cifar10Batches[b]), CifarVariant.Cifar10, perBatch);
            pixels.CopyTo(trainPixels, (long)b * pixels.Length);
            labels.CopyTo(trainLabels, b * perBatch);
        }
        var test = CifarReader.ReadBatch(Path.Combine(dir, "test_batch.bin"), CifarVariant.Cifar10, perBatch);
        return new DatasetSplits(
            new ImageDataset("cifar-10/train", 3, 32, 32, trainPixels, trainLabels, names),
            new ImageDataset("cifar-10/test", 3, 32, 32, test.Pixels, test.Labels, names),
            dir, "cifar-10");
    }

    private static DatasetSplits LoadCifar100(DatasetLocation location)
    {
        var dir = DatasetFiles.FindCifar100(location.Directory) ?? throw new DataFormatException(location.Directory, "CIFAR-100 train.bin/test.bin not found");
        string[] Names(string file, int count) => File.Exists(Path.Combine(dir, file))
            ? CifarReader.ReadNames(Path.Combine(dir, file), count)
            : Enumerable.Range(0, count).Select(i => $"class_{i}").ToArray();
        var fine = Names("fine_label_names.txt", 100);
        var coarse = Names("coarse_label_names.txt", 20);
        var train = CifarReader.ReadBatch(Path.Combine(dir, "train.bin"), CifarVariant.Cifar100, 50_000);
        var test = CifarReader.ReadBatch(Path.Combine(dir, "test.bin"), CifarVariant.Cifar100, 10_000);
        return new DatasetSplits(
            new ImageDataset("cifar-100/train", 3, 32, 32, train.Pixels, train.Labels, fine, train.CoarseLabels, coarse),
            new ImageDataset("cifar-100/test", 3, 32, 32, test.Pixels, test.Labels, fine, test.CoarseLabels, coarse),
            dir, "cifar-100");
    }
}

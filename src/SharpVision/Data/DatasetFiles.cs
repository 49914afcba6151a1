namespace SharpVision.Data;

/// <summary>Recognizes which dataset format a folder holds, from the file names alone (contents are checked on load).</summary>
public static class DatasetFiles
{
    public static readonly string[] IdxNames =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    public static readonly string[] Cifar10Batches =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];

    /// <summary>The path of an IDX file, gzip preferred, or null when neither form exists.</summary>
    public static string? FindIdx(string directory, string baseName)
    {
        foreach (var candidate in new[] { baseName + ".gz", baseName, baseName.Replace("-idx", ".idx") + ".gz", baseName.Replace("-idx", ".idx") })
        {
            var path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>The folder holding the CIFAR-10 batches: the folder itself or its cifar-10-batches-bin child.</summary>
    public static string? FindCifar10(string directory) =>
        new[] { directory, Path.Combine(directory, "cifar-10-batches-bin") }
            .FirstOrDefault(d => Cifar10Batches.All(b => File.Exists(Path.Combine(d, b))));

    /// <summary>The folder holding CIFAR-100's train.bin/test.bin: the folder itself or its cifar-100-binary child.</summary>
    public static string? FindCifar100(string directory) =>
        new[] { directory, Path.Combine(directory, "cifar-100-binary") }
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "train.bin")) && File.Exists(Path.Combine(d, "test.bin")));

    /// <summary>"idx", "cifar-10", "cifar-100", "folder", or null when the folder holds none of them.</summary>
    public static string? DetectFormat(string directory)
    {
        if (!Directory.Exists(directory)) return null;
        if (IdxNames.All(n => FindIdx(directory, n) is not null)) return "idx";
        if (FindCifar10(directory) is not null) return "cifar-10";
        if (FindCifar100(directory) is not null) return "cifar-100";
        if (Directory.EnumerateDirectories(directory).Any()) return "folder";
        return null;
    }

    /// <summary>Whether <paramref name="directory"/> holds the files of <paramref name="format"/>.</summary>
    public static bool Holds(string directory, string format) => format switch
    {
        "idx" => Directory.Exists(directory) && IdxNames.All(n => FindIdx(directory, n) is not null),
        "cifar-10" => Directory.Exists(directory) && FindCifar10(directory) is not null,
        "cifar-100" => Directory.Exists(directory) && FindCifar100(directory) is not null,
        "folder" => DetectFormat(directory) == "folder",
        _ => false,
    };
}

namespace SharpVision.Imaging;

/// <summary>The image files of a folder, as `predict DIR` reads them.</summary>
public static class ImageFiles
{
    /// <summary>
    /// The file extensions taken as images (any case): what <see cref="ImageDecoder"/> reads. The extension only picks
    /// the files; the decoder goes by their content.
    /// </summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".jpe", ".gif", ".bmp", ".dib", ".webp"];

    /// <summary>
    /// Every file with an image extension under <paramref name="directory"/>, its subfolders included (a dataset folder
    /// of one subfolder per class works as is), sorted by path (ordinal); hidden files and folders (".name") are left
    /// out. Other files are returned apart, so the caller can say what it passed over.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    public static (IReadOnlyList<string> Images, IReadOnlyList<string> Others) InFolder(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: no such folder.");
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = FileAttributes.Hidden };
        var images = new List<string>();
        var others = new List<string>();
        foreach (var path in Directory.EnumerateFiles(directory, "*", options))
        {
            var relative = Path.GetRelativePath(directory, path);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.'))) continue;
            (IsImage(path) ? images : others).Add(path);
        }
        images.Sort(StringComparer.Ordinal);
        others.Sort(StringComparer.Ordinal);
        return (images, others);
    }

    /// <summary>True for a name ending in one of <see cref="Extensions"/>.</summary>
    public static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);
}

using SharpVision.IO;
using System.Formats.Tar;
using System.IO.Compression;

namespace SharpVision.Data.Download;

/// <summary>Safe extraction of the <c>.tar.gz</c> archives datasets ship in.</summary>
public static class ArchiveExtractor
{
    /// <summary>
    /// Extracts a <c>.tar.gz</c> (or <c>.tgz</c>) into <paramref name="targetDirectory"/> (created if needed).
    /// Only regular files and directories are accepted, and every entry must land inside the target:
    /// "../x", absolute paths, symbolic and hard links, devices and FIFOs are refused.
    /// Everything is first extracted into a temporary folder next to the target and moved into place
    /// only when the whole archive was accepted, so a refused archive leaves nothing behind.
    /// Existing files with the same names are overwritten.
    /// </summary>
    /// <exception cref="DataFormatException">An entry is unsafe or not a file/directory, or the archive is not valid gzip/tar; the message names the archive and the entry.</exception>
    /// <exception cref="FileNotFoundException">The archive does not exist.</exception>
    public static void ExtractTarGz(string archivePath, string targetDirectory) =>
        ExtractTarGz(archivePath, targetDirectory, CancellationToken.None);

    internal static void ExtractTarGz(string archivePath, string targetDirectory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(archivePath);
        ArgumentException.ThrowIfNullOrEmpty(targetDirectory);

        string target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(targetDirectory));
        // A sibling of the target on the same file system, so the final moves are renames.
        string staging = $"{target}.{Guid.NewGuid():N}.extracting";
        Directory.CreateDirectory(staging);
        try
        {
            ExtractInto(archivePath, staging, cancellationToken);
            Directory.CreateDirectory(target);
            MoveContents(staging, target);
        }
        finally
        {
            TryDeleteDirectory(staging);
        }
    }

    /// <summary>
    /// True when every file of the archive is already present under <paramref name="targetDirectory"/> with the
    /// size the archive gives it (a cheap check that an earlier extraction finished; contents are not hashed).
    /// </summary>
    internal static bool IsExtracted(string archivePath, string targetDirectory, CancellationToken cancellationToken = default)
    {
        string target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(targetDirectory));
        if (!Directory.Exists(target))
            return false;
        bool complete = true;
        ReadEntries(archivePath, target, (entry, fullPath) =>
        {
            bool present = entry.EntryType == TarEntryType.Directory
                ? Directory.Exists(fullPath)
                : File.Exists(fullPath) && new FileInfo(fullPath).Length == entry.Length;
            complete &= present;
            return present;
        }, cancellationToken);
        return complete;
    }

    private static void ExtractInto(string archivePath, string root, CancellationToken cancellationToken) =>
        ReadEntries(archivePath, root, (entry, fullPath) =>
        {
            if (entry.EntryType == TarEntryType.Directory)
            {
                Directory.CreateDirectory(fullPath);
                return true;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
            // Copy the bytes ourselves rather than ExtractToFile: the archive's mode bits (setuid etc.) are not applied.
            using var output = new FileStream(fullPath, FileMode.Create, FileAccess.Write, FileShare.None);
            entry.DataStream?.CopyTo(output);
            return true;
        }, cancellationToken);

    /// <summary>Walks the archive's entries, validating each, and hands file/directory entries to <paramref name="visit"/> until it returns false.</summary>
    private static void ReadEntries(string archivePath, string root, Func<TarEntry, string, bool> visit, CancellationToken cancellationToken)
    {
        try
        {
            using var file = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var reader = new TarReader(gzip);
            while (reader.GetNextEntry() is { } entry)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Global PAX headers describe the archive, not a file system object.
                if (entry.EntryType == TarEntryType.GlobalExtendedAttributes)
                    continue;
                string fullPath = ValidatedPath(archivePath, root, entry);
                if (!visit(entry, fullPath))
                    return;
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DataFormatException(archivePath, $"not a valid .tar.gz archive ({ex.Message})", ex);
        }
    }

    private static string ValidatedPath(string archivePath, string root, TarEntry entry)
    {
        string name = entry.Name;
        if (entry.EntryType is not (TarEntryType.Directory or TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile))
        {
            string link = entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink ? $" (to '{entry.LinkName}')" : "";
            throw new DataFormatException(archivePath,
                $"entry '{name}' is a {entry.EntryType}{link}; only regular files and directories are extracted");
        }
        if (name.Length == 0 || name.Contains('\0'))
            throw new DataFormatException(archivePath, $"entry '{name}' has an empty or invalid name");
        if (Path.IsPathRooted(name) || name.StartsWith('/') || name.StartsWith('\\'))
            throw new DataFormatException(archivePath, $"entry '{name}' has an absolute path; it would be written outside the target directory");

        string fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(root, name)));
        string rootWithSeparator = root + Path.DirectorySeparatorChar;
        bool isRoot = string.Equals(fullPath, root, StringComparison.Ordinal);
        if (!fullPath.StartsWith(rootWithSeparator, StringComparison.Ordinal) && !(isRoot && entry.EntryType == TarEntryType.Directory))
            throw new DataFormatException(archivePath, $"entry '{name}' escapes the target directory");
        if (isRoot)
            return root; // "./" itself: harmless, nothing to create.
        return fullPath;
    }

    private static void MoveContents(string fromDirectory, string toDirectory)
    {
        foreach (string directory in Directory.EnumerateDirectories(fromDirectory, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(toDirectory, Path.GetRelativePath(fromDirectory, directory)));
        foreach (string file in Directory.EnumerateFiles(fromDirectory, "*", SearchOption.AllDirectories))
            File.Move(file, Path.Combine(toDirectory, Path.GetRelativePath(fromDirectory, file)), overwrite: true);
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover staging folder is harmless and named so it is recognisable.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

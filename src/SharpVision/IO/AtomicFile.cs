namespace SharpVision.IO;

/// <summary>
/// Writes a file so that readers see either the old complete file or the new complete file, never a half:
/// write to a temporary file in the same folder, flush it to disk, then rename over the target.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes through <paramref name="write"/>; on any exception the temporary file is deleted and the target is untouched.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// True for the name of a temporary file <see cref="Write"/> makes (<c>.NAME.GUID.tmp</c>, 32 hex digits): what a
    /// process killed mid-write leaves behind, for <see cref="Runs.RunFolder"/> to clean up.
    /// </summary>
    public static bool IsTemporaryName(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        if (!fileName.StartsWith('.') || !fileName.EndsWith(".tmp", StringComparison.Ordinal) || fileName.Length < 1 + 1 + 1 + 32 + 4) return false;
        var guid = fileName.AsSpan(fileName.Length - 4 - 32, 32);
        return fileName[fileName.Length - 4 - 32 - 1] == '.' && guid.IndexOfAnyExcept("0123456789abcdef") < 0;
    }

    /// <summary>Writes <paramref name="bytes"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>Writes UTF-8 text atomically.</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));
}

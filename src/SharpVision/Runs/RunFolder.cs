namespace SharpVision.Runs;

/// <summary>Creates a run folder without ever leaving a half-written one behind.</summary>
public static class RunFolder
{
    /// <summary>
    /// A new folder is filled under a temporary name and renamed into place at the end; an existing folder gets each
    /// file replaced atomically, so an earlier good model is never overwritten by a partial one.
    /// </summary>
    public static void Write(string runDir, Action<string> fill)
    {
        ArgumentException.ThrowIfNullOrEmpty(runDir);
        ArgumentNullException.ThrowIfNull(fill);
        if (Directory.Exists(runDir))
        {
            fill(runDir);
            return;
        }
        var parent = Path.GetDirectoryName(Path.GetFullPath(runDir))!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(runDir)}.{Guid.NewGuid():N}.partial");
        Directory.CreateDirectory(staging);
        try
        {
            fill(staging);
            Directory.Move(staging, runDir);
        }
        catch
        {
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>True when <paramref name="directory"/> exists and holds any file or folder.</summary>
    public static bool IsNonEmpty(string directory) => Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any();
}

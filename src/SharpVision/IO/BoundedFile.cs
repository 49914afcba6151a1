using System.Globalization;
using System.Text;

namespace SharpVision.IO;

/// <summary>
/// The one way SharpVision opens a file that came from outside (an image, a model, a dataset, a run folder's JSON):
/// only a regular file is opened (never a FIFO, a device, a socket or a folder, which can block forever or never end),
/// and its size is checked against a limit before anything is read or allocated.
/// </summary>
/// <remarks>
/// On Linux the file's type is read with statx before opening, the file is opened without blocking, and the type and
/// size are checked again on the open descriptor, so a file swapped in between is caught too. Elsewhere the checks use
/// what .NET reports (folders and sizes; a FIFO is not recognized there).
/// </remarks>
public static class BoundedFile
{
    /// <summary>Largest image file read: 256 MiB (a 64-megapixel PNG or JPEG is far smaller).</summary>
    public const long MaxImageBytes = 256L << 20;

    /// <summary>Largest model or checkpoint file read: 8 GiB (one tensor is also limited to one array, see <see cref="Serialization.SafeTensorsFile"/>).</summary>
    public const long MaxModelBytes = 8L << 30;

    /// <summary>Largest dataset file read (IDX, CIFAR batch, gzip or not): 2 GiB.</summary>
    public const long MaxDatasetBytes = 2L << 30;

    /// <summary>Largest text file read (config.json, metrics, logs, class names): 256 MiB.</summary>
    public const long MaxTextBytes = 256L << 20;

    /// <summary>Opens a regular file for reading after checking its type and size.</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">Refuse larger files.</param>
    /// <param name="what">What the file should be, for messages ("an image", "a model file").</param>
    /// <exception cref="FileNotFoundException">Nothing at <paramref name="path"/>.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="DataFormatException">Not a regular file (folder, FIFO, device, socket, dangling or looping link), or larger than <paramref name="maxBytes"/>.</exception>
    public static FileStream OpenRead(string path, long maxBytes, string what = "a file")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (!Posix.IsAvailable) return OpenPortable(path, maxBytes, what);
        int error = Posix.Stat(path, followLinks: true, out var type, out long size, out _);
        if (error != 0) throw Failure(path, error);
        Check(path, type, size, maxBytes, what);
        error = Posix.OpenForReading(path, out var handle);
        if (error != 0) throw Failure(path, error);
        try
        {
            error = Posix.Stat(handle, out type, out size, out _);
            if (error != 0) throw Failure(path, error);
            Check(path, type, size, maxBytes, what);
            return new FileStream(handle, FileAccess.Read, 1 << 16);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads a whole regular file of at most <paramref name="maxBytes"/> bytes (see <see cref="OpenRead"/>).</summary>
    /// <exception cref="FileNotFoundException">Nothing at <paramref name="path"/>.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="DataFormatException">Not a regular file, too large, or changed size while being read.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what = "a file")
    {
        using var stream = OpenRead(path, maxBytes, what);
        long length = stream.Length;
        if (length > Array.MaxLength) throw new DataFormatException(path, $"is {Size(length)}, more than one array can hold");
        var bytes = new byte[length];
        int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read != bytes.Length || stream.ReadByte() != -1)
            throw new DataFormatException(path, "changed size while being read");
        return bytes;
    }

    /// <summary>Reads a whole UTF-8 text file of at most <paramref name="maxBytes"/> bytes (a byte-order mark is skipped).</summary>
    /// <exception cref="FileNotFoundException">Nothing at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">Not a regular file, or too large.</exception>
    public static string ReadAllText(string path, long maxBytes = MaxTextBytes, string what = "a text file")
    {
        var bytes = ReadAllBytes(path, maxBytes, what);
        var span = bytes.AsSpan();
        if (span.StartsWith(Encoding.UTF8.Preamble)) span = span[Encoding.UTF8.Preamble.Length..];
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>The lines of a UTF-8 text file (see <see cref="ReadAllText"/>), without line terminators.</summary>
    public static string[] ReadAllLines(string path, long maxBytes = MaxTextBytes, string what = "a text file")
    {
        var text = ReadAllText(path, maxBytes, what);
        var lines = text.Split('\n');
        if (lines.Length > 0 && lines[^1].Length == 0) lines = lines[..^1];
        for (int i = 0; i < lines.Length; i++) if (lines[i].EndsWith('\r')) lines[i] = lines[i][..^1];
        return lines;
    }

    /// <summary>"12.3 MB" style sizes for messages (decimal units, with the exact byte count).</summary>
    internal static string Size(long bytes) => bytes < 1_000_000
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:N1} MB ({bytes:N0} bytes)");

    private static void Check(string path, PosixFileType type, long size, long maxBytes, string what)
    {
        string? notRegular = type switch
        {
            PosixFileType.Regular => null,
            PosixFileType.Directory => "is a folder, not a file",
            PosixFileType.Fifo => "is a named pipe (FIFO), not a regular file; SharpVision reads only regular files",
            PosixFileType.CharacterDevice or PosixFileType.BlockDevice => "is a device, not a regular file; SharpVision reads only regular files",
            PosixFileType.Socket => "is a socket, not a regular file",
            _ => "is not a regular file",
        };
        if (notRegular is not null) throw new DataFormatException(path, notRegular);
        if (size > maxBytes)
            throw new DataFormatException(path, $"is {Size(size)}, more than the {Size(maxBytes)} allowed for {what}");
    }

    private static Exception Failure(string path, int error)
    {
        switch (error)
        {
            case Posix.ENOENT or Posix.ENOTDIR:
                // A name that exists as a link whose target does not: say so rather than "not found".
                if (Posix.Stat(path, followLinks: false, out var type, out _, out _) == 0 && type == PosixFileType.SymbolicLink)
                    return new DataFormatException(path, "is a symbolic link whose target does not exist");
                return new FileNotFoundException($"{path}: file not found.", path);
            case Posix.ELOOP:
                return new DataFormatException(path, "is a symbolic link that loops (too many levels of links)");
            case Posix.EACCES:
                return new UnauthorizedAccessException($"{path}: permission denied.");
            default:
                return new IOException($"{path}: cannot be read ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(error)}).");
        }
    }

    // Without statx: folders and sizes are checked with what .NET reports.
    private static FileStream OpenPortable(string path, long maxBytes, string what)
    {
        if (Directory.Exists(path)) throw new DataFormatException(path, "is a folder, not a file");
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: file not found.", path);
        Check(path, PosixFileType.Regular, info.Length, maxBytes, what);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }
}

using System.Globalization;
using SharpVision.IO;

namespace SharpVision.Runs;

/// <summary>The run folder is being written by another live process (it holds the folder's lock).</summary>
/// <param name="runDirectory">The folder.</param>
/// <param name="processId">The process id recorded in the lock file, when readable.</param>
public sealed class RunFolderInUseException(string runDirectory, int? processId)
    : IOException($"{runDirectory} is being written by {(processId is int id ? $"process {id}" : "another process")}; wait for it to finish, or choose another --out.")
{
    /// <summary>The folder.</summary>
    public string RunDirectory { get; } = runDirectory;

    /// <summary>The process holding it, when known.</summary>
    public int? ProcessId { get; } = processId;
}

/// <summary>The folder already holds a run, and replacing it was not asked for.</summary>
/// <param name="runDirectory">The folder.</param>
public sealed class RunFolderExistsException(string runDirectory)
    : IOException($"{runDirectory} already holds a run; choose another --out, or pass --force to replace it.")
{
    /// <summary>The folder.</summary>
    public string RunDirectory { get; } = runDirectory;
}

/// <summary>
/// Run folders: one writer at a time, and never a half-written or mixed one.
/// <list type="bullet">
/// <item>A writer holds the folder's lock for the run's life (<see cref="Lock"/>): a file <c>.NAME.lock</c> beside the
/// folder, holding the process id, with an advisory lock (flock) the system releases when the process ends, however
/// it ends. A second writer is refused (<see cref="RunFolderInUseException"/>); a lock file left by a dead process
/// is taken over with a notice.</item>
/// <item>A folder that holds anything is a run: writing into it is refused (<see cref="RunFolderExistsException"/>)
/// unless replacing was asked for, and then the old run is replaced whole (<see cref="Write"/>, <see cref="Clear"/>).</item>
/// <item>Temporary files of atomic writes left by a killed process are removed when the lock is taken.</item>
/// </list>
/// </summary>
public static class RunFolder
{
    private static readonly Dictionary<string, HeldLock> Held = new(StringComparer.Ordinal);

    /// <summary>The lock file of <paramref name="runDirectory"/>: <c>.NAME.lock</c> in its parent folder.</summary>
    public static string LockPath(string runDirectory)
    {
        var full = Path.GetFullPath(runDirectory).TrimEnd(Path.DirectorySeparatorChar);
        return Path.Combine(Path.GetDirectoryName(full) ?? full, $".{Path.GetFileName(full)}.lock");
    }

    /// <summary>
    /// Takes the folder's lock for this process, until the returned object is disposed. Taking it again in the same
    /// process (a library call inside a command that holds it) is allowed and nests. The folder itself need not exist.
    /// </summary>
    /// <param name="runDirectory">The run folder.</param>
    /// <param name="notice">Told when a stale lock (from a process that no longer runs) is taken over, and when stale temporary files are removed.</param>
    /// <exception cref="RunFolderInUseException">Another live process holds it.</exception>
    /// <exception cref="IOException">The lock file cannot be created (the parent folder cannot be created or written).</exception>
    public static IDisposable Lock(string runDirectory, Action<string>? notice = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        var full = Path.GetFullPath(runDirectory).TrimEnd(Path.DirectorySeparatorChar);
        lock (Held)
        {
            if (Held.TryGetValue(full, out var held))
            {
                held.Count++;
                return new Release(full);
            }
            var parent = Path.GetDirectoryName(full) ?? full;
            CreateFolder(parent);
            var path = LockPath(full);
            var file = OpenLockFile(path, full);
            int? previous = ReadProcessId(file);
            if (previous is int stale && stale != Environment.ProcessId)
                notice?.Invoke(string.Create(CultureInfo.InvariantCulture, $"notice: took over the lock of {full} left by process {stale}, which is no longer running"));
            file.SetLength(0);
            file.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
            file.Flush();
            Held[full] = new HeldLock(file, path);
            int removed = RemoveStaleTemporaries(full);
            if (removed > 0) notice?.Invoke($"notice: removed {removed} temporary file(s) left in {full} by an interrupted write");
            return new Release(full);
        }
    }

    // Opens the lock file and takes its flock; retries when the file was removed between open and lock (its holder
    // released it), so two processes never both believe they hold the lock.
    private static FileStream OpenLockFile(string path, string runDirectory)
    {
        if (!Posix.IsAvailable)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
            {
                throw new RunFolderInUseException(runDirectory, null);
            }
        }
        for (int attempt = 0; ; attempt++)
        {
            int error = Posix.OpenOrCreate(path, out var handle);
            if (error != 0) throw new IOException($"{runDirectory}: cannot write a run folder there ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(error)}).");
            var stream = new FileStream(handle, FileAccess.ReadWrite, 1);
            error = Posix.TryLockExclusive(handle);
            if (error == Posix.EAGAIN)
            {
                int? holder = ReadProcessId(stream);
                stream.Dispose();
                throw new RunFolderInUseException(runDirectory, holder);
            }
            if (error != 0)
            {
                stream.Dispose();
                throw new IOException($"{path}: cannot lock the run folder ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(error)}).");
            }
            // Still the file at that path? (Its previous holder may have deleted it after we opened it.)
            if (Posix.Stat(path, followLinks: false, out _, out _, out ulong pathInode) == 0
                && Posix.Stat(handle, out _, out _, out ulong openInode) == 0 && pathInode == openInode)
                return stream;
            stream.Dispose();
            if (attempt == 100) throw new IOException($"{path}: the run folder's lock file keeps changing.");
        }
    }

    private static int? ReadProcessId(FileStream file)
    {
        file.Position = 0;
        var buffer = new byte[32];
        int read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        file.Position = 0;
        var text = System.Text.Encoding.ASCII.GetString(buffer, 0, read).Trim();
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id) && id > 0 ? id : null;
    }

    private sealed class HeldLock(FileStream file, string path)
    {
        public FileStream File { get; } = file;
        public string Path { get; } = path;
        public int Count { get; set; } = 1;
    }

    private sealed class Release(string runDirectory) : IDisposable
    {
        private bool _released;

        public void Dispose()
        {
            if (_released) return;
            _released = true;
            lock (Held)
            {
                var held = Held[runDirectory];
                if (--held.Count > 0) return;
                Held.Remove(runDirectory);
                // Delete while still holding the flock, then close: a waiting opener sees the inode change and retries.
                try { File.Delete(held.Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                held.File.Dispose();
            }
        }
    }

    /// <summary>True when this process holds <paramref name="runDirectory"/>'s lock (<see cref="Lock"/>).</summary>
    public static bool IsHeld(string runDirectory)
    {
        lock (Held) return Held.ContainsKey(Path.GetFullPath(runDirectory).TrimEnd(Path.DirectorySeparatorChar));
    }

    /// <summary>True when <paramref name="directory"/> exists and holds any file or folder.</summary>
    public static bool IsNonEmpty(string directory) => Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any();

    /// <summary>
    /// Refuses a folder that already holds a run unless <paramref name="replace"/>; with it, removes the old run whole
    /// (renamed aside in one step, then deleted), leaving no folder. For runs written in place (gradient training).
    /// </summary>
    /// <exception cref="RunFolderExistsException">The folder holds a run and <paramref name="replace"/> is false.</exception>
    /// <exception cref="IOException"><paramref name="runDirectory"/> is a file, or cannot be removed.</exception>
    public static void Clear(string runDirectory, bool replace)
    {
        var full = Path.GetFullPath(runDirectory);
        if (File.Exists(full)) throw new IOException($"{full} is a file, not a run folder.");
        if (!IsNonEmpty(full)) return;
        if (!replace) throw new RunFolderExistsException(full);
        var aside = Aside(full, "old");
        Directory.Move(full, aside);
        Directory.Delete(aside, recursive: true);
    }

    /// <summary>
    /// Writes a whole run folder: <paramref name="fill"/> fills a new folder beside it, which then takes the place of
    /// <paramref name="runDirectory"/> in one step (an old run, when <paramref name="replace"/> allows one, is swapped out
    /// and deleted: nothing of it is left beside the new). A failure leaves the old folder as it was.
    /// </summary>
    /// <exception cref="RunFolderExistsException">The folder holds a run and <paramref name="replace"/> is false.</exception>
    public static void Write(string runDirectory, Action<string> fill, bool replace = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        ArgumentNullException.ThrowIfNull(fill);
        var full = Path.GetFullPath(runDirectory).TrimEnd(Path.DirectorySeparatorChar);
        if (File.Exists(full)) throw new IOException($"{full} is a file, not a run folder.");
        bool exists = IsNonEmpty(full);
        if (exists && !replace) throw new RunFolderExistsException(full);
        using var hold = Lock(full);
        CreateFolder(Path.GetDirectoryName(full)!);
        var staging = Aside(full, "partial");
        Directory.CreateDirectory(staging);
        try
        {
            fill(staging);
            if (Directory.Exists(full) && !exists) Directory.Delete(full); // an empty folder given as --out
            if (!exists)
            {
                Directory.Move(staging, full);
                return;
            }
            if (Posix.IsAvailable && Posix.Exchange(staging, full) == 0)
            {
                Directory.Delete(staging, recursive: true); // now the old run
                return;
            }
            var old = Aside(full, "old");
            Directory.Move(full, old);
            Directory.Move(staging, full);
            Directory.Delete(old, recursive: true);
        }
        catch
        {
            try { if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>
    /// Removes the temporary files of atomic writes (<c>.NAME.GUID.tmp</c>, see <see cref="AtomicFile"/>) that a killed
    /// process left in <paramref name="directory"/>. Call only while holding the folder's lock, so no live writer owns them.
    /// </summary>
    /// <returns>How many were removed.</returns>
    public static int RemoveStaleTemporaries(string directory)
    {
        if (!Directory.Exists(directory)) return 0;
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(directory, ".*.tmp"))
        {
            if (!AtomicFile.IsTemporaryName(Path.GetFileName(file))) continue;
            try
            {
                File.Delete(file);
                removed++;
            }
            catch (IOException)
            {
            }
        }
        return removed;
    }

    // A sibling name for staging or removing a folder: hidden, unique.
    private static string Aside(string full, string what) =>
        Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.{what}");

    private static void CreateFolder(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{directory}: cannot create the folder ({e.Message})", e);
        }
    }
}

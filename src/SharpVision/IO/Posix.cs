using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace SharpVision.IO;

/// <summary>File type from a stat call (the S_IFMT bits).</summary>
internal enum PosixFileType
{
    Regular,
    Directory,
    Fifo,
    CharacterDevice,
    BlockDevice,
    Socket,
    SymbolicLink,
    Unknown,
}

/// <summary>
/// The few Linux calls .NET does not expose: the type of a file before opening it (so a FIFO or a device is never
/// opened for reading, which can block forever), open without blocking, advisory locks and atomic directory exchange.
/// Loaded from libc.so.6 through function pointers, once; <see cref="IsAvailable"/> is false elsewhere (macOS, Windows,
/// musl), and callers fall back to what .NET offers.
/// </summary>
/// <remarks>
/// Constants are Linux's generic ones, the same on x86-64 and arm64 (the flags that differ, O_NOFOLLOW and
/// O_DIRECTORY, are not used). struct statx has one layout on every architecture, which is why statx is used rather than stat.
/// </remarks>
internal static unsafe class Posix
{
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;
    public const int ELOOP = 40;

    private const int ReadOnly = 0;        // O_RDONLY
    private const int ReadWrite = 2;       // O_RDWR
    private const int Create = 0x40;       // O_CREAT
    private const int NonBlocking = 0x800; // O_NONBLOCK
    private const int CloseOnExec = 0x80000; // O_CLOEXEC
    private const int CurrentDirectory = -100; // AT_FDCWD
    private const int EmptyPath = 0x1000;  // AT_EMPTY_PATH
    private const int SymlinkNoFollow = 0x100; // AT_SYMLINK_NOFOLLOW
    private const uint StatxType = 0x1, StatxIno = 0x100, StatxSize = 0x200;
    private const int LockExclusive = 2, LockNonBlocking = 4; // LOCK_EX, LOCK_NB
    private const uint RenameExchange = 2; // RENAME_EXCHANGE

    private sealed class Api
    {
        public delegate* unmanaged<byte*, int, int, int> Open;
        public delegate* unmanaged<int, byte*, int, uint, byte*, int> Statx;
        public delegate* unmanaged<int, int, int> Flock;
        public delegate* unmanaged<int, byte*, int, byte*, uint, int> Renameat2;
    }

    private static readonly Lazy<Api?> Loaded = new(Load);

    /// <summary>True on Linux with glibc ≥ 2.28 (statx and renameat2 present).</summary>
    public static bool IsAvailable => Loaded.Value is not null;

    private static Api? Load()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out nint libc)) return null;
        if (!NativeLibrary.TryGetExport(libc, "open", out nint open) || !NativeLibrary.TryGetExport(libc, "statx", out nint statx)
            || !NativeLibrary.TryGetExport(libc, "flock", out nint flock) || !NativeLibrary.TryGetExport(libc, "renameat2", out nint renameat2))
            return null;
        return new Api
        {
            Open = (delegate* unmanaged<byte*, int, int, int>)open,
            Statx = (delegate* unmanaged<int, byte*, int, uint, byte*, int>)statx,
            Flock = (delegate* unmanaged<int, int, int>)flock,
            Renameat2 = (delegate* unmanaged<int, byte*, int, byte*, uint, int>)renameat2,
        };
    }

    private static Api Calls => Loaded.Value ?? throw new PlatformNotSupportedException("libc.so.6 with statx is not available.");

    /// <summary>What a path names (following symbolic links unless <paramref name="followLinks"/> is false): type, size, inode.</summary>
    /// <returns>The error number (0 on success).</returns>
    public static int Stat(string path, bool followLinks, out PosixFileType type, out long size, out ulong inode)
    {
        var bytes = NullTerminated(path);
        byte* buffer = stackalloc byte[256];
        int result;
        fixed (byte* name = bytes)
            result = Calls.Statx(CurrentDirectory, name, followLinks ? 0 : SymlinkNoFollow, StatxType | StatxSize | StatxIno, buffer);
        return Decode(result, buffer, out type, out size, out inode);
    }

    /// <summary>Type, size and inode of an open descriptor.</summary>
    public static int Stat(SafeHandle handle, out PosixFileType type, out long size, out ulong inode)
    {
        byte* buffer = stackalloc byte[256];
        byte empty = 0;
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            int result = Calls.Statx((int)handle.DangerousGetHandle(), &empty, EmptyPath, StatxType | StatxSize | StatxIno, buffer);
            return Decode(result, buffer, out type, out size, out inode);
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    // struct statx: stx_mode (u16) at 28, stx_ino (u64) at 32, stx_size (u64) at 40.
    private static int Decode(int result, byte* buffer, out PosixFileType type, out long size, out ulong inode)
    {
        if (result != 0)
        {
            int error = Marshal.GetLastSystemError();
            (type, size, inode) = (PosixFileType.Unknown, 0, 0);
            return error == 0 ? EINVAL : error;
        }
        int mode = *(ushort*)(buffer + 28);
        type = (mode & 0xF000) switch
        {
            0x8000 => PosixFileType.Regular,
            0x4000 => PosixFileType.Directory,
            0x1000 => PosixFileType.Fifo,
            0x2000 => PosixFileType.CharacterDevice,
            0x6000 => PosixFileType.BlockDevice,
            0xC000 => PosixFileType.Socket,
            0xA000 => PosixFileType.SymbolicLink,
            _ => PosixFileType.Unknown,
        };
        inode = *(ulong*)(buffer + 32);
        size = (long)*(ulong*)(buffer + 40);
        return 0;
    }

    /// <summary>Opens for reading without blocking (a FIFO opened this way returns at once instead of waiting for a writer).</summary>
    /// <returns>The error number (0 on success).</returns>
    public static int OpenForReading(string path, out SafeFileHandle handle) => Open(path, ReadOnly | NonBlocking | CloseOnExec, 0, out handle);

    /// <summary>Opens or creates (mode 0644) for reading and writing.</summary>
    public static int OpenOrCreate(string path, out SafeFileHandle handle) => Open(path, ReadWrite | Create | CloseOnExec, 0x1A4, out handle);

    private static int Open(string path, int flags, int mode, out SafeFileHandle handle)
    {
        var bytes = NullTerminated(path);
        while (true)
        {
            int fd;
            fixed (byte* name = bytes) fd = Calls.Open(name, flags, mode);
            if (fd >= 0)
            {
                handle = new SafeFileHandle((nint)fd, ownsHandle: true);
                return 0;
            }
            int error = Marshal.GetLastSystemError();
            if (error == EINTR) continue;
            handle = new SafeFileHandle((nint)(-1), ownsHandle: false);
            return error == 0 ? EINVAL : error;
        }
    }

    /// <summary>Takes an exclusive advisory lock (flock) without waiting; released when the descriptor closes, even on SIGKILL.</summary>
    /// <returns>0, or <see cref="EAGAIN"/> when another open file description holds it, or another error number.</returns>
    public static int TryLockExclusive(SafeHandle handle)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (Calls.Flock((int)handle.DangerousGetHandle(), LockExclusive | LockNonBlocking) == 0) return 0;
            int error = Marshal.GetLastSystemError();
            return error == 0 ? EINVAL : error;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>Swaps two paths in one step (renameat2 RENAME_EXCHANGE): readers see the old or the new, never neither.</summary>
    /// <returns>The error number (0 on success; EINVAL or ENOSYS when the file system cannot exchange).</returns>
    public static int Exchange(string first, string second)
    {
        var a = NullTerminated(first);
        var b = NullTerminated(second);
        int result;
        fixed (byte* pa = a)
        fixed (byte* pb = b)
            result = Calls.Renameat2(CurrentDirectory, pa, CurrentDirectory, pb, RenameExchange);
        if (result == 0) return 0;
        int error = Marshal.GetLastSystemError();
        return error == 0 ? EINVAL : error;
    }

    private static byte[] NullTerminated(string path)
    {
        if (path.Contains('\0')) throw new ArgumentException("A path cannot contain a NUL character.", nameof(path));
        var bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }
}

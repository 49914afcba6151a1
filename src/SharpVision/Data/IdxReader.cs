using SharpVision.IO;
using System.Buffers.Binary;
using System.IO.Compression;

namespace SharpVision.Data;

/// <summary>
/// Reads IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed (detected by the 0x1F 0x8B magic, not the name).
/// Layout: magic 0x000008TT (TT = 0x03 images, 0x01 labels, unsigned bytes), then one big-endian int32 per dimension, then the data.
/// The file must hold exactly the bytes its header announces: truncated files and trailing bytes are both refused.
/// </summary>
public static class IdxReader
{
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    /// <summary>
    /// Largest data section accepted, after decompression: 1 GiB (EMNIST's largest split holds 0.64 GB). A header that
    /// announces more is refused before anything is decompressed.
    /// </summary>
    public const long MaxDataBytes = 1L << 30;

    // Memory grows with the bytes actually decompressed, in steps of at most this, not with what the header claims.
    private const int InitialBuffer = 1 << 24;

    /// <summary>Reads an image file: returns (count, rows, cols, pixels count·rows·cols bytes).</summary>
    /// <param name="path">The file, raw or gzip.</param>
    /// <param name="maxDataBytes">Refuse headers announcing more data bytes than this.</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">Wrong magic, bad dimensions, truncated or trailing data, corrupt gzip, too large, not a regular file.</exception>
    public static (int Count, int Rows, int Columns, byte[] Pixels) ReadImages(string path, long maxDataBytes = MaxDataBytes)
    {
        var (dims, data) = Read(path, ImagesMagic, 3, "image", maxDataBytes);
        return (dims[0], dims[1], dims[2], data);
    }

    /// <summary>Reads a label file: one byte per item.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">Wrong magic, truncated or trailing data, corrupt gzip, too large, not a regular file.</exception>
    public static byte[] ReadLabels(string path, long maxDataBytes = MaxDataBytes) => Read(path, LabelsMagic, 1, "label", maxDataBytes).Data;

    /// <summary>Writes an uncompressed or gzip IDX file (used for the shipped sample and by tests).</summary>
    public static void Write(string path, ReadOnlySpan<int> dimensions, ReadOnlySpan<byte> data, bool gzip)
    {
        using var file = File.Create(path);
        using Stream stream = gzip ? new GZipStream(file, CompressionLevel.SmallestSize) : file;
        Span<byte> word = stackalloc byte[4];
        // Type byte 0x08 = unsigned byte; the last byte of the magic is the number of dimensions.
        BinaryPrimitives.WriteInt32BigEndian(word, 0x0800 | dimensions.Length);
        stream.Write(word);
        foreach (int d in dimensions)
        {
            BinaryPrimitives.WriteInt32BigEndian(word, d);
            stream.Write(word);
        }
        stream.Write(data);
    }

    private static (int[] Dims, byte[] Data) Read(string path, int expectedMagic, int rank, string kind, long maxDataBytes)
    {
        using var file = BoundedFile.OpenRead(path, BoundedFile.MaxDatasetBytes, $"an IDX {kind} file");
        Span<byte> probe = stackalloc byte[2];
        int got = file.ReadAtLeast(probe, 2, throwOnEndOfStream: false);
        file.Position = 0;
        bool gzip = got == 2 && probe[0] == 0x1F && probe[1] == 0x8B;
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            return ReadBody(stream, path, expectedMagic, rank, kind, maxDataBytes);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt gzip data ({e.Message})", e);
        }
    }

    private static (int[] Dims, byte[] Data) ReadBody(Stream stream, string path, int expectedMagic, int rank, string kind, long maxDataBytes)
    {
        Span<byte> header = stackalloc byte[4 + 4 * rank];
        int got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got < 4)
            throw new DataFormatException(path, $"truncated IDX {kind} file: {got} bytes, too short for the 4-byte magic number");
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != expectedMagic)
            throw new DataFormatException(path, $"not an IDX {kind} file: magic 0x{magic:X8}, expected 0x{expectedMagic:X8}");
        if (got < header.Length)
            throw new DataFormatException(path, $"truncated IDX {kind} file: header needs {header.Length} bytes, got {got}");
        var dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(header[(4 + 4 * i)..]);
            if (dims[i] < 0 || (i > 0 && dims[i] == 0))
                throw new DataFormatException(path, $"invalid IDX dimension {i}: {dims[i]}");
            total *= dims[i];
            if (total > Math.Min(maxDataBytes, Array.MaxLength))
                throw new DataFormatException(path, $"IDX header announces {string.Join('×', dims[..(i + 1)])}{(i + 1 < rank ? "×…" : "")} data bytes, " +
                    $"more than the {Math.Min(maxDataBytes, Array.MaxLength):N0} a dataset file may hold");
        }
        var (data, read) = ReadUpTo(stream, (int)total);
        if (read < total)
            throw new DataFormatException(path, $"truncated IDX {kind} file: header announces {string.Join('×', dims)} = {total} data bytes, file holds {read}");
        if (stream.ReadByte() != -1)
            throw new DataFormatException(path, $"IDX {kind} file has bytes after the {total} announced by its header ({string.Join('×', dims)})");
        return (dims, data);
    }

    // Reads up to `total` bytes into a buffer that grows with what arrives (doubling, capped at `total`), so a header
    // that claims a gigabyte over a few bytes of data costs a few bytes, not a gigabyte.
    private static (byte[] Data, int Read) ReadUpTo(Stream stream, int total)
    {
        var data = new byte[Math.Min(total, InitialBuffer)];
        int read = 0;
        while (true)
        {
            read += stream.ReadAtLeast(data.AsSpan(read), data.Length - read, throwOnEndOfStream: false);
            if (read < data.Length || data.Length == total) return (data, read);
            Array.Resize(ref data, (int)Math.Min(total, 2L * data.Length));
        }
    }
}

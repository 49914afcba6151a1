using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace SharpVision.Tests.Support;

/// <summary>Small files in the exact formats the real datasets ship in, generated with a fixed seed.</summary>
internal static class GeneratedDatasets
{
    public const int ImageSide = 28;
    public const int CifarRecordBytes = 1 + 3 * 32 * 32;

    public static readonly string[] CifarBatchNames =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];

    public static readonly string[] CifarClassNames =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>
    /// The four gzip'd IDX files of an MNIST-style dataset: images are magic 0x00000803, count, rows, cols (big-endian)
    /// then count·28·28 bytes; labels are magic 0x00000801, count, then count bytes in 0..9.
    /// </summary>
    public static IReadOnlyDictionary<string, byte[]> IdxGzSet(int trainCount, int testCount, int seed = 1)
    {
        var random = new Random(seed);
        return new Dictionary<string, byte[]>
        {
            ["train-images-idx3-ubyte.gz"] = Gzip(IdxImages(trainCount, random)),
            ["train-labels-idx1-ubyte.gz"] = Gzip(IdxLabels(trainCount, random)),
            ["t10k-images-idx3-ubyte.gz"] = Gzip(IdxImages(testCount, random)),
            ["t10k-labels-idx1-ubyte.gz"] = Gzip(IdxLabels(testCount, random)),
        };
    }

    public static byte[] IdxImages(int count, Random random)
    {
        var bytes = new byte[16 + count * ImageSide * ImageSide];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), ImageSide);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), ImageSide);
        random.NextBytes(bytes.AsSpan(16));
        return bytes;
    }

    public static byte[] IdxLabels(int count, Random random)
    {
        var bytes = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        for (int i = 0; i < count; i++)
            bytes[8 + i] = (byte)random.Next(10);
        return bytes;
    }

    /// <summary>The contents of a CIFAR-10 binary archive: relative path → bytes (records of 1 label byte + 3072 pixels).</summary>
    public static IReadOnlyDictionary<string, byte[]> CifarFiles(int recordsPerBatch, int seed = 2)
    {
        var random = new Random(seed);
        var files = new Dictionary<string, byte[]>();
        foreach (string batch in CifarBatchNames)
        {
            var bytes = new byte[recordsPerBatch * CifarRecordBytes];
            random.NextBytes(bytes);
            for (int record = 0; record < recordsPerBatch; record++)
                bytes[record * CifarRecordBytes] = (byte)random.Next(10);
            files["cifar-10-batches-bin/" + batch] = bytes;
        }
        files["cifar-10-batches-bin/batches.meta.txt"] = Encoding.ASCII.GetBytes(string.Join('\n', CifarClassNames) + "\n\n");
        return files;
    }

    /// <summary>A .tar.gz laid out like cifar-10-binary.tar.gz: the folder entry, then its files.</summary>
    public static byte[] CifarTarGz(IReadOnlyDictionary<string, byte[]> files)
    {
        var entries = new List<TarEntry> { new UstarTarEntry(TarEntryType.Directory, "cifar-10-batches-bin/") };
        foreach ((string name, byte[] bytes) in files)
            entries.Add(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) });
        return TarGz(entries);
    }

    /// <summary>A regular-file entry in PAX format (no name length limit, names written as given).</summary>
    public static TarEntry FileEntry(string name, string text) =>
        new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };

    public static TarEntry LinkEntry(TarEntryType type, string name, string linkName) =>
        new PaxTarEntry(type, name) { LinkName = linkName };

    public static byte[] TarGz(IEnumerable<TarEntry> entries)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, leaveOpen: true))
        {
            foreach (TarEntry entry in entries)
                writer.WriteEntry(entry);
        }
        return output.ToArray();
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(bytes);
        return output.ToArray();
    }

#pragma warning disable CA5351 // the checksum kind datasets publish, computed to test its verification
    public static string Md5Hex(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));
#pragma warning restore CA5351

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

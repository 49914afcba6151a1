using SharpVision.IO;
using SharpVision.Data;

namespace SharpVision.Tests.Data;

public class IdxReaderTests
{
    private static byte[] Images(int count, int seed = 1) => GeneratedDatasets.IdxImages(count, new Random(seed));

    [Fact]
    public void ReadImages_RawAndGzip_GiveTheBytesAfterTheHeader()
    {
        using var temp = new TempFolder();
        var bytes = Images(5);
        File.WriteAllBytes(temp.Combine("raw"), bytes);
        File.WriteAllBytes(temp.Combine("packed.gz"), TestImages.Gzip(bytes));
        foreach (var name in new[] { "raw", "packed.gz" })
        {
            var (count, rows, cols, pixels) = IdxReader.ReadImages(temp.Combine(name));
            Assert.Equal((5, 28, 28), (count, rows, cols));
            Assert.Equal(bytes[16..], pixels);
        }
    }

    [Fact]
    public void ReadImages_WrongMagic_NamesFileAndMagic()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("labels-as-images");
        File.WriteAllBytes(path, GeneratedDatasets.IdxLabels(5, new Random(1)));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("magic 0x00000801, expected 0x00000803", e.Message);
    }

    [Fact]
    public void ReadImages_Truncated_SaysHowMuchIsMissing()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("truncated.gz");
        var bytes = Images(5);
        File.WriteAllBytes(path, TestImages.Gzip(bytes[..^1]));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));
        Assert.Contains("truncated", e.Message);
        Assert.Contains($"file holds {5 * 784 - 1}", e.Message);
    }

    [Fact]
    public void ReadImages_TrailingBytes_AreRefused()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("long");
        File.WriteAllBytes(path, [.. Images(2), 0]);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));
        Assert.Contains("bytes after", e.Message);
    }

    [Fact]
    public void ReadLabels_CorruptGzip_IsADataFormatError()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("bad.gz");
        var gz = TestImages.Gzip(GeneratedDatasets.IdxLabels(100, new Random(1)));
        gz[gz.Length / 2] ^= 0xFF;
        gz[gz.Length / 2 + 1] ^= 0xFF;
        File.WriteAllBytes(path, gz);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadLabels(path));
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void Load_ImageAndLabelCountsDiffer_NamesBothFiles()
    {
        using var temp = new TempFolder();
        var random = new Random(3);
        File.WriteAllBytes(temp.Combine("train-images-idx3-ubyte"), GeneratedDatasets.IdxImages(6, random));
        File.WriteAllBytes(temp.Combine("train-labels-idx1-ubyte"), GeneratedDatasets.IdxLabels(5, random));
        File.WriteAllBytes(temp.Combine("t10k-images-idx3-ubyte"), GeneratedDatasets.IdxImages(2, random));
        File.WriteAllBytes(temp.Combine("t10k-labels-idx1-ubyte"), GeneratedDatasets.IdxLabels(2, random));
        var location = new DatasetLocator().Locate(temp.Path);
        var e = Assert.Throws<DataFormatException>(() => DatasetLoader.Load(location));
        Assert.Contains("5 labels but", e.Message);
        Assert.Contains("holds 6 images", e.Message);
    }

    [Fact]
    public void Load_LabelOutsideKnownClasses_IsRefused()
    {
        using var temp = new TempFolder();
        var random = new Random(3);
        var labels = GeneratedDatasets.IdxLabels(4, random);
        labels[^1] = 10; // Fashion-MNIST has classes 0..9
        File.WriteAllBytes(temp.Combine("train-images-idx3-ubyte"), GeneratedDatasets.IdxImages(4, random));
        File.WriteAllBytes(temp.Combine("train-labels-idx1-ubyte"), labels);
        File.WriteAllBytes(temp.Combine("t10k-images-idx3-ubyte"), GeneratedDatasets.IdxImages(2, random));
        File.WriteAllBytes(temp.Combine("t10k-labels-idx1-ubyte"), GeneratedDatasets.IdxLabels(2, random));
        var location = new DatasetLocator(dataDirectory: temp.Path).Locate("fashion-mnist");
        var e = Assert.Throws<DataFormatException>(() => DatasetLoader.Load(location));
        Assert.Contains("label 10 of item 3 is outside 0..9", e.Message);
    }

    // An IDX image header announcing count × rows × cols images, followed by `dataBytes` zero bytes, gzip-compressed.
    private static byte[] GzipHeaderClaiming(int count, int rows, int cols, int dataBytes)
    {
        var bytes = new byte[16 + dataBytes];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes, 0x803);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), cols);
        return TestImages.Gzip(bytes);
    }

    [Fact]
    public void ReadImages_GzipHeaderOverTheLimit_IsRefusedBeforeDecompressing()
    {
        // 2,000,000 images of 28×28 (1.57 GB) announced by a few hundred bytes of gzip: refused from the header alone.
        using var temp = new TempFolder();
        var path = temp.Combine("bomb.gz");
        File.WriteAllBytes(path, GzipHeaderClaiming(2_000_000, 28, 28, 1 << 16));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20);
        Assert.Equal(path, e.Path);
        Assert.Contains("more than the 1,073,741,824 a dataset file may hold", e.Reason);
    }

    [Fact]
    public void ReadImages_HeaderClaimingMoreThanTheData_CostsOnlyTheData()
    {
        // 1,000,000 images announced (784 MB, under the limit) but 64 KB of data: truncated, found without allocating the claim.
        using var temp = new TempFolder();
        var path = temp.Combine("short.gz");
        File.WriteAllBytes(path, GzipHeaderClaiming(1_000_000, 28, 28, 1 << 16));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20);
        Assert.Contains("truncated", e.Reason);
        Assert.Contains("file holds 65536", e.Reason);
    }
}

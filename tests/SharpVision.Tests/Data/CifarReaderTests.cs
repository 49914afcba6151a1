using SharpVision.IO;
using SharpVision.Data;

namespace SharpVision.Tests.Data;

public class CifarReaderTests
{
    private static byte[] Records(CifarVariant variant, int count, int seed)
    {
        var random = new Random(seed);
        int size = CifarReader.RecordBytes(variant);
        var bytes = new byte[count * size];
        random.NextBytes(bytes);
        for (int i = 0; i < count; i++)
        {
            if (variant == CifarVariant.Cifar10) bytes[i * size] = (byte)random.Next(10);
            else
            {
                bytes[i * size] = (byte)random.Next(20);
                bytes[i * size + 1] = (byte)random.Next(100);
            }
        }
        return bytes;
    }

    [Fact]
    public void ReadBatch_Cifar100_SplitsCoarseFineAndPixels()
    {
        using var temp = new TempFolder();
        var bytes = Records(CifarVariant.Cifar100, 3, 1);
        File.WriteAllBytes(temp.Combine("b.bin"), bytes);
        var (pixels, labels, coarse) = CifarReader.ReadBatch(temp.Combine("b.bin"), CifarVariant.Cifar100, 3);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(bytes[i * 3074], coarse![i]);
            Assert.Equal(bytes[i * 3074 + 1], labels[i]);
            Assert.Equal(bytes.AsSpan(i * 3074 + 2, 3072).ToArray(), pixels.AsSpan(i * 3072, 3072).ToArray());
        }
    }

    [Fact]
    public void ReadBatch_WrongSize_SaysExpectedAndActual()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("data_batch_1.bin");
        File.WriteAllBytes(path, Records(CifarVariant.Cifar10, 3, 1)[..^5]);
        var e = Assert.Throws<DataFormatException>(() => CifarReader.ReadBatch(path, CifarVariant.Cifar10, 10_000));
        Assert.Contains("exactly 30,730,000 bytes", e.Message);
        Assert.Contains("not a whole number of records", e.Message);
    }

    [Theory]
    [InlineData(CifarVariant.Cifar10, 0, 10, "label 10 is outside 0..9")]
    [InlineData(CifarVariant.Cifar100, 0, 20, "coarse label 20 is outside 0..19")]
    [InlineData(CifarVariant.Cifar100, 1, 100, "label 100 is outside 0..99")]
    public void ReadBatch_LabelOutOfRange_NamesRecord(CifarVariant variant, int offset, byte value, string expected)
    {
        using var temp = new TempFolder();
        var bytes = Records(variant, 4, 2);
        bytes[2 * CifarReader.RecordBytes(variant) + offset] = value;
        var path = temp.Combine("x.bin");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => CifarReader.ReadBatch(path, variant, 4));
        Assert.Contains("record 2", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Load_FullSizeCifar10Folder_ConcatenatesBatchesInOrder()
    {
        using var temp = new TempFolder();
        var dir = Directory.CreateDirectory(temp.Combine("cifar-10-batches-bin")).FullName;
        var batches = new List<byte[]>();
        foreach (var (name, seed) in DatasetFiles.Cifar10Batches.Select((n, i) => (n, i)))
        {
            var bytes = Records(CifarVariant.Cifar10, 10_000, seed);
            batches.Add(bytes);
            File.WriteAllBytes(Path.Combine(dir, name), bytes);
        }
        File.WriteAllLines(Path.Combine(dir, "batches.meta.txt"), ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", ""]);
        var splits = DatasetLoader.Load(new DatasetLocator().Locate(temp.Path));
        Assert.Equal((50_000, 10_000), (splits.Train.Count, splits.Test.Count));
        Assert.Equal("cifar-10", splits.Format);
        Assert.Equal(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"], splits.Train.ClassNames);
        // Record 0 of batch 3 is training image 20,000; record 9,999 of the test batch is test image 9,999.
        Assert.Equal(batches[2][0], splits.Train.Labels[20_000]);
        Assert.Equal(batches[2].AsSpan(1, 3072).ToArray(), splits.Train.Image(20_000).ToArray());
        Assert.Equal(batches[5].AsSpan(9_999 * 3073 + 1, 3072).ToArray(), splits.Test.Image(9_999).ToArray());
    }
}

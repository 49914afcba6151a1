using SharpVision.IO;
namespace SharpVision.Data;

/// <summary>Which CIFAR binary layout a batch file uses.</summary>
public enum CifarVariant
{
    /// <summary>CIFAR-10: per record 1 label byte (0..9) + 3072 pixel bytes.</summary>
    Cifar10,

    /// <summary>CIFAR-100: per record 1 coarse label (0..19) + 1 fine label (0..99) + 3072 pixel bytes.</summary>
    Cifar100,
}

/// <summary>
/// Reads CIFAR "binary version" batch files (the pickled Python version is never read).
/// Pixels are stored 1024 red, 1024 green, 1024 blue, each plane 32×32 row-major, which is already C×H×W.
/// </summary>
public static class CifarReader
{
    public const int ImageBytes = 3 * 32 * 32;

    /// <summary>Bytes per record for the variant (3073 or 3074).</summary>
    public static int RecordBytes(CifarVariant variant) => variant == CifarVariant.Cifar10 ? 1 + ImageBytes : 2 + ImageBytes;

    /// <summary>
    /// Reads one batch file that must hold exactly <paramref name="expectedRecords"/> records
    /// (CIFAR-10 batches: 10,000 records = 30,730,000 bytes).
    /// </summary>
    /// <returns>Pixels (N×3×32×32), fine labels, and coarse labels (CIFAR-100 only).</returns>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">Wrong size, a label out of range, or not a regular file.</exception>
    public static (byte[] Pixels, int[] Labels, int[]? CoarseLabels) ReadBatch(string path, CifarVariant variant, int expectedRecords)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedRecords);
        int record = RecordBytes(variant);
        long expected = (long)record * expectedRecords;
        byte[] bytes;
        using (var file = BoundedFile.OpenRead(path, BoundedFile.MaxDatasetBytes, "a CIFAR batch file"))
        {
            long actual = file.Length;
            if (actual != expected)
                throw new DataFormatException(path, $"CIFAR-{(variant == CifarVariant.Cifar10 ? 10 : 100)} batch must be exactly {expected:N0} bytes ({expectedRecords:N0} records of {record}), got {actual:N0}"
                    + (actual % record == 0 ? $" ({actual / record:N0} records)" : " (not a whole number of records)"));
            bytes = new byte[expected];
            if (file.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != bytes.Length || file.ReadByte() != -1)
                throw new DataFormatException(path, "changed size while being read");
        }
        var pixels = new byte[(long)expectedRecords * ImageBytes];
        var labels = new int[expectedRecords];
        int[]? coarse = variant == CifarVariant.Cifar100 ? new int[expectedRecords] : null;
        int fineClasses = variant == CifarVariant.Cifar10 ? 10 : 100;
        for (int i = 0; i < expectedRecords; i++)
        {
            int at = i * record;
            if (coarse is not null)
            {
                coarse[i] = bytes[at++];
                if (coarse[i] >= 20) throw new DataFormatException(path, $"record {i}: coarse label {coarse[i]} is outside 0..19");
            }
            labels[i] = bytes[at++];
            if (labels[i] >= fineClasses) throw new DataFormatException(path, $"record {i}: label {labels[i]} is outside 0..{fineClasses - 1}");
            bytes.AsSpan(at, ImageBytes).CopyTo(pixels.AsSpan(i * ImageBytes, ImageBytes));
        }
        return (pixels, labels, coarse);
    }

    /// <summary>Reads a names file (one class name per line, blank lines ignored), checking the count.</summary>
    /// <exception cref="DataFormatException">When the file does not list exactly <paramref name="expectedCount"/> names.</exception>
    public static string[] ReadNames(string path, int expectedCount)
    {
        var names = BoundedFile.ReadAllLines(path, 1 << 20, "a class names file").Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (names.Length != expectedCount)
            throw new DataFormatException(path, $"expected {expectedCount} class names, found {names.Length}");
        return names;
    }
}

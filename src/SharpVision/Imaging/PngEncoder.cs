using System.Buffers.Binary;
using System.IO.Compression;

namespace SharpVision.Imaging;

/// <summary>Writes 8-bit gray or RGB PNG files (non-interlaced, adaptive per-row filters, zlib).</summary>
public static class PngEncoder
{
    /// <summary>Encodes <paramref name="image"/> as PNG: 1 channel → gray, 3 → RGB, bit depth 8.</summary>
    /// <exception cref="ArgumentNullException">When <paramref name="image"/> is null.</exception>
    public static byte[] Encode(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int channels = image.Channels;
        int rowBytes = image.Width * channels;

        var output = new MemoryStream();
        output.Write(PngDecoder.Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], image.Height);
        ihdr[8] = 8;
        ihdr[9] = (byte)(channels == 1 ? 0 : 2);
        WriteChunk(output, "IHDR"u8, ihdr);

        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            // Per row, pick the filter with the smallest sum of |signed residuals| (the libpng heuristic).
            var candidates = new byte[5][];
            for (int f = 0; f < 5; f++)
                candidates[f] = new byte[rowBytes + 1];
            var zeros = new byte[rowBytes];
            ReadOnlySpan<byte> pixels = image.Pixels;
            for (int y = 0; y < image.Height; y++)
            {
                ReadOnlySpan<byte> row = pixels.Slice(y * rowBytes, rowBytes);
                ReadOnlySpan<byte> prior = y == 0 ? zeros : pixels.Slice((y - 1) * rowBytes, rowBytes);
                int best = 0;
                long bestScore = long.MaxValue;
                for (int f = 0; f < 5; f++)
                {
                    long score = Filter(f, row, prior, channels, candidates[f]);
                    if (score < bestScore)
                    {
                        bestScore = score;
                        best = f;
                    }
                }
                zlib.Write(candidates[best]);
            }
        }
        WriteChunk(output, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    /// <summary>Encodes and writes atomically: a temp file in the same folder, flushed to disk, then renamed over <paramref name="path"/>.</summary>
    /// <exception cref="IOException">When the file cannot be written.</exception>
    public static void Save(Image image, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        SharpVision.IO.AtomicFile.WriteAllBytes(path, Encode(image));
    }

    private static long Filter(int filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prior, int bpp, byte[] destination)
    {
        destination[0] = (byte)filter;
        Span<byte> dst = destination.AsSpan(1);
        long score = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0;
            int b = prior[i];
            int c = i >= bpp ? prior[i - bpp] : 0;
            int predictor = filter switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => Paeth(a, b, c),
            };
            byte residual = (byte)(row[i] - predictor);
            dst[i] = residual;
            score += residual < 128 ? residual : 256 - residual;
        }
        return score;
    }

    private static int Paeth(int a, int b, int c)
    {
        int pa = Math.Abs(b - c), pb = Math.Abs(a - c), pc = Math.Abs(a + b - 2 * c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Append(Crc32.Compute(type), data));
        output.Write(word);
    }
}

using SharpVision.IO;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SharpVision.Imaging;

/// <summary>
/// WebP: the RIFF container and the frame size are read here (managed, header first); the pixels are decoded by
/// Debian's libwebp (libwebp.so.7, package libwebp7) through function pointers, loaded once, lazily, into a buffer
/// allocated after the size check. Output: 3 channels RGB; alpha is dropped, as PIL's convert("RGB").
/// Animated WebP is refused as unsupported.
/// </summary>
internal static unsafe class WebP
{
    /// <summary>The library file this decoder loads.</summary>
    public const string LibraryName = "libwebp.so.7";

    private const int DecoderAbiVersion = 0x0209; // WEBP_DECODER_ABI_VERSION of libwebp 1.x
    private const int StatusNotEnoughData = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct BitstreamFeatures
    {
        public int Width, Height, HasAlpha, HasAnimation, Format;
        public fixed uint Pad[5];
    }

    private sealed class Api
    {
        public delegate* unmanaged<byte*, nuint, BitstreamFeatures*, int, int> GetFeatures;
        public delegate* unmanaged<byte*, nuint, byte*, nuint, int, byte*> DecodeRgbInto;
    }

    private static readonly Lazy<Api?> LoadedApi = new(Load);

    /// <summary>True when libwebp.so.7 loads and exports what the decoder calls.</summary>
    public static bool IsAvailable => LoadedApi.Value is not null;

    /// <summary>True for "RIFF" ???? "WEBP".</summary>
    public static bool HasSignature(ReadOnlySpan<byte> data) =>
        data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8);

    private static Api? Load()
    {
        if (!NativeLibrary.TryLoad(LibraryName, out nint library))
            return null;
        if (!NativeLibrary.TryGetExport(library, "WebPGetFeaturesInternal", out nint features)
            || !NativeLibrary.TryGetExport(library, "WebPDecodeRGBInto", out nint decode))
            return null;
        return new Api
        {
            GetFeatures = (delegate* unmanaged<byte*, nuint, BitstreamFeatures*, int, int>)features,
            DecodeRgbInto = (delegate* unmanaged<byte*, nuint, byte*, nuint, int, byte*>)decode,
        };
    }

    /// <summary>Size from the first chunk (VP8X canvas, VP8 or VP8L frame header), without libwebp.</summary>
    public static ImageInfo ReadInfo(ReadOnlySpan<byte> data, string path)
    {
        var (width, height) = ReadSize(data, path);
        return new ImageInfo("webp", width, height, 3);
    }

    /// <summary>Checks the container and the size, then decodes with libwebp. Shape: (H, W, 3).</summary>
    public static Image Decode(ReadOnlySpan<byte> data, string path, long maxPixels)
    {
        var (width, height) = ReadSize(data, path);
        ImageDecoder.CheckPixelLimit(width, height, maxPixels, "WebP", path);
        Api api = LoadedApi.Value ?? throw new DataFormatException(path,
            $"WebP needs libwebp, which could not be loaded ({LibraryName}; on Debian/Ubuntu: apt-get install libwebp7)");
        fixed (byte* source = data)
        {
            BitstreamFeatures features;
            int status = api.GetFeatures(source, (nuint)data.Length, &features, DecoderAbiVersion);
            if (status != 0)
                throw new DataFormatException(path, status == StatusNotEnoughData
                    ? "truncated WebP: libwebp needs more data to read the header"
                    : $"corrupt WebP: libwebp cannot read the header (status {status})");
            if (features.HasAnimation != 0)
                throw new DataFormatException(path, "unsupported WebP: animated (only still images are read)");
            if (features.Width != width || features.Height != height)
                throw new DataFormatException(path,
                    $"corrupt WebP: libwebp reads {features.Width}x{features.Height}, the header says {width}x{height}");
            var pixels = new byte[checked(width * height * 3)];
            fixed (byte* destination = pixels)
            {
                if (api.DecodeRgbInto(source, (nuint)data.Length, destination, (nuint)pixels.Length, width * 3) == null)
                    throw new DataFormatException(path, "corrupt WebP: libwebp cannot decode the image data (corrupt or truncated)");
            }
            return new Image(width, height, 3, pixels);
        }
    }

    /// <summary>The RIFF header (its size against the file's) and the first chunk's width and height.</summary>
    private static (int Width, int Height) ReadSize(ReadOnlySpan<byte> data, string path)
    {
        if (!HasSignature(data))
            throw new DataFormatException(path, "not a WebP file (bad signature)");
        long riffEnd = 8L + BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        if (riffEnd > data.Length)
            throw new DataFormatException(path, $"truncated WebP: the RIFF header claims {riffEnd} bytes, the file holds {data.Length}");
        if (data.Length < 30)
            throw new DataFormatException(path, "truncated WebP: the first chunk's header is cut off");
        ReadOnlySpan<byte> chunk = data[12..16];
        ReadOnlySpan<byte> payload = data[20..];
        if (chunk.SequenceEqual("VP8X"u8))
            return (1 + ReadUInt24(payload[4..]), 1 + ReadUInt24(payload[7..]));
        if (chunk.SequenceEqual("VP8 "u8))
        {
            if (payload[3] != 0x9D || payload[4] != 0x01 || payload[5] != 0x2A)
                throw new DataFormatException(path, "corrupt WebP: the VP8 frame has no start code");
            int width = BinaryPrimitives.ReadUInt16LittleEndian(payload[6..]) & 0x3FFF;
            int height = BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]) & 0x3FFF;
            if (width == 0 || height == 0)
                throw new DataFormatException(path, $"corrupt WebP: the VP8 frame is {width}x{height}");
            return (width, height);
        }
        if (chunk.SequenceEqual("VP8L"u8))
        {
            if (payload[0] != 0x2F)
                throw new DataFormatException(path, "corrupt WebP: the VP8L chunk has no signature byte 0x2F");
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(payload[1..]);
            return (1 + (int)(bits & 0x3FFF), 1 + (int)((bits >> 14) & 0x3FFF));
        }
        string name = string.Concat(chunk.ToArray().Select(b => b is >= 0x20 and < 0x7F ? ((char)b).ToString() : "?"));
        throw new DataFormatException(path, $"corrupt WebP: the first chunk is '{name}', not VP8, VP8L or VP8X");
    }

    private static int ReadUInt24(ReadOnlySpan<byte> s) => s[0] | s[1] << 8 | s[2] << 16;
}

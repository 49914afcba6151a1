using SharpVision.IO;
using System.Runtime.InteropServices;

namespace SharpVision.Imaging;

/// <summary>
/// libjpeg-turbo's TurboJPEG API (libturbojpeg.so.0) through function pointers, loaded once, lazily.
/// One handle per call: TurboJPEG handles are not thread-safe and cost microseconds to create.
/// </summary>
internal static unsafe class TurboJpeg
{
    private const int PixelFormatRgb = 0;   // TJPF_RGB
    private const int PixelFormatGray = 6;  // TJPF_GRAY
    private const int ColorSpaceGray = 2;   // TJCS_GRAY
    private const int ErrorWarning = 0;     // TJERR_WARNING

    private sealed class Api
    {
        public delegate* unmanaged<nint> InitDecompress;
        public delegate* unmanaged<nint, byte*, nuint, int*, int*, int*, int*, int> DecompressHeader3;
        public delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int> Decompress2;
        public delegate* unmanaged<nint, byte*> GetErrorStr2;
        public delegate* unmanaged<nint, int> GetErrorCode; // libjpeg-turbo ≥ 2.0; null when missing
        public delegate* unmanaged<nint, int> Destroy;
    }

    private static readonly Lazy<Api?> LoadedApi = new(Load);

    public static bool IsAvailable => LoadedApi.Value is not null;

    private static Api? Load()
    {
        if (!NativeLibrary.TryLoad("libturbojpeg.so.0", out nint library))
            return null;
        if (!NativeLibrary.TryGetExport(library, "tjInitDecompress", out nint init)
            || !NativeLibrary.TryGetExport(library, "tjDecompressHeader3", out nint header)
            || !NativeLibrary.TryGetExport(library, "tjDecompress2", out nint decompress)
            || !NativeLibrary.TryGetExport(library, "tjGetErrorStr2", out nint errorString)
            || !NativeLibrary.TryGetExport(library, "tjDestroy", out nint destroy))
            return null;
        NativeLibrary.TryGetExport(library, "tjGetErrorCode", out nint errorCode);
        return new Api
        {
            InitDecompress = (delegate* unmanaged<nint>)init,
            DecompressHeader3 = (delegate* unmanaged<nint, byte*, nuint, int*, int*, int*, int*, int>)header,
            Decompress2 = (delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int>)decompress,
            GetErrorStr2 = (delegate* unmanaged<nint, byte*>)errorString,
            GetErrorCode = (delegate* unmanaged<nint, int>)errorCode,
            Destroy = (delegate* unmanaged<nint, int>)destroy,
        };
    }

    /// <summary>Decodes with flags 0 (accurate integer IDCT, fancy upsampling), as PIL does.</summary>
    public static Image Decode(ReadOnlySpan<byte> data, string path, JpegHeader header)
    {
        Api api = LoadedApi.Value ?? throw new InvalidOperationException("libturbojpeg.so.0 could not be loaded.");
        nint handle = api.InitDecompress();
        if (handle == 0)
            throw new InvalidOperationException("tjInitDecompress failed.");
        try
        {
            fixed (byte* source = data)
            {
                int width, height, subsampling, colorSpace;
                if (api.DecompressHeader3(handle, source, (nuint)data.Length, &width, &height, &subsampling, &colorSpace) != 0)
                    throw new DataFormatException(path, $"corrupt JPEG: libjpeg-turbo says '{ErrorText(api, handle)}'");
                if (width != header.Width || height != header.Height)
                    throw new DataFormatException(path, $"corrupt JPEG: libjpeg-turbo reads {width}x{height}, the frame header says {header.Width}x{header.Height}");
                int channels = colorSpace == ColorSpaceGray ? 1 : 3;
                var pixels = new byte[checked(width * height * channels)];
                fixed (byte* destination = pixels)
                {
                    int result = api.Decompress2(handle, source, (nuint)data.Length, destination, width, 0, height,
                        channels == 1 ? PixelFormatGray : PixelFormatRgb, 0);
                    if (result != 0)
                        ThrowUnlessHarmless(api, handle, path);
                }
                return new Image(width, height, channels, pixels);
            }
        }
        finally
        {
            api.Destroy(handle);
        }
    }

    /// <summary>
    /// TurboJPEG returns -1 for libjpeg warnings too. Stray bytes before a marker are harmless;
    /// every other warning (premature end, bad Huffman code) means the pixels are partly invented.
    /// </summary>
    private static void ThrowUnlessHarmless(Api api, nint handle, string path)
    {
        string message = ErrorText(api, handle);
        bool warning = api.GetErrorCode != null && api.GetErrorCode(handle) == ErrorWarning;
        if (warning && message.Contains("extraneous bytes before marker", StringComparison.Ordinal))
            return;
        if (message.Contains("Premature end", StringComparison.Ordinal))
            throw new DataFormatException(path, $"truncated JPEG: libjpeg-turbo says '{message}'");
        throw new DataFormatException(path, $"corrupt JPEG: libjpeg-turbo says '{message}'");
    }

    private static string ErrorText(Api api, nint handle) =>
        Marshal.PtrToStringUTF8((nint)api.GetErrorStr2(handle)) ?? "unknown error";
}

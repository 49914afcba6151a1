namespace SharpVision.Imaging;

internal static class JpegDecoder
{
    public static Image Decode(ReadOnlySpan<byte> data, string path, JpegHeader header)
        => throw new DataFormatException(path, "unsupported JPEG: managed decoder not written yet");
}

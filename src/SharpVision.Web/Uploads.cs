using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.IO;

namespace SharpVision.Web;

/// <summary>A request refused with a status code and a JSON error: <c>{"error": message, "code": code, "status": status}</c>.</summary>
/// <param name="status">The HTTP status (400, 404, 413, 415, 503).</param>
/// <param name="code">A stable machine-readable reason ("not_an_image", "body_too_large", ...).</param>
/// <param name="message">What was wrong, naming the file or field.</param>
public sealed class RequestRejectedException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}

/// <summary>An uploaded file: its name (the form's file name, or "upload") and bytes.</summary>
internal readonly record struct UploadedFile(string Name, ReadOnlyMemory<byte> Data);

/// <summary>
/// Reads a prediction request's images: the raw body (image/png, image/jpeg, image/gif, image/bmp, image/webp,
/// application/octet-stream; the format is read from the bytes) or the files
/// of a multipart/form-data body, never more than the body limit, and turns each into the bytes a model takes.
/// </summary>
internal static class Uploads
{
    /// <summary>Content types accepted as a raw image body.</summary>
    public static readonly string[] RawTypes =
        ["image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp", "application/octet-stream"];

    /// <summary>Images with more pixels than this are decoded one at a time (a decoded 64-megapixel RGB image is 192 MB).</summary>
    private const long LargeImagePixels = 4_000_000;

    private static readonly SemaphoreSlim LargeDecodes = new(1, 1);

    /// <summary>Reads the body into memory, refusing more than <paramref name="limit"/> bytes (413) before or while reading.</summary>
    public static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellation)
    {
        if (request.ContentLength is long declared && declared > limit) throw TooLarge(declared, limit);
        int capacity = (int)Math.Min(request.ContentLength ?? 16 * 1024, limit + 1);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 1024));
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit) throw TooLarge(length, limit);
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                int read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellation);
                if (read == 0) break;
                length += read;
                if (length > limit) throw TooLarge(length, limit);
            }
            return (buffer, length);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw TooLarge(length, limit);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static RequestRejectedException TooLarge(long length, long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, "body_too_large", $"the request body is larger than the limit of {limit} bytes (got at least {length})");

    /// <summary>Checks the content type before anything is read: 415 unless raw image bytes or multipart/form-data.</summary>
    public static bool IsMultipart(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrEmpty(contentType))
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                $"no Content-Type: send the image as {string.Join(", ", RawTypes)}, or as multipart/form-data files");
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType.Value is not { } type)
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", $"Content-Type '{contentType}' cannot be parsed");
        if (type.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrEmpty(HeaderUtilities.RemoveQuotes(media.Boundary).Value))
                throw new RequestRejectedException(StatusCodes.Status400BadRequest, "bad_multipart", "multipart/form-data without a boundary");
            return true;
        }
        if (RawTypes.Contains(type, StringComparer.OrdinalIgnoreCase)) return false;
        throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
            $"Content-Type '{type}' is not accepted: send {string.Join(", ", RawTypes)}, or multipart/form-data files");
    }

    /// <summary>The files of a multipart body (parts with a file name; other fields are ignored).</summary>
    public static async Task<List<UploadedFile>> ReadMultipartAsync(HttpRequest request, byte[] body, int length, int maxFiles, CancellationToken cancellation)
    {
        var media = MediaTypeHeaderValue.Parse(request.ContentType);
        var boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value!;
        var files = new List<UploadedFile>();
        using var stream = new MemoryStream(body, 0, length, writable: false);
        var reader = new MultipartReader(boundary, stream) { BodyLengthLimit = null, HeadersLengthLimit = 16 * 1024 };
        try
        {
            while (await reader.ReadNextSectionAsync(cancellation) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition()) continue;
                if (files.Count == maxFiles)
                    throw new RequestRejectedException(StatusCodes.Status400BadRequest, "too_many_files", $"more than {maxFiles} files in one request");
                using var data = new MemoryStream();
                await section.Body.CopyToAsync(data, cancellation);
                var name = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                files.Add(new UploadedFile(string.IsNullOrEmpty(name) ? $"file{files.Count + 1}" : Path.GetFileName(name), data.GetBuffer().AsMemory(0, (int)data.Length)));
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new RequestRejectedException(StatusCodes.Status400BadRequest, "bad_multipart", $"malformed multipart/form-data body: {e.Message}");
        }
        if (files.Count == 0)
            throw new RequestRejectedException(StatusCodes.Status400BadRequest, "no_files", "the multipart/form-data body has no file part (a part with a filename)");
        return files;
    }

    /// <summary>The name a raw upload answers under: the X-File-Name header, or "upload".</summary>
    public static string RawName(HttpRequest request)
    {
        var name = request.Headers["X-File-Name"].ToString();
        return string.IsNullOrWhiteSpace(name) ? "upload" : Path.GetFileName(name.Trim());
    }

    /// <summary>
    /// Decodes one upload and converts it to the model's C×H×W bytes, into <paramref name="destination"/>. The header
    /// is read first: a file that is not PNG, JPEG, GIF, BMP or WebP is 415, one whose header claims more pixels than the decoder's
    /// limit is 413 without decoding anything, and a broken file is 400; each message names the file.
    /// </summary>
    public static async Task PrepareAsync(UploadedFile file, ImagePreparation preparation, Memory<byte> destination, CancellationToken cancellation)
    {
        var data = file.Data;
        if (data.IsEmpty) throw new RequestRejectedException(StatusCodes.Status400BadRequest, "empty_image", $"{file.Name}: the file is empty");
        if (ImageDecoder.DetectFormat(data.Span) is null)
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, "not_an_image",
                $"{file.Name}: {ImageDecoder.UnknownFormatReason(data.Span)}");
        try
        {
            var info = ImageDecoder.ReadInfo(data.Span, file.Name);
            long pixels = (long)info.Width * info.Height;
            if (pixels > ImageDecoder.DefaultMaxPixels)
                throw new RequestRejectedException(StatusCodes.Status413PayloadTooLarge, "too_many_pixels",
                    $"{file.Name}: the {info.Format.ToUpperInvariant()} header claims {info.Width}x{info.Height} = {pixels} pixels, more than the limit of {ImageDecoder.DefaultMaxPixels}");
            bool large = pixels > LargeImagePixels;
            if (large) await LargeDecodes.WaitAsync(cancellation);
            try
            {
                preparation.Prepare(ImageDecoder.Decode(data.Span, file.Name)).CopyTo(destination);
            }
            finally
            {
                if (large) LargeDecodes.Release();
            }
        }
        catch (DataFormatException e)
        {
            throw new RequestRejectedException(StatusCodes.Status400BadRequest, "undecodable_image", e.Message);
        }
    }
}

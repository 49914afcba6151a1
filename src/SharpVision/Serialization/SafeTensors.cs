using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SharpVision.IO;

namespace SharpVision.Serialization;

/// <summary>Element types a SharpVision model file may hold (a closed list).</summary>
public enum TensorDType
{
    U8,
    I32,
    I64,
    F32,
    F64,
}

/// <summary>One named tensor: little-endian raw bytes plus dtype and shape.</summary>
/// <param name="Name">Unique name, e.g. "train.images".</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Data">Raw little-endian bytes, exactly product(Shape)·sizeof(DType).</param>
public sealed record TensorEntry(string Name, TensorDType DType, long[] Shape, byte[] Data)
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(TensorDType dtype) => dtype switch
    {
        TensorDType.U8 => 1,
        TensorDType.I32 or TensorDType.F32 => 4,
        _ => 8,
    };

    /// <summary>An int32 tensor from values.</summary>
    public static TensorEntry FromInt32(string name, ReadOnlySpan<int> values, params long[] shape)
    {
        var data = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(i * 4), values[i]);
        return new TensorEntry(name, TensorDType.I32, shape, data);
    }

    /// <summary>A float32 tensor from values (little-endian, as every supported platform stores them).</summary>
    public static TensorEntry FromSingle(string name, ReadOnlySpan<float> values, params long[] shape)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Model files are little-endian.");
        return new TensorEntry(name, TensorDType.F32, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray());
    }

    /// <summary>The values of a float32 tensor.</summary>
    public float[] ToSingle()
    {
        if (DType != TensorDType.F32) throw new InvalidOperationException($"Tensor '{Name}' is {DType}, not F32.");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Model files are little-endian.");
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Data).ToArray();
    }

    /// <summary>The values of an int32 tensor.</summary>
    public int[] ToInt32()
    {
        if (DType != TensorDType.I32) throw new InvalidOperationException($"Tensor '{Name}' is {DType}, not I32.");
        var values = new int[Data.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(Data.AsSpan(i * 4));
        return values;
    }
}

/// <summary>
/// The safetensors layout (huggingface/safetensors): 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// mapping tensor names to {dtype, shape, data_offsets} plus an optional "__metadata__" string map, then the data.
/// Nothing in the file names code to run; the reader validates every field before allocating tensor memory.
/// </summary>
public sealed class SafeTensorsFile
{
    /// <summary>Largest header accepted (the reference implementation uses 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Most tensors one file may hold (a resnet20 checkpoint holds a few hundred); bounds the cost of reading a header.</summary>
    public const int MaxTensors = 65_536;

    // The dtype names the header may use, exactly as written (no whitespace, case or numeric forms).
    private static readonly Dictionary<string, TensorDType> DTypeNames =
        Enum.GetValues<TensorDType>().ToDictionary(d => d.ToString(), d => d, StringComparer.Ordinal);

    public SafeTensorsFile(IReadOnlyDictionary<string, string> metadata, IReadOnlyList<TensorEntry> tensors)
    {
        Metadata = metadata;
        Tensors = tensors;
    }

    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyList<TensorEntry> Tensors { get; }

    /// <summary>The tensor called <paramref name="name"/>, or null.</summary>
    public TensorEntry? Find(string name) => Tensors.FirstOrDefault(t => t.Name == name);

    /// <summary>Writes the file atomically (temp file, flush, rename).</summary>
    /// <exception cref="ArgumentException">Duplicate names, or data whose length disagrees with dtype and shape.</exception>
    public static void Write(string path, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<TensorEntry> tensors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata) json.WriteString(key, value);
            json.WriteEndObject();
            long offset = 0;
            foreach (var t in tensors)
            {
                if (t.Name == "__metadata__" || !names.Add(t.Name)) throw new ArgumentException($"Duplicate or reserved tensor name '{t.Name}'.", nameof(tensors));
                long expected = t.Shape.Aggregate(1L, (a, b) => checked(a * b)) * TensorEntry.ElementSize(t.DType);
                if (expected != t.Data.LongLength) throw new ArgumentException($"Tensor '{t.Name}': shape and dtype need {expected} bytes, data has {t.Data.LongLength}.", nameof(tensors));
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.ToString());
                json.WriteStartArray("shape");
                foreach (long d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.Data.LongLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.Data.LongLength;
            }
            json.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 so tensor data starts aligned (allowed by the format).
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            header.Position = 0;
            header.CopyTo(stream);
            foreach (var t in tensors) stream.Write(t.Data);
        });
    }

    /// <summary>Reads and fully validates a file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">
    /// Anything malformed, or not a regular file, or larger than <see cref="BoundedFile.MaxModelBytes"/>: the message says what, and names the file.
    /// </exception>
    public static SafeTensorsFile Read(string path)
    {
        using var file = BoundedFile.OpenRead(path, BoundedFile.MaxModelBytes, "a model file");
        long fileLength = file.Length;
        Span<byte> prefix = stackalloc byte[9];
        int got = file.ReadAtLeast(prefix, 9, throwOnEndOfStream: false);
        // A safetensors length field can begin with the same bytes as a pickle (a 640-byte header starts 80 02), so
        // foreign formats are only considered when the file does not look like safetensors: plausible length, then '{'.
        bool looksLikeSafeTensors = got == 9 && BinaryPrimitives.ReadUInt64LittleEndian(prefix) <= (ulong)(fileLength - 8) && prefix[8] == (byte)'{';
        if (!looksLikeSafeTensors) RefuseForeignFormats(path, prefix[..got]);
        file.Position = 8;
        if (got < 8) throw new DataFormatException(path, $"not a safetensors file: {fileLength} bytes, too short for the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(fileLength - 8))
            throw new DataFormatException(path, $"header length {headerLength} exceeds the {fileLength - 8} bytes after the length field (truncated or not a safetensors file)");
        if (headerLength > MaxHeaderBytes)
            throw new DataFormatException(path, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if (headerLength < 2) throw new DataFormatException(path, "header is too short to be a JSON object");
        var headerBytes = new byte[headerLength];
        file.ReadExactly(headerBytes);
        long dataLength = fileLength - 8 - (long)headerLength;

        var (metadata, specs) = ParseHeader(path, headerBytes, dataLength);
        var tensors = new List<TensorEntry>(specs.Count);
        foreach (var spec in specs.OrderBy(s => s.Begin))
        {
            var data = new byte[spec.End - spec.Begin];
            file.Position = 8 + (long)headerLength + spec.Begin;
            file.ReadExactly(data);
            tensors.Add(new TensorEntry(spec.Name, spec.DType, spec.Shape, data));
        }
        return new SafeTensorsFile(metadata, tensors);
    }

    private static void RefuseForeignFormats(string path, ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length >= 2 && prefix[0] == 0x80 && prefix[1] is >= 2 and <= 5)
            throw new DataFormatException(path, "this is a Python pickle (e.g. from torch.save or pickle.dump), not a safetensors file; SharpVision never loads pickles because loading one can run arbitrary code. Export the weights with safetensors instead");
        if (prefix.Length >= 4 && prefix[0] == (byte)'P' && prefix[1] == (byte)'K' && prefix[2] == 3 && prefix[3] == 4)
            throw new DataFormatException(path, "this is a zip archive (PyTorch's torch.save format holds a pickle), not a safetensors file; SharpVision never loads pickles. Export the weights with safetensors instead");
    }

    private sealed record Spec(string Name, TensorDType DType, long[] Shape, long Begin, long End);

    private static (Dictionary<string, string> Metadata, List<Spec> Specs) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument document;
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(header);
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException)
        {
            throw new DataFormatException(path, $"header is not valid UTF-8 JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, "header is not a JSON object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var specs = new List<Spec>();
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw new DataFormatException(path, $"duplicate entry '{property.Name}' in the header");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, "__metadata__ is not an object");
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        if (item.Value.ValueKind != JsonValueKind.String) throw new DataFormatException(path, $"__metadata__ value '{item.Name}' is not a string");
                        if (!metadata.TryAdd(item.Name, item.Value.GetString()!)) throw new DataFormatException(path, $"duplicate __metadata__ key '{item.Name}'");
                    }
                    continue;
                }
                if (specs.Count == MaxTensors)
                    throw new DataFormatException(path, $"the header lists more than {MaxTensors} tensors (the most a SharpVision file may hold)");
                specs.Add(ParseTensor(path, property.Name, property.Value));
            }
            // Tensors must tile the data section exactly: no overlap, no gap, no trailing bytes.
            long expectedBegin = 0;
            foreach (var spec in specs.OrderBy(s => s.Begin).ThenBy(s => s.End))
            {
                if (spec.Begin != expectedBegin)
                    throw new DataFormatException(path, spec.Begin < expectedBegin
                        ? $"tensor '{spec.Name}' overlaps the previous tensor (starts at {spec.Begin}, previous ends at {expectedBegin})"
                        : $"gap of {spec.Begin - expectedBegin} bytes before tensor '{spec.Name}'");
                if (spec.End > dataLength)
                    throw new DataFormatException(path, $"tensor '{spec.Name}' ends at byte {spec.End} but the data section has {dataLength} bytes (file truncated?)");
                expectedBegin = spec.End;
            }
            if (expectedBegin != dataLength)
                throw new DataFormatException(path, $"{dataLength - expectedBegin} bytes after the last tensor (data section {dataLength} bytes, tensors cover {expectedBegin})");
            return (metadata, specs);
        }
    }

    // A data offset is a non-negative integer JSON number (not a string, null or fraction).
    private static bool TryGetOffset(JsonElement element, out long offset)
    {
        offset = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out offset) && offset >= 0;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static Spec ParseTensor(string path, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, $"tensor '{name}' is not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new DataFormatException(path, $"tensor '{name}' has no dtype");
        var dtypeName = dtypeElement.GetString()!;
        if (!DTypeNames.TryGetValue(dtypeName, out var dtype))
            throw new DataFormatException(path, $"tensor '{name}' has unsupported dtype '{dtypeName}' (allowed: {string.Join(", ", Enum.GetNames<TensorDType>())})");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new DataFormatException(path, $"tensor '{name}' has no shape");
        var shape = new List<long>();
        long elements = 1;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0)
                throw new DataFormatException(path, $"tensor '{name}' has an invalid shape entry {d}");
            shape.Add(dim);
            try { elements = checked(elements * dim); }
            catch (OverflowException) { throw new DataFormatException(path, $"tensor '{name}' shape overflows"); }
        }
        if (!value.TryGetProperty("data_offsets", out var offsets))
            throw new DataFormatException(path, $"tensor '{name}' has no data_offsets");
        if (offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !TryGetOffset(offsets[0], out long begin) || !TryGetOffset(offsets[1], out long end) || end < begin)
            throw new DataFormatException(path, $"tensor '{name}' has invalid data_offsets {Shorten(offsets.GetRawText())} (expected two byte offsets [begin, end])");
        long bytes;
        try { bytes = checked(elements * TensorEntry.ElementSize(dtype)); }
        catch (OverflowException) { throw new DataFormatException(path, $"tensor '{name}' size overflows"); }
        if (end - begin != bytes)
            throw new DataFormatException(path, $"tensor '{name}' is {dtype} [{string.Join(", ", shape)}] = {bytes} bytes but its data_offsets span {end - begin}");
        if (bytes > Array.MaxLength)
            throw new DataFormatException(path, $"tensor '{name}' is {BoundedFile.Size(bytes)}, more than one array can hold ({BoundedFile.Size(Array.MaxLength)}); SharpVision does not read tensors that large");
        foreach (var property in value.EnumerateObject())
            if (property.Name is not ("dtype" or "shape" or "data_offsets"))
                throw new DataFormatException(path, $"tensor '{name}' has unknown field '{property.Name}'");
        return new Spec(name, dtype, shape.ToArray(), begin, end);
    }
}

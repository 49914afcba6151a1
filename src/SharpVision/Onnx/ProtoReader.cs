// Protocol Buffers wire format (https://protobuf.dev/programming-guides/encoding/): a message is a sequence of
// fields, each a varint key (field number << 3 | wire type) followed by its value:
//   0 varint (int32, int64, enums, bool) · 1 fixed 64-bit (double) · 2 length-delimited (strings, bytes, nested
//   messages, packed repeated scalars) · 5 fixed 32-bit (float). Groups (3, 4) are obsolete and refused.
using System.Buffers.Binary;
using System.Text;

namespace SharpVision.Onnx;

/// <summary>Protobuf wire types (the low three bits of a field key).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    Fixed32 = 5,
}

/// <summary>A malformed protobuf message; <see cref="Offset"/> is the byte where the reader stopped.</summary>
internal sealed class ProtoFormatException(string message, long offset) : Exception($"{message} (at byte {offset})")
{
    public long Offset { get; } = offset;
}

/// <summary>
/// Reads one protobuf message from a span with every length checked against the bytes that remain, so a claimed
/// length never allocates or reads past the input. Nested messages are read by sub-readers over their slice.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly long _base;
    private int _position;

    /// <param name="bytes">The message's bytes.</param>
    /// <param name="baseOffset">Where they start in the file (for error messages).</param>
    public ProtoReader(ReadOnlySpan<byte> bytes, long baseOffset = 0)
    {
        _bytes = bytes;
        _base = baseOffset;
        _position = 0;
    }

    /// <summary>True when every byte of the message has been read.</summary>
    public readonly bool AtEnd => _position >= _bytes.Length;

    /// <summary>The file offset of the next byte.</summary>
    public readonly long Offset => _base + _position;

    /// <summary>Reads the next field key; false at the end of the message.</summary>
    /// <exception cref="ProtoFormatException">A field number of 0, a group or an unknown wire type.</exception>
    public bool TryReadKey(out int field, out WireType wireType)
    {
        if (_position >= _bytes.Length)
        {
            field = 0;
            wireType = default;
            return false;
        }
        long start = Offset;
        ulong key = ReadVarint();
        if (key > uint.MaxValue || (key >> 3) == 0) throw new ProtoFormatException($"invalid field key {key}", start);
        field = (int)(key >> 3);
        int type = (int)(key & 7);
        wireType = type switch
        {
            0 => WireType.Varint,
            1 => WireType.Fixed64,
            2 => WireType.LengthDelimited,
            5 => WireType.Fixed32,
            _ => throw new ProtoFormatException($"field {field} has wire type {type} (groups and unknown types are not supported)", start),
        };
        return true;
    }

    /// <summary>A base-128 varint of at most 10 bytes.</summary>
    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _bytes.Length) throw new ProtoFormatException("truncated varint", Offset);
            byte b = _bytes[_position++];
            if (shift == 63 && b > 1) throw new ProtoFormatException("varint overflows 64 bits", Offset - 1);
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw new ProtoFormatException("varint longer than 10 bytes", Offset);
    }

    /// <summary>An int64 field (two's complement in a varint).</summary>
    public long ReadInt64() => (long)ReadVarint();

    /// <summary>An int32 or enum field: the varint's low 32 bits, sign-extended as protobuf does.</summary>
    public int ReadInt32() => (int)ReadVarint();

    /// <summary>Four little-endian bytes.</summary>
    public uint ReadFixed32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, "fixed32"));

    /// <summary>Eight little-endian bytes.</summary>
    public ulong ReadFixed64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, "fixed64"));

    /// <summary>A float (wire type 5).</summary>
    public float ReadFloat() => BitConverter.Int32BitsToSingle((int)ReadFixed32());

    /// <summary>The payload of a length-delimited field, checked against the bytes that remain.</summary>
    /// <exception cref="ProtoFormatException">The claimed length runs past the end of the enclosing message.</exception>
    public ReadOnlySpan<byte> ReadBytes(out long payloadOffset)
    {
        long start = Offset;
        ulong length = ReadVarint();
        int remaining = _bytes.Length - _position;
        if (length > (ulong)remaining)
            throw new ProtoFormatException($"a field claims {length:N0} bytes but only {remaining:N0} remain (truncated or corrupt)", start);
        payloadOffset = Offset;
        return Take((int)length, "bytes");
    }

    /// <summary>A length-delimited UTF-8 string.</summary>
    public string ReadString()
    {
        var bytes = ReadBytes(out long at);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ProtoFormatException("a string field is not valid UTF-8", at);
        }
    }

    /// <summary>A sub-reader over a nested message's bytes.</summary>
    public ProtoReader ReadMessage()
    {
        var bytes = ReadBytes(out long at);
        return new ProtoReader(bytes, at);
    }

    /// <summary>Skips a field of an unknown or unused number.</summary>
    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: Take(8, "fixed64"); break;
            case WireType.Fixed32: Take(4, "fixed32"); break;
            default: ReadBytes(out _); break;
        }
    }

    /// <summary>Throws unless the field has the wire type its declaration implies.</summary>
    public readonly void Expect(int field, WireType actual, WireType expected, string name)
    {
        if (actual != expected) throw new ProtoFormatException($"field {name} ({field}) has wire type {(int)actual}, expected {(int)expected}", Offset);
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (_bytes.Length - _position < count) throw new ProtoFormatException($"truncated {what}: {count} bytes needed, {_bytes.Length - _position} remain", Offset);
        var slice = _bytes.Slice(_position, count);
        _position += count;
        return slice;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace SharpVision.Onnx;

/// <summary>
/// Writes protobuf fields into a growable buffer (see <see cref="ProtoReader"/> for the wire format). Fields at their
/// default value are written only when the caller asks: proto3 readers treat a missing field as the default.
/// A nested message is written by a sub-writer whose bytes are then copied in with their length.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new();

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    /// <summary>A varint field (int32, int64, enum, bool); negative values take ten bytes as protobuf requires.</summary>
    public void WriteInt64(int field, long value)
    {
        WriteKey(field, WireType.Varint);
        WriteVarint((ulong)value);
    }

    /// <summary>A string field in UTF-8; nothing when null or empty.</summary>
    public void WriteString(int field, string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        WriteBytes(field, Encoding.UTF8.GetBytes(value));
    }

    /// <summary>A bytes field.</summary>
    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteKey(field, WireType.LengthDelimited);
        WriteVarint((ulong)value.Length);
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
    }

    /// <summary>A float field (wire type 5).</summary>
    public void WriteFloat(int field, float value)
    {
        WriteKey(field, WireType.Fixed32);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    /// <summary>A packed repeated int64 field; nothing when empty.</summary>
    public void WritePackedInt64(int field, ReadOnlySpan<long> values)
    {
        if (values.IsEmpty) return;
        var inner = new ProtoWriter();
        foreach (long v in values) inner.WriteVarint((ulong)v);
        WriteBytes(field, inner.WrittenSpan);
    }

    /// <summary>A packed repeated float field; nothing when empty.</summary>
    public void WritePackedFloat(int field, ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return;
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        WriteBytes(field, bytes);
    }

    /// <summary>A nested message written by <paramref name="write"/>.</summary>
    public void WriteMessage(int field, Action<ProtoWriter> write)
    {
        var inner = new ProtoWriter();
        write(inner);
        WriteBytes(field, inner.WrittenSpan);
    }

    private void WriteKey(int field, WireType type) => WriteVarint(((ulong)(uint)field << 3) | (uint)type);

    private void WriteVarint(ulong value)
    {
        var span = _buffer.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        _buffer.Advance(n);
    }
}

namespace System.IO.Hashing;

/// <summary>CRC-32 (ISO-HDLC, as PNG uses), bit by bit: slow and obviously right, for building test files.</summary>
internal static class Crc32Stub
{
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}

using SharpVision.IO;
using System.Buffers.Binary;

namespace SharpVision.Imaging;

/// <summary>
/// Managed JPEG decoder, the fallback that always works: baseline/extended sequential and progressive
/// Huffman, 8-bit, 1 or 3 components, any integral sampling factors, restart intervals.
/// It follows libjpeg-turbo's default path step by step — accurate integer IDCT (jidctint.c),
/// "fancy" triangle upsampling for 2x1, 1x2 and 2x2 chroma (jdsample.c), fixed-point YCbCr→RGB
/// (jdcolor.c) — so output normally equals libjpeg-turbo's exactly.
/// </summary>
internal sealed class JpegDecoder
{
    // Zig-zag index k → natural (row-major) position in the 8x8 block.
    private static ReadOnlySpan<byte> ZigZag =>
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];

    private sealed class HuffmanTable
    {
        public readonly ushort[] Lookup = new ushort[512]; // 9-bit lookahead: (length << 8) | symbol, 0 = longer code
        public readonly int[] MaxCode = new int[17];
        public readonly int[] ValueOffset = new int[17];
        public byte[] Values = [];
    }

    private sealed class Component
    {
        public required int Id { get; init; }
        public required int H { get; init; }
        public required int V { get; init; }
        public required int QuantTable { get; init; }
        public required int BlocksPerLine { get; init; }    // allocated: MCU columns × H
        public required int BlocksPerColumn { get; init; }  // allocated: MCU rows × V
        public required int ScanBlocksPerLine { get; init; }   // blocks a non-interleaved scan codes: ceil(DownsampledWidth/8)
        public required int ScanBlocksPerColumn { get; init; }
        public required int DownsampledWidth { get; init; }    // ceil(width·H/Hmax)
        public required int DownsampledHeight { get; init; }
        public required short[] Coefficients { get; init; }    // natural order, 64 per block
        public int DcPredictor;
        public HuffmanTable? Dc;
        public HuffmanTable? Ac;
    }

    private readonly byte[] _data;
    private readonly string _path;
    private readonly JpegHeader _header;
    private readonly ushort[]?[] _quant = new ushort[4][];
    private readonly HuffmanTable?[] _dcTables = new HuffmanTable[4];
    private readonly HuffmanTable?[] _acTables = new HuffmanTable[4];
    private Component[] _components = [];
    private int _hMax, _vMax, _mcusPerLine, _mcusPerColumn;
    private int _restartInterval;
    private bool _progressive;

    // Entropy-coded segment reader.
    private int _pos;
    private uint _bits;
    private int _bitCount;
    private bool _hitMarker;
    private bool _hitEnd;
    private int _eobRun;

    private JpegDecoder(byte[] data, string path, JpegHeader header)
    {
        _data = data;
        _path = path;
        _header = header;
    }

    public static Image Decode(ReadOnlySpan<byte> data, string path, JpegHeader header)
        => new JpegDecoder(data.ToArray(), path, header).Run();

    private DataFormatException Corrupt(string reason) => new(_path, "corrupt JPEG: " + reason);

    private Image Run()
    {
        _pos = 2;
        bool sawFrame = false;
        int scans = 0;
        while (true)
        {
            int marker = JpegHeader.NextMarker(_data, ref _pos, _path, "before the end-of-image marker (EOI)");
            if (marker == 0xD9)
                break;
            if (marker is 0x00 or 0x01 or (>= 0xD0 and <= 0xD7))
                continue; // stuffed byte or stray RST left after a scan, standalone TEM
            if (marker == 0xD8)
                throw Corrupt($"second start-of-image marker at offset {_pos - 2}");
            ReadOnlySpan<byte> segment = JpegHeader.Segment(_data, ref _pos, marker, _path);
            switch (marker)
            {
                case 0xC4:
                    ReadHuffmanTables(segment);
                    break;
                case 0xDB:
                    ReadQuantizationTables(segment);
                    break;
                case 0xDD:
                    if (segment.Length < 2)
                        throw Corrupt("DRI segment is too short");
                    _restartInterval = BinaryPrimitives.ReadUInt16BigEndian(segment);
                    break;
                case 0xC0 or 0xC1 or 0xC2:
                    if (sawFrame)
                        throw new DataFormatException(_path, "unsupported JPEG: more than one frame (hierarchical)");
                    SetUpFrame(marker == 0xC2);
                    sawFrame = true;
                    break;
                case 0xDA:
                    if (!sawFrame)
                        throw Corrupt("scan (SOS) before the frame header (SOF)");
                    DecodeScan(segment);
                    scans++;
                    break;
                case 0xDC:
                    throw new DataFormatException(_path, "unsupported JPEG: DNL marker");
                case >= 0xC3 and <= 0xCF:
                    throw new DataFormatException(_path, $"unsupported JPEG: marker 0xFF{marker:X2} after the frame header");
            }
        }
        if (scans == 0)
            throw Corrupt("no scan data before the end-of-image marker");
        return Output();
    }

    // ------------------------------------------------------------------ tables and frame

    private void ReadQuantizationTables(ReadOnlySpan<byte> s)
    {
        while (!s.IsEmpty)
        {
            int precision = s[0] >> 4, id = s[0] & 15;
            int size = precision == 0 ? 64 : 128;
            if (id > 3 || precision > 1 || s.Length < 1 + size)
                throw Corrupt("invalid DQT segment");
            var table = new ushort[64];
            for (int k = 0; k < 64; k++)
                table[ZigZag[k]] = precision == 0 ? s[1 + k] : BinaryPrimitives.ReadUInt16BigEndian(s[(1 + 2 * k)..]);
            _quant[id] = table;
            s = s[(1 + size)..];
        }
    }

    private void ReadHuffmanTables(ReadOnlySpan<byte> s)
    {
        while (!s.IsEmpty)
        {
            int tableClass = s[0] >> 4, id = s[0] & 15;
            if (tableClass > 1 || id > 3 || s.Length < 17)
                throw Corrupt("invalid DHT segment");
            ReadOnlySpan<byte> counts = s.Slice(1, 16);
            int total = 0;
            foreach (byte c in counts)
                total += c;
            if (total > 256 || s.Length < 17 + total)
                throw Corrupt("invalid DHT segment");
            var table = new HuffmanTable { Values = s.Slice(17, total).ToArray() };
            int code = 0, k = 0;
            for (int length = 1; length <= 16; length++)
            {
                table.ValueOffset[length] = k - code;
                for (int i = 0; i < counts[length - 1]; i++, code++, k++)
                {
                    // A code must fit in `length` bits; checked before it indexes the lookup table (found by fuzzing).
                    if (code >= 1 << length)
                        throw Corrupt("Huffman table has more codes than fit");
                    if (length <= 9)
                    {
                        int first = code << (9 - length), n = 1 << (9 - length);
                        table.Lookup.AsSpan(first, n).Fill((ushort)((length << 8) | table.Values[k]));
                    }
                }
                table.MaxCode[length] = counts[length - 1] > 0 ? code - 1 : -1;
                if (code > 1 << length)
                    throw Corrupt("Huffman table has more codes than fit");
                code <<= 1;
            }
            (tableClass == 0 ? _dcTables : _acTables)[id] = table;
            s = s[(17 + total)..];
        }
    }

    private void SetUpFrame(bool progressive)
    {
        _progressive = progressive;
        JpegComponentSpec[] specs = _header.Components;
        _hMax = specs.Max(c => c.H);
        _vMax = specs.Max(c => c.V);
        _mcusPerLine = (_header.Width + 8 * _hMax - 1) / (8 * _hMax);
        _mcusPerColumn = (_header.Height + 8 * _vMax - 1) / (8 * _vMax);
        _components = new Component[specs.Length];
        for (int i = 0; i < specs.Length; i++)
        {
            JpegComponentSpec spec = specs[i];
            int blocksPerLine = _mcusPerLine * spec.H, blocksPerColumn = _mcusPerColumn * spec.V;
            int width = (int)(((long)_header.Width * spec.H + _hMax - 1) / _hMax);
            int height = (int)(((long)_header.Height * spec.V + _vMax - 1) / _vMax);
            _components[i] = new Component
            {
                Id = spec.Id,
                H = spec.H,
                V = spec.V,
                QuantTable = spec.QuantTable,
                BlocksPerLine = blocksPerLine,
                BlocksPerColumn = blocksPerColumn,
                ScanBlocksPerLine = (width + 7) / 8,
                ScanBlocksPerColumn = (height + 7) / 8,
                DownsampledWidth = width,
                DownsampledHeight = height,
                Coefficients = new short[checked((long)blocksPerLine * blocksPerColumn * 64)],
            };
        }
    }

    // ------------------------------------------------------------------ scans

    private enum ScanKind { Baseline, DcFirst, DcRefine, AcFirst, AcRefine }

    private void DecodeScan(ReadOnlySpan<byte> s)
    {
        int count = s.IsEmpty ? 0 : s[0];
        if (count is < 1 or > 4 || s.Length < 1 + 2 * count + 3)
            throw Corrupt("invalid SOS segment");
        var scan = new Component[count];
        for (int i = 0; i < count; i++)
        {
            int id = s[1 + 2 * i], tables = s[2 + 2 * i];
            Component c = Array.Find(_components, x => x.Id == id) ?? throw Corrupt($"scan names unknown component {id}");
            if (Array.IndexOf(scan, c) >= 0)
                throw Corrupt($"scan names component {id} twice");
            int dc = tables >> 4, ac = tables & 15;
            if (dc > 3 || ac > 3)
                throw Corrupt("scan names a Huffman table above 3");
            c.Dc = _dcTables[dc];
            c.Ac = _acTables[ac];
            scan[i] = c;
        }
        int spectralStart = s[1 + 2 * count], spectralEnd = s[2 + 2 * count];
        int high = s[3 + 2 * count] >> 4, low = s[3 + 2 * count] & 15;

        ScanKind kind;
        if (!_progressive)
        {
            kind = ScanKind.Baseline;
        }
        else
        {
            if (spectralStart == 0 && spectralEnd != 0)
                throw Corrupt("progressive DC scan with spectral end above 0");
            if (spectralStart > 0 && (count != 1 || spectralEnd < spectralStart || spectralEnd > 63))
                throw Corrupt("invalid progressive AC scan parameters");
            if (low > 13)
                throw Corrupt("successive-approximation shift above 13");
            kind = spectralStart == 0
                ? high == 0 ? ScanKind.DcFirst : ScanKind.DcRefine
                : high == 0 ? ScanKind.AcFirst : ScanKind.AcRefine;
        }
        foreach (Component c in scan)
        {
            if (kind is ScanKind.Baseline or ScanKind.DcFirst && c.Dc is null)
                throw Corrupt($"component {c.Id} uses an undefined DC Huffman table");
            if (kind is ScanKind.Baseline or ScanKind.AcFirst or ScanKind.AcRefine && c.Ac is null)
                throw Corrupt($"component {c.Id} uses an undefined AC Huffman table");
            c.DcPredictor = 0;
        }

        _bits = 0;
        _bitCount = 0;
        _hitMarker = false;
        _hitEnd = false;
        _eobRun = 0;

        bool single = count == 1;
        int units = single ? scan[0].ScanBlocksPerLine * scan[0].ScanBlocksPerColumn : _mcusPerLine * _mcusPerColumn;
        for (int m = 0; m < units; m++)
        {
            if (_restartInterval > 0 && m > 0 && m % _restartInterval == 0)
                Restart(scan);
            if (single)
            {
                Component c = scan[0];
                int row = m / c.ScanBlocksPerLine, col = m % c.ScanBlocksPerLine;
                DecodeBlock(kind, c, (row * c.BlocksPerLine + col) * 64, spectralStart, spectralEnd, low);
            }
            else
            {
                int mcuRow = m / _mcusPerLine, mcuCol = m % _mcusPerLine;
                foreach (Component c in scan)
                {
                    for (int v = 0; v < c.V; v++)
                    {
                        int row = mcuRow * c.V + v;
                        for (int h = 0; h < c.H; h++)
                            DecodeBlock(kind, c, (row * c.BlocksPerLine + mcuCol * c.H + h) * 64, spectralStart, spectralEnd, low);
                    }
                }
            }
            if (_hitEnd)
                break;
        }
        if (_hitEnd)
            throw new DataFormatException(_path, "truncated JPEG: scan data ends early");
    }

    private void DecodeBlock(ScanKind kind, Component c, int offset, int start, int end, int low)
    {
        Span<short> block = c.Coefficients.AsSpan(offset, 64);
        switch (kind)
        {
            case ScanKind.Baseline:
            {
                int t = DecodeHuffman(c.Dc!);
                c.DcPredictor += ReceiveExtend(t, 11);
                block[0] = (short)c.DcPredictor;
                HuffmanTable ac = c.Ac!;
                for (int k = 1; k < 64;)
                {
                    int rs = DecodeHuffman(ac), r = rs >> 4, size = rs & 15;
                    if (size == 0)
                    {
                        if (r < 15)
                            break;
                        k += 16;
                        continue;
                    }
                    k += r;
                    if (k > 63)
                        throw Corrupt("AC coefficient index past 63");
                    block[ZigZag[k]] = (short)ReceiveExtend(size, 15);
                    k++;
                }
                break;
            }
            case ScanKind.DcFirst:
            {
                int t = DecodeHuffman(c.Dc!);
                c.DcPredictor += ReceiveExtend(t, 11);
                block[0] = (short)(c.DcPredictor << low);
                break;
            }
            case ScanKind.DcRefine:
                if (GetBits(1) != 0)
                    block[0] |= (short)(1 << low);
                break;
            case ScanKind.AcFirst:
                DecodeAcFirst(block, c.Ac!, start, end, low);
                break;
            case ScanKind.AcRefine:
                DecodeAcRefine(block, c.Ac!, start, end, low);
                break;
        }
    }

    private void DecodeAcFirst(Span<short> block, HuffmanTable ac, int start, int end, int low)
    {
        if (_eobRun > 0)
        {
            _eobRun--;
            return;
        }
        for (int k = start; k <= end; k++)
        {
            int rs = DecodeHuffman(ac), r = rs >> 4, size = rs & 15;
            if (size != 0)
            {
                k += r;
                if (k > 63)
                    throw Corrupt("AC coefficient index past 63");
                block[ZigZag[k]] = (short)(ReceiveExtend(size, 15) << low);
            }
            else if (r < 15)
            {
                _eobRun = (1 << r) - 1;
                if (r > 0)
                    _eobRun += GetBits(r);
                break;
            }
            else
            {
                k += 15;
            }
        }
    }

    // Follows libjpeg's decode_mcu_AC_refine (jdphuff.c).
    private void DecodeAcRefine(Span<short> block, HuffmanTable ac, int start, int end, int low)
    {
        int p1 = 1 << low, m1 = -1 << low;
        int k = start;
        if (_eobRun == 0)
        {
            for (; k <= end; k++)
            {
                int rs = DecodeHuffman(ac), r = rs >> 4, size = rs & 15;
                int value = 0;
                if (size != 0)
                {
                    if (size != 1)
                        throw Corrupt("refinement coefficient size is not 1");
                    value = GetBits(1) != 0 ? p1 : m1;
                }
                else if (r != 15)
                {
                    _eobRun = 1 << r;
                    if (r > 0)
                        _eobRun += GetBits(r);
                    break;
                }
                // Skip r zero coefficients (refining the nonzero ones passed on the way), then place value.
                while (k <= end)
                {
                    int z = ZigZag[k];
                    if (block[z] != 0)
                    {
                        RefineNonZero(ref block[z], p1, m1);
                    }
                    else
                    {
                        if (r == 0)
                            break;
                        r--;
                    }
                    k++;
                }
                if (value != 0)
                {
                    if (k > 63)
                        throw Corrupt("AC coefficient index past 63");
                    block[ZigZag[k]] = (short)value;
                }
            }
        }
        if (_eobRun > 0)
        {
            for (; k <= end; k++)
            {
                int z = ZigZag[k];
                if (block[z] != 0)
                    RefineNonZero(ref block[z], p1, m1);
            }
            _eobRun--;
        }
    }

    private void RefineNonZero(ref short coefficient, int p1, int m1)
    {
        if (GetBits(1) != 0 && (coefficient & p1) == 0)
            coefficient = (short)(coefficient >= 0 ? coefficient + p1 : coefficient + m1);
    }

    private void Restart(Component[] scan)
    {
        _bits = 0;
        _bitCount = 0;
        int p = _pos;
        // Find the next marker: 0xFF followed by neither 0x00 (stuffing) nor 0xFF (fill).
        while (p + 1 < _data.Length && !(_data[p] == 0xFF && _data[p + 1] != 0 && _data[p + 1] != 0xFF))
            p++;
        if (p + 1 >= _data.Length)
        {
            _hitEnd = true;
            _pos = _data.Length;
            return;
        }
        int marker = _data[p + 1];
        if (marker is >= 0xD0 and <= 0xD7)
        {
            _pos = p + 2;
            _hitMarker = false;
        }
        else
        {
            _pos = p; // RST missing: leave the marker for the main loop; the rest of the scan reads zeros
            _hitMarker = true;
        }
        foreach (Component c in scan)
            c.DcPredictor = 0;
        _eobRun = 0;
    }

    // ------------------------------------------------------------------ bits

    private void Fill()
    {
        while (_bitCount <= 24)
        {
            int b = 0;
            if (!_hitMarker)
            {
                if (_pos >= _data.Length)
                {
                    _hitEnd = true;
                }
                else
                {
                    b = _data[_pos];
                    if (b != 0xFF)
                    {
                        _pos++;
                    }
                    else if (_pos + 1 < _data.Length && _data[_pos + 1] == 0)
                    {
                        _pos += 2;
                    }
                    else if (_pos + 1 >= _data.Length)
                    {
                        _hitEnd = true;
                        b = 0;
                    }
                    else
                    {
                        _hitMarker = true; // feed zeros from here on, as libjpeg does
                        b = 0;
                    }
                }
            }
            _bits |= (uint)b << (24 - _bitCount);
            _bitCount += 8;
        }
    }

    private int GetBits(int n)
    {
        if (_bitCount < n)
            Fill();
        int value = (int)(_bits >> (32 - n));
        _bits <<= n;
        _bitCount -= n;
        return value;
    }

    /// <summary>Reads <paramref name="size"/> bits and sign-extends them (JPEG's EXTEND).</summary>
    private int ReceiveExtend(int size, int maxSize)
    {
        if (size == 0)
            return 0;
        if (size > maxSize)
            throw Corrupt($"coefficient size {size} is out of range");
        int value = GetBits(size);
        return value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
    }

    private int DecodeHuffman(HuffmanTable table)
    {
        if (_bitCount < 16)
            Fill();
        int entry = table.Lookup[_bits >> 23];
        if (entry != 0)
        {
            int length = entry >> 8;
            _bits <<= length;
            _bitCount -= length;
            return entry & 0xFF;
        }
        for (int length = 10; length <= 16; length++)
        {
            int code = (int)(_bits >> (32 - length));
            if (code <= table.MaxCode[length])
            {
                _bits <<= length;
                _bitCount -= length;
                return table.Values[code + table.ValueOffset[length]];
            }
        }
        throw Corrupt("invalid Huffman code");
    }

    // ------------------------------------------------------------------ output

    private Image Output()
    {
        int width = _header.Width, height = _header.Height;
        var planes = new byte[_components.Length][];
        Span<long> workspace = stackalloc long[64];
        for (int i = 0; i < _components.Length; i++)
        {
            Component c = _components[i];
            ushort[] quant = _quant[c.QuantTable] ?? throw Corrupt($"quantization table {c.QuantTable} is not defined");
            int stride = c.ScanBlocksPerLine * 8;
            var plane = new byte[(long)stride * c.ScanBlocksPerColumn * 8];
            for (int by = 0; by < c.ScanBlocksPerColumn; by++)
            {
                for (int bx = 0; bx < c.ScanBlocksPerLine; bx++)
                {
                    ReadOnlySpan<short> block = c.Coefficients.AsSpan((by * c.BlocksPerLine + bx) * 64, 64);
                    JpegIdct.Islow(block, quant, plane.AsSpan(by * 8 * stride + bx * 8), stride, workspace);
                }
            }
            planes[i] = plane;
        }

        if (_components.Length == 1)
        {
            Component c = _components[0];
            var gray = new byte[(long)width * height];
            int stride = c.ScanBlocksPerLine * 8;
            for (int y = 0; y < height; y++)
                planes[0].AsSpan(y * stride, width).CopyTo(gray.AsSpan(y * width));
            return new Image(width, height, 1, gray);
        }

        var rgb = new byte[(long)width * height * 3];
        int rowLength = width + 16; // fancy upsampling writes whole pairs past the right edge
        var rows = new byte[3][];
        var columnSums = new int[rowLength];
        for (int i = 0; i < 3; i++)
            rows[i] = new byte[rowLength];
        bool ycc = _header.IsYCbCr;
        for (int y = 0; y < height; y++)
        {
            for (int i = 0; i < 3; i++)
                UpsampleRow(_components[i], planes[i], y, rows[i], columnSums);
            Span<byte> dst = rgb.AsSpan(y * width * 3, width * 3);
            if (ycc)
                JpegColor.YccToRgb(rows[0], rows[1], rows[2], dst);
            else
                for (int x = 0; x < width; x++)
                {
                    dst[3 * x] = rows[0][x];
                    dst[3 * x + 1] = rows[1][x];
                    dst[3 * x + 2] = rows[2][x];
                }
        }
        return new Image(width, height, 3, rgb);
    }

    /// <summary>Full-resolution row <paramref name="y"/> of a component, as libjpeg-turbo's jdsample.c makes it.</summary>
    private void UpsampleRow(Component c, byte[] plane, int y, byte[] output, int[] columnSums)
    {
        int hExpand = _hMax / c.H, vExpand = _vMax / c.V;
        int stride = c.ScanBlocksPerLine * 8;
        int width = c.DownsampledWidth;
        int width2 = _header.Width;
        if (hExpand == 1 && vExpand == 1)
        {
            plane.AsSpan(y * stride, width2).CopyTo(output);
            return;
        }
        if (hExpand == 2 && vExpand == 1 && width > 2)
        {
            // h2v1_fancy_upsample: 3/4 nearer + 1/4 further, biases 1 and 2 alternate.
            ReadOnlySpan<byte> input = plane.AsSpan(y * stride, width);
            output[0] = input[0];
            output[1] = (byte)((input[0] * 3 + input[1] + 2) >> 2);
            for (int x = 1; x < width - 1; x++)
            {
                int v = input[x] * 3;
                output[2 * x] = (byte)((v + input[x - 1] + 1) >> 2);
                output[2 * x + 1] = (byte)((v + input[x + 1] + 2) >> 2);
            }
            output[2 * width - 2] = (byte)((input[width - 1] * 3 + input[width - 2] + 1) >> 2);
            output[2 * width - 1] = input[width - 1];
            return;
        }
        if (vExpand == 2 && (hExpand == 1 || (hExpand == 2 && width > 2)))
        {
            // Vertical triangle filter against the row above (even output rows) or below (odd), edges replicated.
            int inRow = y >> 1;
            bool upper = (y & 1) == 0;
            int neighborRow = Math.Clamp(upper ? inRow - 1 : inRow + 1, 0, c.DownsampledHeight - 1);
            ReadOnlySpan<byte> near = plane.AsSpan(inRow * stride, width);
            ReadOnlySpan<byte> far = plane.AsSpan(neighborRow * stride, width);
            if (hExpand == 1)
            {
                // h1v2_fancy_upsample
                int bias = upper ? 1 : 2;
                for (int x = 0; x < width; x++)
                    output[x] = (byte)((near[x] * 3 + far[x] + bias) >> 2);
                return;
            }
            // h2v2_fancy_upsample
            for (int x = 0; x < width; x++)
                columnSums[x] = near[x] * 3 + far[x];
            output[0] = (byte)((columnSums[0] * 4 + 8) >> 4);
            output[1] = (byte)((columnSums[0] * 3 + columnSums[1] + 7) >> 4);
            for (int x = 1; x < width - 1; x++)
            {
                int v = columnSums[x] * 3;
                output[2 * x] = (byte)((v + columnSums[x - 1] + 8) >> 4);
                output[2 * x + 1] = (byte)((v + columnSums[x + 1] + 7) >> 4);
            }
            output[2 * width - 2] = (byte)((columnSums[width - 1] * 3 + columnSums[width - 2] + 8) >> 4);
            output[2 * width - 1] = (byte)((columnSums[width - 1] * 4 + 7) >> 4);
            return;
        }
        // Any other integral ratio: replicate (libjpeg's int_upsample).
        ReadOnlySpan<byte> source = plane.AsSpan((y / vExpand) * stride, stride);
        for (int x = 0; x < width2; x++)
            output[x] = source[x / hExpand];
    }
}

/// <summary>libjpeg's accurate integer inverse DCT (jidctint.c, CONST_BITS 13, PASS1_BITS 2), bit for bit.</summary>
internal static class JpegIdct
{
    private const int ConstBits = 13, Pass1Bits = 2;
    private const long Fix0298631336 = 2446, Fix0390180644 = 3196, Fix0541196100 = 4433, Fix0765366865 = 6270,
        Fix0899976223 = 7373, Fix1175875602 = 9633, Fix1501321110 = 12299, Fix1847759065 = 15137,
        Fix1961570560 = 16069, Fix2053119869 = 16819, Fix2562915447 = 20995, Fix3072711026 = 25172;

    /// <summary>Dequantizes and inverse-transforms one block (natural order) into 8x8 samples at <paramref name="output"/>.</summary>
    public static void Islow(ReadOnlySpan<short> block, ReadOnlySpan<ushort> quant, Span<byte> output, int stride, Span<long> ws)
    {
        // Pass 1: columns → workspace, scaled up by 2^PASS1_BITS.
        for (int col = 0; col < 8; col++)
        {
            if (block[8 + col] == 0 && block[16 + col] == 0 && block[24 + col] == 0 && block[32 + col] == 0
                && block[40 + col] == 0 && block[48 + col] == 0 && block[56 + col] == 0)
            {
                long dc = (long)block[col] * quant[col] << Pass1Bits;
                for (int r = 0; r < 8; r++)
                    ws[8 * r + col] = dc;
                continue;
            }
            Butterfly(
                (long)block[col] * quant[col], (long)block[8 + col] * quant[8 + col],
                (long)block[16 + col] * quant[16 + col], (long)block[24 + col] * quant[24 + col],
                (long)block[32 + col] * quant[32 + col], (long)block[40 + col] * quant[40 + col],
                (long)block[48 + col] * quant[48 + col], (long)block[56 + col] * quant[56 + col],
                out long o0, out long o1, out long o2, out long o3, out long o4, out long o5, out long o6, out long o7);
            const int shift = ConstBits - Pass1Bits;
            const long round = 1L << (shift - 1);
            ws[col] = (o0 + round) >> shift;
            ws[8 + col] = (o1 + round) >> shift;
            ws[16 + col] = (o2 + round) >> shift;
            ws[24 + col] = (o3 + round) >> shift;
            ws[32 + col] = (o4 + round) >> shift;
            ws[40 + col] = (o5 + round) >> shift;
            ws[48 + col] = (o6 + round) >> shift;
            ws[56 + col] = (o7 + round) >> shift;
        }
        // Pass 2: rows → samples, removing the 2^PASS1_BITS and the DCT's factor 8, plus the +128 level shift.
        for (int row = 0; row < 8; row++)
        {
            Span<long> w = ws.Slice(8 * row, 8);
            Span<byte> o = output.Slice(row * stride, 8);
            Butterfly(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7],
                out long o0, out long o1, out long o2, out long o3, out long o4, out long o5, out long o6, out long o7);
            const int shift = ConstBits + Pass1Bits + 3;
            const long round = 1L << (shift - 1);
            o[0] = RangeLimit((o0 + round) >> shift);
            o[1] = RangeLimit((o1 + round) >> shift);
            o[2] = RangeLimit((o2 + round) >> shift);
            o[3] = RangeLimit((o3 + round) >> shift);
            o[4] = RangeLimit((o4 + round) >> shift);
            o[5] = RangeLimit((o5 + round) >> shift);
            o[6] = RangeLimit((o6 + round) >> shift);
            o[7] = RangeLimit((o7 + round) >> shift);
        }
    }

    /// <summary>libjpeg's post-IDCT range limit: the value wraps modulo 1024 (signed), then +128 and clamp to 0..255.</summary>
    private static byte RangeLimit(long value)
    {
        int v = (((int)value & 1023) ^ 512) - 512;
        return (byte)Math.Clamp(v + 128, 0, 255);
    }

    /// <summary>One 8-point IDCT (even part from inputs 0,2,4,6; odd part from 1,3,5,7), outputs scaled by 2^CONST_BITS.</summary>
    private static void Butterfly(long i0, long i1, long i2, long i3, long i4, long i5, long i6, long i7,
        out long o0, out long o1, out long o2, out long o3, out long o4, out long o5, out long o6, out long o7)
    {
        long z1 = (i2 + i6) * Fix0541196100;
        long tmp2 = z1 - i6 * Fix1847759065;
        long tmp3 = z1 + i2 * Fix0765366865;
        long tmp0 = (i0 + i4) << ConstBits;
        long tmp1 = (i0 - i4) << ConstBits;
        long tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

        tmp0 = i7;
        tmp1 = i5;
        tmp2 = i3;
        tmp3 = i1;
        z1 = tmp0 + tmp3;
        long z2 = tmp1 + tmp2, z3 = tmp0 + tmp2, z4 = tmp1 + tmp3;
        long z5 = (z3 + z4) * Fix1175875602;
        tmp0 *= Fix0298631336;
        tmp1 *= Fix2053119869;
        tmp2 *= Fix3072711026;
        tmp3 *= Fix1501321110;
        z1 *= -Fix0899976223;
        z2 *= -Fix2562915447;
        z3 *= -Fix1961570560;
        z4 *= -Fix0390180644;
        z3 += z5;
        z4 += z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;

        o0 = tmp10 + tmp3;
        o7 = tmp10 - tmp3;
        o1 = tmp11 + tmp2;
        o6 = tmp11 - tmp2;
        o2 = tmp12 + tmp1;
        o5 = tmp12 - tmp1;
        o3 = tmp13 + tmp0;
        o4 = tmp13 - tmp0;
    }
}

/// <summary>JFIF YCbCr → RGB in libjpeg's 16-bit fixed point (jdcolor.c), bit for bit.</summary>
internal static class JpegColor
{
    private static readonly int[] CrToR = new int[256], CbToB = new int[256], CrToG = new int[256], CbToG = new int[256];

    static JpegColor()
    {
        const int half = 1 << 15;
        static int Fix(double x) => (int)(x * 65536 + 0.5);
        for (int i = 0; i < 256; i++)
        {
            int x = i - 128;
            CrToR[i] = (Fix(1.40200) * x + half) >> 16;
            CbToB[i] = (Fix(1.77200) * x + half) >> 16;
            CrToG[i] = -Fix(0.71414) * x;
            CbToG[i] = -Fix(0.34414) * x + half;
        }
    }

    public static void YccToRgb(ReadOnlySpan<byte> y, ReadOnlySpan<byte> cb, ReadOnlySpan<byte> cr, Span<byte> rgb)
    {
        int width = rgb.Length / 3;
        for (int x = 0; x < width; x++)
        {
            int luma = y[x], blue = cb[x], red = cr[x];
            rgb[3 * x] = Clamp(luma + CrToR[red]);
            rgb[3 * x + 1] = Clamp(luma + ((CbToG[blue] + CrToG[red]) >> 16));
            rgb[3 * x + 2] = Clamp(luma + CbToB[blue]);
        }
    }

    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
}

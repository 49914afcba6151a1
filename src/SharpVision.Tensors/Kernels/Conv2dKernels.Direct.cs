// Shape legend (direct path): x (N, C, H, W), W (K, C, kh, kw), y (N, K, Ho, Wo); s = stride, pad = padding.
// Each image is copied once into a zero-padded, stride-phase-split layout ("flat planes"):
//   flat[c][ry·s + rx][a][b] = x[c, s·a + ry − pad, s·b + rx − pad]  (0 outside), a < Hq = ⌈(H + 2·pad)/s⌉, b < Wq = ⌈(W + 2·pad)/s⌉
// so that tap (i, j) of output pixel (oy, ox) sits at flat[c][(i mod s)·s + j mod s][oy + i/s][ox + j/s]. Numbering the
// outputs q = oy·Wq + ox turns every (channel, tap) pair e = (c, i, j) into one fixed offset: input(e, q) = flat[offset_e + q].
// The convolution becomes D = C·kh·kw shifted multiply-adds over contiguous q, 16 outputs per zmm:
//   forward          out[k, q]  = Σ_e W[k, e]·flat[offset_e + q]           (q with ox ≥ Wo are computed and dropped)
//   backward, weight dW[k, e]  += Σ_q dyflat[k, q]·flat[offset_e + q]      (dyflat: dy at q, zero at the dropped q)
//   backward, data   per phase (ry, rx) of the input pixels (iy + pad = s·a + ry, likewise x), only the taps
//                    i = s·di + ry, j = s·dj + rx reach them, from dy[k, a − di, b − dj]: a stride-1 correlation of dy
//                    (zero-padded by T = ⌈kh/s⌉ − 1, flat with row stride Wf) with those taps, scattered back into dx.
// No im2col matrix is built: the working set of one image (C·Hq·Wq + K·Ho·Wq floats) stays in L1/L2.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpVision.Tensors.Kernels;

/// <summary>How <see cref="Conv2dKernels"/> computes a convolution.</summary>
public enum Conv2dAlgorithm
{
    /// <summary>Chosen by <see cref="Conv2dBackend.Mode"/> and the geometry: oneDNN or the managed kernel (see <see cref="Conv2dKernels"/> remarks).</summary>
    Auto,
    /// <summary>The managed kernel the geometry prefers (direct or im2col + GEMM), whatever the mode.</summary>
    Managed,
    /// <summary>im2col over groups of images + the GEMM provider.</summary>
    Im2ColGemm,
    /// <summary>Direct convolution over zero-padded flat planes (implicit GEMM, no im2col matrix).</summary>
    Direct,
    /// <summary>oneDNN's primitives (libdnnl.so.2); throws when it is not available.</summary>
    OneDnn,
}

public static unsafe partial class Conv2dKernels
{
    // Filters per register tile of the direct kernels (the filter count is padded up to a multiple of it).
    private const int TileFilters = 4;
    // Output vectors (16 pixels each) per forward tile, and (channel, tap) pairs per weight-gradient tile:
    // 4 × 6 = 24 accumulators, leaving zmm registers for the broadcast weights / loaded operands.
    private const int TileWidth = 6;
    // Weight-gradient groups hold about this many output values per image row of dyflat (G·Vectors·16), so the
    // per-tile horizontal sums are amortized over enough multiply-adds.
    private const int WeightGroupColumns = 2048;

    /// <summary>
    /// True when the direct kernels handle this geometry's forward and weight gradient on <paramref name="path"/>: square
    /// kernels, on AVX-512 or AVX2 (the scalar path takes im2col + the GEMM's scalar micro-kernel).
    /// </summary>
    internal static bool DirectSupports(in Conv2dGeometry g, SimdPath path) => g.KernelHeight == g.KernelWidth && path != SimdPath.Scalar;


    /// <summary>The sizes of the flat-plane layout of one geometry (see the file header).</summary>
    private readonly struct FlatLayout
    {
        public readonly int Stride, Hq, Wq, PlaneSize, ChannelStride, Vectors, ImageSize, OutputRow, FilterTiles;

        public FlatLayout(in Conv2dGeometry g)
        {
            Stride = g.Stride;
            Hq = (g.Height + 2 * g.Padding + Stride - 1) / Stride;
            Wq = (g.Width + 2 * g.Padding + Stride - 1) / Stride;
            PlaneSize = Hq * Wq;
            ChannelStride = Stride * Stride * PlaneSize;
            Vectors = (g.OutputHeight * Wq + 15) / 16;
            OutputRow = Vectors * 16;
            // Reads run up to (Vectors·16 − 1) + the largest offset < C·ChannelStride + PlaneSize + 16: a zeroed tail.
            ImageSize = g.Channels * ChannelStride + PlaneSize + 32;
            FilterTiles = (g.Filters + TileFilters - 1) / TileFilters;
        }

        // offsets[e] for e = (c·kh + i)·kw + j.
        public int[] Offsets(in Conv2dGeometry g)
        {
            int kh = g.KernelHeight, kw = g.KernelWidth, s = Stride;
            var offsets = new int[g.PatchSize];
            for (int c = 0, e = 0; c < g.Channels; c++)
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++, e++)
                        offsets[e] = c * ChannelStride + ((i % s) * s + j % s) * PlaneSize + i / s * Wq + j / s;
            return offsets;
        }
    }

    // flat planes of one image (see the file header), tail zeroed so that dropped outputs read finite values.
    private static void ToFlatPlanes(in Conv2dGeometry g, in FlatLayout layout, float* image, float* flat)
    {
        int h = g.Height, w = g.Width, s = layout.Stride, pad = g.Padding, hq = layout.Hq, wq = layout.Wq;
        for (int c = 0; c < g.Channels; c++)
        {
            float* plane = image + (nint)c * h * w;
            for (int ry = 0; ry < s; ry++)
            {
                for (int rx = 0; rx < s; rx++)
                {
                    float* dst = flat + (nint)c * layout.ChannelStride + (ry * s + rx) * layout.PlaneSize;
                    // Columns b whose input column s·b + rx − pad lies inside [0, W): [bStart, bEnd).
                    int bStart = FirstInside(rx - pad, s), bEnd = EndInside(rx - pad, s, w, wq);
                    for (int a = 0; a < hq; a++, dst += wq)
                    {
                        int iy = s * a + ry - pad;
                        if ((uint)iy >= (uint)h || bStart >= bEnd)
                        {
                            new Span<float>(dst, wq).Clear();
                            continue;
                        }
                        for (int b = 0; b < bStart; b++) dst[b] = 0;
                        for (int b = bEnd; b < wq; b++) dst[b] = 0;
                        float* src = plane + (nint)iy * w + bStart * s + rx - pad;
                        if (s == 1)
                            Buffer.MemoryCopy(src, dst + bStart, (bEnd - bStart) * sizeof(float), (bEnd - bStart) * sizeof(float));
                        else
                            for (int b = bStart; b < bEnd; b++, src += s) dst[b] = *src;
                    }
                }
            }
        }
        new Span<float>(flat + (nint)g.Channels * layout.ChannelStride, layout.ImageSize - g.Channels * layout.ChannelStride).Clear();
    }

    // packed[tile][e][f] = W[tile·4 + f, e] (0 past K): the four filters of a tile side by side for broadcasting.
    private static float[] PackTileWeights(in Conv2dGeometry g, float* weight)
    {
        int k = g.Filters, d = g.PatchSize, tiles = (k + TileFilters - 1) / TileFilters;
        var packed = new float[tiles * d * TileFilters];
        for (int f = 0; f < k; f++)
            for (int e = 0; e < d; e++)
                packed[((f / TileFilters) * d + e) * TileFilters + f % TileFilters] = weight[(nint)f * d + e];
        return packed;
    }

    // tile[f, q] = Σ_e packed[f, e]·flat[offsets[e] + q] for q < vectors·16, f < filterTiles·4 (rows of stride vectors·16).
    private static void TileLoop(float* flat, int* offsets, int pairs, float* packed, int filterTiles, int vectors, float* tile, SimdPath path)
    {
        int row = vectors * 16;
        if (path != SimdPath.Avx512)
        {
            // AVX2: one 16-float vector (two ymm) per tile; vector outside, filter tiles inside, as below.
            for (int v = 0; v < vectors; v++)
                for (int t = 0; t < filterTiles; t++)
                    ForwardTile256(flat + v * 16, offsets, pairs,
                        packed + (nint)t * pairs * TileFilters, tile + (nint)t * TileFilters * row + v * 16, row);
            return;
        }
        // Vector blocks outside, filter tiles inside: the flat rows a block reads stay in L1 across the filter tiles.
        for (int v = 0; v < vectors; v += TileWidth)
        {
            int width = Math.Min(TileWidth, vectors - v);
            for (int t = 0; t < filterTiles; t++)
            {
                float* input = flat + v * 16, w = packed + (nint)t * pairs * TileFilters, o = tile + (nint)t * TileFilters * row + v * 16;
                switch (width)
                {
                    case 6: ForwardTile<Six>(input, offsets, pairs, w, o, row); break;
                    case 5: ForwardTile<Five>(input, offsets, pairs, w, o, row); break;
                    case 4: ForwardTile<Four>(input, offsets, pairs, w, o, row); break;
                    case 3: ForwardTile<Three>(input, offsets, pairs, w, o, row); break;
                    case 2: ForwardTile<Two>(input, offsets, pairs, w, o, row); break;
                    default: ForwardTile<One>(input, offsets, pairs, w, o, row); break;
                }
            }
        }
    }

    // y (K, Ho, Wo) = conv of one image's flat planes + b (bias may be null).
    private static void DirectImage(in Conv2dGeometry g, in FlatLayout layout, float* flat, int* offsets, float* packed, float* bias, float* output,
        float* tile, SimdPath path)
    {
        int row = layout.OutputRow;
        TileLoop(flat, offsets, g.PatchSize, packed, layout.FilterTiles, layout.Vectors, tile, path);
        // y[k, oy, ox] = out[k, oy·Wq + ox] + b[k]
        int ho = g.OutputHeight, wo = g.OutputWidth, wq = layout.Wq, pixels = ho * wo;
        for (int f = 0; f < g.Filters; f++)
        {
            float b = bias is null ? 0 : bias[f];
            float* src = tile + (nint)f * row, dst = output + (nint)f * pixels;
            for (int oy = 0; oy < ho; oy++, src += wq, dst += wo) AddScalar(dst, src, b, wo, path);
        }
    }

    private static void ForwardDirect(in Conv2dGeometry g, float* x, float* weight, float* bias, float* y, int threads, SimdPath path)
    {
        var layout = new FlatLayout(g);
        int[] offsets = layout.Offsets(g);
        float[] packed = PackTileWeights(g, weight);
        var plan = new Plan(g);
        var geometry = g;
        nint px = (nint)x, pb = (nint)bias, py = (nint)y;
        int scratch = layout.ImageSize + layout.FilterTiles * TileFilters * layout.OutputRow;
        fixed (int* po = offsets)
        fixed (float* pw = packed)
        {
            nint offsetsPointer = (nint)po, weightsPointer = (nint)pw;
            RunBlocks(plan, threads, scratch, (block, buffer, _) =>
            {
                fixed (float* work = buffer)
                {
                    float* flat = work, tile = work + layout.ImageSize;
                    for (int n = plan.BlockStart(block); n < plan.BlockStart(block + 1); n++)
                    {
                        ToFlatPlanes(geometry, layout, (float*)px + (long)n * geometry.InputImageSize, flat);
                        DirectImage(geometry, layout, flat, (int*)offsetsPointer, (float*)weightsPointer, (float*)pb,
                            (float*)py + (long)n * geometry.OutputImageSize, tile, path);
                    }
                }
            });
        }
    }

    /// <summary>One stride phase (ry, rx) of the input gradient: its taps, their weights and the rows of dx it reaches.</summary>
    private sealed class DataPhase
    {
        public required int Ry, Rx, FirstRow, FirstColumn, EndColumn, Vectors, Pairs;
        public required int[] Offsets;
        public required float[] Packed;
    }

    // dx += Σ over phases of scatter(correlation of flat dy with the phase's taps), see the file header.
    private static void BackwardDataDirect(in Conv2dGeometry g, float* dy, float* weight, float* dx, int threads, SimdPath path)
    {
        int s = g.Stride, kh = g.KernelHeight, kw = g.KernelWidth, pad = g.Padding, k = g.Filters, c = g.Channels;
        int ho = g.OutputHeight, wo = g.OutputWidth, h = g.Height, w = g.Width;
        int reach = (kh + s - 1) / s - 1; // T: the largest di (and dj)
        // Phase (ry, rx) produces dx rows a ∈ [firstRow, endRow) and columns b ∈ [firstCol, endCol) (the pixels inside
        // the image), numbered q = (a − firstRow)·Wf + b − firstCol. dy sits in flat planes at row top + oy, column
        // left + ox, zero around it; the margins are just wide enough that no read of a kept output wraps into the
        // neighbouring row's values.
        int top = 0, left = 0, wf = wo, hf = ho;
        for (int r = 0; r < s; r++)
        {
            int first = FirstInside(r - pad, s);
            top = Math.Max(top, reach - first);
            left = Math.Max(left, reach - first);
        }
        for (int r = 0; r < s; r++)
        {
            hf = Math.Max(hf, EndInside(r - pad, s, h, int.MaxValue));
            wf = Math.Max(wf, EndInside(r - pad, s, w, int.MaxValue));
        }
        wf += left;
        hf += top;
        int plane = hf * wf, imageSize = k * plane + wf + 32;
        int filterTiles = (c + TileFilters - 1) / TileFilters;
        var phases = new List<DataPhase>();
        int largestRow = 0;
        for (int ry = 0; ry < s; ry++)
        {
            for (int rx = 0; rx < s; rx++)
            {
                int ni = (kh - ry + s - 1) / s, nj = (kw - rx + s - 1) / s;
                int firstRow = FirstInside(ry - pad, s), endRow = EndInside(ry - pad, s, h, int.MaxValue);
                int firstCol = FirstInside(rx - pad, s), endCol = EndInside(rx - pad, s, w, int.MaxValue);
                if (ni <= 0 || nj <= 0 || endRow <= firstRow || endCol <= firstCol) continue;
                int pairs = k * ni * nj, vectors = ((endRow - firstRow) * wf + 15) / 16;
                var offsets = new int[pairs];
                var packed = new float[filterTiles * pairs * TileFilters];
                for (int f = 0, e = 0; f < k; f++)
                {
                    for (int di = 0; di < ni; di++)
                    {
                        for (int dj = 0; dj < nj; dj++, e++)
                        {
                            // out[a, b] += W[f, ch, s·di + ry, s·dj + rx]·dy[f, a − di, b − dj] = flat[f][(a − di + top)·Wf + b − dj + left]
                            offsets[e] = f * plane + (firstRow - di + top) * wf + firstCol - dj + left;
                            for (int ch = 0; ch < c; ch++)
                                packed[((ch / TileFilters) * pairs + e) * TileFilters + ch % TileFilters] =
                                    weight[(((nint)f * c + ch) * kh + s * di + ry) * kw + s * dj + rx];
                        }
                    }
                }
                phases.Add(new DataPhase { Ry = ry, Rx = rx, FirstRow = firstRow, FirstColumn = firstCol,
                    EndColumn = endCol, Vectors = vectors, Pairs = pairs, Offsets = offsets, Packed = packed });
                largestRow = Math.Max(largestRow, vectors * 16);
            }
        }
        var plan = new Plan(g);
        var geometry = g;
        nint pdy = (nint)dy, pdx = (nint)dx;
        RunBlocks(plan, threads, imageSize + filterTiles * TileFilters * largestRow, (block, buffer, _) =>
        {
            fixed (float* work = buffer)
            {
                float* flat = work, tile = work + imageSize;
                for (int n = plan.BlockStart(block); n < plan.BlockStart(block + 1); n++)
                {
                    // flat[f][(oy + top)·Wf + ox + left] = dy[f, oy, ox], zero elsewhere
                    new Span<float>(flat, imageSize).Clear();
                    float* source = (float*)pdy + (long)n * geometry.OutputImageSize;
                    for (int f = 0; f < k; f++)
                        for (int oy = 0; oy < ho; oy++)
                            Buffer.MemoryCopy(source + ((nint)f * ho + oy) * wo, flat + (nint)f * plane + (oy + top) * wf + left,
                                wo * sizeof(float), wo * sizeof(float));
                    float* image = (float*)pdx + (long)n * geometry.InputImageSize;
                    foreach (var phase in phases)
                    {
                        fixed (int* offsets = phase.Offsets)
                        fixed (float* packed = phase.Packed)
                            TileLoop(flat, offsets, phase.Pairs, packed, filterTiles, phase.Vectors, tile, path);
                        ScatterPhase(geometry, phase, wf, tile, image, path);
                    }
                }
            }
        });
    }

    // dx[ch, s·a + ry − pad, s·b + rx − pad] += tile[ch, (a − firstRow)·Wf + b − firstCol] for the pixels inside the image.
    private static void ScatterPhase(in Conv2dGeometry g, DataPhase phase, int wf, float* tile, float* image, SimdPath path)
    {
        int s = g.Stride, pad = g.Padding, h = g.Height, w = g.Width, row = phase.Vectors * 16;
        int bStart = phase.FirstColumn, bEnd = phase.EndColumn;
        for (int ch = 0; ch < g.Channels; ch++)
        {
            float* plane = image + (nint)ch * h * w, src = tile + (nint)ch * row;
            for (int a = phase.FirstRow; ; a++)
            {
                int iy = s * a + phase.Ry - pad;
                if (iy >= h) break;
                float* line = src + (a - phase.FirstRow) * wf - bStart, target = plane + (nint)iy * w + s * bStart + phase.Rx - pad;
                if (s == 1)
                {
                    AddInto(target, line + bStart, bEnd - bStart, path);
                }
                else
                {
                    for (int b = bStart; b < bEnd; b++, target += s) *target += line[b];
                }
            }
        }
    }

    // dWᵀ partials per block: partial[f·D + e] = Σ over the block's images of Σ_q dyflat[f, q]·flat[offset_e + q].
    private static void BackwardWeightDirect(in Conv2dGeometry g, float* x, float* dy, float* partials, double[] partialBias, int threads, SimdPath path)
    {
        var layout = new FlatLayout(g);
        int[] offsets = layout.Offsets(g);
        var plan = new Plan(g);
        var geometry = g;
        int k = g.Filters, d = g.PatchSize, row = layout.OutputRow, dySize = layout.FilterTiles * TileFilters * row;
        int largestBlock = (g.Batch + plan.Blocks - 1) / plan.Blocks;
        int group = Math.Clamp(WeightGroupColumns / row, 1, largestBlock);
        int perImage = layout.ImageSize + dySize;
        nint px = (nint)x, pdy = (nint)dy, pp = (nint)partials;
        bool withBias = partialBias.Length != 0;
        fixed (int* po = offsets)
        {
            nint offsetsPointer = (nint)po;
            RunBlocks(plan, threads, group * perImage, (block, buffer, _) =>
            {
                float* partial = (float*)pp + (long)block * k * d;
                new Span<float>(partial, k * d).Clear();
                float* sums = stackalloc float[TileFilters * TileWidth];
                fixed (float* work = buffer)
                {
                    int blockEnd = plan.BlockStart(block + 1);
                    for (int first = plan.BlockStart(block); first < blockEnd; first += group)
                    {
                        int count = Math.Min(group, blockEnd - first);
                        float* flats = work, dys = work + (nint)count * layout.ImageSize;
                        for (int n = 0; n < count; n++)
                        {
                            ToFlatPlanes(geometry, layout, (float*)px + (long)(first + n) * geometry.InputImageSize, flats + (nint)n * layout.ImageSize);
                            float* source = (float*)pdy + (long)(first + n) * geometry.OutputImageSize;
                            ToFlatGradient(geometry, layout, source, dys + (nint)n * dySize);
                            if (withBias)
                                for (int f = 0; f < k; f++)
                                    partialBias[block * k + f] += System.Numerics.Tensors.TensorPrimitives.Sum(new ReadOnlySpan<float>(source + (nint)f * geometry.OutputPixels, geometry.OutputPixels));
                        }
                        for (int t = 0; t < layout.FilterTiles; t++)
                        {
                            for (int e = 0; e < d; e += TileWidth)
                            {
                                int width = Math.Min(TileWidth, d - e);
                                float* dyTile = dys + (nint)t * TileFilters * row;
                                int* tileOffsets = (int*)offsetsPointer + e;
                                if (path != SimdPath.Avx512)
                                    WeightTileAvx2(width, dyTile, row, flats, tileOffsets, layout.Vectors, count, dySize, layout.ImageSize, sums);
                                else switch (width)
                                {
                                    case 6:
                                        WeightTile<Six>(dyTile, row, flats, tileOffsets, layout.Vectors, count, dySize, layout.ImageSize, sums);
                                        break;
                                    case 5:
                                        WeightTile<Five>(dyTile, row, flats, tileOffsets, layout.Vectors, count, dySize, layout.ImageSize, sums);
                                        break;
                                    case 4:
                                        WeightTile<Four>(dyTile, row, flats, tileOffsets, layout.Vectors, count, dySize, layout.ImageSize, sums);
                                        break;
                                    case 3:
                                        WeightTile<Three>(dyTile, row, flats, tileOffsets, layout.Vectors, count, dySize, layout.ImageSize, sums);
                                        break;
                                    case 2:
                                        WeightTile<Two>(dyTile, row, flats, tileOffsets, layout.Vectors, count, dySize, layout.ImageSize, sums);
                                        break;
                                    default:
                                        WeightTile<One>(dyTile, row, flats, tileOffsets, layout.Vectors, count, dySize, layout.ImageSize, sums);
                                        break;
                                }
                                for (int f = 0; f < TileFilters && t * TileFilters + f < k; f++)
                                    for (int p = 0; p < width; p++) partial[(nint)(t * TileFilters + f) * d + e + p] += sums[f * TileWidth + p];
                            }
                        }
                    }
                }
            });
        }
    }

    // dyflat[f, oy·Wq + ox] = dy[f, oy, ox]; zero at ox ≥ Wo, past Ho·Wq and on the padding filters.
    private static void ToFlatGradient(in Conv2dGeometry g, in FlatLayout layout, float* dy, float* flat)
    {
        int ho = g.OutputHeight, wo = g.OutputWidth, wq = layout.Wq, row = layout.OutputRow;
        new Span<float>(flat, layout.FilterTiles * TileFilters * row).Clear();
        for (int f = 0; f < g.Filters; f++)
        {
            float* src = dy + (nint)f * ho * wo, dst = flat + (nint)f * row;
            for (int oy = 0; oy < ho; oy++)
                Buffer.MemoryCopy(src + oy * wo, dst + oy * wq, wo * sizeof(float), wo * sizeof(float));
        }
    }

    private interface ITileWidth
    {
        static abstract int Value { get; }
    }

    private struct One : ITileWidth { public static int Value => 1; }
    private struct Two : ITileWidth { public static int Value => 2; }
    private struct Three : ITileWidth { public static int Value => 3; }
    private struct Four : ITileWidth { public static int Value => 4; }
    private struct Five : ITileWidth { public static int Value => 5; }
    private struct Six : ITileWidth { public static int Value => 6; }

    // out[f, v·16 ..] = Σ_e packed[e, f]·input[offsets[e] + v·16 ..] for 4 filters × TWidth vectors.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardTile<TWidth>(float* input, int* offsets, int pairs, float* packed, float* output, int row) where TWidth : struct, ITileWidth
    {
        var zero = Vector512<float>.Zero;
        Vector512<float> a00 = zero, a01 = zero, a02 = zero, a03 = zero, a04 = zero, a05 = zero;
        Vector512<float> a10 = zero, a11 = zero, a12 = zero, a13 = zero, a14 = zero, a15 = zero;
        Vector512<float> a20 = zero, a21 = zero, a22 = zero, a23 = zero, a24 = zero, a25 = zero;
        Vector512<float> a30 = zero, a31 = zero, a32 = zero, a33 = zero, a34 = zero, a35 = zero;
        for (int e = 0; e < pairs; e++, packed += TileFilters)
        {
            float* src = input + offsets[e];
            var w0 = Vector512.Create(packed[0]);
            var w1 = Vector512.Create(packed[1]);
            var w2 = Vector512.Create(packed[2]);
            var w3 = Vector512.Create(packed[3]);
            var x = Vector512.Load(src);
            a00 = Vector512.FusedMultiplyAdd(x, w0, a00); a10 = Vector512.FusedMultiplyAdd(x, w1, a10);
            a20 = Vector512.FusedMultiplyAdd(x, w2, a20); a30 = Vector512.FusedMultiplyAdd(x, w3, a30);
            if (TWidth.Value > 1)
            {
                x = Vector512.Load(src + 16);
                a01 = Vector512.FusedMultiplyAdd(x, w0, a01); a11 = Vector512.FusedMultiplyAdd(x, w1, a11);
                a21 = Vector512.FusedMultiplyAdd(x, w2, a21); a31 = Vector512.FusedMultiplyAdd(x, w3, a31);
            }
            if (TWidth.Value > 2)
            {
                x = Vector512.Load(src + 32);
                a02 = Vector512.FusedMultiplyAdd(x, w0, a02); a12 = Vector512.FusedMultiplyAdd(x, w1, a12);
                a22 = Vector512.FusedMultiplyAdd(x, w2, a22); a32 = Vector512.FusedMultiplyAdd(x, w3, a32);
            }
            if (TWidth.Value > 3)
            {
                x = Vector512.Load(src + 48);
                a03 = Vector512.FusedMultiplyAdd(x, w0, a03); a13 = Vector512.FusedMultiplyAdd(x, w1, a13);
                a23 = Vector512.FusedMultiplyAdd(x, w2, a23); a33 = Vector512.FusedMultiplyAdd(x, w3, a33);
            }
            if (TWidth.Value > 4)
            {
                x = Vector512.Load(src + 64);
                a04 = Vector512.FusedMultiplyAdd(x, w0, a04); a14 = Vector512.FusedMultiplyAdd(x, w1, a14);
                a24 = Vector512.FusedMultiplyAdd(x, w2, a24); a34 = Vector512.FusedMultiplyAdd(x, w3, a34);
            }
            if (TWidth.Value > 5)
            {
                x = Vector512.Load(src + 80);
                a05 = Vector512.FusedMultiplyAdd(x, w0, a05); a15 = Vector512.FusedMultiplyAdd(x, w1, a15);
                a25 = Vector512.FusedMultiplyAdd(x, w2, a25); a35 = Vector512.FusedMultiplyAdd(x, w3, a35);
            }
        }
        float* o0 = output, o1 = output + row, o2 = output + 2 * row, o3 = output + 3 * row;
        a00.Store(o0); a10.Store(o1); a20.Store(o2); a30.Store(o3);
        if (TWidth.Value > 1) { a01.Store(o0 + 16); a11.Store(o1 + 16); a21.Store(o2 + 16); a31.Store(o3 + 16); }
        if (TWidth.Value > 2) { a02.Store(o0 + 32); a12.Store(o1 + 32); a22.Store(o2 + 32); a32.Store(o3 + 32); }
        if (TWidth.Value > 3) { a03.Store(o0 + 48); a13.Store(o1 + 48); a23.Store(o2 + 48); a33.Store(o3 + 48); }
        if (TWidth.Value > 4) { a04.Store(o0 + 64); a14.Store(o1 + 64); a24.Store(o2 + 64); a34.Store(o3 + 64); }
        if (TWidth.Value > 5) { a05.Store(o0 + 80); a15.Store(o1 + 80); a25.Store(o2 + 80); a35.Store(o3 + 80); }
    }

    // sums[f·6 + p] = Σ_images Σ_q dy[f, q]·flat[offsets[p] + q] for 4 filter rows (stride row) × TWidth pairs.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightTile<TWidth>(float* dy, int row, float* flats, int* offsets, int vectors, int images, int dyImage, int flatImage, float* sums)
        where TWidth : struct, ITileWidth
    {
        var zero = Vector512<float>.Zero;
        Vector512<float> a00 = zero, a01 = zero, a02 = zero, a03 = zero, a04 = zero, a05 = zero;
        Vector512<float> a10 = zero, a11 = zero, a12 = zero, a13 = zero, a14 = zero, a15 = zero;
        Vector512<float> a20 = zero, a21 = zero, a22 = zero, a23 = zero, a24 = zero, a25 = zero;
        Vector512<float> a30 = zero, a31 = zero, a32 = zero, a33 = zero, a34 = zero, a35 = zero;
        int length = vectors * 16;
        for (int n = 0; n < images; n++)
        {
            float* d0 = dy + (nint)n * dyImage, d1 = d0 + row, d2 = d1 + row, d3 = d2 + row;
            float* flat = flats + (nint)n * flatImage;
            float* x0 = flat + offsets[0];
            float* x1 = TWidth.Value > 1 ? flat + offsets[1] : x0;
            float* x2 = TWidth.Value > 2 ? flat + offsets[2] : x0;
            float* x3 = TWidth.Value > 3 ? flat + offsets[3] : x0;
            float* x4 = TWidth.Value > 4 ? flat + offsets[4] : x0;
            float* x5 = TWidth.Value > 5 ? flat + offsets[5] : x0;
            for (int q = 0; q < length; q += 16)
            {
                var y0 = Vector512.Load(d0 + q);
                var y1 = Vector512.Load(d1 + q);
                var y2 = Vector512.Load(d2 + q);
                var y3 = Vector512.Load(d3 + q);
                var x = Vector512.Load(x0 + q);
                a00 = Vector512.FusedMultiplyAdd(y0, x, a00); a10 = Vector512.FusedMultiplyAdd(y1, x, a10);
                a20 = Vector512.FusedMultiplyAdd(y2, x, a20); a30 = Vector512.FusedMultiplyAdd(y3, x, a30);
                if (TWidth.Value > 1)
                {
                    x = Vector512.Load(x1 + q);
                    a01 = Vector512.FusedMultiplyAdd(y0, x, a01); a11 = Vector512.FusedMultiplyAdd(y1, x, a11);
                    a21 = Vector512.FusedMultiplyAdd(y2, x, a21); a31 = Vector512.FusedMultiplyAdd(y3, x, a31);
                }
                if (TWidth.Value > 2)
                {
                    x = Vector512.Load(x2 + q);
                    a02 = Vector512.FusedMultiplyAdd(y0, x, a02); a12 = Vector512.FusedMultiplyAdd(y1, x, a12);
                    a22 = Vector512.FusedMultiplyAdd(y2, x, a22); a32 = Vector512.FusedMultiplyAdd(y3, x, a32);
                }
                if (TWidth.Value > 3)
                {
                    x = Vector512.Load(x3 + q);
                    a03 = Vector512.FusedMultiplyAdd(y0, x, a03); a13 = Vector512.FusedMultiplyAdd(y1, x, a13);
                    a23 = Vector512.FusedMultiplyAdd(y2, x, a23); a33 = Vector512.FusedMultiplyAdd(y3, x, a33);
                }
                if (TWidth.Value > 4)
                {
                    x = Vector512.Load(x4 + q);
                    a04 = Vector512.FusedMultiplyAdd(y0, x, a04); a14 = Vector512.FusedMultiplyAdd(y1, x, a14);
                    a24 = Vector512.FusedMultiplyAdd(y2, x, a24); a34 = Vector512.FusedMultiplyAdd(y3, x, a34);
                }
                if (TWidth.Value > 5)
                {
                    x = Vector512.Load(x5 + q);
                    a05 = Vector512.FusedMultiplyAdd(y0, x, a05); a15 = Vector512.FusedMultiplyAdd(y1, x, a15);
                    a25 = Vector512.FusedMultiplyAdd(y2, x, a25); a35 = Vector512.FusedMultiplyAdd(y3, x, a35);
                }
            }
        }
        sums[0] = Vector512.Sum(a00); sums[6] = Vector512.Sum(a10); sums[12] = Vector512.Sum(a20); sums[18] = Vector512.Sum(a30);
        if (TWidth.Value > 1) { sums[1] = Vector512.Sum(a01); sums[7] = Vector512.Sum(a11); sums[13] = Vector512.Sum(a21); sums[19] = Vector512.Sum(a31); }
        if (TWidth.Value > 2) { sums[2] = Vector512.Sum(a02); sums[8] = Vector512.Sum(a12); sums[14] = Vector512.Sum(a22); sums[20] = Vector512.Sum(a32); }
        if (TWidth.Value > 3) { sums[3] = Vector512.Sum(a03); sums[9] = Vector512.Sum(a13); sums[15] = Vector512.Sum(a23); sums[21] = Vector512.Sum(a33); }
        if (TWidth.Value > 4) { sums[4] = Vector512.Sum(a04); sums[10] = Vector512.Sum(a14); sums[16] = Vector512.Sum(a24); sums[22] = Vector512.Sum(a34); }
        if (TWidth.Value > 5) { sums[5] = Vector512.Sum(a05); sums[11] = Vector512.Sum(a15); sums[17] = Vector512.Sum(a25); sums[23] = Vector512.Sum(a35); }
    }

    // AVX2 forward tile: out[f, 16 floats] = Σ_e packed[e, f]·input[offsets[e] ..] for the 4 filters of a tile and one
    // 16-float output vector, as two ymm per filter: 8 accumulators, 4 broadcast weights and the loads fit the 16 ymm.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardTile256(float* input, int* offsets, int pairs, float* packed, float* output, int row)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        for (int e = 0; e < pairs; e++, packed += TileFilters)
        {
            float* src = input + offsets[e];
            var x0 = Vector256.Load(src);
            var x1 = Vector256.Load(src + 8);
            var w = Vector256.Create(packed[0]);
            a00 = Vector256.FusedMultiplyAdd(x0, w, a00); a01 = Vector256.FusedMultiplyAdd(x1, w, a01);
            w = Vector256.Create(packed[1]);
            a10 = Vector256.FusedMultiplyAdd(x0, w, a10); a11 = Vector256.FusedMultiplyAdd(x1, w, a11);
            w = Vector256.Create(packed[2]);
            a20 = Vector256.FusedMultiplyAdd(x0, w, a20); a21 = Vector256.FusedMultiplyAdd(x1, w, a21);
            w = Vector256.Create(packed[3]);
            a30 = Vector256.FusedMultiplyAdd(x0, w, a30); a31 = Vector256.FusedMultiplyAdd(x1, w, a31);
        }
        a00.Store(output); a01.Store(output + 8);
        a10.Store(output + row); a11.Store(output + row + 8);
        a20.Store(output + 2 * row); a21.Store(output + 2 * row + 8);
        a30.Store(output + 3 * row); a31.Store(output + 3 * row + 8);
    }

    // AVX2 weight-gradient tile: sums[f·6 + p] = Σ_images Σ_q dy[f, q]·flat[offsets[p] + q] for 2 filter rows × TWidth
    // pairs (12 accumulators at most, the 2 dy rows and one input vector: 15 of the 16 ymm).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightTile256<TWidth>(float* dy, int row, float* flats, int* offsets, int vectors, int images, int dyImage, int flatImage, float* sums)
        where TWidth : struct, ITileWidth
    {
        var zero = Vector256<float>.Zero;
        Vector256<float> a00 = zero, a01 = zero, a02 = zero, a03 = zero, a04 = zero, a05 = zero;
        Vector256<float> a10 = zero, a11 = zero, a12 = zero, a13 = zero, a14 = zero, a15 = zero;
        int length = vectors * 16;
        for (int n = 0; n < images; n++)
        {
            float* d0 = dy + (nint)n * dyImage, d1 = d0 + row;
            float* flat = flats + (nint)n * flatImage;
            float* x0 = flat + offsets[0];
            float* x1 = TWidth.Value > 1 ? flat + offsets[1] : x0;
            float* x2 = TWidth.Value > 2 ? flat + offsets[2] : x0;
            float* x3 = TWidth.Value > 3 ? flat + offsets[3] : x0;
            float* x4 = TWidth.Value > 4 ? flat + offsets[4] : x0;
            float* x5 = TWidth.Value > 5 ? flat + offsets[5] : x0;
            for (int q = 0; q < length; q += 8)
            {
                var y0 = Vector256.Load(d0 + q);
                var y1 = Vector256.Load(d1 + q);
                var x = Vector256.Load(x0 + q);
                a00 = Vector256.FusedMultiplyAdd(y0, x, a00); a10 = Vector256.FusedMultiplyAdd(y1, x, a10);
                if (TWidth.Value > 1) { x = Vector256.Load(x1 + q); a01 = Vector256.FusedMultiplyAdd(y0, x, a01); a11 = Vector256.FusedMultiplyAdd(y1, x, a11); }
                if (TWidth.Value > 2) { x = Vector256.Load(x2 + q); a02 = Vector256.FusedMultiplyAdd(y0, x, a02); a12 = Vector256.FusedMultiplyAdd(y1, x, a12); }
                if (TWidth.Value > 3) { x = Vector256.Load(x3 + q); a03 = Vector256.FusedMultiplyAdd(y0, x, a03); a13 = Vector256.FusedMultiplyAdd(y1, x, a13); }
                if (TWidth.Value > 4) { x = Vector256.Load(x4 + q); a04 = Vector256.FusedMultiplyAdd(y0, x, a04); a14 = Vector256.FusedMultiplyAdd(y1, x, a14); }
                if (TWidth.Value > 5) { x = Vector256.Load(x5 + q); a05 = Vector256.FusedMultiplyAdd(y0, x, a05); a15 = Vector256.FusedMultiplyAdd(y1, x, a15); }
            }
        }
        sums[0] = Vector256.Sum(a00); sums[6] = Vector256.Sum(a10);
        if (TWidth.Value > 1) { sums[1] = Vector256.Sum(a01); sums[7] = Vector256.Sum(a11); }
        if (TWidth.Value > 2) { sums[2] = Vector256.Sum(a02); sums[8] = Vector256.Sum(a12); }
        if (TWidth.Value > 3) { sums[3] = Vector256.Sum(a03); sums[9] = Vector256.Sum(a13); }
        if (TWidth.Value > 4) { sums[4] = Vector256.Sum(a04); sums[10] = Vector256.Sum(a14); }
        if (TWidth.Value > 5) { sums[5] = Vector256.Sum(a05); sums[11] = Vector256.Sum(a15); }
    }

    // The AVX2 weight-gradient tile: filters 0–1, then 2–3, of the 4-filter tile (sums[f·6 + p] as the AVX-512 kernel).
    private static void WeightTileAvx2(int width, float* dy, int row, float* flats, int* offsets, int vectors, int images, int dyImage, int flatImage, float* sums)
    {
        for (int pair = 0; pair < TileFilters; pair += 2)
        {
            float* d = dy + (nint)pair * row, s = sums + pair * TileWidth;
            switch (width)
            {
                case 6: WeightTile256<Six>(d, row, flats, offsets, vectors, images, dyImage, flatImage, s); break;
                case 5: WeightTile256<Five>(d, row, flats, offsets, vectors, images, dyImage, flatImage, s); break;
                case 4: WeightTile256<Four>(d, row, flats, offsets, vectors, images, dyImage, flatImage, s); break;
                case 3: WeightTile256<Three>(d, row, flats, offsets, vectors, images, dyImage, flatImage, s); break;
                case 2: WeightTile256<Two>(d, row, flats, offsets, vectors, images, dyImage, flatImage, s); break;
                default: WeightTile256<One>(d, row, flats, offsets, vectors, images, dyImage, flatImage, s); break;
            }
        }
    }

    // target[i] += source[i] for i < count, on the widest vectors of the path.
    private static void AddInto(float* target, float* source, int count, SimdPath path)
    {
        int i = 0;
        if (path == SimdPath.Avx512)
            for (; i + 16 <= count; i += 16) (Vector512.Load(target + i) + Vector512.Load(source + i)).Store(target + i);
        else if (path == SimdPath.Avx2)
            for (; i + 8 <= count; i += 8) (Vector256.Load(target + i) + Vector256.Load(source + i)).Store(target + i);
        for (; i < count; i++) target[i] += source[i];
    }

    // destination[i] = source[i] + b for i < count, on the widest vectors of the path.
    private static void AddScalar(float* destination, float* source, float b, int count, SimdPath path)
    {
        int i = 0;
        if (path == SimdPath.Avx512)
            for (var vb = Vector512.Create(b); i + 16 <= count; i += 16) (Vector512.Load(source + i) + vb).Store(destination + i);
        else if (path == SimdPath.Avx2)
            for (var vb = Vector256.Create(b); i + 8 <= count; i += 8) (Vector256.Load(source + i) + vb).Store(destination + i);
        for (; i < count; i++) destination[i] = source[i] + b;
    }
}

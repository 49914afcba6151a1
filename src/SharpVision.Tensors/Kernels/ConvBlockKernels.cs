// Shape legend: x (N, C, H, W), W (K, C, kh, kw), b (K), conv (N, K, Ho, Wo), y (N, K, Hp, Wp) after pooling, e = (c·kh + i)·kw + j:
//   conv[n, k, oy, ox] = Σ_e W[k, e]·xpad[n, c, oy·s + i, ox·s + j]         (xpad: x zero-padded by pad, FMA in ascending e)
//   y[n, k, py, px]    = max over u, v < pk of relu(conv[n, k, py·ps + u, px·ps + v] + b[k])   (no pooling: pk = ps = 1)
// Filters sit in the vector lanes (L floats per vector): each image is copied once into zero-padded planes, and the
// weights are packed once as packed[block][e][2L] (two vectors of L filters per block). A tile is 6 output pixels × 2L
// filters = 12 accumulators, fed per (c, i, j) by 2 weight loads and 6 broadcast pixels at one fixed offset from each
// pixel's corner (offset_e = c·Hpad·Wpad + i·Wpad + j): an implicit GEMM with no im2col matrix. The tile goes to a
// pixel-major scratch conv[p][k] that the epilogue turns into bias + ReLU + max pooling, written NCHW.
// Every output is the same e-ascending FMA chain on every path (scalar, AVX2, AVX-512) and for any thread count.
// The loops are compiled optimized at once (AggressiveOptimization): a served model's first seconds must not run quick-JIT code.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpVision.Tensors.Kernels;

/// <summary>
/// An inference block: a convolution with its bias, an optional ReLU and an optional max pooling over its output.
/// Shape: (N, C, H, W) → (N, K, Hp, Wp), Hp = ⌊(Ho − pk)/ps⌋ + 1 with Ho the convolution's output height (likewise Wp).
/// </summary>
/// <param name="Convolution">The convolution; its <see cref="Conv2dGeometry.Batch"/> is the batch.</param>
/// <param name="Relu">Whether max(·, 0) follows the bias (as <c>Ops.Relu</c>: x &gt; 0 ? x : 0).</param>
/// <param name="PoolKernel">The max pooling window (1: no pooling).</param>
/// <param name="PoolStride">The max pooling stride (1: no pooling).</param>
public readonly record struct ConvBlockGeometry(Conv2dGeometry Convolution, bool Relu, int PoolKernel, int PoolStride)
{
    /// <summary>Hp = ⌊(Ho − pk)/ps⌋ + 1.</summary>
    public int OutputHeight => (Convolution.OutputHeight - PoolKernel) / PoolStride + 1;

    /// <summary>Wp = ⌊(Wo − pk)/ps⌋ + 1.</summary>
    public int OutputWidth => (Convolution.OutputWidth - PoolKernel) / PoolStride + 1;

    /// <summary>K·Hp·Wp: one output image.</summary>
    public int OutputImageSize => Convolution.Filters * OutputHeight * OutputWidth;

    /// <summary>Throws unless the convolution is valid and the pooling window fits its output.</summary>
    /// <exception cref="ArgumentException">The geometry is invalid; the message names the sizes.</exception>
    public void Validate()
    {
        Convolution.Validate();
        if (PoolKernel < 1 || PoolStride < 1)
            throw new ArgumentException($"ConvBlock: pooling {PoolKernel}×{PoolKernel} stride {PoolStride} must be positive.");
        if (PoolKernel > Convolution.OutputHeight || PoolKernel > Convolution.OutputWidth)
            throw new ArgumentException($"ConvBlock: pooling window {PoolKernel} is larger than the convolution's "
                                        + $"{Convolution.OutputHeight}×{Convolution.OutputWidth} output.");
    }
}

/// <summary>
/// The fused inference kernel of a convolution + bias (+ ReLU) (+ max pooling): <see cref="PackWeights"/> once per
/// layer, then <see cref="Forward"/> per batch, parallel over images (or, for fewer images than threads, over filter
/// blocks of one image). Same bits on every SIMD path and for any thread count; <c>Reference.ConvBlockReference</c>
/// is its scalar twin and gives the same bits too.
/// </summary>
public static unsafe class ConvBlockKernels
{
    // Output pixels per register tile: 6 pixels × 2 filter vectors = 12 accumulators, 2 weight vectors, 1 broadcast.
    private const int TilePixels = 6;

    /// <summary>Filters per packed block on <paramref name="path"/>: two vectors (32 on AVX-512, 16 on AVX2, 2 scalar).</summary>
    public static int BlockFilters(SimdPath path) => 2 * Lanes(path);

    /// <summary>Floats <see cref="PackWeights"/> writes for this layer on <paramref name="path"/>: weights by block, then the padded bias.</summary>
    public static int PackedLength(in Conv2dGeometry g, SimdPath path)
    {
        int blocks = Blocks(g.Filters, path);
        return blocks * g.PatchSize * BlockFilters(path) + blocks * BlockFilters(path);
    }

    /// <summary>
    /// packed[block][e][f] = W[block·2L + f, e] (0 past K), then b padded with zeros to a whole number of blocks
    /// (<paramref name="bias"/> may be empty: no bias). Shape: W (K, C, kh, kw), b (K) → <see cref="PackedLength"/> floats.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths that do not match the geometry.</exception>
    public static void PackWeights(in Conv2dGeometry g, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> packed, SimdPath path)
    {
        int k = g.Filters, d = g.PatchSize, v = BlockFilters(path), blocks = Blocks(k, path);
        if (weight.Length != k * d)
            throw new ArgumentException($"ConvBlock: weight holds {weight.Length} values; K·C·kh·kw = {k * d}.", nameof(weight));
        if (bias.Length != 0 && bias.Length != k)
            throw new ArgumentException($"ConvBlock: bias has {bias.Length} values for {k} filters.", nameof(bias));
        if (packed.Length != PackedLength(g, path))
            throw new ArgumentException($"ConvBlock: packed holds {packed.Length} values; {PackedLength(g, path)} needed.", nameof(packed));
        packed.Clear();
        for (int f = 0; f < k; f++)
            for (int e = 0; e < d; e++)
                packed[((f / v) * d + e) * v + f % v] = weight[f * d + e];
        if (bias.Length != 0) bias.CopyTo(packed.Slice(blocks * d * v));
    }

    /// <summary>
    /// y = maxpool(relu(conv(x, W) + b)) as the file header defines it, from weights packed for <paramref name="path"/>.
    /// Shape: (N, C, H, W) → (N, K, Hp, Wp).
    /// </summary>
    /// <exception cref="ArgumentException">An invalid geometry or lengths that do not match it.</exception>
    public static void Forward(in ConvBlockGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> packed, Span<float> y, int threads, SimdPath path)
    {
        g.Validate();
        var c = g.Convolution;
        if (x.Length != (long)c.Batch * c.InputImageSize)
            throw new ArgumentException($"ConvBlock: input holds {x.Length} values; N·C·H·W = {(long)c.Batch * c.InputImageSize}.", nameof(x));
        if (packed.Length != PackedLength(c, path))
            throw new ArgumentException($"ConvBlock: packed holds {packed.Length} values; {PackedLength(c, path)} needed.", nameof(packed));
        if (y.Length != (long)c.Batch * g.OutputImageSize)
            throw new ArgumentException($"ConvBlock: output holds {y.Length} values; N·K·Hp·Wp = {(long)c.Batch * g.OutputImageSize}.", nameof(y));
        if (c.Batch == 0) return;
        var layout = new Layout(g, path);
        int[] offsets = layout.Offsets(c), corners = layout.Corners(c);
        // Work units: (image, part); a part is a contiguous range of filter blocks, used when images are fewer than threads.
        int blocks = layout.Blocks, parts = c.Batch >= threads ? 1 : Math.Min(blocks, (threads + c.Batch - 1) / c.Batch);
        var geometry = g;
        fixed (float* px = x, pp = packed, py = y)
        fixed (int* po = offsets, pc = corners)
        {
            nint ix = (nint)px, ip = (nint)pp, iy = (nint)py, io = (nint)po, ic = (nint)pc;
            long cost = (long)c.OutputPixels * c.PatchSize * layout.BlockFilters * blocks / parts;
            WorkSplit.ForRanges(c.Batch * parts, cost, threads, (first, end) =>
            {
                float* work = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)layout.ScratchFloats * sizeof(float), 64);
                try
                {
                    for (int unit = first; unit < end; unit++)
                    {
                        int n = unit / parts, part = unit % parts;
                        int blockStart = blocks * part / parts, blockEnd = blocks * (part + 1) / parts;
                        Image(geometry, layout, (float*)ix + (long)n * geometry.Convolution.InputImageSize, (float*)ip, (int*)io, (int*)ic,
                            blockStart, blockEnd, (float*)iy + (long)n * geometry.OutputImageSize, work, path);
                    }
                }
                finally
                {
                    System.Runtime.InteropServices.NativeMemory.AlignedFree(work);
                }
            });
        }
    }

    private static int Lanes(SimdPath path) => path switch
    {
        SimdPath.Avx512 => 16,
        SimdPath.Avx2 => 8,
        _ => 1,
    };

    private static int Blocks(int filters, SimdPath path) => (filters + BlockFilters(path) - 1) / BlockFilters(path);

    /// <summary>The sizes of one layer's scratch: padded planes, then the pixel-major convolution output.</summary>
    private readonly struct Layout
    {
        public readonly int PaddedHeight, PaddedWidth, PlaneSize, Blocks, BlockFilters, PaddedFilters, ScratchFloats;

        public Layout(in ConvBlockGeometry g, SimdPath path)
        {
            var c = g.Convolution;
            PaddedHeight = c.Height + 2 * c.Padding;
            PaddedWidth = c.Width + 2 * c.Padding;
            PlaneSize = PaddedHeight * PaddedWidth;
            BlockFilters = ConvBlockKernels.BlockFilters(path);
            Blocks = ConvBlockKernels.Blocks(c.Filters, path);
            PaddedFilters = Blocks * BlockFilters;
            // Padded planes (rounded up to a cache line) + conv[p][k] for every pixel + one vector per lane of scatter room.
            ScratchFloats = (c.Channels * PlaneSize + 15) / 16 * 16 + c.OutputPixels * PaddedFilters + 2 * BlockFilters;
        }

        public int PlanesFloats(in Conv2dGeometry c) => (c.Channels * PlaneSize + 15) / 16 * 16;

        // offsets[e] for e = (c·kh + i)·kw + j: where tap (c, i, j) of an output pixel sits from the pixel's corner.
        public int[] Offsets(in Conv2dGeometry c)
        {
            var offsets = new int[c.PatchSize];
            for (int ch = 0, e = 0; ch < c.Channels; ch++)
                for (int i = 0; i < c.KernelHeight; i++)
                    for (int j = 0; j < c.KernelWidth; j++, e++)
                        offsets[e] = ch * PlaneSize + i * PaddedWidth + j;
            return offsets;
        }

        // corners[p] = oy·s·Wpad + ox·s for p = oy·Wo + ox, then the last pixel repeated up to a whole number of tiles
        // (a short last tile computes it again and stores only its own pixels).
        public int[] Corners(in Conv2dGeometry c)
        {
            int pixels = c.OutputPixels, wo = c.OutputWidth;
            var corners = new int[(pixels + TilePixels - 1) / TilePixels * TilePixels];
            for (int p = 0; p < corners.Length; p++)
            {
                int q = Math.Min(p, pixels - 1), oy = q / wo, ox = q - oy * wo;
                corners[p] = oy * c.Stride * PaddedWidth + ox * c.Stride;
            }
            return corners;
        }
    }

    // One image, filter blocks [blockStart, blockEnd): pad, convolve tile by tile, then bias + ReLU + pooling.
    private static void Image(in ConvBlockGeometry g, in Layout layout, float* image, float* packed, int* offsets, int* corners, int blockStart,
        int blockEnd, float* output, float* work, SimdPath path)
    {
        var c = g.Convolution;
        float* planes = work, conv = work + layout.PlanesFloats(c), bias = packed + (nint)layout.Blocks * c.PatchSize * layout.BlockFilters;
        Pad(c, layout, image, planes);
        switch (path)
        {
            case SimdPath.Avx512:
                Convolve<Lanes512, Vector512<float>>(c, layout, planes, packed, offsets, corners, blockStart, blockEnd, conv);
                Epilogue<Lanes512, Vector512<float>>(g, layout, conv, bias, blockStart, blockEnd, output);
                break;
            case SimdPath.Avx2:
                Convolve<Lanes256, Vector256<float>>(c, layout, planes, packed, offsets, corners, blockStart, blockEnd, conv);
                Epilogue<Lanes256, Vector256<float>>(g, layout, conv, bias, blockStart, blockEnd, output);
                break;
            default:
                Convolve<Lanes1, float>(c, layout, planes, packed, offsets, corners, blockStart, blockEnd, conv);
                Epilogue<Lanes1, float>(g, layout, conv, bias, blockStart, blockEnd, output);
                break;
        }
    }

    // planes[ch][a][b] = x[ch, a − pad, b − pad], 0 outside the image.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pad(in Conv2dGeometry c, in Layout layout, float* image, float* planes)
    {
        int h = c.Height, w = c.Width, pad = c.Padding, wp = layout.PaddedWidth;
        if (pad > 0) new Span<float>(planes, c.Channels * layout.PlaneSize).Clear();
        for (int ch = 0; ch < c.Channels; ch++)
        {
            float* source = image + (nint)ch * h * w, target = planes + (nint)ch * layout.PlaneSize + pad * wp + pad;
            for (int row = 0; row < h; row++, source += w, target += wp)
                Buffer.MemoryCopy(source, target, w * sizeof(float), w * sizeof(float));
        }
    }

    // conv[p][k] for every output pixel p = oy·Wo + ox and the filters of blocks [blockStart, blockEnd).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Convolve<TL, TV>(in Conv2dGeometry c, in Layout layout, float* planes, float* packed, int* offsets, int* corners,
        int blockStart, int blockEnd, float* conv)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int pixels = c.OutputPixels, d = c.PatchSize, row = layout.PaddedFilters;
        for (int block = blockStart; block < blockEnd; block++)
        {
            float* weights = packed + (nint)block * d * layout.BlockFilters;
            float* target = conv + block * layout.BlockFilters;
            for (int p = 0; p < pixels; p += TilePixels)
                Tile<TL, TV>(planes, corners + p, offsets, d, weights, target + (nint)p * row, row, Math.Min(TilePixels, pixels - p));
        }
    }

    // conv[t·row + f] = Σ_e weights[e][f]·planes[corners[t] + offsets[e]] for 6 pixels t and 2L filters f, e ascending.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TL, TV>(float* planes, int* corners, int* offsets, int pairs, float* weights, float* conv, int row, int count)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        TV a00 = TL.Zero, a01 = TL.Zero, a10 = TL.Zero, a11 = TL.Zero, a20 = TL.Zero, a21 = TL.Zero;
        TV a30 = TL.Zero, a31 = TL.Zero, a40 = TL.Zero, a41 = TL.Zero, a50 = TL.Zero, a51 = TL.Zero;
        float* x0 = planes + corners[0], x1 = planes + corners[1], x2 = planes + corners[2];
        float* x3 = planes + corners[3], x4 = planes + corners[4], x5 = planes + corners[5];
        for (int e = 0; e < pairs; e++, weights += 2 * lanes)
        {
            int o = offsets[e];
            TV w0 = TL.Load(weights), w1 = TL.Load(weights + lanes);
            TV b = TL.Broadcast(x0[o]);
            a00 = TL.MultiplyAdd(w0, b, a00); a01 = TL.MultiplyAdd(w1, b, a01);
            b = TL.Broadcast(x1[o]);
            a10 = TL.MultiplyAdd(w0, b, a10); a11 = TL.MultiplyAdd(w1, b, a11);
            b = TL.Broadcast(x2[o]);
            a20 = TL.MultiplyAdd(w0, b, a20); a21 = TL.MultiplyAdd(w1, b, a21);
            b = TL.Broadcast(x3[o]);
            a30 = TL.MultiplyAdd(w0, b, a30); a31 = TL.MultiplyAdd(w1, b, a31);
            b = TL.Broadcast(x4[o]);
            a40 = TL.MultiplyAdd(w0, b, a40); a41 = TL.MultiplyAdd(w1, b, a41);
            b = TL.Broadcast(x5[o]);
            a50 = TL.MultiplyAdd(w0, b, a50); a51 = TL.MultiplyAdd(w1, b, a51);
        }
        TL.Store(a00, conv); TL.Store(a01, conv + lanes);
        if (count > 1) { TL.Store(a10, conv + row); TL.Store(a11, conv + row + lanes); }
        if (count > 2) { TL.Store(a20, conv + 2 * row); TL.Store(a21, conv + 2 * row + lanes); }
        if (count > 3) { TL.Store(a30, conv + 3 * row); TL.Store(a31, conv + 3 * row + lanes); }
        if (count > 4) { TL.Store(a40, conv + 4 * row); TL.Store(a41, conv + 4 * row + lanes); }
        if (count > 5) { TL.Store(a50, conv + 5 * row); TL.Store(a51, conv + 5 * row + lanes); }
    }

    // y[k, py, px] = max over the window of relu(conv[p][k] + b[k]) for the filters of blocks [blockStart, blockEnd), k < K.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Epilogue<TL, TV>(in ConvBlockGeometry g, in Layout layout, float* conv, float* bias, int blockStart, int blockEnd,
        float* output)
        where TL : struct, ILanes<TV> where TV : struct
    {
        var c = g.Convolution;
        int lanes = TL.Count, row = layout.PaddedFilters, wo = c.OutputWidth, hp = g.OutputHeight, wpo = g.OutputWidth;
        int pk = g.PoolKernel, ps = g.PoolStride, pooled = hp * wpo;
        bool relu = g.Relu;
        float* lane = conv + (nint)c.OutputPixels * row; // scatter room: one vector
        for (int f0 = blockStart * layout.BlockFilters; f0 < Math.Min(blockEnd * layout.BlockFilters, c.Filters); f0 += lanes)
        {
            TV b = TL.Load(bias + f0);
            int valid = Math.Min(lanes, c.Filters - f0);
            for (int py = 0; py < hp; py++)
            {
                for (int px = 0; px < wpo; px++)
                {
                    float* corner = conv + ((nint)py * ps * wo + px * ps) * row + f0;
                    TV m = Activate<TL, TV>(TL.Add(TL.Load(corner), b), relu);
                    for (int u = 0; u < pk; u++)
                        for (int v = 0; v < pk; v++)
                        {
                            if (u + v == 0) continue;
                            m = TL.Max(m, Activate<TL, TV>(TL.Add(TL.Load(corner + ((nint)u * wo + v) * row), b), relu));
                        }
                    TL.Store(m, lane);
                    float* target = output + (nint)f0 * pooled + py * wpo + px;
                    for (int l = 0; l < valid; l++) target[(nint)l * pooled] = lane[l];
                }
            }
        }
    }

    // relu(x) = x > 0 ? x : 0 (Ops.Relu's rule: NaN and −0 give 0), or x.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Activate<TL, TV>(TV x, bool relu) where TL : struct, ILanes<TV> where TV : struct =>
        relu ? TL.SelectPositive(x, x, TL.Zero) : x;
}

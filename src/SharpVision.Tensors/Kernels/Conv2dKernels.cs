// Shape legend: x (N, C, H, W), weight (K, C, kh, kw), bias (K), y (N, K, Ho, Wo), all row-major (NCHW),
// Ho = (H + 2·pad − kh) / stride + 1 (floor), likewise Wo. D = C·kh·kw is the patch size, P = Ho·Wo the output pixels.
// Per image the convolution is one matrix product (im2col):
//   cols_n (D, P): row (c, i, j), column (oy, ox) holds x_n[c, oy·stride + i − pad, ox·stride + j − pad], 0 outside the image
//   y_n (K, P)   = W (K, D) · cols_n + b                  forward
//   dcols_n      = Wᵀ (D, K) · dy_n (K, P); dx_n = col2im(dcols_n)   backward, data
//   dW (K, D)   += dy_n · cols_nᵀ (P, D); db += Σ_P dy_n      backward, weight and bias
// A 1×1 kernel with stride 1 and no padding needs no im2col: cols_n is x_n itself, (C, H·W).
using System.Buffers;
using System.Numerics.Tensors;

namespace SharpVision.Tensors.Kernels;

/// <summary>The sizes of one 2-D convolution (PyTorch's Conv2d: cross-correlation, zero padding, square stride and padding).</summary>
public readonly record struct Conv2dGeometry(int Batch, int Channels, int Height, int Width, int Filters, int KernelHeight, int KernelWidth, int Stride, int Padding)
{
    /// <summary>Ho = ⌊(H + 2·pad − kh) / stride⌋ + 1.</summary>
    public int OutputHeight => (Height + 2 * Padding - KernelHeight) / Stride + 1;

    /// <summary>Wo = ⌊(W + 2·pad − kw) / stride⌋ + 1.</summary>
    public int OutputWidth => (Width + 2 * Padding - KernelWidth) / Stride + 1;

    /// <summary>D = C·kh·kw: one column of the im2col matrix, one row of the weight matrix.</summary>
    public int PatchSize => Channels * KernelHeight * KernelWidth;

    /// <summary>P = Ho·Wo.</summary>
    public int OutputPixels => OutputHeight * OutputWidth;

    /// <summary>C·H·W: one input image.</summary>
    public int InputImageSize => Channels * Height * Width;

    /// <summary>K·Ho·Wo: one output image.</summary>
    public int OutputImageSize => Filters * OutputPixels;

    /// <summary>1×1, stride 1, no padding: the im2col matrix is the image itself.</summary>
    public bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && Stride == 1 && Padding == 0;

    /// <summary>Throws unless every size is positive (padding non-negative) and the kernel fits the padded input.</summary>
    /// <exception cref="ArgumentException">The geometry is invalid; the message names the sizes.</exception>
    public void Validate()
    {
        if (Batch < 0 || Channels < 1 || Height < 1 || Width < 1 || Filters < 1 || KernelHeight < 1 || KernelWidth < 1)
            throw new ArgumentException($"Conv2d: sizes must be positive (N={Batch}, C={Channels}, H={Height}, W={Width}, K={Filters}, kernel {KernelHeight}×{KernelWidth}).");
        if (Stride < 1) throw new ArgumentException($"Conv2d: stride must be at least 1, got {Stride}.");
        if (Padding < 0) throw new ArgumentException($"Conv2d: padding must be at least 0, got {Padding}.");
        if (Height + 2 * Padding < KernelHeight || Width + 2 * Padding < KernelWidth)
            throw new ArgumentException($"Conv2d: kernel {KernelHeight}×{KernelWidth} is larger than the padded input {Height + 2 * Padding}×{Width + 2 * Padding}.");
    }
}

/// <summary>
/// Convolution kernels: im2col + GEMM per image, parallel over images. Deterministic for any thread count:
/// outputs and input gradients are computed per image, and the weight gradient is summed per fixed block of images
/// (the blocks depend on N only) and then over blocks in order.
/// </summary>
public static unsafe class Conv2dKernels
{
    // The weight gradient is summed per block of images, then over blocks in block order. The block count depends
    // on the batch size only (never on threads), so the summation order and hence the bits do not change with threads.
    private const int WeightGradientBlocks = 8;

    /// <summary>y = conv(x, W) + b. <paramref name="bias"/> may be empty (no bias).</summary>
    public static void Forward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int threads)
    {
        CheckLengths(g, x.Length, weight.Length, y.Length);
        if (bias.Length != 0 && bias.Length != g.Filters) throw new ArgumentException($"Conv2d: bias has {bias.Length} values for {g.Filters} filters.", nameof(bias));
        fixed (float* px = x, pw = weight, pb = bias, py = y)
        {
            var p = new Pointers(px, pw, pb, py, bias.Length != 0);
            var geometry = g;
            ForEachImageBlock(g.Batch, g.Batch, threads, geometry.IsPointwise ? 0 : geometry.PatchSize * geometry.OutputPixels,
                (_, first, end, cols, gemmThreads) => ForwardImages(geometry, p, first, end, cols, gemmThreads));
        }
    }

    /// <summary>dx += col2im(Wᵀ · dy) for every image.</summary>
    public static void BackwardData(in Conv2dGeometry g, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> weight, Span<float> inputGradient, int threads)
    {
        CheckLengths(g, inputGradient.Length, weight.Length, outputGradient.Length);
        fixed (float* pdy = outputGradient, pw = weight, pdx = inputGradient)
        {
            var p = new Pointers(pdx, pw, null, pdy, false);
            var geometry = g;
            ForEachImageBlock(g.Batch, g.Batch, threads, geometry.IsPointwise ? 0 : geometry.PatchSize * geometry.OutputPixels,
                (_, first, end, cols, gemmThreads) => BackwardDataImages(geometry, p, first, end, cols, gemmThreads));
        }
    }

    /// <summary>dW += Σ_n dy_n · cols_nᵀ and, when <paramref name="biasGradient"/> is not empty, db += Σ_n Σ_P dy_n.</summary>
    public static void BackwardWeight(in Conv2dGeometry g, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> x, Span<float> weightGradient, Span<float> biasGradient, int threads)
    {
        CheckLengths(g, x.Length, weightGradient.Length, outputGradient.Length);
        if (biasGradient.Length != 0 && biasGradient.Length != g.Filters) throw new ArgumentException($"Conv2d: bias gradient has {biasGradient.Length} values for {g.Filters} filters.", nameof(biasGradient));
        if (g.Batch == 0) return;
        int blocks = Math.Min(g.Batch, WeightGradientBlocks);
        int weightSize = g.Filters * g.PatchSize;
        bool withBias = biasGradient.Length != 0;
        // Per block: a partial dW (K·D floats) and a partial db (K doubles), reduced below in block order.
        float[] partialWeights = ArrayPool<float>.Shared.Rent(blocks * weightSize);
        double[] partialBias = new double[withBias ? blocks * g.Filters : 0];
        try
        {
            fixed (float* px = x, pdy = outputGradient, ppw = partialWeights)
            {
                var p = new Pointers(px, ppw, null, pdy, withBias);
                var geometry = g;
                ForEachImageBlock(g.Batch, blocks, threads, geometry.IsPointwise ? 0 : geometry.PatchSize * geometry.OutputPixels,
                    (block, first, end, cols, gemmThreads) =>
                    {
                        BackwardWeightImages(geometry, p, first, end, cols, gemmThreads, block,
                            withBias ? partialBias.AsSpan(block * geometry.Filters, geometry.Filters) : default);
                    });
            }
            for (int b = 0; b < blocks; b++)
                TensorPrimitives.Add(weightGradient, partialWeights.AsSpan(b * weightSize, weightSize), weightGradient);
            if (withBias)
            {
                for (int k = 0; k < g.Filters; k++)
                {
                    double sum = 0;
                    for (int b = 0; b < blocks; b++) sum += partialBias[b * g.Filters + k];
                    biasGradient[k] += (float)sum;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partialWeights);
        }
    }

    /// <summary>
    /// cols (D, P) = im2col of one image (C, H, W): cols[(c·kh + i)·kw + j, oy·Wo + ox] = x[c, oy·s + i − pad, ox·s + j − pad], 0 outside.
    /// </summary>
    public static void Im2Col(in Conv2dGeometry g, ReadOnlySpan<float> image, Span<float> columns)
    {
        int h = g.Height, w = g.Width, ho = g.OutputHeight, wo = g.OutputWidth, s = g.Stride, pad = g.Padding;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            var plane = image.Slice(c * h * w, h * w);
            for (int i = 0; i < g.KernelHeight; i++)
            {
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    var dst = columns.Slice(row * ho * wo, ho * wo);
                    // Output columns ox whose input column ox·s + j − pad lies inside [0, W): [oxStart, oxEnd).
                    int oxStart = FirstInside(j - pad, s), oxEnd = EndInside(j - pad, s, w, wo);
                    for (int oy = 0; oy < ho; oy++)
                    {
                        var outRow = dst.Slice(oy * wo, wo);
                        int iy = oy * s + i - pad;
                        if ((uint)iy >= (uint)h || oxStart >= oxEnd)
                        {
                            outRow.Clear();
                            continue;
                        }
                        outRow[..oxStart].Clear();
                        outRow[oxEnd..].Clear();
                        var inRow = plane.Slice(iy * w, w);
                        int ix = oxStart * s + j - pad;
                        if (s == 1)
                        {
                            inRow.Slice(ix, oxEnd - oxStart).CopyTo(outRow[oxStart..oxEnd]);
                        }
                        else
                        {
                            for (int ox = oxStart; ox < oxEnd; ox++, ix += s) outRow[ox] = inRow[ix];
                        }
                    }
                }
            }
        }
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: image[c, iy, ix] += every cols entry that was read from it.</summary>
    public static void Col2ImAdd(in Conv2dGeometry g, ReadOnlySpan<float> columns, Span<float> image)
    {
        int h = g.Height, w = g.Width, ho = g.OutputHeight, wo = g.OutputWidth, s = g.Stride, pad = g.Padding;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            var plane = image.Slice(c * h * w, h * w);
            for (int i = 0; i < g.KernelHeight; i++)
            {
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    var src = columns.Slice(row * ho * wo, ho * wo);
                    int oxStart = FirstInside(j - pad, s), oxEnd = EndInside(j - pad, s, w, wo);
                    if (oxStart >= oxEnd) continue;
                    for (int oy = 0; oy < ho; oy++)
                    {
                        int iy = oy * s + i - pad;
                        if ((uint)iy >= (uint)h) continue;
                        var inRow = plane.Slice(iy * w, w);
                        var colRow = src.Slice(oy * wo, wo);
                        int ix = oxStart * s + j - pad;
                        if (s == 1)
                        {
                            var target = inRow.Slice(ix, oxEnd - oxStart);
                            TensorPrimitives.Add(target, colRow[oxStart..oxEnd], target);
                        }
                        else
                        {
                            for (int ox = oxStart; ox < oxEnd; ox++, ix += s) inRow[ix] += colRow[ox];
                        }
                    }
                }
            }
        }
    }

    // Smallest ox ≥ 0 with ox·s + offset ≥ 0.
    private static int FirstInside(int offset, int s) => offset >= 0 ? 0 : (-offset + s - 1) / s;

    // One past the largest ox < wo with ox·s + offset < w.
    private static int EndInside(int offset, int s, int w, int wo)
    {
        if (w - offset <= 0) return 0;
        return Math.Min(wo, (w - offset - 1) / s + 1);
    }

    private readonly struct Pointers(float* input, float* weight, float* bias, float* output, bool hasBias)
    {
        public readonly float* Input = input, Weight = weight, Bias = bias, Output = output;
        public readonly bool HasBias = hasBias;
    }

    private static void ForwardImages(in Conv2dGeometry g, Pointers p, int first, int end, float[]? colsArray, int gemmThreads)
    {
        int k = g.Filters, d = g.PatchSize, pixels = g.OutputPixels;
        var weight = new ReadOnlySpan<float>(p.Weight, k * d);
        for (int n = first; n < end; n++)
        {
            var image = new ReadOnlySpan<float>(p.Input + (long)n * g.InputImageSize, g.InputImageSize);
            var y = new Span<float>(p.Output + (long)n * g.OutputImageSize, g.OutputImageSize);
            ReadOnlySpan<float> cols = image;
            if (colsArray is not null)
            {
                Im2Col(g, image, colsArray);
                cols = colsArray.AsSpan(0, d * pixels);
            }
            if (p.HasBias)
                for (int f = 0; f < k; f++) y.Slice(f * pixels, pixels).Fill(p.Bias[f]);
            // y_n (K, P) = W (K, D) · cols_n (D, P) + b
            Gemm.Provider.Multiply(false, false, k, pixels, d, 1, weight, d, cols, pixels, p.HasBias ? 1 : 0, y, pixels, gemmThreads);
        }
    }

    private static void BackwardDataImages(in Conv2dGeometry g, Pointers p, int first, int end, float[]? colsArray, int gemmThreads)
    {
        int k = g.Filters, d = g.PatchSize, pixels = g.OutputPixels;
        var weight = new ReadOnlySpan<float>(p.Weight, k * d);
        for (int n = first; n < end; n++)
        {
            var dy = new ReadOnlySpan<float>(p.Output + (long)n * g.OutputImageSize, g.OutputImageSize);
            var dx = new Span<float>(p.Input + (long)n * g.InputImageSize, g.InputImageSize);
            if (colsArray is null)
            {
                // pointwise: dx_n (C, P) += Wᵀ (C, K) · dy_n (K, P)
                Gemm.Provider.Multiply(true, false, d, pixels, k, 1, weight, d, dy, pixels, 1, dx, pixels, gemmThreads);
                continue;
            }
            // dcols_n (D, P) = Wᵀ (D, K) · dy_n (K, P), then scattered back onto the pixels they were read from
            Gemm.Provider.Multiply(true, false, d, pixels, k, 1, weight, d, dy, pixels, 0, colsArray, pixels, gemmThreads);
            Col2ImAdd(g, colsArray.AsSpan(0, d * pixels), dx);
        }
    }

    private static void BackwardWeightImages(in Conv2dGeometry g, Pointers p, int first, int end, float[]? colsArray, int gemmThreads, int block, Span<double> biasPartial)
    {
        int k = g.Filters, d = g.PatchSize, pixels = g.OutputPixels;
        var dw = new Span<float>(p.Weight + (long)block * k * d, k * d);
        for (int n = first; n < end; n++)
        {
            var image = new ReadOnlySpan<float>(p.Input + (long)n * g.InputImageSize, g.InputImageSize);
            var dy = new ReadOnlySpan<float>(p.Output + (long)n * g.OutputImageSize, g.OutputImageSize);
            ReadOnlySpan<float> cols = image;
            if (colsArray is not null)
            {
                Im2Col(g, image, colsArray); // recomputed: saving cols for every image would cost N·D·P floats
                cols = colsArray.AsSpan(0, d * pixels);
            }
            // dW (K, D) += dy_n (K, P) · cols_nᵀ (P, D); the block's first image overwrites the partial
            Gemm.Provider.Multiply(false, true, k, d, pixels, 1, dy, pixels, cols, pixels, n == first ? 0 : 1, dw, d, gemmThreads);
            if (p.HasBias)
                for (int f = 0; f < k; f++) biasPartial[f] += TensorPrimitives.Sum(dy.Slice(f * pixels, pixels)); // db += Σ_P dy_n
        }
    }

    // Block b of `blocks` covers images [N·b/blocks, N·(b+1)/blocks).
    private static int BlockStart(int batch, int blocks, int b) => (int)((long)batch * b / blocks);

    /// <summary>
    /// Runs <paramref name="work"/>(block, first, end, cols scratch, GEMM threads) over <paramref name="blocks"/> fixed blocks of
    /// images. With several threads and blocks the blocks run in parallel with single-threaded GEMMs; otherwise they run
    /// in order on the caller with the GEMM using all threads. Either way each block is processed identically.
    /// </summary>
    private static void ForEachImageBlock(int batch, int blocks, int threads, int scratchSize, Action<int, int, int, float[]?, int> work)
    {
        if (batch == 0) return;
        blocks = Math.Clamp(blocks, 1, batch);
        if (threads <= 1 || blocks == 1)
        {
            float[]? cols = scratchSize > 0 ? ArrayPool<float>.Shared.Rent(scratchSize) : null;
            try
            {
                for (int b = 0; b < blocks; b++) work(b, BlockStart(batch, blocks, b), BlockStart(batch, blocks, b + 1), cols, threads);
            }
            finally
            {
                if (cols is not null) ArrayPool<float>.Shared.Return(cols);
            }
            return;
        }
        int workers = Math.Min(threads, blocks);
        int next = -1;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            float[]? cols = scratchSize > 0 ? ArrayPool<float>.Shared.Rent(scratchSize) : null;
            try
            {
                // Blocks are claimed dynamically; which worker runs a block does not change its result.
                for (int b = Interlocked.Increment(ref next); b < blocks; b = Interlocked.Increment(ref next))
                    work(b, BlockStart(batch, blocks, b), BlockStart(batch, blocks, b + 1), cols, 1);
            }
            finally
            {
                if (cols is not null) ArrayPool<float>.Shared.Return(cols);
            }
        });
    }

    private static void CheckLengths(in Conv2dGeometry g, int inputLength, int weightLength, int outputLength)
    {
        g.Validate();
        if (inputLength != (long)g.Batch * g.InputImageSize) throw new ArgumentException($"Conv2d: input holds {inputLength} values; (N, C, H, W) = ({g.Batch}, {g.Channels}, {g.Height}, {g.Width}) needs {(long)g.Batch * g.InputImageSize}.");
        if (weightLength != g.Filters * g.PatchSize) throw new ArgumentException($"Conv2d: weight holds {weightLength} values; ({g.Filters}, {g.Channels}, {g.KernelHeight}, {g.KernelWidth}) needs {g.Filters * g.PatchSize}.");
        if (outputLength != (long)g.Batch * g.OutputImageSize) throw new ArgumentException($"Conv2d: output holds {outputLength} values; (N, K, Ho, Wo) = ({g.Batch}, {g.Filters}, {g.OutputHeight}, {g.OutputWidth}) needs {(long)g.Batch * g.OutputImageSize}.");
    }
}

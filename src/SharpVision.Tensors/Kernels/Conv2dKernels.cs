// Shape legend: x (N, C, H, W), weight (K, C, kh, kw), bias (K), y (N, K, Ho, Wo), all row-major (NCHW),
// Ho = (H + 2·pad − kh) / stride + 1 (floor), likewise Wo. D = C·kh·kw is the patch size, P = Ho·Wo the output pixels.
// Per image the convolution is one matrix product (im2col):
//   cols_n (D, P): row (c, i, j), column (oy, ox) holds x_n[c, oy·stride + i − pad, ox·stride + j − pad], 0 outside the image
//   y_n (K, P)   = W (K, D) · cols_n + b                  forward
//   dcols_n      = Wᵀ (D, K) · dy_n (K, P); dx_n = col2im(dcols_n)   backward, data
//   dW (K, D)   += dy_n · cols_nᵀ (P, D); db += Σ_P dy_n      backward, weight and bias
// Groups of G images put their cols side by side, (D, G·P), so one GEMM covers the group (see Conv2dKernels remarks).
using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

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
/// Convolution kernels: direct (implicit GEMM over flat planes, Conv2dKernels.Direct.cs) for square kernels larger
/// than 1×1, im2col + GEMM over groups of images otherwise; both parallel over fixed blocks of images.
/// </summary>
/// <remarks>
/// Each entry point first asks <see cref="Conv2dBackend"/> whether the call goes to oneDNN (<see cref="OneDnnConv2d"/>:
/// <c>SHARPVISION_CONV</c> and, under auto, the measured rule <see cref="Conv2dBackend.PrefersOneDnn"/>); the rest of
/// this remark is about the managed kernels.
/// The direct kernels were 1.4–2.5× faster than im2col + GEMM on every 3×3 layer of cnn2 and resnet8 (bench
/// convkernels); 1×1 convolutions keep im2col + GEMM.
/// The im2col path:
/// The batch is cut into at most 8 blocks (by N alone), each block into groups of G images with G·P ≈ 1024 columns,
/// so small images still give the GEMM a wide operand. Orientations were chosen by measurement (bench/conv_peer.py
/// shapes, one thread): forward computes Yᵀ (G·P, K) = colsᵀ·Wᵀ and transposes it into NCHW (1.3–2× faster than
/// W·cols for these thin products), the input gradient dcols (D, G·P) = Wᵀ·dY over the group, and the weight gradient
/// dWᵀ (D, K) += cols_n·dy_nᵀ per image. Patches of at most 16 values (C = 1, 3×3) skip the GEMM in the forward pass.
/// Deterministic for any thread count: blocks, groups and the order of every sum depend on the geometry only; threads
/// just take whole blocks (each running single-threaded GEMMs), and the weight gradient's per-block partials are
/// added in block order.
/// </remarks>
public static unsafe partial class Conv2dKernels
{
    // Fixed number of image blocks: the unit of parallel work and of the weight gradient's partial sums.
    private const int ImageBlocks = 8;
    // Target columns (G·P) of one group's im2col matrix.
    private const int GroupColumns = 1024;
    // Patches up to this size take the direct forward path (a GEMM with k ≤ 16 is mostly packing and C traffic).
    private const int SmallPatch = 16;

    /// <summary>y = conv(x, W) + b. <paramref name="bias"/> may be empty (no bias).</summary>
    public static void Forward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int threads,
        Conv2dAlgorithm algorithm = Conv2dAlgorithm.Auto) =>
        Forward(g, x, weight, bias, y, threads, algorithm, keepInputForWeightGradient: false)?.Dispose();

    /// <summary>
    /// <see cref="Forward(in Conv2dGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, Conv2dAlgorithm)"/>
    /// that, when oneDNN runs both this pass and the weight gradient, keeps x in oneDNN's layout for
    /// <see cref="Backward(in Conv2dGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, bool, Span{float}, Span{float}, int, Conv2dAlgorithm, OneDnnConv2d.SavedInput?)"/>
    /// (null otherwise). The caller disposes it after the backward pass.
    /// </summary>
    internal static OneDnnConv2d.SavedInput? Forward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int threads,
        Conv2dAlgorithm algorithm, bool keepInputForWeightGradient)
    {
        CheckLengths(g, x.Length, weight.Length, y.Length);
        if (bias.Length != 0 && bias.Length != g.Filters) throw new ArgumentException($"Conv2d: bias has {bias.Length} values for {g.Filters} filters.", nameof(bias));
        if (g.Batch == 0) return null;
        if (Conv2dBackend.UsesOneDnn(g, Conv2dPass.Forward, algorithm))
        {
            bool keep = keepInputForWeightGradient && Conv2dBackend.WouldUseOneDnn(g, Conv2dPass.BackwardWeight, algorithm);
            fixed (float* px = x, pw = weight, pb = bias, py = y)
                return Conv2dBackend.OneDnn!.Forward(g, px, pw, bias.Length != 0 ? pb : null, py, threads, keep);
        }
        var path = SimdPaths.Default;
        if (UseDirect(g, algorithm, DirectSupports(g, path)))
        {
            fixed (float* px = x, pw = weight, pb = bias, py = y)
                ForwardDirect(g, px, pw, bias.Length != 0 ? pb : null, py, threads, path);
            return null;
        }
        var plan = new Plan(g);
        var geometry = g; // lambdas cannot capture an in parameter
        bool direct = g.PatchSize <= SmallPatch;
        int scratch = direct ? g.PatchSize * g.OutputPixels : (g.PatchSize + g.Filters) * plan.MaxGroupColumns;
        fixed (float* px = x, pw = weight, pb = bias, py = y)
        {
            var p = new Pointers(px, pw, bias.Length != 0 ? pb : null, py);
            RunBlocks(plan, threads, scratch, (block, buffer, gemmThreads) =>
            {
                fixed (float* work = buffer)
                {
                    for (int first = plan.BlockStart(block); first < plan.BlockStart(block + 1); first += plan.GroupSize(block, first))
                        if (direct) ForwardDirect(geometry, p, first, first + plan.GroupSize(block, first), work, path);
                        else ForwardGroup(geometry, p, first, first + plan.GroupSize(block, first), work, gemmThreads);
                }
            });
        }
        return null;
    }

    /// <summary>
    /// Both gradients of a layer from one dy: <see cref="BackwardData"/> when <paramref name="inputGradient"/> is not
    /// empty and <see cref="BackwardWeight"/> when <paramref name="weightGradient"/> is not empty. On oneDNN the two
    /// passes share the reordered dy.
    /// </summary>
    public static void Backward(in Conv2dGeometry g, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> x, ReadOnlySpan<float> weight,
        Span<float> inputGradient, bool accumulateInput, Span<float> weightGradient, Span<float> biasGradient, int threads,
        Conv2dAlgorithm algorithm = Conv2dAlgorithm.Auto) =>
        Backward(g, outputGradient, x, weight, inputGradient, accumulateInput, weightGradient, biasGradient, threads, algorithm, null);

    /// <summary>
    /// <see cref="Backward(in Conv2dGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, bool, Span{float}, Span{float}, int, Conv2dAlgorithm)"/>
    /// with x as the forward pass kept it in oneDNN's layout (<paramref name="savedInput"/>; may be null).
    /// </summary>
    internal static void Backward(in Conv2dGeometry g, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> x, ReadOnlySpan<float> weight,
        Span<float> inputGradient, bool accumulateInput, Span<float> weightGradient, Span<float> biasGradient, int threads,
        Conv2dAlgorithm algorithm, OneDnnConv2d.SavedInput? savedInput)
    {
        bool data = !inputGradient.IsEmpty, weights = !weightGradient.IsEmpty;
        if (!weights && !biasGradient.IsEmpty) throw new ArgumentException("Conv2d: the bias gradient is computed with the weight gradient; pass a weight gradient buffer.", nameof(weightGradient));
        if (g.Batch > 0 && (data || weights)
            && (!data || Conv2dBackend.UsesOneDnn(g, Conv2dPass.BackwardData, algorithm)) && (!weights || Conv2dBackend.UsesOneDnn(g, Conv2dPass.BackwardWeight, algorithm)))
        {
            if (data) CheckLengths(g, inputGradient.Length, weight.Length, outputGradient.Length);
            if (weights) CheckLengths(g, x.Length, weightGradient.Length, outputGradient.Length);
            if (biasGradient.Length != 0 && biasGradient.Length != g.Filters) throw new ArgumentException($"Conv2d: bias gradient has {biasGradient.Length} values for {g.Filters} filters.", nameof(biasGradient));
            fixed (float* pdy = outputGradient, px = x, pw = weight, pdx = inputGradient, pdw = weightGradient, pdb = biasGradient)
                Conv2dBackend.OneDnn!.Backward(g, pdy, px, pw, data ? pdx : null, accumulateInput, weights ? pdw : null, biasGradient.Length != 0 ? pdb : null, threads, savedInput);
            return;
        }
        if (data) BackwardData(g, outputGradient, weight, inputGradient, threads, algorithm, accumulateInput);
        if (weights) BackwardWeight(g, outputGradient, x, weightGradient, biasGradient, threads, algorithm);
    }

    /// <summary>dx += col2im(Wᵀ · dy) for every image; with <paramref name="accumulate"/> false, dx = col2im(Wᵀ · dy).</summary>
    public static void BackwardData(in Conv2dGeometry g, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> weight, Span<float> inputGradient, int threads,
        Conv2dAlgorithm algorithm = Conv2dAlgorithm.Auto, bool accumulate = true)
    {
        CheckLengths(g, inputGradient.Length, weight.Length, outputGradient.Length);
        if (g.Batch == 0) return;
        if (Conv2dBackend.UsesOneDnn(g, Conv2dPass.BackwardData, algorithm))
        {
            fixed (float* pdy = outputGradient, pw = weight, pdx = inputGradient)
                Conv2dBackend.OneDnn!.Backward(g, pdy, null, pw, pdx, accumulate, null, null, threads);
            return;
        }
        if (!accumulate) inputGradient.Clear(); // the managed kernels scatter-add
        var path = SimdPaths.Default;
        if (UseDirect(g, algorithm, DirectSupports(g, path)))
        {
            fixed (float* pdy = outputGradient, pw = weight, pdx = inputGradient)
                BackwardDataDirect(g, pdy, pw, pdx, threads, path);
            return;
        }
        var plan = new Plan(g);
        var geometry = g; // lambdas cannot capture an in parameter
        fixed (float* pdy = outputGradient, pw = weight, pdx = inputGradient)
        {
            var p = new Pointers(pdx, pw, null, pdy);
            RunBlocks(plan, threads, (g.PatchSize + g.Filters) * plan.MaxGroupColumns, (block, buffer, gemmThreads) =>
            {
                fixed (float* work = buffer)
                {
                    for (int first = plan.BlockStart(block); first < plan.BlockStart(block + 1); first += plan.GroupSize(block, first))
                        BackwardDataGroup(geometry, p, first, first + plan.GroupSize(block, first), work, gemmThreads);
                }
            });
        }
    }

    /// <summary>dW += Σ_n dy_n · cols_nᵀ and, when <paramref name="biasGradient"/> is not empty, db += Σ_n Σ_P dy_n.</summary>
    public static void BackwardWeight(in Conv2dGeometry g, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> x, Span<float> weightGradient, Span<float> biasGradient, int threads,
        Conv2dAlgorithm algorithm = Conv2dAlgorithm.Auto)
    {
        CheckLengths(g, x.Length, weightGradient.Length, outputGradient.Length);
        if (biasGradient.Length != 0 && biasGradient.Length != g.Filters) throw new ArgumentException($"Conv2d: bias gradient has {biasGradient.Length} values for {g.Filters} filters.", nameof(biasGradient));
        if (g.Batch == 0) return;
        if (Conv2dBackend.UsesOneDnn(g, Conv2dPass.BackwardWeight, algorithm))
        {
            fixed (float* pdy = outputGradient, px = x, pdw = weightGradient, pdb = biasGradient)
                Conv2dBackend.OneDnn!.Backward(g, pdy, px, null, null, false, pdw, biasGradient.Length != 0 ? pdb : null, threads);
            return;
        }
        var plan = new Plan(g);
        var geometry = g; // lambdas cannot capture an in parameter
        int k = g.Filters, d = g.PatchSize, weightSize = k * d;
        bool withBias = biasGradient.Length != 0;
        // Per block: a partial dWᵀ (D, K) (direct path: dW (K, D)) and a partial db (K, in double), reduced below in block order.
        float[] partialWeights = ArrayPool<float>.Shared.Rent(plan.Blocks * weightSize);
        double[] partialBias = new double[withBias ? plan.Blocks * k : 0];
        var path = SimdPaths.Default;
        bool direct = UseDirect(g, algorithm, DirectSupports(g, path));
        try
        {
            fixed (float* px = x, pdy = outputGradient, ppw = partialWeights)
            {
                var p = new Pointers(px, ppw, null, pdy);
                if (direct) BackwardWeightDirect(g, px, pdy, ppw, partialBias, threads, path);
                else
                    RunBlocks(plan, threads, d * g.OutputPixels, (block, buffer, gemmThreads) =>
                    {
                        fixed (float* cols = buffer)
                            BackwardWeightBlock(geometry, p, plan.BlockStart(block), plan.BlockStart(block + 1), cols, gemmThreads,
                                p.Weight + (long)block * weightSize, withBias ? partialBias.AsSpan(block * k, k) : default);
                    });
            }
            for (int b = 0; b < plan.Blocks; b++)
            {
                var part = partialWeights.AsSpan(b * weightSize, weightSize);
                if (direct) TensorPrimitives.Add(weightGradient, part, weightGradient); // direct partials are (K, D)
                else
                    for (int f = 0; f < k; f++)
                        for (int e = 0; e < d; e++) weightGradient[f * d + e] += part[e * k + f]; // dW = (dWᵀ)ᵀ
            }
            if (withBias)
            {
                for (int f = 0; f < k; f++)
                {
                    double sum = 0;
                    for (int b = 0; b < plan.Blocks; b++) sum += partialBias[b * k + f];
                    biasGradient[f] += (float)sum;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partialWeights);
        }
    }

    private static bool UseDirect(in Conv2dGeometry g, Conv2dAlgorithm algorithm, bool supported) => algorithm switch
    {
        Conv2dAlgorithm.Direct => supported,
        Conv2dAlgorithm.Im2ColGemm => false,
        // 1×1 kernels stay on im2col + GEMM: their im2col is a plain (strided) copy, and the direct kernel would
        // build all stride² phase planes to read one of them (measured 1.6× slower on resnet8's projections).
        _ => supported && g.KernelHeight > 1,
    };

    /// <summary>
    /// cols (D, P) = im2col of one image (C, H, W): cols[(c·kh + i)·kw + j, oy·Wo + ox] = x[c, oy·s + i − pad, ox·s + j − pad], 0 outside.
    /// </summary>
    public static void Im2Col(in Conv2dGeometry g, ReadOnlySpan<float> image, Span<float> columns)
    {
        if (image.Length < g.InputImageSize || columns.Length < g.PatchSize * g.OutputPixels) throw new ArgumentException("Im2Col: buffer too small for the geometry.");
        fixed (float* pi = image, pc = columns) Im2Col(g, pi, pc, g.OutputPixels);
    }

    /// <summary>The adjoint of <see cref="Im2Col(in Conv2dGeometry, ReadOnlySpan{float}, Span{float})"/>: image[c, iy, ix] += every cols entry read from it.</summary>
    public static void Col2ImAdd(in Conv2dGeometry g, ReadOnlySpan<float> columns, Span<float> image)
    {
        if (image.Length < g.InputImageSize || columns.Length < g.PatchSize * g.OutputPixels) throw new ArgumentException("Col2ImAdd: buffer too small for the geometry.");
        fixed (float* pc = columns, pi = image) Col2ImAdd(g, pc, g.OutputPixels, pi);
    }

    // im2col into rows of stride ld (≥ P), so several images can sit side by side in one matrix.
    private static void Im2Col(in Conv2dGeometry g, float* image, float* cols, int ld)
    {
        int h = g.Height, w = g.Width, ho = g.OutputHeight, wo = g.OutputWidth, s = g.Stride, pad = g.Padding;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            float* plane = image + (nint)c * h * w;
            for (int i = 0; i < g.KernelHeight; i++)
            {
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    float* dst = cols + (nint)row * ld;
                    // Output columns ox whose input column ox·s + j − pad lies inside [0, W): [oxStart, oxEnd).
                    int oxStart = FirstInside(j - pad, s), oxEnd = EndInside(j - pad, s, w, wo);
                    for (int oy = 0; oy < ho; oy++, dst += wo)
                    {
                        int iy = oy * s + i - pad;
                        if ((uint)iy >= (uint)h || oxStart >= oxEnd)
                        {
                            new Span<float>(dst, wo).Clear();
                            continue;
                        }
                        for (int ox = 0; ox < oxStart; ox++) dst[ox] = 0;
                        for (int ox = oxEnd; ox < wo; ox++) dst[ox] = 0;
                        float* src = plane + (nint)iy * w + oxStart * s + j - pad;
                        if (s == 1)
                            Buffer.MemoryCopy(src, dst + oxStart, (oxEnd - oxStart) * sizeof(float), (oxEnd - oxStart) * sizeof(float));
                        else
                            for (int ox = oxStart; ox < oxEnd; ox++, src += s) dst[ox] = *src;
                    }
                }
            }
        }
    }

    private static void Col2ImAdd(in Conv2dGeometry g, float* cols, int ld, float* image)
    {
        int h = g.Height, w = g.Width, ho = g.OutputHeight, wo = g.OutputWidth, s = g.Stride, pad = g.Padding;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            float* plane = image + (nint)c * h * w;
            for (int i = 0; i < g.KernelHeight; i++)
            {
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    float* src = cols + (nint)row * ld;
                    int oxStart = FirstInside(j - pad, s), oxEnd = EndInside(j - pad, s, w, wo);
                    if (oxStart >= oxEnd) continue;
                    for (int oy = 0; oy < ho; oy++, src += wo)
                    {
                        int iy = oy * s + i - pad;
                        if ((uint)iy >= (uint)h) continue;
                        float* target = plane + (nint)iy * w + oxStart * s + j - pad;
                        if (s == 1)
                        {
                            var span = new Span<float>(target, oxEnd - oxStart);
                            TensorPrimitives.Add(span, new ReadOnlySpan<float>(src + oxStart, oxEnd - oxStart), span);
                        }
                        else
                        {
                            for (int ox = oxStart; ox < oxEnd; ox++, target += s) *target += src[ox];
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

    private readonly struct Pointers(float* input, float* weight, float* bias, float* output)
    {
        public readonly float* Input = input, Weight = weight, Bias = bias, Output = output;
    }

    /// <summary>Blocks of images (fixed by N) and groups of images inside a block (fixed by the geometry).</summary>
    private readonly struct Plan
    {
        private readonly int _batch, _targetGroup;
        public readonly int Blocks, MaxGroupColumns;

        public Plan(in Conv2dGeometry g)
        {
            _batch = g.Batch;
            Blocks = Math.Min(g.Batch, ImageBlocks);
            int largestBlock = (g.Batch + Blocks - 1) / Blocks;
            _targetGroup = Math.Clamp((GroupColumns + g.OutputPixels - 1) / g.OutputPixels, 1, largestBlock);
            MaxGroupColumns = _targetGroup * g.OutputPixels;
        }

        // Block b covers images [N·b/blocks, N·(b+1)/blocks).
        public int BlockStart(int b) => (int)((long)_batch * b / Blocks);

        // Groups split a block evenly: ⌈size/target⌉ groups whose sizes differ by at most one.
        public int GroupSize(int block, int first)
        {
            int start = BlockStart(block), size = BlockStart(block + 1) - start;
            int groups = (size + _targetGroup - 1) / _targetGroup;
            int index = 0;
            for (int at = start; at < first; index++) at += size / groups + (index < size % groups ? 1 : 0);
            return size / groups + (index < size % groups ? 1 : 0);
        }
    }

    // y_n (K, P) = W (K, D) · cols_n (D, P) + b directly, for patches of at most SmallPatch values.
    private static void ForwardDirect(in Conv2dGeometry g, Pointers p, int first, int end, float* cols, SimdPath path)
    {
        int k = g.Filters, d = g.PatchSize, pixels = g.OutputPixels;
        for (int n = first; n < end; n++)
        {
            Im2Col(g, p.Input + (long)n * g.InputImageSize, cols, pixels);
            float* y = p.Output + (long)n * g.OutputImageSize;
            for (int f = 0; f < k; f++)
            {
                float* wf = p.Weight + f * d, yf = y + (nint)f * pixels;
                float b = p.Bias is null ? 0 : p.Bias[f];
                int at = 0;
                if (path == SimdPath.Avx512)
                {
                    for (; at + 16 <= pixels; at += 16)
                    {
                        var sum = Vector512.Create(b);
                        for (int e = 0; e < d; e++) sum = Vector512.FusedMultiplyAdd(Vector512.Create(wf[e]), Vector512.Load(cols + (nint)e * pixels + at), sum);
                        sum.Store(yf + at);
                    }
                }
                else if (path == SimdPath.Avx2)
                {
                    for (; at + 8 <= pixels; at += 8)
                    {
                        var sum = Vector256.Create(b);
                        for (int e = 0; e < d; e++) sum = Vector256.FusedMultiplyAdd(Vector256.Create(wf[e]), Vector256.Load(cols + (nint)e * pixels + at), sum);
                        sum.Store(yf + at);
                    }
                }
                for (; at < pixels; at++)
                {
                    float sum = b;
                    for (int e = 0; e < d; e++) sum = MathF.FusedMultiplyAdd(wf[e], cols[(nint)e * pixels + at], sum);
                    yf[at] = sum;
                }
            }
        }
    }

    private static void ForwardGroup(in Conv2dGeometry g, Pointers p, int first, int end, float* work, int gemmThreads)
    {
        int k = g.Filters, d = g.PatchSize, pixels = g.OutputPixels, columns = (end - first) * pixels;
        float* cols = work, yt = work + (nint)d * columns;
        for (int n = first; n < end; n++)
            Im2Col(g, p.Input + (long)n * g.InputImageSize, cols + (nint)(n - first) * pixels, columns);
        // Yᵀ (G·P, K) = colsᵀ (G·P, D) · Wᵀ (D, K)
        Gemm.Provider.Multiply(true, true, columns, k, d, 1, new ReadOnlySpan<float>(cols, d * columns), columns,
            new ReadOnlySpan<float>(p.Weight, k * d), d, 0, new Span<float>(yt, columns * k), k, gemmThreads);
        // y_n[f, ·] = Yᵀ[n's rows, f] + b[f]: transposed in 16-pixel strips so the strided reads stay in L1
        for (int n = first; n < end; n++)
        {
            float* y = p.Output + (long)n * g.OutputImageSize, source = yt + (nint)(n - first) * pixels * k;
            for (int strip = 0; strip < pixels; strip += 16)
            {
                int stripEnd = Math.Min(pixels, strip + 16);
                for (int f = 0; f < k; f++)
                {
                    float b = p.Bias is null ? 0 : p.Bias[f];
                    float* yf = y + (nint)f * pixels;
                    for (int at = strip; at < stripEnd; at++) yf[at] = source[(nint)at * k + f] + b;
                }
            }
        }
    }

    private static void BackwardDataGroup(in Conv2dGeometry g, Pointers p, int first, int end, float* work, int gemmThreads)
    {
        int k = g.Filters, d = g.PatchSize, pixels = g.OutputPixels, columns = (end - first) * pixels;
        float* cols = work, dyGroup = work + (nint)d * columns;
        // dY_group (K, G·P): the group's output gradients side by side
        for (int n = first; n < end; n++)
        {
            float* dy = p.Output + (long)n * g.OutputImageSize;
            for (int f = 0; f < k; f++)
                Buffer.MemoryCopy(dy + (nint)f * pixels, dyGroup + (nint)f * columns + (n - first) * pixels, pixels * sizeof(float), pixels * sizeof(float));
        }
        // dcols (D, G·P) = Wᵀ (D, K) · dY_group (K, G·P), then scattered back onto the pixels they were read from
        Gemm.Provider.Multiply(true, false, d, columns, k, 1, new ReadOnlySpan<float>(p.Weight, k * d), d,
            new ReadOnlySpan<float>(dyGroup, k * columns), columns, 0, new Span<float>(cols, d * columns), columns, gemmThreads);
        for (int n = first; n < end; n++)
            Col2ImAdd(g, cols + (nint)(n - first) * pixels, columns, p.Input + (long)n * g.InputImageSize);
    }

    private static void BackwardWeightBlock(in Conv2dGeometry g, Pointers p, int first, int end, float* cols, int gemmThreads, float* partial, Span<double> biasPartial)
    {
        int k = g.Filters, d = g.PatchSize, pixels = g.OutputPixels;
        for (int n = first; n < end; n++)
        {
            float* dy = p.Output + (long)n * g.OutputImageSize;
            Im2Col(g, p.Input + (long)n * g.InputImageSize, cols, pixels); // recomputed: keeping cols from forward would cost N·D·P floats
            // dWᵀ (D, K) += cols_n (D, P) · dy_nᵀ (P, K); the block's first image overwrites the partial
            Gemm.Provider.Multiply(false, true, d, k, pixels, 1, new ReadOnlySpan<float>(cols, d * pixels), pixels,
                new ReadOnlySpan<float>(dy, k * pixels), pixels, n == first ? 0 : 1, new Span<float>(partial, d * k), k, gemmThreads);
            if (biasPartial.IsEmpty) continue;
            for (int f = 0; f < k; f++) biasPartial[f] += TensorPrimitives.Sum(new ReadOnlySpan<float>(dy + (nint)f * pixels, pixels)); // db += Σ_P dy_n
        }
    }

    /// <summary>
    /// Runs work(block, scratch, GEMM threads) for every block. With several threads and blocks, workers claim whole
    /// blocks and run single-threaded GEMMs; otherwise the blocks run in order on the caller with the GEMM using all
    /// threads. Either way each block is computed identically.
    /// </summary>
    private static void RunBlocks(Plan plan, int threads, int scratchSize, Action<int, float[], int> work)
    {
        if (threads <= 1 || plan.Blocks == 1)
        {
            float[] scratch = ArrayPool<float>.Shared.Rent(Math.Max(1, scratchSize));
            try
            {
                for (int b = 0; b < plan.Blocks; b++) work(b, scratch, threads);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
            return;
        }
        int workers = Math.Min(threads, plan.Blocks);
        int next = -1;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            float[] scratch = ArrayPool<float>.Shared.Rent(Math.Max(1, scratchSize));
            try
            {
                for (int b = Interlocked.Increment(ref next); b < plan.Blocks; b = Interlocked.Increment(ref next)) work(b, scratch, 1);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scratch);
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

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SharpVision.Features;

/// <summary>How <see cref="Correlation2d"/> reads pixels outside the image.</summary>
public enum BorderMode
{
    /// <summary>0 outside (scipy.ndimage mode 'constant', cval 0).</summary>
    Zero,

    /// <summary>Half-sample symmetric, d c b a | a b c d | d c b a (scipy.ndimage mode 'reflect'), repeated as far as needed.</summary>
    Reflect,
}

/// <summary>
/// Direct 2-D correlation of one float plane with small kernels, the filtering under <see cref="GaborBank"/>.
/// </summary>
/// <remarks>
/// <para>Math: out[y, x] = Σ_{i,j} k[i, j] · in[y + i − kh/2, x + j − kw/2] (odd kh, kw; a plain correlation, what
/// deep-learning "conv2d" computes). scipy's <c>ndi.convolve(in, k, mode)</c> equals this with k flipped in both
/// axes, which <see cref="FlipBoth"/> does.</para>
/// <para>Shape: in (H, W), kernels (kh, kw) → out (H, W). The input is padded once (per <see cref="BorderMode"/>),
/// then 16 (AVX-512) or 8 outputs of a row stay in registers while every tap's weight × shifted input is added. Several kernels of one
/// size share the padded input (a Gabor pair: real and imaginary parts). Until the engine's <c>Ops.Conv2d</c> lands
/// this is the feature code's own kernel; it is small enough to swap.</para>
/// </remarks>
public static class Correlation2d
{
    /// <summary>Maps an index outside [0, n) into it by half-sample symmetric reflection (scipy's 'reflect').</summary>
    public static int ReflectIndex(int i, int n)
    {
        int period = 2 * n;
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - 1 - i;
    }

    /// <summary>Copies <paramref name="kernel"/> (kh×kw) rotated by 180°.</summary>
    public static float[] FlipBoth(ReadOnlySpan<float> kernel)
    {
        var flipped = kernel.ToArray();
        Array.Reverse(flipped);
        return flipped;
    }

    /// <summary>
    /// Pads <paramref name="input"/> (H×W) by (kh/2, kw/2) on each side into <paramref name="padded"/>
    /// ((H + kh − 1) × (W + kw − 1), row-major).
    /// </summary>
    public static void Pad(ReadOnlySpan<float> input, int height, int width, int kernelHeight, int kernelWidth, BorderMode mode, Span<float> padded)
    {
        int py = kernelHeight / 2, px = kernelWidth / 2;
        int paddedWidth = width + kernelWidth - 1;
        for (int y = 0; y < height + kernelHeight - 1; y++)
        {
            int sy = y - py;
            var row = padded.Slice(y * paddedWidth, paddedWidth);
            if (mode == BorderMode.Zero && (sy < 0 || sy >= height))
            {
                row.Clear();
                continue;
            }
            var source = input.Slice(ReflectIndex(sy, height) * width, width);
            for (int x = 0; x < paddedWidth; x++)
            {
                int sx = x - px;
                row[x] = (uint)sx < (uint)width ? source[sx] : mode == BorderMode.Zero ? 0f : source[ReflectIndex(sx, width)];
            }
        }
    }

    /// <summary>Floats <see cref="CorrelatePair"/> may read past the end of a padded plane (whole vectors at the right edge).</summary>
    public const int PaddingSlack = 16;

    /// <summary>
    /// Correlates a padded plane (from <see cref="Pad"/>, followed by <see cref="PaddingSlack"/> readable floats) with
    /// two kernels of the same size at once, on the widest vectors the machine has.
    /// </summary>
    /// <exception cref="ArgumentException">Even kernel sizes or buffers of the wrong length.</exception>
    public static void CorrelatePair(
        ReadOnlySpan<float> padded, int height, int width, ReadOnlySpan<float> kernelA, ReadOnlySpan<float> kernelB,
        int kernelHeight, int kernelWidth, Span<float> outputA, Span<float> outputB)
    {
        if (kernelHeight % 2 == 0 || kernelWidth % 2 == 0) throw new ArgumentException("Kernel sides must be odd.");
        int paddedWidth = width + kernelWidth - 1;
        if (padded.Length < (height + kernelHeight - 1) * paddedWidth + PaddingSlack) throw new ArgumentException("The padded input is too short.", nameof(padded));
        if (kernelA.Length != kernelHeight * kernelWidth || kernelB.Length != kernelA.Length) throw new ArgumentException("Kernel lengths disagree with their size.");
        if (outputA.Length < height * width || outputB.Length < height * width) throw new ArgumentException("Outputs are too short.");
        if (Vector512.IsHardwareAccelerated) CorrelatePair512(padded, height, width, kernelA, kernelB, kernelHeight, kernelWidth, outputA, outputB);
        else CorrelatePair256(padded, height, width, kernelA, kernelB, kernelHeight, kernelWidth, outputA, outputB);
    }

    // One body per vector width (16 or 8 outputs of a row kept in registers per kernel); the tail of a row is computed
    // in full vectors over readable padding and only its valid lanes are copied out.
    internal static void CorrelatePair512(
        ReadOnlySpan<float> padded, int height, int width, ReadOnlySpan<float> kernelA, ReadOnlySpan<float> kernelB,
        int kernelHeight, int kernelWidth, Span<float> outputA, Span<float> outputB)
    {
        int paddedWidth = width + kernelWidth - 1;
        ref float pBase = ref MemoryMarshal.GetReference(padded);
        ref float kaBase = ref MemoryMarshal.GetReference(kernelA);
        ref float kbBase = ref MemoryMarshal.GetReference(kernelB);
        int lanes = Vector512<float>.Count;
        Span<float> tail = stackalloc float[2 * Vector512<float>.Count];
        for (int y = 0; y < height; y++)
        {
            for (int x0 = 0; x0 < width; x0 += lanes)
            {
                var accA = Vector512<float>.Zero;
                var accB = Vector512<float>.Zero;
                for (int i = 0; i < kernelHeight; i++)
                {
                    nuint inputRow = (nuint)((y + i) * paddedWidth + x0);
                    nuint kernelRow = (nuint)(i * kernelWidth);
                    for (int j = 0; j < kernelWidth; j++)
                    {
                        var v = Vector512.LoadUnsafe(ref pBase, inputRow + (nuint)j);
                        accA = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref kaBase, kernelRow + (nuint)j)), v, accA);
                        accB = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref kbBase, kernelRow + (nuint)j)), v, accB);
                    }
                }
                int count = Math.Min(lanes, width - x0);
                accA.CopyTo(tail);
                accB.CopyTo(tail[lanes..]);
                tail[..count].CopyTo(outputA.Slice(y * width + x0));
                tail.Slice(lanes, count).CopyTo(outputB.Slice(y * width + x0));
            }
        }
    }

    internal static void CorrelatePair256(
        ReadOnlySpan<float> padded, int height, int width, ReadOnlySpan<float> kernelA, ReadOnlySpan<float> kernelB,
        int kernelHeight, int kernelWidth, Span<float> outputA, Span<float> outputB)
    {
        int paddedWidth = width + kernelWidth - 1;
        ref float pBase = ref MemoryMarshal.GetReference(padded);
        ref float kaBase = ref MemoryMarshal.GetReference(kernelA);
        ref float kbBase = ref MemoryMarshal.GetReference(kernelB);
        int lanes = Vector256<float>.Count;
        Span<float> tail = stackalloc float[2 * Vector256<float>.Count];
        for (int y = 0; y < height; y++)
        {
            for (int x0 = 0; x0 < width; x0 += lanes)
            {
                var accA = Vector256<float>.Zero;
                var accB = Vector256<float>.Zero;
                for (int i = 0; i < kernelHeight; i++)
                {
                    nuint inputRow = (nuint)((y + i) * paddedWidth + x0);
                    nuint kernelRow = (nuint)(i * kernelWidth);
                    for (int j = 0; j < kernelWidth; j++)
                    {
                        var v = Vector256.LoadUnsafe(ref pBase, inputRow + (nuint)j);
                        accA = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref kaBase, kernelRow + (nuint)j)), v, accA);
                        accB = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref kbBase, kernelRow + (nuint)j)), v, accB);
                    }
                }
                int count = Math.Min(lanes, width - x0);
                accA.CopyTo(tail);
                accB.CopyTo(tail[lanes..]);
                tail[..count].CopyTo(outputA.Slice(y * width + x0));
                tail.Slice(lanes, count).CopyTo(outputB.Slice(y * width + x0));
            }
        }
    }
}

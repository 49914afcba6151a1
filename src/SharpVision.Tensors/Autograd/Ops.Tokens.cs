using System.Numerics.Tensors;

namespace SharpVision.Tensors;

// Images to token sequences and back, for transformers. Shapes: Patches (N, C, H, W) → (N, T, C·p·p) with
// T = ⌊H/p⌋·⌊W/p⌋; TokensFromChannels (N, C, H, W) → (N, H·W, C); PrependToken (N, T, D) + (D) → (N, T + 1, D);
// SelectToken (N, T, D) → (N, D); DropPath keeps x's shape.
public static partial class Ops
{
    /// <summary>
    /// Non-overlapping p×p patches, each flattened channel-major (c, i, j), in row-major patch order: followed by a
    /// linear layer with weight (D, C·p·p) it is PyTorch's Conv2d(C, D, p, stride p).flatten(2).transpose(1, 2).
    /// </summary>
    /// <remarks>
    /// Shape: (N, C, H, W) → (N, ⌊H/p⌋·⌊W/p⌋, C·p·p); pixels past the last whole patch are dropped, as by the convolution.
    /// </remarks>
    /// <exception cref="ArgumentException">Not 4-D, or the image is smaller than one patch.</exception>
    public static Tensor Patches(Tensor x, int patch)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentOutOfRangeException.ThrowIfLessThan(patch, 1);
        if (x.Shape.Rank != 4) throw new ArgumentException($"Patches needs (N, C, H, W); got {x.Shape}.", nameof(x));
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], rows = h / patch, columns = w / patch;
        if (rows == 0 || columns == 0) throw new ArgumentException($"Images of {h}×{w} are smaller than one {patch}×{patch} patch.", nameof(x));
        int tokens = rows * columns, length = c * patch * patch;
        var y = BufferPool.Uninitialized<float>(n * tokens * length);
        Scatter(x.Data, y, forward: true, accumulate: false);
        var result = new Tensor(new Shape(n, tokens, length), y);
        return result.Record("patches", [x], () =>
        {
            var gx = x.EnsureGrad(); // pixels past the last patch get no gradient: accumulate into zeros
            Scatter(gx, result.Grad!, forward: false, accumulate: true);
        });

        // forward: patches[n, token, (ch, i, j)] = image[n, ch, r·p + i, q·p + j]; backward adds the other way.
        void Scatter(float[] image, float[] patches, bool forward, bool accumulate)
        {
            for (int b = 0; b < n; b++)
                for (int r = 0; r < rows; r++)
                    for (int q = 0; q < columns; q++)
                        for (int ch = 0; ch < c; ch++)
                            for (int i = 0; i < patch; i++)
                            {
                                var pixels = image.AsSpan(((b * c + ch) * h + r * patch + i) * w + q * patch, patch);
                                var values = patches.AsSpan(((b * tokens + r * columns + q) * c + ch) * patch * patch + i * patch, patch);
                                if (forward) pixels.CopyTo(values);
                                else if (accumulate) TensorPrimitives.Add(pixels, values, pixels);
                                else values.CopyTo(pixels);
                            }
        }
    }

    /// <summary>A feature map as a token sequence, one token per position: x.flatten(2).transpose(1, 2).</summary>
    /// <remarks>Shape: (N, C, H, W) → (N, H·W, C). One transposing copy; backward is the transpose back.</remarks>
    /// <exception cref="ArgumentException">Not 4-D.</exception>
    public static Tensor TokensFromChannels(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Shape.Rank != 4) throw new ArgumentException($"TokensFromChannels needs (N, C, H, W); got {x.Shape}.", nameof(x));
        int n = x.Shape[0], c = x.Shape[1], s = x.Shape[2] * x.Shape[3];
        var y = BufferPool.Uninitialized<float>(x.Size);
        for (int b = 0; b < n; b++) Transpose(x.Data.AsSpan(b * c * s, c * s), c, s, y.AsSpan(b * c * s, c * s), accumulate: false);
        var result = new Tensor(new Shape(n, s, c), y);
        return result.Record("tokens_from_channels", [x], () =>
        {
            var gx = x.GradToWrite(out bool accumulate);
            for (int b = 0; b < n; b++) Transpose(result.Grad!.AsSpan(b * c * s, c * s), s, c, gx.AsSpan(b * c * s, c * s), accumulate);
        });

        // destination (columns × rows) (+)= source (rows × columns)ᵀ
        static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination, bool accumulate)
        {
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < columns; j++)
                    destination[j * rows + i] = (accumulate ? destination[j * rows + i] : 0) + source[i * columns + j];
        }
    }

    /// <summary>A learned token (the class token) put in front of every sequence: y[n] = [token; x[n]].</summary>
    /// <remarks>Shape: x (N, T, D), token (D) or (1, 1, D) → (N, T + 1, D). Backward: ∂/∂x = g[:, 1:], ∂/∂token = Σₙ g[n, 0].</remarks>
    /// <exception cref="ArgumentException">x not 3-D, or the token's size is not D.</exception>
    public static Tensor PrependToken(Tensor x, Tensor token)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(token);
        if (x.Shape.Rank != 3) throw new ArgumentException($"PrependToken needs (N, T, D); got {x.Shape}.", nameof(x));
        int n = x.Shape[0], t = x.Shape[1], d = x.Shape[2];
        if (token.Size != d) throw new ArgumentException($"PrependToken: the token {token.Shape} must have D = {d} values.", nameof(token));
        var y = BufferPool.Uninitialized<float>(n * (t + 1) * d);
        for (int b = 0; b < n; b++)
        {
            token.Data.AsSpan().CopyTo(y.AsSpan(b * (t + 1) * d, d));
            x.Data.AsSpan(b * t * d, t * d).CopyTo(y.AsSpan((b * (t + 1) + 1) * d, t * d));
        }
        var result = new Tensor(new Shape(n, t + 1, d), y);
        return result.Record("prepend_token", [x, token], () =>
        {
            var g = result.Grad!;
            if (x.RequiresGrad)
            {
                var gx = x.GradToWrite(out bool accumulate);
                for (int b = 0; b < n; b++)
                {
                    var from = g.AsSpan((b * (t + 1) + 1) * d, t * d);
                    var to = gx.AsSpan(b * t * d, t * d);
                    if (accumulate) TensorPrimitives.Add(to, from, to);
                    else from.CopyTo(to);
                }
            }
            if (token.RequiresGrad)
            {
                var gt = token.EnsureGrad();
                for (int b = 0; b < n; b++) TensorPrimitives.Add(gt, g.AsSpan(b * (t + 1) * d, d), gt);
            }
        });
    }

    /// <summary>Token <paramref name="index"/> of every sequence (the class token's output is token 0): y[n] = x[n, index].</summary>
    /// <remarks>Shape: (N, T, D) → (N, D). Backward scatters g into row <paramref name="index"/>; the other rows get 0.</remarks>
    /// <exception cref="ArgumentException">x not 3-D.</exception>
    /// <exception cref="ArgumentOutOfRangeException">index outside [0, T).</exception>
    public static Tensor SelectToken(Tensor x, int index)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Shape.Rank != 3) throw new ArgumentException($"SelectToken needs (N, T, D); got {x.Shape}.", nameof(x));
        int n = x.Shape[0], t = x.Shape[1], d = x.Shape[2];
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, t);
        var y = BufferPool.Uninitialized<float>(n * d);
        for (int b = 0; b < n; b++) x.Data.AsSpan((b * t + index) * d, d).CopyTo(y.AsSpan(b * d, d));
        var result = new Tensor(new Shape(n, d), y);
        return result.Record("select_token", [x], () =>
        {
            var gx = x.EnsureGrad();
            for (int b = 0; b < n; b++)
            {
                var to = gx.AsSpan((b * t + index) * d, d);
                TensorPrimitives.Add(to, result.Grad!.AsSpan(b * d, d), to);
            }
        });
    }

    /// <summary>
    /// Stochastic depth (Huang et al.; timm's drop_path): each sample's whole tensor is zeroed with probability
    /// <paramref name="p"/> and kept samples are scaled by 1/(1 − p). Used on a residual branch, y = x + DropPath(f(x)),
    /// it drops the block for that sample.
    /// </summary>
    /// <remarks>Shape: (N, ...) → the same. Draws one number per sample. p = 0 returns x itself.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">p outside [0, 1).</exception>
    /// <exception cref="ArgumentException">x has rank 0.</exception>
    public static Tensor DropPath(Tensor x, float p, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(rng);
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Drop probability must be in [0, 1).");
        if (x.Shape.Rank == 0) throw new ArgumentException("DropPath needs a batch axis.", nameof(x));
        if (p == 0) return x;
        int n = x.Shape[0], sample = n == 0 ? 0 : x.Size / n;
        float keep = 1 / (1 - p);
        var mask = new float[n];
        for (int i = 0; i < n; i++) mask[i] = rng.NextFloat() >= p ? keep : 0f;
        var y = BufferPool.Uninitialized<float>(x.Size);
        for (int i = 0; i < n; i++) TensorPrimitives.Multiply(x.Data.AsSpan(i * sample, sample), mask[i], y.AsSpan(i * sample, sample));
        var result = new Tensor(x.Shape, y);
        return result.Record("drop_path", [x], () =>
        {
            var gx = x.EnsureGrad();
            for (int i = 0; i < n; i++)
            {
                if (mask[i] == 0) continue;
                var to = gx.AsSpan(i * sample, sample);
                TensorPrimitives.MultiplyAdd(result.Grad!.AsSpan(i * sample, sample), mask[i], to, to); // ∂/∂x = g·mask
            }
        });
    }
}

using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;

namespace SharpVision.Nn;

/// <summary>Per-image maps over a transformer's token grid: <see cref="Values"/> holds Count maps of GridHeight × GridWidth.</summary>
/// <param name="Values">Count·GridHeight·GridWidth values, map by map, row-major.</param>
/// <param name="Count">Maps.</param>
/// <param name="GridHeight">Token rows (image height / patch size for a ViT).</param>
/// <param name="GridWidth">Token columns.</param>
public sealed record TokenMaps(float[] Values, int Count, int GridHeight, int GridWidth)
{
    /// <summary>Map <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Map(int index) => Values.AsSpan(index * GridHeight * GridWidth, GridHeight * GridWidth);
}

/// <summary>
/// What a trained vision transformer attends to, as the ViT paper pictures it (Dosovitskiy et al., 2021, figures 6–7):
/// attention rollout per image, and the cosine similarity of the learned position embeddings.
/// </summary>
public static class AttentionMaps
{
    /// <summary>
    /// Attention rollout (Abnar &amp; Zuidema, 2020): per block, the attention probabilities averaged over heads, with
    /// the residual connection as ½·A + ½·I, multiplied through the blocks, R = Â_L·…·Â_1; the map is the class token's
    /// row of R over the patch tokens. A network that pools its tokens (a CCT's sequence pooling, weights w) gets wᵀ·R.
    /// Each map sums to 1 over the grid (the class token's own share is left out and the rest renormalized).
    /// </summary>
    /// <remarks>Shape: normalized images (N, C, H, W) → N maps over the token grid. Evaluation mode, no graph.</remarks>
    /// <exception cref="ArgumentException">The network has no token embedding or no encoder block.</exception>
    public static TokenMaps Rollout(Sequential network, Tensor images)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(images);
        network.Eval();
        using var _ = GradMode.NoGrad();
        int n = images.Shape[0];
        var x = images;
        float[]? rollout = null;
        int tokens = 0, gridHeight = 0, gridWidth = 0, first = 0;
        float[]? pooling = null;
        foreach (var layer in network.Layers)
        {
            switch (layer)
            {
                case PatchEmbedding embedding:
                    (gridHeight, gridWidth, first) = (embedding.Height / embedding.Patch, embedding.Width / embedding.Patch, embedding.ClassToken ? 1 : 0);
                    break;
                case ChannelTokens:
                    (gridHeight, gridWidth) = (x.Shape[2], x.Shape[3]);
                    break;
                case TransformerEncoderBlock block:
                    var probabilities = block.AttentionProbabilities(x);
                    tokens = x.Shape[1];
                    rollout = Accumulate(rollout, probabilities.Data, n, block.Heads, tokens);
                    break;
                case SequencePooling pool:
                    pooling = pool.Weights(x).Data;
                    break;
            }
            x = layer.Forward(x);
        }
        if (rollout is null || gridHeight * gridWidth == 0)
            throw new ArgumentException("Attention rollout needs a transformer: a patch embedding or channel tokens, then encoder blocks.", nameof(network));
        int cells = gridHeight * gridWidth;
        var maps = new float[n * cells];
        for (int b = 0; b < n; b++)
        {
            var r = rollout.AsSpan(b * tokens * tokens, tokens * tokens);
            var map = maps.AsSpan(b * cells, cells);
            if (pooling is null && first == 1)
            {
                r.Slice(1, cells).CopyTo(map); // the class token's row, over the patches
            }
            else
            {
                // wᵀ·R with the pooling weights, or the mean over tokens when the network pools nothing
                for (int i = 0; i < tokens; i++)
                {
                    float weight = pooling is null ? 1f / tokens : pooling[b * tokens + i];
                    for (int j = 0; j < cells; j++) map[j] += weight * r[i * tokens + first + j];
                }
            }
            float total = 0;
            foreach (float v in map) total += v;
            if (total > 0) System.Numerics.Tensors.TensorPrimitives.Divide(map, total, map);
        }
        return new TokenMaps(maps, n, gridHeight, gridWidth);
    }

    // R ← Â·R with Â = ½·mean_heads(P) + ½·I, per image; R starts as the identity.
    private static float[] Accumulate(float[]? rollout, float[] probabilities, int n, int heads, int tokens)
    {
        int square = tokens * tokens;
        var next = new float[n * square];
        var a = new float[square];
        for (int b = 0; b < n; b++)
        {
            Array.Clear(a);
            for (int h = 0; h < heads; h++)
                System.Numerics.Tensors.TensorPrimitives.Add(a, probabilities.AsSpan((b * heads + h) * square, square), a);
            for (int i = 0; i < square; i++) a[i] *= 0.5f / heads;
            for (int i = 0; i < tokens; i++) a[i * tokens + i] += 0.5f;
            var target = next.AsSpan(b * square, square);
            if (rollout is null)
            {
                a.CopyTo(target);
                continue;
            }
            var previous = rollout.AsSpan(b * square, square);
            for (int i = 0; i < tokens; i++)
                for (int k = 0; k < tokens; k++)
                {
                    float aik = a[i * tokens + k];
                    if (aik == 0) continue;
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(previous.Slice(k * tokens, tokens), aik, target.Slice(i * tokens, tokens),
                        target.Slice(i * tokens, tokens));
                }
        }
        return next;
    }

    /// <summary>
    /// The learned position embeddings' similarity (the ViT paper's figure 7, center): for each patch, the cosine
    /// similarity of its position embedding with every patch's, as a map over the grid. Class tokens are left out.
    /// </summary>
    /// <remarks>
    /// Shape: GridHeight·GridWidth maps, map p for the patch at row p / GridWidth, column p % GridWidth. A CCT's grid
    /// is found by passing one blank image of <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/> through its tokenizer.
    /// </remarks>
    /// <exception cref="ArgumentException">The network has no learned position embeddings.</exception>
    public static TokenMaps PositionSimilarity(Sequential network, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(network);
        float[]? position = null;
        int first = 0, gridHeight = 0, gridWidth = 0, dim = 0;
        using (GradMode.NoGrad())
        {
            network.Eval();
            var x = new Tensor(new Shape(1, channels, height, width), new float[channels * height * width]);
            foreach (var layer in network.Layers)
            {
                if (layer is PatchEmbedding embedding)
                {
                    (position, dim, first) = (embedding.Position.Data, embedding.Dim, embedding.ClassToken ? 1 : 0);
                    (gridHeight, gridWidth) = (embedding.Height / embedding.Patch, embedding.Width / embedding.Patch);
                    break;
                }
                if (layer is ChannelTokens { Position: { } p } tokens)
                {
                    (position, dim) = (p.Data, tokens.Dim);
                    (gridHeight, gridWidth) = (x.Shape[2], x.Shape[3]);
                    break;
                }
                x = layer.Forward(x);
            }
        }
        if (position is null) throw new ArgumentException("The network has no learned position embeddings.", nameof(network));
        int cells = gridHeight * gridWidth;
        var norms = new double[cells];
        for (int p = 0; p < cells; p++)
            norms[p] = Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot(Row(p), Row(p)));
        var maps = new float[cells * cells];
        for (int p = 0; p < cells; p++)
            for (int q = 0; q < cells; q++)
            {
                double denominator = norms[p] * norms[q];
                maps[p * cells + q] = denominator > 0 ? (float)(System.Numerics.Tensors.TensorPrimitives.Dot(Row(p), Row(q)) / denominator) : 0f;
            }
        return new TokenMaps(maps, cells, gridHeight, gridWidth);

        ReadOnlySpan<float> Row(int patch) => position.AsSpan((first + patch) * dim, dim);
    }
}

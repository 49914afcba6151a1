using SharpVision.Tensors.Kernels;

namespace SharpVision.Tensors;

// Batched matrix products and attention. Shapes: BatchedMatMul (B, m, k)·(B, k, n) → (B, m, n);
// ScaledDotProductAttention q, k, v (B, H, T, d) → (B, H, T, d); MultiHeadAttention packed projections (N, T, 3·H·d)
// → (N, T, H·d); SplitHeads (N, T, H·d) ↔ MergeHeads (N, H, T, d).
public static partial class Ops
{
    /// <summary>Y[b] = op(A[b])·op(B[b]) for every b, op(X) = X or Xᵀ (torch.bmm with optional transposes).</summary>
    /// <remarks>
    /// Shape: a (B, m, k) or (B, k, m) when transposed, b (B, k, n) or (B, n, k) → (B, m, n). Products are independent:
    /// large ones run the GEMM provider's threads one after another, small ones are spread over threads whole, so the
    /// result does not depend on the thread count. Backward: ∂/∂A = G·op(B)ᵀ, ∂/∂B = op(A)ᵀ·G (transposed back as needed).
    /// </remarks>
    /// <exception cref="ArgumentException">Not 3-D, batch sizes differ, or inner dimensions differ.</exception>
    public static Tensor BatchedMatMul(Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Shape.Rank != 3 || b.Shape.Rank != 3) throw new ArgumentException($"BatchedMatMul needs 3-D operands; got {a.Shape} and {b.Shape}.");
        int batch = a.Shape[0];
        int m = transposeA ? a.Shape[2] : a.Shape[1], k = transposeA ? a.Shape[1] : a.Shape[2];
        int kb = transposeB ? b.Shape[2] : b.Shape[1], n = transposeB ? b.Shape[1] : b.Shape[2];
        if (b.Shape[0] != batch) throw new ArgumentException($"BatchedMatMul: batch sizes differ ({a.Shape} and {b.Shape}).");
        if (kb != k)
            throw new ArgumentException(
                $"BatchedMatMul: {a.Shape}{(transposeA ? "ᵀ" : "")}·{b.Shape}{(transposeB ? "ᵀ" : "")}: inner dimensions differ.");
        int aSize = m * k, bSize = k * n, ySize = m * n;
        var y = BufferPool.Uninitialized<float>(batch * ySize);
        int lda = a.Shape[2], ldb = b.Shape[2];
        EachProduct(batch, (long)m * n * k, (i, threads) => Gemm.Provider.Multiply(transposeA, transposeB, m, n, k, 1,
            a.Data.AsSpan(i * aSize, aSize), lda, b.Data.AsSpan(i * bSize, bSize), ldb, 0, y.AsSpan(i * ySize, ySize), n, threads));
        var result = new Tensor(new Shape(batch, m, n), y);
        return result.Record("bmm", [a, b], () =>
        {
            var g = result.Grad!;
            if (a.RequiresGrad)
            {
                var ga = a.EnsureGrad();
                // A (m×k): dA = G·op(B)ᵀ; Aᵀ stored (k×m): dAᵀ = op(B)·Gᵀ
                EachProduct(batch, (long)m * n * k, (i, threads) =>
                {
                    var gi = g.AsSpan(i * ySize, ySize);
                    var bi = b.Data.AsSpan(i * bSize, bSize);
                    var target = ga.AsSpan(i * aSize, aSize);
                    if (!transposeA) Gemm.Provider.Multiply(false, !transposeB, m, k, n, 1, gi, n, bi, ldb, 1, target, k, threads);
                    else Gemm.Provider.Multiply(transposeB, true, k, m, n, 1, bi, ldb, gi, n, 1, target, m, threads);
                });
            }
            if (b.RequiresGrad)
            {
                var gb = b.EnsureGrad();
                // B (k×n): dB = op(A)ᵀ·G; Bᵀ stored (n×k): dBᵀ = Gᵀ·op(A)
                EachProduct(batch, (long)m * n * k, (i, threads) =>
                {
                    var gi = g.AsSpan(i * ySize, ySize);
                    var ai = a.Data.AsSpan(i * aSize, aSize);
                    var target = gb.AsSpan(i * bSize, bSize);
                    if (!transposeB) Gemm.Provider.Multiply(!transposeA, false, k, n, m, 1, ai, lda, gi, n, 1, target, n, threads);
                    else Gemm.Provider.Multiply(true, transposeA, n, k, m, 1, gi, n, ai, lda, 1, target, k, threads);
                });
            }
        });
    }

    // Runs product(i, threads) for i in [0, count): big products one at a time with all threads, small ones spread whole.
    private static void EachProduct(int count, long multiplyAdds, Action<int, int> product)
    {
        if (multiplyAdds >= 1L << 21 || count == 1)
        {
            for (int i = 0; i < count; i++) product(i, Engine.Threads);
            return;
        }
        Kernels.WorkSplit.ForRanges(count, multiplyAdds, Engine.Threads, (first, end) =>
        {
            for (int i = first; i < end; i++) product(i, 1);
        });
    }

    /// <summary>
    /// Scaled dot-product attention O = softmax(Q·Kᵀ/√d)·V per (batch, head), fused: the T×T scores exist only while
    /// one (batch, head) problem is computed. Optional dropout on the attention probabilities (training).
    /// </summary>
    /// <remarks>
    /// Shape: q, k, v (B, H, T, d) → (B, H, T, d). Saves one log-sum-exp per query row; backward recomputes the
    /// probabilities from it and regenerates the dropout mask from a seed drawn from <paramref name="rng"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">Shapes differ or are not 4-D; dropout without an <see cref="Rng"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Dropout outside [0, 1).</exception>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, float dropout = 0, Rng? rng = null)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        if (q.Shape.Rank != 4 || q.Shape != k.Shape || q.Shape != v.Shape)
            throw new ArgumentException($"ScaledDotProductAttention needs q, k, v of one shape (B, H, T, d); got {q.Shape}, {k.Shape}, {v.Shape}.");
        var shape = new AttentionShape(q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]);
        var layout = HeadLayout.Separate(shape.Heads, shape.Tokens, shape.HeadSize);
        return Attention(shape, q, layout, k, layout, v, layout, q.Shape, layout, dropout, rng, [q, k, v], "scaled_dot_product_attention");
    }

    /// <summary>
    /// Multi-head self-attention on packed projections (PyTorch's MultiheadAttention between in_proj and out_proj):
    /// x = [Q | K | V] with each of width H·d, head h using columns h·d … h·d + d − 1 of each; y concatenates the heads'
    /// softmax(Q_h·K_hᵀ/√d)·V_h. Heads are read and written in place by stride: no split or merge copies.
    /// </summary>
    /// <remarks>
    /// Shape: (N, T, 3·H·d) → (N, T, H·d); with <paramref name="query"/>, only that token asks: → (N, 1, H·d), every token
    /// still a key and value (a ViT's last block, whose class token alone is read). Saves one log-sum-exp per (n, head, query).
    /// </remarks>
    /// <exception cref="ArgumentException">Not 3-D, or the last axis is not a multiple of 3·heads.</exception>
    /// <exception cref="ArgumentOutOfRangeException">heads &lt; 1, dropout outside [0, 1), or the query outside [0, T).</exception>
    public static Tensor MultiHeadAttention(Tensor packed, int heads, float dropout = 0, Rng? rng = null, int? query = null)
    {
        ArgumentNullException.ThrowIfNull(packed);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        if (packed.Shape.Rank != 3 || packed.Shape[2] % (3 * heads) != 0 || packed.Shape[2] == 0)
            throw new ArgumentException($"MultiHeadAttention needs (N, T, 3·{heads}·d) projections; got {packed.Shape}.", nameof(packed));
        int n = packed.Shape[0], t = packed.Shape[1], d = packed.Shape[2] / (3 * heads);
        if (query is int asked && (asked < 0 || asked >= t))
            throw new ArgumentOutOfRangeException(nameof(query), asked, $"The query must be a token in [0, {t}).");
        int queries = query is null ? t : 1;
        var shape = new AttentionShape(n, heads, t, d, queries);
        var output = new HeadLayout(queries * heads * d, d, 0, heads * d);
        HeadLayout q = HeadLayout.Packed(heads, t, d, 0), k = HeadLayout.Packed(heads, t, d, 1), v = HeadLayout.Packed(heads, t, d, 2);
        if (query is int one) q = q with { Offset = q.Offset + one * q.RowStride };
        return Attention(shape, packed, q, packed, k, packed, v, new Shape(n, queries, heads * d), output, dropout, rng, [packed],
            "multi_head_attention");
    }

    /// <summary>
    /// The attention probabilities softmax(Q·Kᵀ/√d) of packed projections, without a graph (for attention maps).
    /// Shape: (N, T, 3·H·d) → (N, H, T, T).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="MultiHeadAttention"/>.</exception>
    public static Tensor AttentionProbabilities(Tensor packed, int heads)
    {
        ArgumentNullException.ThrowIfNull(packed);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        if (packed.Shape.Rank != 3 || packed.Shape[2] % (3 * heads) != 0 || packed.Shape[2] == 0)
            throw new ArgumentException($"AttentionProbabilities needs (N, T, 3·{heads}·d) projections; got {packed.Shape}.", nameof(packed));
        int n = packed.Shape[0], t = packed.Shape[1], d = packed.Shape[2] / (3 * heads);
        var shape = new AttentionShape(n, heads, t, d);
        var maps = new float[n * heads * t * t];
        var scratch = new float[n * t * heads * d];
        AttentionKernels.Forward(shape, packed.Data, HeadLayout.Packed(heads, t, d, 0), packed.Data, HeadLayout.Packed(heads, t, d, 1), packed.Data,
            HeadLayout.Packed(heads, t, d, 2), 1 / MathF.Sqrt(d), AttentionDropout.None, scratch, new HeadLayout(t * heads * d, d, 0, heads * d),
            new float[n * heads * t], maps, Engine.Threads, SimdPaths.Default);
        return new Tensor(new Shape(n, heads, t, t), maps);
    }

    private static Tensor Attention(AttentionShape shape, Tensor q, HeadLayout qLayout, Tensor k, HeadLayout kLayout, Tensor v, HeadLayout vLayout,
        Shape outputShape, HeadLayout oLayout, float dropout, Rng? rng, Tensor[] parents, string name)
    {
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout probability must be in [0, 1).");
        if (dropout > 0 && rng is null) throw new ArgumentException("Attention dropout needs an Rng.", nameof(rng));
        var mask = dropout > 0 ? new AttentionDropout(dropout, rng!.NextUInt64()) : AttentionDropout.None;
        float scale = 1 / MathF.Sqrt(shape.HeadSize);
        var y = BufferPool.Uninitialized<float>(outputShape.Size);
        var logSumExp = BufferPool.Uninitialized<float>(shape.Problems * shape.Queries);
        var path = SimdPaths.Default;
        AttentionKernels.Forward(shape, q.Data, qLayout, k.Data, kLayout, v.Data, vLayout, scale, mask, y, oLayout, logSumExp, [], Engine.Threads,
            path);
        var result = new Tensor(outputShape, y);
        return result.Record(name, parents, () =>
        {
            var g = result.Grad!;
            if (parents.Length == 1)
            {
                // One packed tensor: with every token a query, each element of its gradient is written by exactly one of
                // dQ, dK, dV; with one query the other tokens' Q columns get none, so they start from zero.
                bool accumulate = true;
                var gx = shape.Queries == shape.Tokens ? q.GradToWrite(out accumulate) : q.EnsureGrad();
                AttentionKernels.Backward(shape, q.Data, qLayout, k.Data, kLayout, v.Data, vLayout, scale, mask, y, oLayout, logSumExp, g, gx, gx, gx,
                    accumulate, Engine.Threads, path);
                return;
            }
            // Separate q, k, v: gradients nobody asked for go to scratch.
            float[] Target(Tensor t) => t.RequiresGrad ? t.EnsureGrad() : BufferPool.Uninitialized<float>(t.Size);
            AttentionKernels.Backward(shape, q.Data, qLayout, k.Data, kLayout, v.Data, vLayout, scale, mask, y, oLayout, logSumExp, g,
                Target(q), Target(k), Target(v), accumulate: true, Engine.Threads, path);
        });
    }

    /// <summary>
    /// (N, T, H·d) → (N, H, T, d): the heads as separate blocks. A view (no copy) when T = 1 or H = 1, where the two
    /// layouts coincide; otherwise one transposing copy.
    /// </summary>
    /// <exception cref="ArgumentException">Not 3-D, or the last axis is not a multiple of heads.</exception>
    public static Tensor SplitHeads(Tensor x, int heads)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        if (x.Shape.Rank != 3 || x.Shape[2] % heads != 0)
            throw new ArgumentException($"SplitHeads needs (N, T, {heads}·d); got {x.Shape}.", nameof(x));
        int n = x.Shape[0], t = x.Shape[1], d = x.Shape[2] / heads;
        if (t == 1 || heads == 1) return x.Reshape(n, heads, t, d);
        return SwapMiddle(x, n, t, heads, d, new Shape(n, heads, t, d), "split_heads");
    }

    /// <summary>(N, H, T, d) → (N, T, H·d), the inverse of <see cref="SplitHeads"/> (a view when T = 1 or H = 1).</summary>
    /// <exception cref="ArgumentException">Not 4-D.</exception>
    public static Tensor MergeHeads(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Shape.Rank != 4) throw new ArgumentException($"MergeHeads needs (N, H, T, d); got {x.Shape}.", nameof(x));
        int n = x.Shape[0], heads = x.Shape[1], t = x.Shape[2], d = x.Shape[3];
        if (t == 1 || heads == 1) return x.Reshape(n, t, heads * d);
        return SwapMiddle(x, n, heads, t, d, new Shape(n, t, heads * d), "merge_heads");
    }

    // (N, A, B, d) → (N, B, A, d) as a copy; backward is the same swap back.
    private static Tensor SwapMiddle(Tensor x, int n, int a, int b, int d, Shape shape, string name)
    {
        var y = BufferPool.Uninitialized<float>(x.Size);
        Swap(x.Data, y, n, a, b, d, accumulate: false);
        var result = new Tensor(shape, y);
        return result.Record(name, [x], () =>
        {
            var gx = x.GradToWrite(out bool accumulate);
            Swap(result.Grad!, gx, n, b, a, d, accumulate);
        });

        static void Swap(float[] source, float[] destination, int n, int a, int b, int d, bool accumulate)
        {
            for (int i = 0; i < n; i++)
                for (int p = 0; p < a; p++)
                    for (int q = 0; q < b; q++)
                    {
                        var from = source.AsSpan(((i * a + p) * b + q) * d, d);
                        var to = destination.AsSpan(((i * b + q) * a + p) * d, d);
                        if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(to, from, to);
                        else from.CopyTo(to);
                    }
        }
    }
}

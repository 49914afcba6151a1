// Shape legend, per (batch b, head h) of B·H independent problems: K, V are T×d (T tokens, d = head size), Q, O, dO are
// Tq×d (Tq queries: T for self-attention, 1 for a class token alone), each row of d floats at a stride;
// S = s·Q·Kᵀ and P = softmax(S) are Tq×T (s = the scale, usually 1/√d).
// Scratch rows are padded to Tp = T and dp = d rounded up to the vector width, so every product below runs the same
// register-tiled kernel on whole vectors: C (m×n, n a multiple of the width) = α·A (m×k, any strides)·B (k×n, rows).
//   forward:  S = s·Q·Kᵀ (Kᵀ packed d×Tp) → P = softmax rows (log-sum-exp L kept) → O = P·V
//   backward: P = e^(s·Q·Kᵀ − L) recomputed → dV = Pᵀ·dO; dP = dO·Vᵀ; D = rowsum(dO ⊙ O); dS = s·P ⊙ (dP − D);
//             dQ = dS·K; dK = dSᵀ·Q        (with dropout, P is replaced by the dropped P in dV and dP is masked)
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpVision.Tensors.Kernels;

/// <summary>
/// Where one operand's rows live for problem (b, h): row t of its T×d block starts at
/// b·<see cref="BatchStride"/> + h·<see cref="HeadStride"/> + <see cref="Offset"/> + t·<see cref="RowStride"/>.
/// </summary>
/// <remarks>
/// Packed projections (N, T, 3·D) hold Q, K and V for every head: Q of head h is
/// (BatchStride T·3D, HeadStride d, Offset 0, RowStride 3D), K the same with Offset D, V with Offset 2D; the merged
/// output (N, T, D) is (T·D, d, 0, D). Heads are split and merged by these strides, without copies. Separate
/// (B, H, T, d) tensors are (H·T·d, T·d, 0, d).
/// </remarks>
public readonly record struct HeadLayout(int BatchStride, int HeadStride, int Offset, int RowStride)
{
    /// <summary>Contiguous (B, H, T, d) blocks.</summary>
    public static HeadLayout Separate(int heads, int tokens, int headSize) => new(heads * tokens * headSize, tokens * headSize, 0, headSize);

    /// <summary>Part <paramref name="part"/> (0 = Q, 1 = K, 2 = V) of packed (N, T, parts·H·d) projections.</summary>
    public static HeadLayout Packed(int heads, int tokens, int headSize, int part, int parts = 3)
    {
        int width = heads * headSize;
        return new(tokens * parts * width, headSize, part * width, parts * width);
    }

    internal long Start(int batch, int head) => (long)batch * BatchStride + (long)head * HeadStride + Offset;

    internal long Extent(int batches, int heads, int tokens, int headSize) =>
        (long)(batches - 1) * BatchStride + (long)(heads - 1) * HeadStride + Offset + (long)(tokens - 1) * RowStride + headSize;
}

/// <summary>
/// The sizes of a batch of attention problems: B·H problems of <see cref="Queries"/> query rows attending over
/// <see cref="Tokens"/> key/value rows, head size d. Self-attention has as many queries as tokens; a block whose
/// output is one token's (the class token of a ViT's last block) asks one query.
/// </summary>
public readonly record struct AttentionShape(int Batch, int Heads, int Tokens, int HeadSize, int Queries)
{
    /// <summary>Self-attention: every token is a query.</summary>
    public AttentionShape(int batch, int heads, int tokens, int headSize) : this(batch, heads, tokens, headSize, tokens) { }

    /// <summary>B·H.</summary>
    public int Problems => Batch * Heads;
}

/// <summary>
/// Dropout on the attention probabilities: each P[i, j] is zeroed with probability <see cref="Probability"/> and
/// survivors scaled by 1/(1 − p). The mask is a hash of (<see cref="Seed"/>, b, h, i, j), so backward regenerates it
/// instead of storing T×T bits per problem.
/// </summary>
public readonly record struct AttentionDropout(float Probability, ulong Seed)
{
    /// <summary>No dropout.</summary>
    public static AttentionDropout None => default;

    internal bool Active => Probability > 0;

    /// <summary>The mask value of element <paramref name="index"/>: 0 or 1/(1 − p).</summary>
    internal float Mask(long index)
    {
        ulong z = Seed + (ulong)index * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 40) * (1.0f / (1 << 24)) >= Probability ? 1 / (1 - Probability) : 0f;
    }
}

/// <summary>
/// Fused scaled dot-product attention O = softmax(s·Q·Kᵀ)·V over B·H problems, forward and backward, reading each
/// head in place through <see cref="HeadLayout"/> strides. The T×T scores live only in a per-worker scratch while
/// one problem runs: forward keeps one log-sum-exp per row, and backward recomputes P from it.
/// <see cref="Reference.AttentionReference"/> is the oracle.
/// </summary>
/// <remarks>
/// Problems are independent and split over threads whole, so results do not depend on the thread count.
/// </remarks>
public static unsafe class AttentionKernels
{
    /// <summary>O = softmax(s·Q·Kᵀ)·V (with dropout on P), and L = log Σⱼ e^(S[i, j]) per row.</summary>
    /// <param name="shape">B, H, T, d.</param>
    /// <param name="q">Queries, laid out as <paramref name="qLayout"/>; likewise k, v, o.</param>
    /// <param name="qLayout">Where Q's rows are.</param>
    /// <param name="k">Keys.</param>
    /// <param name="kLayout">Where K's rows are.</param>
    /// <param name="v">Values.</param>
    /// <param name="vLayout">Where V's rows are.</param>
    /// <param name="scale">s, usually 1/√d.</param>
    /// <param name="dropout">Dropout on P (<see cref="AttentionDropout.None"/> for none).</param>
    /// <param name="o">Output, written.</param>
    /// <param name="oLayout">Where O's rows go.</param>
    /// <param name="logSumExp">(B, H, Tq): written, for <see cref="Backward"/>.</param>
    /// <param name="probabilities">(B, H, Tq, T) receives P before dropout, or empty (attention maps for pictures).</param>
    /// <param name="threads">Worker threads.</param>
    /// <param name="path">The instruction set.</param>
    /// <exception cref="ArgumentException">A span is too short for its layout.</exception>
    public static void Forward(AttentionShape shape, ReadOnlySpan<float> q, HeadLayout qLayout, ReadOnlySpan<float> k, HeadLayout kLayout,
        ReadOnlySpan<float> v, HeadLayout vLayout, float scale, AttentionDropout dropout, Span<float> o, HeadLayout oLayout, Span<float> logSumExp,
        Span<float> probabilities, int threads, SimdPath path)
    {
        Validate(shape, threads);
        Check(q.Length, qLayout, shape, nameof(q), shape.Queries);
        Check(k.Length, kLayout, shape, nameof(k), shape.Tokens);
        Check(v.Length, vLayout, shape, nameof(v), shape.Tokens);
        Check(o.Length, oLayout, shape, nameof(o), shape.Queries);
        LayerNormKernels.Require(logSumExp.Length, (long)shape.Problems * shape.Queries, nameof(logSumExp));
        if (!probabilities.IsEmpty)
            LayerNormKernels.Require(probabilities.Length, (long)shape.Problems * shape.Queries * shape.Tokens, nameof(probabilities));
        if (shape.Problems == 0 || shape.Tokens == 0) return;
        fixed (float* pq = q, pk = k, pv = v, po = o, pl = logSumExp, pp = probabilities)
        {
            var args = new Args(shape, scale, dropout, path, (nint)pq, qLayout, (nint)pk, kLayout, (nint)pv, vLayout, (nint)po, oLayout, (nint)pl,
                probabilities.IsEmpty ? 0 : (nint)pp);
            Split(args, threads, backward: false);
        }
    }

    /// <summary>
    /// Gradients of <see cref="Forward"/>: dQ, dK, dV from dO, recomputing P from Q, K and L (and the dropout mask from its seed).
    /// </summary>
    /// <param name="shape">B, H, T, d.</param>
    /// <param name="q">The forward queries.</param>
    /// <param name="qLayout">Their layout (also dq's).</param>
    /// <param name="k">The forward keys.</param>
    /// <param name="kLayout">Their layout (also dk's).</param>
    /// <param name="v">The forward values.</param>
    /// <param name="vLayout">Their layout (also dv's).</param>
    /// <param name="scale">s of the forward pass.</param>
    /// <param name="dropout">The forward pass's dropout.</param>
    /// <param name="o">The forward output.</param>
    /// <param name="oLayout">Its layout (also dO's).</param>
    /// <param name="logSumExp">L from the forward pass.</param>
    /// <param name="outputGradient">dO = ∂L/∂O.</param>
    /// <param name="dq">∂L/∂Q in <paramref name="qLayout"/> (may be the same span as dk and dv, for packed projections).</param>
    /// <param name="dk">∂L/∂K in <paramref name="kLayout"/>.</param>
    /// <param name="dv">∂L/∂V in <paramref name="vLayout"/>.</param>
    /// <param name="accumulate">Add into dq, dk, dv (else overwrite the rows the layouts name).</param>
    /// <param name="threads">Worker threads.</param>
    /// <param name="path">The instruction set.</param>
    /// <exception cref="ArgumentException">A span is too short for its layout.</exception>
    public static void Backward(AttentionShape shape, ReadOnlySpan<float> q, HeadLayout qLayout, ReadOnlySpan<float> k, HeadLayout kLayout,
        ReadOnlySpan<float> v, HeadLayout vLayout, float scale, AttentionDropout dropout, ReadOnlySpan<float> o, HeadLayout oLayout,
        ReadOnlySpan<float> logSumExp, ReadOnlySpan<float> outputGradient, Span<float> dq, Span<float> dk, Span<float> dv, bool accumulate,
        int threads, SimdPath path)
    {
        Validate(shape, threads);
        Check(q.Length, qLayout, shape, nameof(q), shape.Queries);
        Check(k.Length, kLayout, shape, nameof(k), shape.Tokens);
        Check(v.Length, vLayout, shape, nameof(v), shape.Tokens);
        Check(o.Length, oLayout, shape, nameof(o), shape.Queries);
        Check(outputGradient.Length, oLayout, shape, nameof(outputGradient), shape.Queries);
        Check(dq.Length, qLayout, shape, nameof(dq), shape.Queries);
        Check(dk.Length, kLayout, shape, nameof(dk), shape.Tokens);
        Check(dv.Length, vLayout, shape, nameof(dv), shape.Tokens);
        LayerNormKernels.Require(logSumExp.Length, (long)shape.Problems * shape.Queries, nameof(logSumExp));
        if (shape.Problems == 0 || shape.Tokens == 0) return;
        fixed (float* pq = q, pk = k, pv = v, po = o, pl = logSumExp, pdo = outputGradient, pdq = dq, pdk = dk, pdv = dv)
        {
            var args = new Args(shape, scale, dropout, path, (nint)pq, qLayout, (nint)pk, kLayout, (nint)pv, vLayout, (nint)po, oLayout, (nint)pl, 0)
            {
                OutputGradient = (nint)pdo,
                Dq = (nint)pdq,
                Dk = (nint)pdk,
                Dv = (nint)pdv,
                Accumulate = accumulate,
            };
            Split(args, threads, backward: true);
        }
    }

    // One call's operands as addresses the workers share (the caller keeps them pinned).
    private readonly record struct Args(AttentionShape Shape, float Scale, AttentionDropout Dropout, SimdPath Path,
        nint Q, HeadLayout QLayout, nint K, HeadLayout KLayout, nint V, HeadLayout VLayout, nint O, HeadLayout OLayout, nint LogSumExp,
        nint Probabilities)
    {
        public nint OutputGradient { get; init; }
        public nint Dq { get; init; }
        public nint Dk { get; init; }
        public nint Dv { get; init; }
        public bool Accumulate { get; init; }
    }

    private static void Split(Args args, int threads, bool backward)
    {
        var s = args.Shape;
        long cost = (long)s.Queries * s.Tokens * Math.Max(1, s.HeadSize) * (backward ? 5 : 2);
        WorkSplit.ForRanges(s.Problems, cost, threads, (first, end) =>
        {
            switch (args.Path)
            {
                case SimdPath.Avx512: Range<Lanes512, Vector512<float>>(args, first, end, backward); break;
                case SimdPath.Avx2: Range<Lanes256, Vector256<float>>(args, first, end, backward); break;
                default: Range<Lanes1, float>(args, first, end, backward); break;
            }
        });
    }

    // Per-worker scratch, sized for one problem (rows padded to the vector width).
    private ref struct Scratch
    {
        public float* Transposed;   // d × Tp: Kᵀ (forward, backward) — then Vᵀ (backward)
        public float* Scores;       // Tq × Tp: S, then P
        public float* Gradient;     // Tq × Tp: dP, then dS (backward)
        public float* Dropped;      // Tq × Tp: P ⊙ M (backward with dropout)
        public float* Operand;      // T × dp: a padded copy of V, dO, K or Q when d is not a multiple of the width
        public float* Result;       // T × dp: O, dV, dQ or dK before it is copied out
    }

    private static void Range<TL, TV>(Args a, int first, int end, bool backward) where TL : struct, ILanes<TV> where TV : struct
    {
        var s = a.Shape;
        int w = TL.Count, tp = RoundUp(s.Tokens, w), dp = RoundUp(s.HeadSize, w);
        int transposed = Math.Max(1, s.HeadSize) * tp, scores = s.Queries * tp, rows = s.Tokens * dp;
        const int align = 16;
        int total = transposed + scores * (backward ? 3 : 1) + rows * 2 + 6 * align;
        float[] buffer = ArrayPool<float>.Shared.Rent(total);
        try
        {
            fixed (float* start = buffer)
            {
                float* p = Aligned(start);
                var scratch = new Scratch { Transposed = p };
                p = Aligned(p + transposed);
                scratch.Scores = p;
                p = Aligned(p + scores);
                if (backward)
                {
                    scratch.Gradient = p;
                    p = Aligned(p + scores);
                    scratch.Dropped = p;
                    p = Aligned(p + scores);
                }
                scratch.Operand = p;
                scratch.Result = Aligned(p + rows);
                for (int problem = first; problem < end; problem++)
                {
                    int b = problem / s.Heads, h = problem % s.Heads;
                    if (backward) BackwardProblem<TL, TV>(a, b, h, ref scratch, tp, dp);
                    else ForwardProblem<TL, TV>(a, b, h, ref scratch, tp, dp);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    private static void ForwardProblem<TL, TV>(in Args a, int b, int h, ref Scratch scratch, int tp, int dp)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int t = a.Shape.Tokens, tq = a.Shape.Queries, d = a.Shape.HeadSize;
        long problem = (long)b * a.Shape.Heads + h;
        float* q = (float*)a.Q + a.QLayout.Start(b, h), k = (float*)a.K + a.KLayout.Start(b, h), v = (float*)a.V + a.VLayout.Start(b, h);
        float* o = (float*)a.O + a.OLayout.Start(b, h);
        float* lse = (float*)a.LogSumExp + problem * tq;

        // S = s·Q·Kᵀ
        PackTransposed(k, a.KLayout.RowStride, t, d, tp, scratch.Transposed);
        SmallGemm<TL, TV>.Multiply(tq, tp, d, a.Scale, q, a.QLayout.RowStride, 1, scratch.Transposed, tp, scratch.Scores, tp);
        // P = softmax(S) row by row over the padded width, the padding set to −∞ (e^−∞ = 0), so every row is whole
        // vectors; L = log Σ e^S keeps what backward needs to rebuild P.
        for (int i = 0; i < tq; i++)
        {
            float* row = scratch.Scores + (nint)i * tp;
            for (int j = t; j < tp; j++) row[j] = float.NegativeInfinity;
            lse[i] = SoftmaxKernels.Row<TL, TV>(row, tp, row);
        }
        if (a.Probabilities != 0)
        {
            float* maps = (float*)a.Probabilities + problem * tq * t;
            for (int i = 0; i < tq; i++) new ReadOnlySpan<float>(scratch.Scores + (nint)i * tp, t).CopyTo(new Span<float>(maps + (nint)i * t, t));
        }
        if (a.Dropout.Active) ApplyMask(a.Dropout, problem, tq, t, tp, scratch.Scores);
        // O = P·V
        float* values = Rows(v, a.VLayout.RowStride, t, d, dp, scratch.Operand, out int valueStride);
        SmallGemm<TL, TV>.Multiply(tq, dp, t, 1f, scratch.Scores, tp, 1, values, valueStride, scratch.Result, dp);
        CopyOut(scratch.Result, dp, tq, d, o, a.OLayout.RowStride, accumulate: false);
    }

    private static void BackwardProblem<TL, TV>(in Args a, int b, int h, ref Scratch scratch, int tp, int dp)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int t = a.Shape.Tokens, tq = a.Shape.Queries, d = a.Shape.HeadSize, w = TL.Count;
        long problem = (long)b * a.Shape.Heads + h;
        float* q = (float*)a.Q + a.QLayout.Start(b, h), k = (float*)a.K + a.KLayout.Start(b, h), v = (float*)a.V + a.VLayout.Start(b, h);
        float* o = (float*)a.O + a.OLayout.Start(b, h), dO = (float*)a.OutputGradient + a.OLayout.Start(b, h);
        float* lse = (float*)a.LogSumExp + problem * tq;
        int qs = a.QLayout.RowStride, ks = a.KLayout.RowStride, vs = a.VLayout.RowStride, os = a.OLayout.RowStride;
        float* p = scratch.Scores, dp_ = scratch.Gradient;

        // P = e^(s·Q·Kᵀ − L): the forward probabilities, rebuilt rather than stored.
        PackTransposed(k, ks, t, d, tp, scratch.Transposed);
        SmallGemm<TL, TV>.Multiply(tq, tp, d, a.Scale, q, qs, 1, scratch.Transposed, tp, p, tp);
        for (int i = 0; i < tq; i++)
        {
            float* row = p + (nint)i * tp;
            var l = TL.Broadcast(lse[i]);
            for (int j = 0; j < tp; j += w) TL.Store(TL.Exp(TL.Subtract(TL.Load(row + j), l)), row + j);
        }

        // dP = dO·Vᵀ; with dropout O = (P ⊙ M)·V, so this is the gradient of P ⊙ M, masked below.
        PackTransposed(v, vs, t, d, tp, scratch.Transposed);
        SmallGemm<TL, TV>.Multiply(tq, tp, d, 1f, dO, os, 1, scratch.Transposed, tp, dp_, tp);
        // dV = (P ⊙ M)ᵀ·dO: the (dropped) P read transposed in place (row j, depth i at i·Tp + j)
        float* weights = p;
        if (a.Dropout.Active)
        {
            weights = scratch.Dropped;
            for (int i = 0; i < tq; i++)
            {
                float* pRow = p + (nint)i * tp, dropped = weights + (nint)i * tp, gRow = dp_ + (nint)i * tp;
                long at = (problem * tq + i) * t;
                for (int j = 0; j < t; j++)
                {
                    float mask = a.Dropout.Mask(at + j);
                    dropped[j] = pRow[j] * mask;
                    gRow[j] *= mask;
                }
            }
        }
        float* outputGradient = Rows(dO, os, tq, d, dp, scratch.Operand, out int dOStride);
        SmallGemm<TL, TV>.Multiply(t, dp, tq, 1f, weights, 1, tp, outputGradient, dOStride, scratch.Result, dp);
        CopyOut(scratch.Result, dp, t, d, (float*)a.Dv + a.VLayout.Start(b, h), vs, a.Accumulate);

        // dS = s·P ⊙ (dP − D), D_i = ⟨dO_i, O_i⟩ = Σⱼ P_ij·dP_ij (softmax backward, scale folded in)
        var scale = TL.Broadcast(a.Scale);
        for (int i = 0; i < tq; i++)
        {
            float di = Dot(dO + (nint)i * os, o + (nint)i * os, d);
            float* pRow = p + (nint)i * tp, gRow = dp_ + (nint)i * tp;
            var dv = TL.Broadcast(di);
            for (int j = 0; j < tp; j += w)
                TL.Store(TL.Multiply(TL.Multiply(TL.Load(pRow + j), TL.Subtract(TL.Load(gRow + j), dv)), scale), gRow + j);
        }

        // dQ = dS·K
        float* keys = Rows(k, ks, t, d, dp, scratch.Operand, out int keyStride);
        SmallGemm<TL, TV>.Multiply(tq, dp, t, 1f, dp_, tp, 1, keys, keyStride, scratch.Result, dp);
        CopyOut(scratch.Result, dp, tq, d, (float*)a.Dq + a.QLayout.Start(b, h), qs, a.Accumulate);
        // dK = dSᵀ·Q
        float* queries = Rows(q, qs, tq, d, dp, scratch.Operand, out int queryStride);
        SmallGemm<TL, TV>.Multiply(t, dp, tq, 1f, dp_, 1, tp, queries, queryStride, scratch.Result, dp);
        CopyOut(scratch.Result, dp, t, d, (float*)a.Dk + a.KLayout.Start(b, h), ks, a.Accumulate);
    }

    private static void ApplyMask(AttentionDropout dropout, long problem, int tq, int t, int tp, float* p)
    {
        for (int i = 0; i < tq; i++)
        {
            float* row = p + (nint)i * tp;
            long at = (problem * tq + i) * t;
            for (int j = 0; j < t; j++) row[j] *= dropout.Mask(at + j);
        }
    }

    // Xᵀ of T strided rows of d floats into d rows of Tp floats (columns past T zero, so padded scores are 0·x).
    private static void PackTransposed(float* x, int stride, int t, int d, int tp, float* destination)
    {
        for (int p = 0; p < d; p++)
        {
            float* row = destination + (nint)p * tp;
            for (int j = 0; j < t; j++) row[j] = x[(nint)j * stride + p];
            for (int j = t; j < tp; j++) row[j] = 0;
        }
    }

    // The T rows of X as a B operand of dp columns: in place when d = dp, else copied with zero padding.
    private static float* Rows(float* x, int stride, int t, int d, int dp, float* scratch, out int rowStride)
    {
        if (d == dp)
        {
            rowStride = stride;
            return x;
        }
        for (int i = 0; i < t; i++)
        {
            new ReadOnlySpan<float>(x + (nint)i * stride, d).CopyTo(new Span<float>(scratch + (nint)i * dp, d));
            new Span<float>(scratch + (nint)i * dp + d, dp - d).Clear();
        }
        rowStride = dp;
        return scratch;
    }

    // Rows of d floats: inline vector moves (a library call per 16-float row cost more than the move).
    private static void CopyOut(float* source, int sourceStride, int t, int d, float* destination, int stride, bool accumulate)
    {
        for (int i = 0; i < t; i++)
        {
            float* from = source + (nint)i * sourceStride, to = destination + (nint)i * stride;
            int c = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                if (accumulate) for (; c + 8 <= d; c += 8) Vector256.Store(Vector256.Load(to + c) + Vector256.Load(from + c), to + c);
                else for (; c + 8 <= d; c += 8) Vector256.Store(Vector256.Load(from + c), to + c);
            }
            for (; c < d; c++) to[c] = accumulate ? to[c] + from[c] : from[c];
        }
    }

    private static float Dot(float* a, float* b, int n)
    {
        float sum = 0;
        for (int i = 0; i < n; i++) sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        return sum;
    }

    private static void Validate(AttentionShape shape, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shape.Batch, nameof(shape));
        ArgumentOutOfRangeException.ThrowIfNegative(shape.Heads, nameof(shape));
        ArgumentOutOfRangeException.ThrowIfNegative(shape.Tokens, nameof(shape));
        ArgumentOutOfRangeException.ThrowIfLessThan(shape.Queries, shape.Tokens == 0 ? 0 : 1, nameof(shape));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shape.Queries, shape.Tokens, nameof(shape));
        ArgumentOutOfRangeException.ThrowIfLessThan(shape.HeadSize, 1, nameof(shape));
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
    }

    private static void Check(int length, HeadLayout layout, AttentionShape shape, string name, int rows)
    {
        if (shape.Problems == 0 || shape.Tokens == 0) return;
        if (layout.RowStride < shape.HeadSize || layout.BatchStride < 0 || layout.HeadStride < 0 || layout.Offset < 0)
            throw new ArgumentException($"{name}: layout {layout} cannot hold rows of {shape.HeadSize} values.", name);
        long needed = layout.Extent(shape.Batch, shape.Heads, rows, shape.HeadSize);
        if (length < needed) throw new ArgumentException($"{name} holds {length} values; layout {layout} for {shape} reaches {needed}.", name);
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private static float* Aligned(float* p) => (float*)(((nint)p + 63) & ~(nint)63);
}

/// <summary>
/// C = α·A·B for the small products of attention: A (m×k) at any row and depth strides (so Aᵀ is read in place),
/// B (k×n) in rows of n floats with n a multiple of the vector width, C (m×n) overwritten. Register tiles of 6 rows ×
/// 2 vectors, then 1-row and 1-vector edges; the sum over k runs in order, whatever the tile.
/// </summary>
internal static unsafe class SmallGemm<TL, TV> where TL : struct, ILanes<TV> where TV : struct
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(int m, int n, int k, float alpha, float* a, nint aRow, nint aDepth, float* b, nint ldb, float* c, nint ldc)
    {
        int w = TL.Count, pair = 2 * w;
        int i = 0;
        for (; i + 6 <= m; i += 6)
        {
            int j = 0;
            for (; j + pair <= n; j += pair) Tile6x2(k, alpha, a + i * aRow, aRow, aDepth, b + j, ldb, c + i * ldc + j, ldc);
            for (; j < n; j += w)
                for (int r = 0; r < 6; r++) Tile1x1(k, alpha, a + (i + r) * aRow, aDepth, b + j, ldb, c + (i + r) * ldc + j);
        }
        for (; i < m; i++)
        {
            int j = 0;
            for (; j + pair <= n; j += pair) Tile1x2(k, alpha, a + i * aRow, aDepth, b + j, ldb, c + i * ldc + j);
            for (; j < n; j += w) Tile1x1(k, alpha, a + i * aRow, aDepth, b + j, ldb, c + i * ldc + j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile6x2(int k, float alpha, float* a, nint aRow, nint aDepth, float* b, nint ldb, float* c, nint ldc)
    {
        int w = TL.Count;
        TV c00 = TL.Zero, c01 = TL.Zero, c10 = TL.Zero, c11 = TL.Zero, c20 = TL.Zero, c21 = TL.Zero;
        TV c30 = TL.Zero, c31 = TL.Zero, c40 = TL.Zero, c41 = TL.Zero, c50 = TL.Zero, c51 = TL.Zero;
        float* a0 = a, a1 = a + aRow, a2 = a + 2 * aRow, a3 = a + 3 * aRow, a4 = a + 4 * aRow, a5 = a + 5 * aRow;
        for (int p = 0; p < k; p++)
        {
            nint at = p * aDepth;
            var b0 = TL.Load(b);
            var b1 = TL.Load(b + w);
            var x = TL.Broadcast(a0[at]); c00 = TL.MultiplyAdd(x, b0, c00); c01 = TL.MultiplyAdd(x, b1, c01);
            x = TL.Broadcast(a1[at]); c10 = TL.MultiplyAdd(x, b0, c10); c11 = TL.MultiplyAdd(x, b1, c11);
            x = TL.Broadcast(a2[at]); c20 = TL.MultiplyAdd(x, b0, c20); c21 = TL.MultiplyAdd(x, b1, c21);
            x = TL.Broadcast(a3[at]); c30 = TL.MultiplyAdd(x, b0, c30); c31 = TL.MultiplyAdd(x, b1, c31);
            x = TL.Broadcast(a4[at]); c40 = TL.MultiplyAdd(x, b0, c40); c41 = TL.MultiplyAdd(x, b1, c41);
            x = TL.Broadcast(a5[at]); c50 = TL.MultiplyAdd(x, b0, c50); c51 = TL.MultiplyAdd(x, b1, c51);
            b += ldb;
        }
        var va = TL.Broadcast(alpha);
        TL.Store(TL.Multiply(c00, va), c); TL.Store(TL.Multiply(c01, va), c + w); c += ldc;
        TL.Store(TL.Multiply(c10, va), c); TL.Store(TL.Multiply(c11, va), c + w); c += ldc;
        TL.Store(TL.Multiply(c20, va), c); TL.Store(TL.Multiply(c21, va), c + w); c += ldc;
        TL.Store(TL.Multiply(c30, va), c); TL.Store(TL.Multiply(c31, va), c + w); c += ldc;
        TL.Store(TL.Multiply(c40, va), c); TL.Store(TL.Multiply(c41, va), c + w); c += ldc;
        TL.Store(TL.Multiply(c50, va), c); TL.Store(TL.Multiply(c51, va), c + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x2(int k, float alpha, float* a, nint aDepth, float* b, nint ldb, float* c)
    {
        int w = TL.Count;
        TV c0 = TL.Zero, c1 = TL.Zero;
        for (int p = 0; p < k; p++)
        {
            var x = TL.Broadcast(a[p * aDepth]);
            c0 = TL.MultiplyAdd(x, TL.Load(b), c0);
            c1 = TL.MultiplyAdd(x, TL.Load(b + w), c1);
            b += ldb;
        }
        var va = TL.Broadcast(alpha);
        TL.Store(TL.Multiply(c0, va), c);
        TL.Store(TL.Multiply(c1, va), c + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x1(int k, float alpha, float* a, nint aDepth, float* b, nint ldb, float* c)
    {
        TV c0 = TL.Zero;
        for (int p = 0; p < k; p++)
        {
            c0 = TL.MultiplyAdd(TL.Broadcast(a[p * aDepth]), TL.Load(b), c0);
            b += ldb;
        }
        TL.Store(TL.Multiply(c0, TL.Broadcast(alpha)), c);
    }
}

namespace SharpVision.Tensors.Kernels.Reference;

/// <summary>
/// The scalar twin of <see cref="AttentionKernels"/>: softmax(s·Q·Kᵀ)·V and its gradients from the definitions, in
/// double, with the whole T×T matrices materialized. The test oracle, never fast.
/// </summary>
public static class AttentionReference
{
    /// <summary>O = (softmax(s·Q·Kᵀ) ⊙ M)·V per problem, with the layouts and dropout of <see cref="AttentionKernels.Forward"/>.</summary>
    public static void Forward(AttentionShape shape, ReadOnlySpan<float> q, HeadLayout qLayout, ReadOnlySpan<float> k, HeadLayout kLayout,
        ReadOnlySpan<float> v, HeadLayout vLayout, float scale, AttentionDropout dropout, Span<float> o, HeadLayout oLayout)
    {
        int t = shape.Tokens, tq = shape.Queries, d = shape.HeadSize;
        for (int b = 0; b < shape.Batch; b++)
            for (int h = 0; h < shape.Heads; h++)
            {
                var p = Probabilities(Gather(q, qLayout, shape, b, h, tq), Gather(k, kLayout, shape, b, h, t), scale);
                var values = Gather(v, vLayout, shape, b, h, t);
                var mask = Masks(dropout, shape, b, h);
                var output = new double[tq, d];
                for (int i = 0; i < tq; i++)
                    for (int c = 0; c < d; c++)
                        for (int j = 0; j < t; j++) output[i, c] += p[i, j] * mask[i, j] * values[j, c];
                Scatter(output, o, oLayout, b, h);
            }
    }

    /// <summary>dQ, dK, dV (overwritten where the layouts point) for output gradient dO, from the definitions.</summary>
    public static void Backward(AttentionShape shape, ReadOnlySpan<float> q, HeadLayout qLayout, ReadOnlySpan<float> k, HeadLayout kLayout,
        ReadOnlySpan<float> v, HeadLayout vLayout, float scale, AttentionDropout dropout, ReadOnlySpan<float> outputGradient, HeadLayout oLayout,
        Span<float> dq, Span<float> dk, Span<float> dv)
    {
        int t = shape.Tokens, tq = shape.Queries, d = shape.HeadSize;
        for (int b = 0; b < shape.Batch; b++)
            for (int h = 0; h < shape.Heads; h++)
            {
                double[,] queries = Gather(q, qLayout, shape, b, h, tq), keys = Gather(k, kLayout, shape, b, h, t);
                var values = Gather(v, vLayout, shape, b, h, t);
                var g = Gather(outputGradient, oLayout, shape, b, h, tq);
                var p = Probabilities(queries, keys, scale);
                var mask = Masks(dropout, shape, b, h);
                // O = (P ⊙ M)·V: dV = (P ⊙ M)ᵀ·dO, dP = (dO·Vᵀ) ⊙ M; softmax: dS = P ⊙ (dP − Σⱼ P·dP);
                // S = s·Q·Kᵀ: dQ = s·dS·K, dK = s·dSᵀ·Q
                var gv = new double[t, d];
                var ds = new double[tq, t];
                for (int i = 0; i < tq; i++)
                {
                    var dp = new double[t];
                    double inner = 0;
                    for (int j = 0; j < t; j++)
                    {
                        for (int c = 0; c < d; c++)
                        {
                            gv[j, c] += p[i, j] * mask[i, j] * g[i, c];
                            dp[j] += g[i, c] * values[j, c];
                        }
                        dp[j] *= mask[i, j];
                        inner += p[i, j] * dp[j];
                    }
                    for (int j = 0; j < t; j++) ds[i, j] = p[i, j] * (dp[j] - inner);
                }
                var gq = new double[tq, d];
                var gk = new double[t, d];
                for (int i = 0; i < tq; i++)
                    for (int c = 0; c < d; c++)
                        for (int j = 0; j < t; j++)
                        {
                            gq[i, c] += scale * ds[i, j] * keys[j, c];
                            gk[j, c] += scale * ds[i, j] * queries[i, c];
                        }
                Scatter(gq, dq, qLayout, b, h);
                Scatter(gk, dk, kLayout, b, h);
                Scatter(gv, dv, vLayout, b, h);
            }
    }

    /// <summary>P = softmax(s·Q·Kᵀ) of problem (b, h), in double.</summary>
    public static double[,] Probabilities(AttentionShape shape, ReadOnlySpan<float> q, HeadLayout qLayout, ReadOnlySpan<float> k, HeadLayout kLayout,
        float scale, int b, int h) =>
        Probabilities(Gather(q, qLayout, shape, b, h, shape.Queries), Gather(k, kLayout, shape, b, h, shape.Tokens), scale);

    private static double[,] Probabilities(double[,] q, double[,] k, float scale)
    {
        int tq = q.GetLength(0), t = k.GetLength(0), d = q.GetLength(1);
        var p = new double[tq, t];
        for (int i = 0; i < tq; i++)
        {
            double max = double.NegativeInfinity, total = 0;
            for (int j = 0; j < t; j++)
            {
                double sum = 0;
                for (int c = 0; c < d; c++) sum += q[i, c] * k[j, c];
                p[i, j] = scale * sum;
                max = Math.Max(max, p[i, j]);
            }
            for (int j = 0; j < t; j++) total += p[i, j] = Math.Exp(p[i, j] - max);
            for (int j = 0; j < t; j++) p[i, j] /= total;
        }
        return p;
    }

    private static double[,] Masks(AttentionDropout dropout, AttentionShape shape, int b, int h)
    {
        int t = shape.Tokens, tq = shape.Queries;
        long problem = (long)b * shape.Heads + h;
        var mask = new double[tq, t];
        for (int i = 0; i < tq; i++)
            for (int j = 0; j < t; j++) mask[i, j] = dropout.Active ? dropout.Mask((problem * tq + i) * t + j) : 1;
        return mask;
    }

    private static double[,] Gather(ReadOnlySpan<float> x, HeadLayout layout, AttentionShape shape, int b, int h, int rows)
    {
        var block = new double[rows, shape.HeadSize];
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < shape.HeadSize; c++) block[i, c] = x[(int)(layout.Start(b, h) + (long)i * layout.RowStride + c)];
        return block;
    }

    private static void Scatter(double[,] block, Span<float> x, HeadLayout layout, int b, int h)
    {
        for (int i = 0; i < block.GetLength(0); i++)
            for (int c = 0; c < block.GetLength(1); c++) x[(int)(layout.Start(b, h) + (long)i * layout.RowStride + c)] = (float)block[i, c];
    }
}

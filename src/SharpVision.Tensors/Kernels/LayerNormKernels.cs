// Shape legend: x, y, g, dx are (rows, D) row-major (each row a token's D features); gamma, beta, dgamma, dbeta (D);
// mean, rstd (rows). x̂ = (x − μ)·rstd with μ, σ² the row's mean and biased variance, rstd = 1/√(σ² + ε).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpVision.Tensors.Kernels;

/// <summary>
/// Layer normalization over the last axis (PyTorch's nn.LayerNorm(D)): y = γ ⊙ (x − μ)/√(σ² + ε) + β per row, and its
/// gradients. One vectorized pass per row in each direction; <see cref="Reference.LayerNormReference"/> is the oracle.
/// </summary>
/// <remarks>
/// The mean is summed about the row's first value and the variance about the mean (two passes over a row held in L1),
/// so rows with a large mean lose no precision.
/// Backward: with ĝ = g ⊙ γ, ∂/∂x = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)), ∂/∂γ = Σ_rows g ⊙ x̂, ∂/∂β = Σ_rows g.
/// Parameter gradients are added over rows in row order, so the caller fixes the order by fixing the row ranges.
/// </remarks>
public static unsafe class LayerNormKernels
{
    /// <summary>y = γ ⊙ x̂ + β per row; writes each row's μ and rstd for the backward pass.</summary>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">rows &lt; 0, features &lt; 1, or ε ≤ 0.</exception>
    public static void Forward(ReadOnlySpan<float> x, int rows, int features, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float epsilon,
        Span<float> y, Span<float> mean, Span<float> rstd, SimdPath path)
    {
        Validate(rows, features, epsilon);
        Require(x.Length, rows * features, nameof(x));
        Require(y.Length, rows * features, nameof(y));
        Require(gamma.Length, features, nameof(gamma));
        Require(beta.Length, features, nameof(beta));
        Require(mean.Length, rows, nameof(mean));
        Require(rstd.Length, rows, nameof(rstd));
        fixed (float* px = x, pg = gamma, pb = beta, py = y, pm = mean, pr = rstd)
        {
            switch (path)
            {
                case SimdPath.Avx512: ForwardRows<Lanes512, Vector512<float>>(px, rows, features, pg, pb, epsilon, py, pm, pr); break;
                case SimdPath.Avx2: ForwardRows<Lanes256, Vector256<float>>(px, rows, features, pg, pb, epsilon, py, pm, pr); break;
                default: ForwardRows<Lanes1, float>(px, rows, features, pg, pb, epsilon, py, pm, pr); break;
            }
        }
    }

    /// <summary>
    /// dx (+)= rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) per row; dgamma += Σ g ⊙ x̂ and dbeta += Σ g over the rows, in row order.
    /// </summary>
    /// <param name="g">∂L/∂y.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="features">D.</param>
    /// <param name="gamma">γ.</param>
    /// <param name="mean">μ per row from <see cref="Forward"/>.</param>
    /// <param name="rstd">rstd per row from <see cref="Forward"/>.</param>
    /// <param name="dx">∂L/∂x, or empty to skip it.</param>
    /// <param name="accumulate">Add into dx (else overwrite).</param>
    /// <param name="dgamma">Accumulates ∂L/∂γ, or empty to skip it.</param>
    /// <param name="dbeta">Accumulates ∂L/∂β, or empty to skip it.</param>
    /// <param name="path">The instruction set.</param>
    public static void Backward(ReadOnlySpan<float> g, ReadOnlySpan<float> x, int rows, int features, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, Span<float> dx, bool accumulate, Span<float> dgamma, Span<float> dbeta, SimdPath path)
    {
        Validate(rows, features, 1);
        Require(g.Length, rows * features, nameof(g));
        Require(x.Length, rows * features, nameof(x));
        Require(gamma.Length, features, nameof(gamma));
        Require(mean.Length, rows, nameof(mean));
        Require(rstd.Length, rows, nameof(rstd));
        if (!dx.IsEmpty) Require(dx.Length, rows * features, nameof(dx));
        if (!dgamma.IsEmpty) Require(dgamma.Length, features, nameof(dgamma));
        if (!dbeta.IsEmpty) Require(dbeta.Length, features, nameof(dbeta));
        fixed (float* pg = g, px = x, pgamma = gamma, pm = mean, pr = rstd, pdx = dx, pdg = dgamma, pdb = dbeta)
        {
            var args = new BackwardArgs(pg, px, rows, features, pgamma, pm, pr, dx.IsEmpty ? null : pdx, accumulate,
                dgamma.IsEmpty ? null : pdg, dbeta.IsEmpty ? null : pdb);
            switch (path)
            {
                case SimdPath.Avx512: BackwardRows<Lanes512, Vector512<float>>(args); break;
                case SimdPath.Avx2: BackwardRows<Lanes256, Vector256<float>>(args); break;
                default: BackwardRows<Lanes1, float>(args); break;
            }
        }
    }

    private readonly struct BackwardArgs(float* g, float* x, int rows, int features, float* gamma, float* mean, float* rstd, float* dx,
        bool accumulate, float* dgamma, float* dbeta)
    {
        public readonly float* G = g, X = x, Gamma = gamma, Mean = mean, Rstd = rstd, Dx = dx, Dgamma = dgamma, Dbeta = dbeta;
        public readonly int Rows = rows, Features = features;
        public readonly bool Accumulate = accumulate;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRows<TL, TV>(float* x, int rows, int d, float* gamma, float* beta, float epsilon, float* y, float* mean, float* rstd)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int w = TL.Count, full = d - d % w;
        float inverseD = 1f / d;
        for (int r = 0; r < rows; r++)
        {
            float* row = x + (nint)r * d, output = y + (nint)r * d;
            // Mean about the row's first value, which is within a few σ of the mean: a large mean loses no digits.
            float shift = row[0];
            float mu = shift + ShiftedSum<TL, TV>(row, d, shift) * inverseD;
            // Σ (x − μ)²: about the mean, so a large mean cannot cancel the variance away.
            var mv = TL.Broadcast(mu);
            var squares = TL.Zero;
            int i = 0;
            for (; i < full; i += w)
            {
                var c = TL.Subtract(TL.Load(row + i), mv);
                squares = TL.MultiplyAdd(c, c, squares);
            }
            float variance = TL.Sum(squares);
            for (; i < d; i++) variance += (row[i] - mu) * (row[i] - mu);
            float inverse = 1f / MathF.Sqrt(variance * inverseD + epsilon);
            mean[r] = mu;
            rstd[r] = inverse;
            var iv = TL.Broadcast(inverse);
            for (i = 0; i < full; i += w)
            {
                var normalized = TL.Multiply(TL.Subtract(TL.Load(row + i), mv), iv);
                TL.Store(TL.MultiplyAdd(normalized, TL.Load(gamma + i), TL.Load(beta + i)), output + i);
            }
            for (; i < d; i++) output[i] = (row[i] - mu) * inverse * gamma[i] + beta[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRows<TL, TV>(BackwardArgs a) where TL : struct, ILanes<TV> where TV : struct
    {
        int d = a.Features, w = TL.Count, full = d - d % w;
        float inverseD = 1f / d;
        for (int r = 0; r < a.Rows; r++)
        {
            float* g = a.G + (nint)r * d, x = a.X + (nint)r * d;
            float mu = a.Mean[r], inverse = a.Rstd[r];
            var mv = TL.Broadcast(mu);
            var iv = TL.Broadcast(inverse);
            // y = γ·x̂ + β: ∂/∂γ += g·x̂, ∂/∂β += g; and the two row means the input gradient needs.
            var sumG = TL.Zero;
            var sumGX = TL.Zero;
            int i = 0;
            for (; i < full; i += w)
            {
                var gv = TL.Load(g + i);
                var xhat = TL.Multiply(TL.Subtract(TL.Load(x + i), mv), iv);
                var scaled = TL.Multiply(gv, TL.Load(a.Gamma + i));
                sumG = TL.Add(sumG, scaled);
                sumGX = TL.MultiplyAdd(scaled, xhat, sumGX);
                if (a.Dgamma != null) TL.Store(TL.MultiplyAdd(gv, xhat, TL.Load(a.Dgamma + i)), a.Dgamma + i);
                if (a.Dbeta != null) TL.Store(TL.Add(gv, TL.Load(a.Dbeta + i)), a.Dbeta + i);
            }
            float meanG = TL.Sum(sumG), meanGX = TL.Sum(sumGX);
            for (; i < d; i++)
            {
                float xhat = (x[i] - mu) * inverse, scaled = g[i] * a.Gamma[i];
                meanG += scaled;
                meanGX += scaled * xhat;
                if (a.Dgamma != null) a.Dgamma[i] += g[i] * xhat;
                if (a.Dbeta != null) a.Dbeta[i] += g[i];
            }
            if (a.Dx == null) continue;
            meanG *= inverseD;
            meanGX *= inverseD;
            // μ and σ² depend on x: ∂/∂x = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))
            float* dx = a.Dx + (nint)r * d;
            var ma = TL.Broadcast(meanG);
            var mb = TL.Broadcast(meanGX);
            for (i = 0; i < full; i += w)
            {
                var xhat = TL.Multiply(TL.Subtract(TL.Load(x + i), mv), iv);
                var scaled = TL.Multiply(TL.Load(g + i), TL.Load(a.Gamma + i));
                var value = TL.Multiply(iv, TL.Subtract(TL.Subtract(scaled, ma), TL.Multiply(xhat, mb)));
                TL.Store(a.Accumulate ? TL.Add(value, TL.Load(dx + i)) : value, dx + i);
            }
            for (; i < d; i++)
            {
                float xhat = (x[i] - mu) * inverse, value = inverse * (g[i] * a.Gamma[i] - meanG - xhat * meanGX);
                dx[i] = a.Accumulate ? dx[i] + value : value;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ShiftedSum<TL, TV>(float* row, int d, float shift) where TL : struct, ILanes<TV> where TV : struct
    {
        int w = TL.Count, full = d - d % w, i = 0;
        var sum = TL.Zero;
        var sv = TL.Broadcast(shift);
        for (; i < full; i += w) sum = TL.Add(sum, TL.Subtract(TL.Load(row + i), sv));
        float s = TL.Sum(sum);
        for (; i < d; i++) s += row[i] - shift;
        return s;
    }

    private static void Validate(int rows, int features, float epsilon)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be positive.");
    }

    internal static void Require(int length, long needed, string name)
    {
        if (length < needed) throw new ArgumentException($"{name} holds {length} values; the shape needs {needed}.", name);
    }
}

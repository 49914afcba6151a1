using System.Numerics.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tensors;

// Batch normalization. Shapes: x (N, C) (BatchNorm1d) or (N, C, H, W) (BatchNorm2d), seen as N blocks of C planes of
// S = H·W values (S = 1 for (N, C)); gamma, beta, running mean and variance (C). Statistics are per channel over
// M = N·S values. Channels are independent, so they are split over threads without changing any result.
public static partial class Ops
{
    /// <summary>
    /// PyTorch's BatchNorm1d/2d: y = γ·(x − μ)/√(σ² + ε) + β per channel. In training μ, σ² are the batch mean and
    /// biased variance, and the running statistics are updated in place with the unbiased variance:
    /// running = (1 − momentum)·running + momentum·batch. In evaluation the running statistics are used as they are.
    /// </summary>
    /// <remarks>
    /// Shape: x (N, C) or (N, C, H, W) → the same; gamma, beta (C) tensors; runningMean, runningVar (C) arrays.
    /// One read of x for the statistics (moments about the channel's first value, per-plane float sums added in
    /// double), one for y = a·x + b. Large means do not cancel. Saves μ and 1/√(σ² + ε) per channel; backward
    /// recomputes x̂ from x.
    /// </remarks>
    /// <exception cref="ArgumentException">Shapes disagree, or training with a single value per channel (no variance).</exception>
    /// <exception cref="ArgumentOutOfRangeException">momentum outside [0, 1] or eps ≤ 0.</exception>
    public static Tensor BatchNorm(Tensor x, Tensor gamma, Tensor beta, float[] runningMean, float[] runningVar, bool training,
        float momentum = 0.1f, float eps = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(gamma);
        ArgumentNullException.ThrowIfNull(beta);
        ArgumentNullException.ThrowIfNull(runningMean);
        ArgumentNullException.ThrowIfNull(runningVar);
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be in [0, 1].");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be positive.");
        if (x.Shape.Rank != 2 && x.Shape.Rank != 4) throw new ArgumentException($"BatchNorm: input must be (N, C) or (N, C, H, W), got {x.Shape}.", nameof(x));
        int n = x.Shape[0], c = x.Shape[1], s = x.Shape.Rank == 4 ? x.Shape[2] * x.Shape[3] : 1;
        if (gamma.Size != c || beta.Size != c || runningMean.Length != c || runningVar.Length != c)
            throw new ArgumentException($"BatchNorm: input {x.Shape} has {c} channels; gamma {gamma.Shape}, beta {beta.Shape}, running mean ({runningMean.Length}) and variance ({runningVar.Length}) must all have {c}.");
        long m = (long)n * s;
        if (training && m <= 1) throw new ArgumentException($"BatchNorm: training needs more than one value per channel, got input {x.Shape}.", nameof(x));

        var y = BufferPool.Uninitialized<float>(x.Size); // fully written below
        var means = new float[c];
        var invStd = new float[c];
        var data = x.Data;
        WorkSplit.ForRanges(c, m, Engine.Threads, (first, end) =>
        {
            for (int ch = first; ch < end; ch++)
            {
                double mean, variance;
                if (training)
                {
                    // One read: moments about the channel's first value, which is within a few σ of the mean, so
                    // E[v²] − E[v]² does not cancel even when |mean| ≫ σ.
                    float shift = data[ch * s];
                    double sum = 0, squares = 0;
                    for (int i = 0; i < n; i++)
                    {
                        var (planeSum, planeSquares) = BatchNormKernels.ShiftedMoments(data.AsSpan((i * c + ch) * s, s), shift);
                        sum += planeSum;
                        squares += planeSquares;
                    }
                    double centered = sum / m;
                    mean = shift + centered;
                    variance = Math.Max(0, squares / m - centered * centered); // biased: what the batch is normalized with
                    runningMean[ch] = (float)((1 - momentum) * runningMean[ch] + momentum * mean);
                    runningVar[ch] = (float)((1 - momentum) * runningVar[ch] + momentum * variance * m / (m - 1)); // unbiased
                }
                else
                {
                    mean = runningMean[ch];
                    variance = runningVar[ch];
                }
                double inv = 1 / Math.Sqrt(variance + eps);
                means[ch] = (float)mean;
                invStd[ch] = (float)inv;
                // y = γ·(x − μ)/√(σ² + ε) + β = a·x + b with a = γ/√(σ² + ε), b = β − a·μ
                double a = gamma.Data[ch] * inv, b = beta.Data[ch] - a * mean;
                for (int i = 0; i < n; i++)
                    BatchNormKernels.Affine(data.AsSpan((i * c + ch) * s, s), (float)a, (float)b, y.AsSpan((i * c + ch) * s, s));
            }
        });

        var result = new Tensor(x.Shape, y);
        return result.Record(training ? "batch_norm_train" : "batch_norm_eval", [x, gamma, beta], () =>
        {
            var g = result.Grad!;
            bool accumulate = false;
            float[]? gx = x.RequiresGrad ? x.GradToWrite(out accumulate) : null;
            float[]? gGamma = gamma.RequiresGrad ? gamma.EnsureGrad() : null;
            float[]? gBeta = beta.RequiresGrad ? beta.EnsureGrad() : null;
            WorkSplit.ForRanges(c, m, Engine.Threads, (first, end) =>
            {
                for (int ch = first; ch < end; ch++)
                {
                    // x̂ = (x − μ)·invStd is recomputed from x rather than stored: one tensor less to write and keep.
                    double sumG = 0, sumGCentered = 0;
                    for (int i = 0; i < n; i++)
                    {
                        var (planeG, planeGCentered) = BatchNormKernels.GradientMoments(g.AsSpan((i * c + ch) * s, s), data.AsSpan((i * c + ch) * s, s), means[ch]);
                        sumG += planeG;
                        sumGCentered += planeGCentered;
                    }
                    double inv = invStd[ch], sumGXhat = sumGCentered * inv;
                    if (gGamma is not null) gGamma[ch] += (float)sumGXhat; // y = γ·x̂ + β: ∂/∂γ = Σ g·x̂
                    if (gBeta is not null) gBeta[ch] += (float)sumG;       // ∂/∂β = Σ g
                    if (gx is null) continue;
                    double scale = gamma.Data[ch] * inv;
                    // Training: μ and σ² depend on x, so ∂/∂x = γ/√(σ² + ε)·(g − mean(g) − x̂·mean(g·x̂)),
                    // i.e. scale·g − scale·mean(g·x̂)·invStd·(x − μ) − scale·mean(g).
                    // Evaluation: the running statistics are constants, so ∂/∂x = γ/√(σ² + ε)·g.
                    float slope = training ? (float)(-scale * sumGXhat / m * inv) : 0f;
                    float offset = training ? (float)(-scale * sumG / m) : 0f;
                    for (int i = 0; i < n; i++)
                    {
                        int at = (i * c + ch) * s;
                        BatchNormKernels.InputGradient(g.AsSpan(at, s), data.AsSpan(at, s), means[ch], (float)scale, slope, offset, gx.AsSpan(at, s), accumulate);
                    }
                }
            });
        });
    }
}

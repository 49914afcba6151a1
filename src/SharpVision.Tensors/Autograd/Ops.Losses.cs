using System.Numerics.Tensors;

namespace SharpVision.Tensors;

// Losses as fused primitives (forward and gradient in one place, numerically stable), each the mean over the batch.
// Shapes: scores/logits (N, K), labels (N) in [0, K); binary logits (N) or (N, 1) with targets (N) in [0, 1].
public static partial class Ops
{
    /// <summary>
    /// Softmax cross-entropy, L = (1/N)·Σᵢ −Σₖ qᵢₖ·log softmax(zᵢ)ₖ with q = (1 − ε)·onehot(yᵢ) + ε/K (label smoothing ε).
    /// </summary>
    /// <exception cref="ArgumentException">Label count or range does not match the logits.</exception>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, ReadOnlySpan<int> labels, float labelSmoothing = 0)
    {
        Require2D(logits, nameof(logits));
        int n = logits.Shape[0], k = logits.Shape[1];
        CheckLabels(labels, n, k);
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing must be in [0, 1).");
        var probabilities = BufferPool.Uninitialized<float>(logits.Size);
        var labelCopy = labels.ToArray();
        double total = 0;
        float off = labelSmoothing / k, on = 1 - labelSmoothing + off;
        for (int i = 0; i < n; i++)
        {
            var z = logits.Data.AsSpan(i * k, k);
            float max = TensorPrimitives.Max(z);
            double sumExp = 0;
            for (int j = 0; j < k; j++) sumExp += Math.Exp(z[j] - max);
            double logSumExp = max + Math.Log(sumExp);
            double loss = 0;
            for (int j = 0; j < k; j++)
            {
                probabilities[i * k + j] = (float)Math.Exp(z[j] - logSumExp);
                loss += (j == labelCopy[i] ? on : off) * (logSumExp - z[j]);
            }
            total += loss;
        }
        var result = Tensor.Scalar((float)(total / n));
        return result.Record("softmax_cross_entropy", [logits], () =>
        {
            float scale = result.Grad![0] / n;
            var gx = logits.EnsureGrad();
            for (int i = 0; i < n; i++)
                for (int j = 0; j < k; j++)
                    gx[i * k + j] += scale * (probabilities[i * k + j] - (j == labelCopy[i] ? on : off)); // ∂/∂z = (p − q)/N
        });
    }

    /// <summary>
    /// Multiclass SVM (Weston–Watkins) hinge loss of the lectures: L = (1/N)·Σᵢ Σ_{j≠yᵢ} max(0, sⱼ − s_yᵢ + Δ).
    /// </summary>
    public static Tensor MulticlassHinge(Tensor scores, ReadOnlySpan<int> labels, float margin = 1)
    {
        Require2D(scores, nameof(scores));
        int n = scores.Shape[0], k = scores.Shape[1];
        CheckLabels(labels, n, k);
        var labelCopy = labels.ToArray();
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            var s = scores.Data.AsSpan(i * k, k);
            float correct = s[labelCopy[i]];
            for (int j = 0; j < k; j++)
                if (j != labelCopy[i]) total += Math.Max(0f, s[j] - correct + margin);
        }
        var result = Tensor.Scalar((float)(total / n));
        return result.Record("multiclass_hinge", [scores], () =>
        {
            float scale = result.Grad![0] / n;
            var gx = scores.EnsureGrad();
            for (int i = 0; i < n; i++)
            {
                var s = scores.Data.AsSpan(i * k, k);
                int y = labelCopy[i];
                float correct = s[y];
                int active = 0;
                for (int j = 0; j < k; j++)
                {
                    if (j == y || s[j] - correct + margin <= 0) continue;
                    gx[i * k + j] += scale; // ∂/∂sⱼ = 1 for each violated margin
                    active++;
                }
                gx[i * k + y] -= scale * active; // ∂/∂s_y = −(number of violated margins)
            }
        });
    }

    /// <summary>
    /// One-vs-rest squared hinge (scikit-learn's <c>LinearSVC</c> loss): L = (1/N)·Σᵢ Σⱼ max(0, 1 − tᵢⱼ·sᵢⱼ)² with
    /// tᵢⱼ = +1 for j = yᵢ and −1 otherwise; every class score is a binary SVM of its class against the rest.
    /// </summary>
    public static Tensor OneVsRestSquaredHinge(Tensor scores, ReadOnlySpan<int> labels)
    {
        Require2D(scores, nameof(scores));
        int n = scores.Shape[0], k = scores.Shape[1];
        CheckLabels(labels, n, k);
        var labelCopy = labels.ToArray();
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            var s = scores.Data.AsSpan(i * k, k);
            for (int j = 0; j < k; j++)
            {
                double slack = Math.Max(0.0, 1.0 - (j == labelCopy[i] ? s[j] : -s[j]));
                total += slack * slack;
            }
        }
        var result = Tensor.Scalar((float)(total / n));
        return result.Record("one_vs_rest_squared_hinge", [scores], () =>
        {
            float scale = result.Grad![0] / n;
            var gx = scores.EnsureGrad();
            for (int i = 0; i < n; i++)
                for (int j = 0; j < k; j++)
                {
                    float t = j == labelCopy[i] ? 1 : -1, slack = Math.Max(0f, 1 - t * scores.Data[i * k + j]);
                    gx[i * k + j] += scale * -2 * t * slack; // ∂/∂s = −2·t·max(0, 1 − t·s)
                }
        });
    }

    /// <summary>
    /// Binary logistic loss on logits: L = (1/N)·Σ −[t·log σ(z) + (1 − t)·log(1 − σ(z))],
    /// computed as max(z, 0) − z·t + log(1 + e^−|z|) so no exponential overflows.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, ReadOnlySpan<float> targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        int n = logits.Shape.Rank >= 1 ? logits.Shape[0] : 1;
        if (logits.Size != n || targets.Length != n)
            throw new ArgumentException($"Binary logits {logits.Shape} need shape (N) or (N, 1) and N targets; got {targets.Length} targets.");
        var t = targets.ToArray();
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            if (!(t[i] >= 0 && t[i] <= 1)) throw new ArgumentOutOfRangeException(nameof(targets), t[i], $"Target {i} must be in [0, 1].");
            double z = logits.Data[i];
            total += Math.Max(z, 0) - z * t[i] + Math.Log(1 + Math.Exp(-Math.Abs(z)));
        }
        var result = Tensor.Scalar((float)(total / n));
        return result.Record("binary_cross_entropy_with_logits", [logits], () =>
        {
            float scale = result.Grad![0] / n;
            var gx = logits.EnsureGrad();
            for (int i = 0; i < n; i++) gx[i] += scale * (float)(1 / (1 + Math.Exp(-logits.Data[i])) - t[i]); // ∂/∂z = (σ(z) − t)/N
        });
    }

    /// <summary>Mean squared error L = (1/n)·Σ (a − b)² over all elements.</summary>
    public static Tensor MeanSquaredError(Tensor prediction, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (prediction.Shape != target.Shape) throw new ArgumentException($"MSE: prediction {prediction.Shape} and target {target.Shape} differ.");
        int n = prediction.Size;
        var diff = BufferPool.Uninitialized<float>(n);
        TensorPrimitives.Subtract(prediction.Data, target.Data, diff);
        double total = 0;
        foreach (float d in diff) total += (double)d * d;
        var result = Tensor.Scalar((float)(total / n));
        return result.Record("mse", [prediction, target], () =>
        {
            float scale = 2 * result.Grad![0] / n; // ∂/∂a = 2(a − b)/n, ∂/∂b = −2(a − b)/n
            if (prediction.RequiresGrad) TensorPrimitives.MultiplyAdd(diff, scale, prediction.EnsureGrad(), prediction.Grad!);
            if (target.RequiresGrad) TensorPrimitives.MultiplyAdd(diff, -scale, target.EnsureGrad(), target.Grad!);
        });
    }

    /// <summary>Writes softmax(z) of one row; subtracting the max keeps eᶻ finite.</summary>
    public static void SoftmaxRow(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        float max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, probabilities);
        TensorPrimitives.Exp(probabilities, probabilities);
        float sum = TensorPrimitives.Sum(probabilities);
        TensorPrimitives.Divide(probabilities, sum, probabilities);
    }

    private static void CheckLabels(ReadOnlySpan<int> labels, int n, int k)
    {
        if (labels.Length != n) throw new ArgumentException($"{labels.Length} labels for {n} rows of scores.", nameof(labels));
        for (int i = 0; i < n; i++)
            if ((uint)labels[i] >= (uint)k) throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"Label {i} is outside [0, {k}).");
    }
}

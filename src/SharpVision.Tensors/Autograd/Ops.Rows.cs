using SharpVision.Tensors.Kernels;

namespace SharpVision.Tensors;

// Operations along the last axis (one row = the last dimension; every leading dimension is a row index) and GELU.
// Shapes: x (..., D) → the same; gamma, beta (D). The kernels are in Kernels/LayerNormKernels.cs, SoftmaxKernels.cs and
// GeluKernels.cs, on SimdPaths.Default; rows are split over Engine.Threads in fixed chunks, so no result depends on
// the thread count.
public static partial class Ops
{
    // Rows per unit of parallel work in row-wise operations; parameter gradients are summed per chunk, then over
    // chunks in order, so this (not the thread count) fixes the summation order.
    private const int RowChunk = 128;

    /// <summary>
    /// PyTorch's LayerNorm over the last axis: y = γ ⊙ (x − μ)/√(σ² + ε) + β, μ and σ² (biased) per row.
    /// </summary>
    /// <remarks>
    /// Shape: x (..., D), gamma (D), beta (D) → (..., D). Saves μ and 1/√(σ² + ε) per row; backward recomputes x̂.
    /// Backward: ∂/∂x = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) with ĝ = g ⊙ γ; ∂/∂γ = Σ g ⊙ x̂; ∂/∂β = Σ g.
    /// </remarks>
    /// <exception cref="ArgumentException">gamma or beta does not have D values, or x has rank 0.</exception>
    /// <exception cref="ArgumentOutOfRangeException">ε ≤ 0.</exception>
    public static Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float epsilon = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(gamma);
        ArgumentNullException.ThrowIfNull(beta);
        if (x.Shape.Rank == 0) throw new ArgumentException("LayerNorm needs a tensor with at least one axis.", nameof(x));
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be positive.");
        int d = x.Shape[-1], rows = d == 0 ? 0 : x.Size / d;
        if (gamma.Size != d || beta.Size != d)
            throw new ArgumentException(
                $"LayerNorm: input {x.Shape} normalizes {d} features; gamma {gamma.Shape} and beta {beta.Shape} must have {d} values.");
        var y = BufferPool.Uninitialized<float>(x.Size);
        var mean = BufferPool.Uninitialized<float>(rows);
        var rstd = BufferPool.Uninitialized<float>(rows);
        var path = SimdPaths.Default;
        ForRowChunks(rows, d, (first, count) => LayerNormKernels.Forward(x.Data.AsSpan(first * d, count * d), count, d, gamma.Data, beta.Data,
            epsilon, y.AsSpan(first * d, count * d), mean.AsSpan(first, count), rstd.AsSpan(first, count), path));
        var result = new Tensor(x.Shape, y);
        return result.Record("layer_norm", [x, gamma, beta], () =>
        {
            var g = result.Grad!;
            bool accumulate = false;
            float[]? gx = x.RequiresGrad ? x.GradToWrite(out accumulate) : null;
            bool parameters = gamma.RequiresGrad || beta.RequiresGrad;
            int chunks = (rows + RowChunk - 1) / RowChunk;
            // Each chunk sums its rows' ∂γ, ∂β into its own slot; the slots are then added in chunk order.
            float[]? partial = parameters ? BufferPool.Zeroed<float>(chunks * 2 * d) : null;
            WorkSplit.ForRanges(chunks, (long)RowChunk * d * 4, Engine.Threads, (firstChunk, endChunk) =>
            {
                for (int c = firstChunk; c < endChunk; c++)
                {
                    int first = c * RowChunk, count = Math.Min(RowChunk, rows - first);
                    LayerNormKernels.Backward(g.AsSpan(first * d, count * d), x.Data.AsSpan(first * d, count * d), count, d, gamma.Data,
                        mean.AsSpan(first, count), rstd.AsSpan(first, count), gx is null ? [] : gx.AsSpan(first * d, count * d), accumulate,
                        partial is null ? [] : partial.AsSpan(c * 2 * d, d), partial is null ? [] : partial.AsSpan(c * 2 * d + d, d), path);
                }
            });
            if (partial is null) return;
            var gGamma = gamma.RequiresGrad ? gamma.EnsureGrad() : null;
            var gBeta = beta.RequiresGrad ? beta.EnsureGrad() : null;
            for (int c = 0; c < chunks; c++)
            {
                if (gGamma is not null) System.Numerics.Tensors.TensorPrimitives.Add(gGamma, partial.AsSpan(c * 2 * d, d), gGamma);
                if (gBeta is not null) System.Numerics.Tensors.TensorPrimitives.Add(gBeta, partial.AsSpan(c * 2 * d + d, d), gBeta);
            }
        });
    }

    /// <summary>Softmax over the last axis: y = e^(x − max x)/Σ e^(x − max x) per row (the max keeps every exponent ≤ 0).</summary>
    /// <remarks>Shape: (..., K) → (..., K). Saves y; backward: ∂/∂x = y ⊙ (g − ⟨g, y⟩) per row.</remarks>
    /// <exception cref="ArgumentException">x has rank 0 or a last axis of length 0.</exception>
    public static Tensor Softmax(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Shape.Rank == 0 || x.Shape[-1] == 0) throw new ArgumentException($"Softmax needs a non-empty last axis; got {x.Shape}.", nameof(x));
        int k = x.Shape[-1], rows = x.Size / k;
        var y = BufferPool.Uninitialized<float>(x.Size);
        var path = SimdPaths.Default;
        ForRowChunks(rows, k, (first, count) =>
            SoftmaxKernels.Forward(x.Data.AsSpan(first * k, count * k), count, k, y.AsSpan(first * k, count * k), path));
        var result = new Tensor(x.Shape, y);
        return result.Record("softmax", [x], () =>
        {
            var g = result.Grad!;
            var gx = x.GradToWrite(out bool accumulate);
            ForRowChunks(rows, k, (first, count) =>
                SoftmaxKernels.Backward(y.AsSpan(first * k, count * k), g.AsSpan(first * k, count * k), count, k, gx.AsSpan(first * k, count * k),
                    accumulate, path));
        });
    }

    /// <summary>
    /// GELU: y = x·Φ(x) (exact, PyTorch's default) or ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (approximate='tanh').
    /// </summary>
    /// <remarks>
    /// Shape: any → the same. Float32 kernels (<see cref="GeluKernels"/>): the exact form's Φ keeps its relative
    /// precision in the negative tail. Backward: ∂y/∂x = Φ(x) + x·φ(x) (exact), or the tanh form's derivative.
    /// </remarks>
    public static Tensor Gelu(Tensor x, GeluApproximation approximation = GeluApproximation.None)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!Enum.IsDefined(approximation)) throw new ArgumentOutOfRangeException(nameof(approximation));
        var y = BufferPool.Uninitialized<float>(x.Size);
        var path = SimdPaths.Default;
        ForElementChunks(x.Size, (start, count) => GeluKernels.Forward(x.Data.AsSpan(start, count), y.AsSpan(start, count), approximation, path));
        var result = new Tensor(x.Shape, y);
        return result.Record(approximation == GeluApproximation.Tanh ? "gelu_tanh" : "gelu", [x], () =>
        {
            var g = result.Grad!;
            var gx = x.GradToWrite(out bool accumulate);
            ForElementChunks(x.Size, (start, count) =>
                GeluKernels.Backward(x.Data.AsSpan(start, count), g.AsSpan(start, count), gx.AsSpan(start, count), accumulate, approximation, path));
        });
    }

    // body(firstRow, rowCount) over fixed chunks of rows, chunks split over the engine's threads.
    private static void ForRowChunks(int rows, int rowLength, Action<int, int> body)
    {
        int chunks = (rows + RowChunk - 1) / RowChunk;
        WorkSplit.ForRanges(chunks, (long)RowChunk * rowLength * 2, Engine.Threads, (first, end) =>
        {
            int start = first * RowChunk, stop = Math.Min(rows, end * RowChunk);
            body(start, stop - start);
        });
    }

    // Elements per unit of parallel work in elementwise kernels.
    private const int ElementChunk = 1 << 13;

    // body(start, count) over chunks of elements, split over the engine's threads (elementwise: any split gives the same bits).
    private static void ForElementChunks(int size, Action<int, int> body)
    {
        int chunks = (size + ElementChunk - 1) / ElementChunk;
        WorkSplit.ForRanges(chunks, ElementChunk * 8, Engine.Threads, (first, end) =>
        {
            int start = first * ElementChunk, stop = Math.Min(size, end * ElementChunk);
            body(start, stop - start);
        });
    }
}

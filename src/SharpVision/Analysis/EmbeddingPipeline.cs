using SharpVision.Tensors;
using System.Diagnostics;

namespace SharpVision.Analysis;

/// <summary>A t-SNE map of feature vectors, with the PCA step that ran before it (if any).</summary>
/// <param name="Tsne">The map, its KL divergence and timings.</param>
/// <param name="Pca">The PCA fitted on the input, or null when the input had at most the requested number of dimensions.</param>
/// <param name="PcaTime">Time spent in PCA (fit and transform).</param>
public sealed record Embedding(TsneResult Tsne, Pca? Pca, TimeSpan PcaTime);

/// <summary>The usual recipe for a map of high-dimensional data: PCA to a few dozen dimensions (denoises, and makes the
/// neighbour search cheap), then t-SNE to 2-D.</summary>
public static class EmbeddingPipeline
{
    /// <summary>PCA to <paramref name="pcaComponents"/> dimensions when the input has more (and more rows than that), then t-SNE.</summary>
    /// <param name="features">n×d floats, row-major.</param>
    /// <param name="count">n.</param>
    /// <param name="dimension">d.</param>
    /// <param name="pcaComponents">Dimensions kept by PCA; 0 skips PCA.</param>
    /// <param name="options">t-SNE settings.</param>
    /// <param name="progress">t-SNE progress reports.</param>
    /// <param name="cancellationToken">Cancels the optimization.</param>
    /// <exception cref="ArgumentException">Bad sizes or values (see <see cref="Pca.Fit"/> and <see cref="Tsne.Fit"/>).</exception>
    public static Embedding Run(ReadOnlySpan<float> features, int count, int dimension, int pcaComponents, TsneOptions? options = null,
        Action<TsneProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pcaComponents);
        var tsne = new Tsne(options); // validates the options before any work
        using var threads = Engine.UseThreads(options?.Threads ?? 0); // PCA's GEMM uses the same threads as t-SNE
        if (features.Length != (long)count * dimension) throw new ArgumentException($"{count} rows of {dimension} values are {(long)count * dimension} floats; got {features.Length}.", nameof(features));
        var clock = Stopwatch.StartNew();
        Pca? pca = null;
        ReadOnlySpan<float> input = features;
        int d = dimension;
        if (pcaComponents > 0 && dimension > pcaComponents && count > pcaComponents)
        {
            pca = Pca.Fit(features, count, dimension, pcaComponents);
            input = pca.Transform(features, count);
            d = pcaComponents;
        }
        var pcaTime = clock.Elapsed;
        return new Embedding(tsne.Fit(input, count, d, progress, cancellationToken), pca, pcaTime);
    }

    /// <summary>
    /// z = (f − μ)/σ per column over the rows given (σ the population deviation; 1 where a column is constant), in place,
    /// so that no feature dominates PCA by its units alone.
    /// </summary>
    /// <exception cref="ArgumentException">The values are not rows×columns.</exception>
    public static void StandardizeColumns(Span<float> values, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        if (values.Length != (long)rows * columns) throw new ArgumentException($"{rows} rows of {columns} values are {(long)rows * columns} floats; got {values.Length}.", nameof(values));
        if (rows == 0) return;
        var sum = new double[columns];
        var sumSq = new double[columns];
        for (int i = 0; i < rows; i++)
        {
            var row = values.Slice(i * columns, columns);
            for (int j = 0; j < columns; j++)
            {
                sum[j] += row[j];
                sumSq[j] += (double)row[j] * row[j];
            }
        }
        var mean = new float[columns];
        var scale = new float[columns];
        for (int j = 0; j < columns; j++) (mean[j], scale[j]) = Data.Standardization.MeanAndInverseStd(sum[j], sumSq[j], rows);
        for (int i = 0; i < rows; i++)
        {
            var row = values.Slice(i * columns, columns);
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, mean, row);
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, scale, row);
        }
    }
}

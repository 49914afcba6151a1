namespace SharpVision.Analysis;

/// <summary>
/// t-SNE's input similarities: a sparse symmetric matrix P (compressed rows) with Σᵢⱼ pᵢⱼ = 1 and pᵢᵢ = 0, built as
/// pᵢⱼ = (pⱼ|ᵢ + pᵢ|ⱼ) / Σ from conditional probabilities over each row's nearest neighbours.
/// </summary>
/// <param name="Count">n, the number of points.</param>
/// <param name="RowStart">n + 1 offsets: row i's entries are [RowStart[i], RowStart[i+1]).</param>
/// <param name="Columns">Column index of each entry, ascending within a row.</param>
/// <param name="Values">pᵢⱼ of each entry.</param>
public sealed record Affinities(int Count, int[] RowStart, int[] Columns, double[] Values)
{
    /// <summary>Binary-search steps per row before giving up on the target entropy (the closest β found is kept).</summary>
    public const int MaxSearchSteps = 200;

    /// <summary>Calibration stops when |H(Pᵢ) − log(perplexity)| is below this many nats.</summary>
    public const double EntropyTolerance = 1e-5;

    /// <summary>
    /// Conditional probabilities pⱼ|ᵢ = exp(−β·dⱼ) / Σₘ exp(−β·dₘ) of one point over its neighbours, with the precision β
    /// found by bisection so that the entropy H = −Σ pⱼ|ᵢ·ln pⱼ|ᵢ equals ln(perplexity).
    /// </summary>
    /// <param name="squaredDistances">dⱼ = ‖xᵢ − xⱼ‖² to each neighbour.</param>
    /// <param name="perplexity">Target perplexity, > 0.</param>
    /// <param name="destination">pⱼ|ᵢ, one per neighbour (sums to 1).</param>
    /// <returns>β and the entropy reached (in nats).</returns>
    /// <remarks>
    /// Distances are shifted by their minimum before exponentiating (the shift cancels in the ratio), so no row
    /// underflows to all zeros. H = ln Σ exp(−β·d′) + β·Σ p·d′ with d′ = d − min d. If the target is out of reach (fewer
    /// neighbours than the perplexity, or all distances equal) the search ends at the bracket's edge after
    /// <see cref="MaxSearchSteps"/> steps.
    /// </remarks>
    /// <exception cref="ArgumentException">Lengths disagree, no neighbours, a negative or non-finite distance, or perplexity ≤ 0.</exception>
    public static (double Beta, double Entropy) Calibrate(ReadOnlySpan<double> squaredDistances, double perplexity, Span<double> destination)
    {
        if (squaredDistances.Length == 0) throw new ArgumentException("A point needs at least one neighbour.", nameof(squaredDistances));
        if (destination.Length != squaredDistances.Length) throw new ArgumentException($"{squaredDistances.Length} distances but room for {destination.Length} probabilities.", nameof(destination));
        if (!(perplexity > 0) || double.IsInfinity(perplexity)) throw new ArgumentOutOfRangeException(nameof(perplexity), perplexity, "Perplexity must be a positive number.");
        double min = double.PositiveInfinity;
        foreach (double d in squaredDistances)
        {
            if (!(d >= 0) || double.IsInfinity(d)) throw new ArgumentException("Squared distances must be finite and non-negative.", nameof(squaredDistances));
            min = Math.Min(min, d);
        }

        double target = Math.Log(perplexity);
        double beta = 1, low = double.NegativeInfinity, high = double.PositiveInfinity, entropy = 0;
        for (int step = 0; step < MaxSearchSteps; step++)
        {
            entropy = Evaluate(squaredDistances, min, beta, destination);
            double difference = entropy - target;
            if (Math.Abs(difference) <= EntropyTolerance) break;
            if (difference > 0)
            {
                // Too flat: sharpen (larger β).
                low = beta;
                beta = double.IsPositiveInfinity(high) ? beta * 2 : (beta + high) / 2;
            }
            else
            {
                high = beta;
                beta = double.IsNegativeInfinity(low) ? beta / 2 : (beta + low) / 2;
            }
        }
        return (beta, entropy);
    }

    private static double Evaluate(ReadOnlySpan<double> distances, double min, double beta, Span<double> p)
    {
        double sum = 0;
        for (int j = 0; j < distances.Length; j++) sum += p[j] = Math.Exp(-beta * (distances[j] - min));
        double weighted = 0;
        for (int j = 0; j < distances.Length; j++)
        {
            p[j] /= sum;
            weighted += p[j] * (distances[j] - min);
        }
        return Math.Log(sum) + beta * weighted;
    }

    /// <summary>
    /// Calibrates every row of <paramref name="graph"/> to <paramref name="perplexity"/> and symmetrizes:
    /// pᵢⱼ = (pⱼ|ᵢ + pᵢ|ⱼ) / Σ (the sum is 2n up to rounding).
    /// </summary>
    /// <param name="graph">Each point's nearest neighbours (typically ⌊3·perplexity⌋ + 1 of them).</param>
    /// <param name="perplexity">Target perplexity, > 0.</param>
    /// <param name="threads">Worker threads (results do not depend on it).</param>
    /// <exception cref="ArgumentException">A bad perplexity or graph.</exception>
    public static Affinities FromNeighbors(NeighborGraph graph, double perplexity, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        int n = graph.Count, k = graph.K;
        if (graph.Indices.Length != n * k || graph.SquaredDistances.Length != n * k) throw new ArgumentException("The graph's arrays are not n×k.", nameof(graph));
        var conditional = new double[n * k];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            Calibrate(graph.SquaredDistances.AsSpan(i * k, k), perplexity, conditional.AsSpan(i * k, k)));

        // Each conditional entry (i → j) lands in row i and row j; rows are then sorted and duplicates merged.
        var counts = new int[n + 1];
        for (int i = 0; i < n; i++)
            for (int m = 0; m < k; m++)
            {
                int j = graph.Indices[i * k + m];
                if ((uint)j >= (uint)n || j == i) throw new ArgumentException($"Neighbour {j} of point {i} is out of range or the point itself.", nameof(graph));
                counts[i + 1]++;
                counts[j + 1]++;
            }
        for (int i = 0; i < n; i++) counts[i + 1] += counts[i];
        var fill = counts[..n];
        var columns = new int[counts[n]];
        var values = new double[counts[n]];
        for (int i = 0; i < n; i++)
            for (int m = 0; m < k; m++)
            {
                int j = graph.Indices[i * k + m];
                double p = conditional[i * k + m];
                columns[fill[i]] = j;
                values[fill[i]++] = p;
                columns[fill[j]] = i;
                values[fill[j]++] = p;
            }

        var rowStart = new int[n + 1];
        int written = 0;
        for (int i = 0; i < n; i++)
        {
            int start = counts[i], end = counts[i + 1];
            Array.Sort(columns, values, start, end - start);
            rowStart[i] = written;
            for (int e = start; e < end; e++)
            {
                if (written > rowStart[i] && columns[written - 1] == columns[e]) values[written - 1] += values[e];
                else
                {
                    columns[written] = columns[e];
                    values[written++] = values[e];
                }
            }
        }
        rowStart[n] = written;
        Array.Resize(ref columns, written);
        Array.Resize(ref values, written);
        double total = 0;
        foreach (double v in values) total += v;
        for (int e = 0; e < written; e++) values[e] /= total;
        return new Affinities(n, rowStart, columns, values);
    }
}

namespace SharpVision.Classic;

/// <summary>How far apart two vectors are.</summary>
public enum DistanceMetric
{
    /// <summary>L1: d(a, b) = Σ|aᵢ − bᵢ|.</summary>
    Manhattan,

    /// <summary>L2: d(a, b) = √Σ(aᵢ − bᵢ)². Neighbours are ranked by the squared distance, which orders identically.</summary>
    Euclidean,
}

/// <summary>How the k neighbours vote.</summary>
public enum NeighborWeighting
{
    /// <summary>Each neighbour casts one vote.</summary>
    Uniform,

    /// <summary>Each neighbour votes 1/d; if any neighbour is at distance 0, only those vote (one each), as in scikit-learn.</summary>
    Distance,
}

/// <summary>The names files and flags use for <see cref="DistanceMetric"/> and <see cref="NeighborWeighting"/>.</summary>
public static class NeighborNames
{
    /// <summary>"l1" or "l2".</summary>
    public static string Of(DistanceMetric metric) => metric == DistanceMetric.Manhattan ? "l1" : "l2";

    /// <summary>"uniform" or "distance".</summary>
    public static string Of(NeighborWeighting weighting) => weighting == NeighborWeighting.Distance ? "distance" : "uniform";

    /// <summary>Parses "l1"/"manhattan" or "l2"/"euclidean" (any case); null otherwise.</summary>
    public static DistanceMetric? ParseMetric(string? text) => text?.ToLowerInvariant() switch
    {
        "l1" or "manhattan" => DistanceMetric.Manhattan,
        "l2" or "euclidean" => DistanceMetric.Euclidean,
        _ => null,
    };

    /// <summary>Parses "uniform" or "distance" (any case); null otherwise.</summary>
    public static NeighborWeighting? ParseWeighting(string? text) => text?.ToLowerInvariant() switch
    {
        "uniform" => NeighborWeighting.Uniform,
        "distance" => NeighborWeighting.Distance,
        _ => null,
    };
}

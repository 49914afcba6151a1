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

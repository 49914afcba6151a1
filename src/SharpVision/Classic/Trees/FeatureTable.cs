namespace SharpVision.Classic.Trees;

/// <summary>
/// The examples a tree model learns from or predicts: N rows of D features, row-major, either as floats (hand-crafted
/// features) or as bytes (raw pixels, 0..255, used as they are). Not copied: the table wraps the caller's array.
/// </summary>
/// <remarks>Shape: (N, D). Trees compare one feature with one threshold at a time, so no scaling is needed.</remarks>
public sealed class FeatureTable
{
    private FeatureTable(int count, int dimension, float[]? floats, byte[]? bytes)
    {
        (Count, Dimension, Floats, Bytes) = (count, dimension, floats, bytes);
    }

    /// <summary>N, the number of rows.</summary>
    public int Count { get; }

    /// <summary>D, features per row.</summary>
    public int Dimension { get; }

    /// <summary>The values when the table holds floats (else null).</summary>
    public float[]? Floats { get; }

    /// <summary>The values when the table holds bytes (else null).</summary>
    public byte[]? Bytes { get; }

    /// <summary>A table over N×D floats.</summary>
    /// <exception cref="ArgumentException">The length is not N·D, D &lt; 1, or a value is NaN or infinite.</exception>
    public static FeatureTable FromFloats(float[] values, int dimension)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (values.Length % dimension != 0)
            throw new ArgumentException($"{values.Length} values are not whole rows of {dimension} features.", nameof(values));
        // A finite sum proves every value finite (an infinity or NaN would make it ±∞ or NaN); else look value by value.
        if (!float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum(values)) && !AllFinite(values))
            throw new ArgumentException("The features hold a NaN or infinite value.", nameof(values));
        return new FeatureTable(values.Length / dimension, dimension, values, null);
    }

    /// <summary>A table over N×D bytes (e.g. raw pixels, one image per row).</summary>
    /// <exception cref="ArgumentException">The length is not N·D or D &lt; 1.</exception>
    public static FeatureTable FromBytes(byte[] values, int dimension)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (values.Length % dimension != 0)
            throw new ArgumentException($"{values.Length} values are not whole rows of {dimension} features.", nameof(values));
        return new FeatureTable(values.Length / dimension, dimension, null, values);
    }

    /// <summary>Feature <paramref name="feature"/> of row <paramref name="row"/>.</summary>
    public float this[int row, int feature] => Floats is { } f ? f[(long)row * Dimension + feature] : Bytes![(long)row * Dimension + feature];

    /// <summary>Row <paramref name="row"/> as floats, written into <paramref name="destination"/> (D values).</summary>
    public void CopyRow(int row, Span<float> destination)
    {
        if (Floats is { } f)
        {
            f.AsSpan((int)((long)row * Dimension), Dimension).CopyTo(destination);
            return;
        }
        var b = Bytes.AsSpan((int)((long)row * Dimension), Dimension);
        for (int j = 0; j < b.Length; j++) destination[j] = b[j];
    }

    /// <summary>Throws unless the table has <paramref name="dimension"/> features.</summary>
    internal void EnsureDimension(int dimension, string parameter)
    {
        if (Dimension != dimension) throw new ArgumentException($"The model takes {dimension} features per row; got {Dimension}.", parameter);
    }

    private static bool AllFinite(float[] values)
    {
        foreach (float v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }
}

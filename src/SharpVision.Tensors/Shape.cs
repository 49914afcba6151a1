namespace SharpVision.Tensors;

/// <summary>The dimensions of a row-major tensor, outermost first: (N, C, H, W) for images, (N, D) for batches of vectors.</summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int[] _dims;

    /// <summary>A shape from its dimensions; each must be at least 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative dimension, or more than 2³¹−1 elements.</exception>
    public Shape(params ReadOnlySpan<int> dims)
    {
        long size = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(dims), d, "Dimensions must be at least 0.");
            size *= d;
            if (size > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(dims), $"Shape ({string.Join(", ", dims.ToArray())}) has more than 2³¹−1 elements.");
        }
        _dims = dims.ToArray();
        _size = (int)size;
    }

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims?.Length ?? 0;

    private readonly int _size;

    /// <summary>Number of elements (1 for a scalar of rank 0, including <c>default(Shape)</c>).</summary>
    public int Size => _dims is null ? 1 : _size;

    /// <summary>Dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis] => _dims[axis < 0 ? axis + Rank : axis];

    /// <summary>The dimensions as a new array.</summary>
    public int[] ToArray() => (int[])(_dims ?? []).Clone();

    /// <summary>The product of the dimensions after the first (the size of one sample of a batch).</summary>
    public int SampleSize
    {
        get
        {
            int p = 1;
            for (int i = 1; i < Rank; i++) p *= _dims[i];
            return p;
        }
    }

    public bool Equals(Shape other) => (_dims ?? []).AsSpan().SequenceEqual(other._dims ?? []);

    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int d in _dims ?? []) hash.Add(d);
        return hash.ToHashCode();
    }

    public static bool operator ==(Shape left, Shape right) => left.Equals(right);

    public static bool operator !=(Shape left, Shape right) => !left.Equals(right);

    /// <summary>"(128, 784)".</summary>
    public override string ToString() => $"({string.Join(", ", _dims ?? [])})";
}

namespace SharpVision.Data;

/// <summary>
/// A labelled set of equally sized 8-bit images, stored contiguously: image i occupies
/// bytes [i·C·H·W, (i+1)·C·H·W) in C×H×W (planar) order.
/// </summary>
/// <remarks>Immutable by convention: subsets copy, nothing writes into <see cref="Pixels"/> after construction.</remarks>
public sealed class ImageDataset
{
    /// <summary>Creates a dataset over <paramref name="pixels"/> (not copied).</summary>
    /// <exception cref="ArgumentException">When sizes disagree or a label is out of range.</exception>
    public ImageDataset(
        string name, int channels, int height, int width, byte[] pixels, int[] labels, IReadOnlyList<string> classNames,
        int[]? coarseLabels = null, IReadOnlyList<string>? coarseClassNames = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Channels must be 1 or 3.");
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (classNames.Count == 0) throw new ArgumentException("At least one class name is required.", nameof(classNames));
        long sampleSize = (long)channels * height * width;
        if (pixels.LongLength != sampleSize * labels.Length)
            throw new ArgumentException($"{labels.Length} labels need {sampleSize * labels.Length} pixel bytes, got {pixels.LongLength}.", nameof(pixels));
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new ArgumentException($"Label {labels[i]} of sample {i} is outside 0..{classNames.Count - 1}.", nameof(labels));
        if ((coarseLabels is null) != (coarseClassNames is null))
            throw new ArgumentException("Coarse labels and coarse class names go together.", nameof(coarseLabels));
        if (coarseLabels is not null && coarseLabels.Length != labels.Length)
            throw new ArgumentException("Coarse labels must match labels in count.", nameof(coarseLabels));

        Name = name;
        Channels = channels;
        Height = height;
        Width = width;
        Pixels = pixels;
        Labels = labels;
        ClassNames = classNames;
        CoarseLabels = coarseLabels;
        CoarseClassNames = coarseClassNames;
    }

    public string Name { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>Bytes per image: C·H·W.</summary>
    public int SampleSize => Channels * Height * Width;

    public int Count => Labels.Length;

    /// <summary>All images, N×C×H×W bytes.</summary>
    public byte[] Pixels { get; }

    /// <summary>Class index per image (CIFAR-100: the fine label).</summary>
    public int[] Labels { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>CIFAR-100's 20 superclass labels; null for other datasets.</summary>
    public int[]? CoarseLabels { get; }

    public IReadOnlyList<string>? CoarseClassNames { get; }

    /// <summary>The C×H×W bytes of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(checked(index * SampleSize), SampleSize);

    /// <summary>Image <paramref name="index"/> as an <see cref="Imaging.Image"/> (H×W×C interleaved, copied), to save as PNG or show.</summary>
    /// <example><code>PngEncoder.Save(test.ToImage(0), "test-0.png");</code></example>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside 0..Count − 1.</exception>
    public Imaging.Image ToImage(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return ImagePreparation.FromPlanar(Image(index), Channels, Height, Width);
    }

    /// <summary>Number of images per class.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassNames.Count];
        foreach (int label in Labels) counts[label]++;
        return counts;
    }

    /// <summary>A new dataset with the images at <paramref name="indices"/>, in that order (copied).</summary>
    public ImageDataset Subset(ReadOnlySpan<int> indices, string? name = null)
    {
        int size = SampleSize;
        var pixels = new byte[(long)indices.Length * size];
        var labels = new int[indices.Length];
        int[]? coarse = CoarseLabels is null ? null : new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int j = indices[i];
            if ((uint)j >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), j, $"Index outside 0..{Count - 1}.");
            Pixels.AsSpan(j * size, size).CopyTo(pixels.AsSpan(i * size, size));
            labels[i] = Labels[j];
            if (coarse is not null) coarse[i] = CoarseLabels![j];
        }
        return new ImageDataset(name ?? Name, Channels, Height, Width, pixels, labels, ClassNames, coarse, CoarseClassNames);
    }

    /// <summary>
    /// Only the images of the classes at <paramref name="classes"/> (indices into <see cref="ClassNames"/>), relabelled
    /// 0..n−1 in the given order: <c>SelectClasses([0, 6])</c> makes a T-shirt (0) vs shirt (1) problem.
    /// </summary>
    /// <exception cref="ArgumentException">A class index out of range or repeated.</exception>
    public ImageDataset SelectClasses(IReadOnlyList<int> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Distinct().Count() != classes.Count) throw new ArgumentException("Classes are repeated.", nameof(classes));
        var map = Enumerable.Repeat(-1, ClassNames.Count).ToArray();
        for (int i = 0; i < classes.Count; i++)
        {
            if ((uint)classes[i] >= (uint)ClassNames.Count) throw new ArgumentException($"Class {classes[i]} is outside 0..{ClassNames.Count - 1}.", nameof(classes));
            map[classes[i]] = i;
        }
        var keep = Enumerable.Range(0, Count).Where(i => map[Labels[i]] >= 0).ToArray();
        var subset = Subset(keep);
        var labels = subset.Labels.Select(l => map[l]).ToArray();
        return new ImageDataset(Name, Channels, Height, Width, subset.Pixels, labels, classes.Select(c => ClassNames[c]).ToArray());
    }

    /// <summary>The first <paramref name="count"/> images, or a stratified seeded subset when <paramref name="seed"/> is given.</summary>
    public ImageDataset Take(int count, int? seed = null)
    {
        if (count >= Count) return this;
        if (seed is int s)
        {
            var (chosen, _) = Splits.StratifiedSplit(Labels, (double)count / Count, s);
            return Subset(chosen);
        }
        var first = new int[count];
        for (int i = 0; i < count; i++) first[i] = i;
        return Subset(first);
    }
}

/// <summary>The train and test parts of a dataset, and where they came from.</summary>
/// <param name="Train">Training images.</param>
/// <param name="Test">Held-out test images.</param>
/// <param name="Source">Folder the files were read from.</param>
/// <param name="Format">"idx", "cifar-10", "cifar-100" or "folder".</param>
/// <param name="IsSample">True when this is the small sample shipped with SharpVision.</param>
public sealed record DatasetSplits(ImageDataset Train, ImageDataset Test, string Source, string Format, bool IsSample = false);

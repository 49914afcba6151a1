using SharpVision.Tensors;

namespace SharpVision.Data;

/// <summary>
/// Training-time augmentation of a normalized batch (N, C, H, W), in place: random horizontal flip (probability ½),
/// random crop after zero padding (each side by <see cref="CropPadding"/>, as torchvision's RandomCrop(size, padding)),
/// and cutout (one <see cref="Cutout"/>×<see cref="Cutout"/> square set to 0 — the mean, after normalization — centred
/// anywhere in the image and clipped at its borders, as DeVries &amp; Taylor 2017).
/// </summary>
/// <param name="Flip">Random horizontal flips.</param>
/// <param name="CropPadding">Padding of the random crop (0 = off).</param>
/// <param name="Cutout">Side of the cutout square (0 = off).</param>
public sealed record Augmentation(bool Flip = false, int CropPadding = 0, int Cutout = 0)
{
    /// <summary>True when any augmentation is on.</summary>
    public bool Any => Flip || CropPadding > 0 || Cutout > 0;

    /// <summary>Augments <paramref name="count"/> images in place.</summary>
    /// <param name="batch">count·C·H·W normalized values.</param>
    /// <param name="count">Images in the batch.</param>
    /// <param name="channels">C.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="padValue">The normalized value of a black pixel at each position (C·H·W), used for crop padding.</param>
    /// <param name="rng">Source of the random choices (drawn in a fixed order per image, so results are reproducible).</param>
    public void Apply(Span<float> batch, int count, int channels, int height, int width, ReadOnlySpan<float> padValue, Rng rng)
    {
        if (CropPadding < 0 || Cutout < 0) throw new ArgumentOutOfRangeException(nameof(CropPadding), "Crop padding and cutout must be at least 0.");
        int size = channels * height * width, plane = height * width;
        if (batch.Length < count * size || padValue.Length != size) throw new ArgumentException("Batch or pad values do not match the image shape.");
        Span<float> copy = CropPadding > 0 ? new float[size] : default;
        for (int i = 0; i < count; i++)
        {
            var image = batch.Slice(i * size, size);
            if (Flip && rng.NextFloat() < 0.5f)
                for (int c = 0; c < channels; c++)
                    for (int y = 0; y < height; y++) image.Slice(c * plane + y * width, width).Reverse();
            if (CropPadding > 0)
            {
                int dy = rng.NextInt(2 * CropPadding + 1) - CropPadding, dx = rng.NextInt(2 * CropPadding + 1) - CropPadding;
                image.CopyTo(copy);
                for (int c = 0; c < channels; c++)
                    for (int y = 0; y < height; y++)
                        for (int x = 0; x < width; x++)
                        {
                            int sy = y + dy, sx = x + dx, at = c * plane + y * width + x;
                            image[at] = sy >= 0 && sy < height && sx >= 0 && sx < width ? copy[c * plane + sy * width + sx] : padValue[at];
                        }
            }
            if (Cutout > 0)
            {
                int cy = rng.NextInt(height), cx = rng.NextInt(width);
                int y0 = Math.Max(0, cy - Cutout / 2), y1 = Math.Min(height, cy - Cutout / 2 + Cutout);
                int x0 = Math.Max(0, cx - Cutout / 2), x1 = Math.Min(width, cx - Cutout / 2 + Cutout);
                for (int c = 0; c < channels; c++)
                    for (int y = y0; y < y1; y++) image.Slice(c * plane + y * width + x0, x1 - x0).Clear();
            }
        }
    }
}

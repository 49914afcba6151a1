namespace SharpVision.Features.Reference;

/// <summary>
/// A line-by-line port of scikit-image 0.19's <c>hog</c> (<c>_hog.py</c> + <c>_hoghistogram.pyx</c>): float64 image,
/// per-channel gradients, argmax channel, atan2 orientations, one pass per (cell, bin) summing in float32. Slow and
/// plain on purpose: the oracle <see cref="HogExtractor"/> is tested against on sizes the fixtures do not cover.
/// </summary>
internal static class HogReference
{
    public static float[] Compute(ReadOnlySpan<byte> image, int channels, int height, int width, int orientations, int cell, int block, HogBlockNorm norm, bool transformSqrt)
    {
        var img = new double[channels, height, width];
        for (int c = 0; c < channels; c++)
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            double v = image[(c * height + y) * width + x];
            img[c, y, x] = transformSqrt ? Math.Sqrt(v) : v;
        }
        var gRow = new double[height, width];
        var gCol = new double[height, width];
        var best = new double[height, width];
        for (int c = 0; c < channels; c++)
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            double r = y > 0 && y < height - 1 ? img[c, y + 1, x] - img[c, y - 1, x] : 0;
            double col = x > 0 && x < width - 1 ? img[c, y, x + 1] - img[c, y, x - 1] : 0;
            double m = Math.Sqrt(r * r + col * col);
            if (c == 0 || m > best[y, x]) (gRow[y, x], gCol[y, x], best[y, x]) = (r, col, m);
        }
        var magnitude = new double[height, width];
        var orientation = new double[height, width];
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            magnitude[y, x] = Math.Sqrt(gRow[y, x] * gRow[y, x] + gCol[y, x] * gCol[y, x]);
            orientation[y, x] = HogExtractor.Remainder180(Math.Atan2(gRow[y, x], gCol[y, x]) * (180.0 / Math.PI));
        }
        int cellsY = height / cell, cellsX = width / cell;
        var hist = new double[cellsY, cellsX, orientations];
        double per180 = 180.0 / orientations;
        for (int i = 0; i < orientations; i++)
        {
            double start = per180 * (i + 1), end = per180 * i;
            for (int cy = 0; cy < cellsY; cy++)
            for (int cx = 0; cx < cellsX; cx++)
            {
                float total = 0;
                for (int y = cy * cell; y < (cy + 1) * cell; y++)
                for (int x = cx * cell; x < (cx + 1) * cell; x++)
                {
                    if (orientation[y, x] >= start || orientation[y, x] < end) continue;
                    total = (float)(total + magnitude[y, x]);
                }
                hist[cy, cx, i] = total / (float)(cell * cell);
            }
        }
        int blocksY = cellsY - block + 1, blocksX = cellsX - block + 1;
        var result = new List<float>();
        var values = new double[block * block * orientations];
        for (int by = 0; by < blocksY; by++)
        for (int bx = 0; bx < blocksX; bx++)
        {
            int k = 0;
            for (int i = 0; i < block; i++)
            for (int j = 0; j < block; j++)
            for (int o = 0; o < orientations; o++)
                values[k++] = hist[by + i, bx + j, o];
            HogExtractor.Normalize(values, norm);
            foreach (double v in values) result.Add((float)v);
        }
        return result.ToArray();
    }
}

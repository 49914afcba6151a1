using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Nn;
using SharpVision.Tensors;

namespace SharpVision.Reports;

/// <summary>
/// The ViT paper's two pictures of a trained transformer as images: attention rollout laid over each input image, and
/// the grid of position-embedding similarities. Colors are viridis (dark blue low, yellow high).
/// </summary>
public static class AttentionPictures
{
    /// <summary>
    /// The rollout map, upsampled bilinearly from the token grid to the image and scaled by <paramref name="zoom"/>,
    /// blended over the grayscale image: pixel = (1 − α)·gray + α·viridis(map / max map), α = 0.6.
    /// </summary>
    /// <remarks>Shape: image planes C×H×W bytes (C = 1 or 3) and one map of the grid → an RGB image of (H·zoom)×(W·zoom).</remarks>
    /// <exception cref="ArgumentException">Sizes do not match.</exception>
    public static Image RolloutOverlay(ReadOnlySpan<byte> planes, int channels, int height, int width, ReadOnlySpan<float> map, int gridHeight, int gridWidth,
        int zoom = 4)
    {
        if (planes.Length != channels * height * width) throw new ArgumentException($"{planes.Length} bytes are not {channels}×{height}×{width}.", nameof(planes));
        if (map.Length != gridHeight * gridWidth) throw new ArgumentException($"{map.Length} values are not a {gridHeight}×{gridWidth} map.", nameof(map));
        ArgumentOutOfRangeException.ThrowIfLessThan(zoom, 1);
        float max = 0;
        foreach (float v in map) max = Math.Max(max, v);
        int outHeight = height * zoom, outWidth = width * zoom, plane = height * width;
        var pixels = new byte[outHeight * outWidth * 3];
        for (int y = 0; y < outHeight; y++)
            for (int x = 0; x < outWidth; x++)
            {
                int sy = y / zoom, sx = x / zoom, at = sy * width + sx;
                float gray = 0;
                for (int c = 0; c < channels; c++) gray += planes[c * plane + at];
                gray /= channels;
                // sample the grid at this pixel's centre, cells centred on their patches
                float gy = (y + 0.5f) / outHeight * gridHeight - 0.5f, gx = (x + 0.5f) / outWidth * gridWidth - 0.5f;
                float value = max > 0 ? Bilinear(map, gridHeight, gridWidth, gy, gx) / max : 0;
                var (r, g, b) = Viridis(value);
                int o = (y * outWidth + x) * 3;
                pixels[o] = Blend(gray, r);
                pixels[o + 1] = Blend(gray, g);
                pixels[o + 2] = Blend(gray, b);
            }
        return new Image(outWidth, outHeight, 3, pixels);

        static byte Blend(float gray, float color) => (byte)Math.Clamp(MathF.Round(0.4f * gray + 0.6f * color), 0, 255);
    }

    /// <summary>
    /// The position-embedding similarities as the ViT paper draws them: one tile per patch (at that patch's place in
    /// the grid), each tile the patch's cosine similarity with every patch, −1 dark blue to +1 yellow; <paramref name="cell"/>
    /// pixels per grid cell, a 2-pixel white gutter between tiles.
    /// </summary>
    /// <exception cref="ArgumentException">The maps are not one per grid cell.</exception>
    public static Image PositionSimilarityGrid(TokenMaps similarity, int cell = 4)
    {
        ArgumentNullException.ThrowIfNull(similarity);
        ArgumentOutOfRangeException.ThrowIfLessThan(cell, 1);
        int gh = similarity.GridHeight, gw = similarity.GridWidth;
        if (similarity.Count != gh * gw) throw new ArgumentException($"{similarity.Count} maps for a {gh}×{gw} grid; expected one per cell.", nameof(similarity));
        const int gutter = 2;
        int tileHeight = gh * cell, tileWidth = gw * cell;
        int height = gh * tileHeight + (gh - 1) * gutter, width = gw * tileWidth + (gw - 1) * gutter;
        var pixels = new byte[height * width * 3];
        Array.Fill(pixels, (byte)255);
        for (int patch = 0; patch < similarity.Count; patch++)
        {
            int top = patch / gw * (tileHeight + gutter), left = patch % gw * (tileWidth + gutter);
            var map = similarity.Map(patch);
            for (int y = 0; y < tileHeight; y++)
                for (int x = 0; x < tileWidth; x++)
                {
                    var (r, g, b) = Viridis((map[y / cell * gw + x / cell] + 1) / 2);
                    int o = ((top + y) * width + left + x) * 3;
                    (pixels[o], pixels[o + 1], pixels[o + 2]) = ((byte)MathF.Round(r), (byte)MathF.Round(g), (byte)MathF.Round(b));
                }
        }
        return new Image(width, height, 3, pixels);
    }

    /// <summary>True for networks these pictures describe: a transformer with encoder blocks.</summary>
    public static bool Applies(NetworkClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Features is null && model.Network.Layers.Any(l => l is TransformerEncoderBlock)
            && model.Network.Layers.Any(l => l is PatchEmbedding or ChannelTokens);
    }

    /// <summary>
    /// The report section: attention rollout for the first test image of each class (up to <paramref name="images"/>),
    /// each beside its input, and the position-embedding similarity grid.
    /// </summary>
    internal static string Section(NetworkClassifier model, ImageDataset test, Predictions predictions, int images = 10)
    {
        var chosen = new List<int>();
        for (int c = 0; c < test.ClassNames.Count && chosen.Count < images; c++)
        {
            int first = Array.IndexOf(test.Labels, c);
            if (first >= 0) chosen.Add(first);
        }
        var p = model.Preparation;
        int size = p.Channels * p.Height * p.Width;
        var normalized = new float[chosen.Count * size];
        for (int i = 0; i < chosen.Count; i++) model.Normalizer.Apply(test.Image(chosen[i]), normalized.AsSpan(i * size, size));
        var maps = AttentionMaps.Rollout(model.Network, new Tensor(new Shape(chosen.Count, p.Channels, p.Height, p.Width), normalized));
        var rows = chosen.Select((index, i) =>
        {
            int truth = test.Labels[index], predicted = predictions.Label(index);
            var input = ReportImages.FromPlanes(test.Image(index), test.Channels, test.Height, test.Width);
            var overlay = RolloutOverlay(test.Image(index), test.Channels, test.Height, test.Width, maps.Map(i), maps.GridHeight, maps.GridWidth,
                zoom: 1);
            return ($"{test.ClassNames[truth]} → predicted {test.ClassNames[predicted]}", (IReadOnlyList<ImageTile>)
            [
                new ImageTile(input, ["input"], $"test image {index}, {test.ClassNames[truth]}",
                    predicted == truth ? TileMark.Right : TileMark.Wrong),
                new ImageTile(overlay, ["rollout"], $"attention rollout of test image {index}"),
            ]);
        }).ToList();
        var similarity = AttentionMaps.PositionSimilarity(model.Network, p.Channels, p.Height, p.Width);
        string grid = $"{maps.GridHeight}×{maps.GridWidth}";
        string reader = model.Network.Layers.Any(l => l is SequencePooling) ? "pooled representation" : "class token";
        int blocks = model.Network.Layers.Count(l => l is TransformerEncoderBlock);
        return "<div class=\"figures\">"
            + HtmlReport.Figure(RunReport.Figures.AttentionRollout, ImageGrid.RenderRows(rows, scale: 3),
                $"Attention rollout (Abnar & Zuidema): what the {reader} attends to through all {blocks} blocks, over the {grid} token grid, " +
                "upsampled and laid over the first test image of each class (yellow: most attention).")
            + "</div><div class=\"figures\">"
            + HtmlReport.Figure(RunReport.Figures.PositionSimilarity, ImageGrid.Render([new ImageTile(PositionSimilarityGrid(similarity, cell: 6), [],
                "position embedding similarity grid")], scale: 1, cssClass: "image-grid compact"),
                "Cosine similarity of the learned position embeddings (as in the ViT paper): the tile at row r, column c shows how similar " +
                "patch (r, c)'s embedding is to every patch's, from −1 (dark blue) to +1 (yellow). Nearby patches learned similar embeddings " +
                "when the tiles show a bright spot around their own place.")
            + "</div>";
    }

    private static float Bilinear(ReadOnlySpan<float> map, int rows, int columns, float y, float x)
    {
        y = Math.Clamp(y, 0, rows - 1);
        x = Math.Clamp(x, 0, columns - 1);
        int y0 = (int)y, x0 = (int)x, y1 = Math.Min(y0 + 1, rows - 1), x1 = Math.Min(x0 + 1, columns - 1);
        float fy = y - y0, fx = x - x0;
        float top = map[y0 * columns + x0] * (1 - fx) + map[y0 * columns + x1] * fx;
        float bottom = map[y1 * columns + x0] * (1 - fx) + map[y1 * columns + x1] * fx;
        return top * (1 - fy) + bottom * fy;
    }

    // matplotlib's viridis at nine evenly spaced points, interpolated linearly; t is clamped to [0, 1].
    private static readonly (float R, float G, float B)[] Stops =
    [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141), (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    ];

    /// <summary>viridis(t) as RGB in [0, 255].</summary>
    public static (float R, float G, float B) Viridis(float t)
    {
        t = float.IsFinite(t) ? Math.Clamp(t, 0, 1) : 0;
        float position = t * (Stops.Length - 1);
        int i = Math.Min((int)position, Stops.Length - 2);
        float f = position - i;
        var (a, b) = (Stops[i], Stops[i + 1]);
        return (a.R + (b.R - a.R) * f, a.G + (b.G - a.G) * f, a.B + (b.B - a.B) * f);
    }
}

using System.Text;
using SharpVision.Data;
using SharpVision.Imaging;
using static SharpVision.Reports.Markup;

namespace SharpVision.Reports;

/// <summary>How a tile is framed: plain, or marked right/wrong (green/red border).</summary>
public enum TileMark
{
    None,
    Right,
    Wrong,
}

/// <summary>One picture of an image grid: the image, caption lines under it, and alt text.</summary>
public sealed record ImageTile(Image Image, IReadOnlyList<string> Caption, string AltText, TileMark Mark = TileMark.None);

/// <summary>
/// Image grids as HTML: each tile an &lt;img&gt; holding its PNG as a data: URI (so the page needs no other file),
/// scaled up without smoothing, with its caption. Rows of tiles (<see cref="RenderRows"/>) make retrieval grids.
/// </summary>
public static class ImageGrid
{
    /// <summary>Tiles flowing left to right, <paramref name="scale"/> screen pixels per image pixel.</summary>
    public static string Render(IEnumerable<ImageTile> tiles, int scale = 2, string cssClass = "image-grid")
    {
        ArgumentNullException.ThrowIfNull(tiles);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        var sb = new StringBuilder($"<div class=\"{Escape(cssClass)}\">");
        foreach (var tile in tiles) AppendTile(sb, tile, scale);
        return sb.Append("</div>").ToString();
    }

    /// <summary>One row per entry: a label cell, then its tiles (e.g. a query and its nearest neighbours).</summary>
    public static string RenderRows(IEnumerable<(string Label, IReadOnlyList<ImageTile> Tiles)> rows, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder("<div class=\"image-rows\">");
        foreach (var (label, tiles) in rows)
        {
            sb.Append($"<div class=\"image-row\"><div class=\"row-label\">{Escape(label)}</div>");
            foreach (var tile in tiles) AppendTile(sb, tile, scale);
            sb.Append("</div>");
        }
        return sb.Append("</div>").ToString();
    }

    private static void AppendTile(StringBuilder sb, ImageTile tile, int scale)
    {
        string mark = tile.Mark switch { TileMark.Right => " right", TileMark.Wrong => " wrong", _ => "" };
        sb.Append($"<figure class=\"tile{mark}\"><img src=\"{PngDataUri(PngEncoder.Encode(tile.Image))}\" width=\"{tile.Image.Width * scale}\" height=\"{tile.Image.Height * scale}\" alt=\"{Escape(tile.AltText)}\">");
        if (tile.Caption.Count > 0)
            sb.Append("<figcaption>").Append(string.Join("<br>", tile.Caption.Select(Escape))).Append("</figcaption>");
        sb.Append("</figure>");
    }
}

/// <summary>Turns dataset planes and float maps into <see cref="Image"/>s for grids.</summary>
public static class ReportImages
{
    /// <summary>An image from C×H×W planes (the dataset layout) into H×W×C interleaved pixels; 1 or 3 channels.</summary>
    public static Image FromPlanes(ReadOnlySpan<byte> planes, int channels, int height, int width) =>
        ImagePreparation.FromPlanar(planes, channels, height, width);

    /// <summary>
    /// C×H×W floats (C = 1 or 3) as an image, mapping [<paramref name="low"/>, <paramref name="high"/>] linearly to
    /// [0, 255] and clamping outside; a degenerate range gives mid-gray.
    /// </summary>
    public static Image FromFloats(ReadOnlySpan<float> planes, int channels, int height, int width, float low, float high)
    {
        if (planes.Length != channels * height * width) throw new ArgumentException($"{planes.Length} values are not {channels}×{height}×{width}.", nameof(planes));
        var bytes = new byte[planes.Length];
        float range = high - low;
        for (int i = 0; i < planes.Length; i++)
            bytes[i] = range > 0 && float.IsFinite(range) ? (byte)Math.Clamp(MathF.Round(255 * (planes[i] - low) / range), 0, 255) : (byte)128;
        return FromPlanes(bytes, channels, height, width);
    }

    /// <summary>The smallest and largest finite value (0, 0 when there is none).</summary>
    public static (float Min, float Max) Range(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values)
            if (float.IsFinite(v)) (min, max) = (Math.Min(min, v), Math.Max(max, v));
        return min <= max ? (min, max) : (0, 0);
    }
}

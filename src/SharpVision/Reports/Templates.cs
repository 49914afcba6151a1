using SharpVision.Imaging;
using SharpVision.Nn;

namespace SharpVision.Reports;

/// <summary>
/// The lectures' "learned templates": each class's row of a linear classifier's W, seen as an image.
/// </summary>
public static class Templates
{
    /// <summary>
    /// Per class, the effective template in pixel space: W's row times the normalizer's scale (for standardized inputs
    /// s = W·((x − μ)/σ) + b = (W/σ)·x + const, so W/σ is what the class "looks for" in raw pixels). Shape (K, C·H·W).
    /// </summary>
    /// <exception cref="ArgumentException">The model has no templates (<see cref="Unsupported"/> says why).</exception>
    public static float[][] Compute(NetworkClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (Unsupported(model) is { } reason) throw new ArgumentException(reason, nameof(model));
        var layer = model.Network.Layers.OfType<Linear>().Single();
        int d = layer.Inputs, plane = d / model.Preparation.Channels;
        var n = model.Normalizer;
        var rows = new float[layer.Outputs][];
        for (int k = 0; k < layer.Outputs; k++)
        {
            rows[k] = layer.Weight.Data.AsSpan(k * d, d).ToArray();
            for (int j = 0; j < d; j++)
            {
                float scale = n.Mode switch
                {
                    Data.NormalizationMode.PerChannel => n.Scale[j / plane],
                    Data.NormalizationMode.PerPixel or Data.NormalizationMode.MeanImage => n.Scale[j],
                    _ => 1f,
                };
                rows[k][j] *= scale;
            }
        }
        return rows;
    }

    /// <summary>
    /// Why <paramref name="model"/> has no templates to draw, or null when it has: templates are the rows of one linear
    /// layer over the pixels. A model on hand-crafted features (HOG, ...) has one weight per feature, not per pixel, so
    /// its rows are no image; an MLP or CNN has no single row per class over the pixels.
    /// </summary>
    public static string? Unsupported(NetworkClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        int linears = model.Network.Layers.OfType<Linear>().Count();
        if (linears != 1 || model.Network.Layers.Any(l => l is Conv2d))
            return $"templates are the rows of a linear classifier's weights over the pixels; a {model.Kind} model is not a linear classifier " +
                   "(templates are drawn for svm, softmax and logistic models)";
        if (model.Features is { } features)
            return $"this {model.Kind} model reads {features.Pipeline.CanonicalConfig} features, not pixels: its weights are one per feature " +
                   $"({features.Length:N0} of them), not one per pixel, so they draw no image. " +
                   "Templates need a linear model trained on pixels (without features)";
        return null;
    }

    /// <summary>
    /// Renders the templates side by side (wrapping after <paramref name="columns"/>), each scaled up by
    /// <paramref name="zoom"/> (nearest neighbour) with a 2-pixel white gutter. Values map linearly to [0, 255] as in
    /// CS231n's visualization, from the 2nd to the 98th percentile over all templates (beyond: clipped).
    /// </summary>
    public static Image Render(NetworkClassifier model, int zoom = 4, int columns = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(zoom, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        var rows = Compute(model);
        int c = model.Preparation.Channels, h = model.Preparation.Height, w = model.Preparation.Width;
        var (min, range) = DisplayRange(rows);
        int cols = Math.Min(columns, rows.Length), lines = (rows.Length + cols - 1) / cols;
        const int gutter = 2;
        int tileW = w * zoom, tileH = h * zoom;
        int width = cols * tileW + (cols + 1) * gutter, height = lines * tileH + (lines + 1) * gutter;
        var pixels = new byte[width * height * c];
        Array.Fill(pixels, (byte)255);
        for (int k = 0; k < rows.Length; k++)
        {
            int x0 = gutter + (k % cols) * (tileW + gutter), y0 = gutter + (k / cols) * (tileH + gutter);
            for (int y = 0; y < tileH; y++)
                for (int x = 0; x < tileW; x++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        float v = rows[k][ch * h * w + (y / zoom) * w + x / zoom];
                        pixels[((y0 + y) * width + x0 + x) * c + ch] = (byte)Math.Clamp(MathF.Round(255 * (v - min) / range), 0, 255);
                    }
        }
        return new Image(width, height, c, pixels);
    }

    /// <summary>
    /// Each template as its own image at the model's input size, all on the same scale as <see cref="Render"/>
    /// (so brightness compares across classes). For logistic regression: one template, class 1 against class 0.
    /// </summary>
    public static Image[] RenderEach(NetworkClassifier model)
    {
        var rows = Compute(model);
        int c = model.Preparation.Channels, h = model.Preparation.Height, w = model.Preparation.Width;
        var (min, range) = DisplayRange(rows);
        return rows.Select(row => ReportImages.FromFloats(row, c, h, w, min, min + range)).ToArray();
    }

    // The 2nd to 98th percentile of all template values: the few extreme weights (on border pixels that hardly vary,
    // whose 1/σ is large) should not wash the rest out.
    private static (float Min, float Range) DisplayRange(float[][] rows)
    {
        var sorted = rows.SelectMany(r => r).Order().ToArray();
        float min = sorted[(int)(0.02 * (sorted.Length - 1))], max = sorted[(int)(0.98 * (sorted.Length - 1))];
        return (min, max > min ? max - min : 1);
    }
}

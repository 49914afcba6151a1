using System.Globalization;
using System.Text;

namespace SharpVision.Reports;

/// <summary>Text and numbers as HTML and SVG want them: every string escaped, every number in invariant culture.</summary>
public static class Markup
{
    /// <summary>
    /// Escapes <paramref name="text"/> for HTML/XML text and quoted attribute values: &amp; &lt; &gt; " ' become
    /// entities, and control characters XML forbids are dropped (a class name read from a folder may hold anything).
    /// </summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? replacement = c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                < ' ' when c is not ('\t' or '\n' or '\r') => "",
                _ => null,
            };
            if (replacement is null)
            {
                sb?.Append(c);
                continue;
            }
            sb ??= new StringBuilder(text, 0, i, text.Length + 16);
            sb.Append(replacement);
        }
        return sb?.ToString() ?? text;
    }

    /// <summary>A coordinate: at most two decimals, invariant culture, no exponent ("12.5", "-3").</summary>
    public static string Number(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>A PNG as a data: URI, so the page needs no other file.</summary>
    public static string PngDataUri(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);
}

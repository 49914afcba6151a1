using System.Globalization;
using System.Text;

namespace SharpVision.Cli;

/// <summary>
/// A writer that shows control characters instead of sending them: C0 and C1 controls (ESC, CSI, BEL, a lone CR,
/// backspace, ...) and the Unicode bidirectional overrides become visible escapes like <c>\x1B</c> or <c>\u202E</c>,
/// so a class name or file name read from a file cannot move the cursor, recolor, retitle or reorder the terminal.
/// Newlines and tabs pass through.
/// </summary>
internal sealed class NeutralizingWriter : TextWriter
{
    private readonly TextWriter _inner;

    private NeutralizingWriter(TextWriter inner) => _inner = inner;

    /// <summary><paramref name="inner"/> wrapped (once).</summary>
    public static TextWriter Wrap(TextWriter inner) => inner as NeutralizingWriter ?? new NeutralizingWriter(inner);

    public override Encoding Encoding => _inner.Encoding;

    public override IFormatProvider FormatProvider => _inner.FormatProvider;

    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string NewLine
    {
        get => _inner.NewLine;
        set => _inner.NewLine = value;
    }

    /// <summary>True for characters a terminal would act on rather than show.</summary>
    public static bool IsUnsafe(char c) => c is not ('\n' or '\t') && (char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069');

    /// <summary>The text with every unsafe character replaced by its visible escape.</summary>
    public static string Neutralize(string text)
    {
        if (!text.AsSpan().ContainsAnyExcept(SafeAscii) || !text.Any(IsUnsafe)) return text;
        var builder = new StringBuilder(text.Length + 8);
        foreach (char c in text) Append(builder, c);
        return builder.ToString();
    }

    // Printable ASCII plus newline and tab: the common case, checked quickly.
    private static readonly System.Buffers.SearchValues<char> SafeAscii =
        System.Buffers.SearchValues.Create("\n\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    private static void Append(StringBuilder builder, char c)
    {
        if (!IsUnsafe(c)) builder.Append(c);
        else if (c < 0x100) builder.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
        else builder.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
    }

    public override void Write(char value)
    {
        if (IsUnsafe(value)) _inner.Write(Neutralize(value.ToString()));
        else _inner.Write(value);
    }

    public override void Write(string? value)
    {
        if (value is null) return;
        _inner.Write(value == _inner.NewLine ? value : Neutralize(value));
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine() => _inner.WriteLine();

    // One call on the inner writer, so that a line is whole when two threads write (serve's request log beside its
    // messages): Console.Error locks per call, and a text and its newline written as two calls can interleave.
    public override void WriteLine(string? value) => _inner.WriteLine(value is null ? "" : Neutralize(value));

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync() => _inner.FlushAsync();
}

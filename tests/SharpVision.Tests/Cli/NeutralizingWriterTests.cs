using SharpVision.Cli;

namespace SharpVision.Tests.Cli;

public class NeutralizingWriterTests
{
    [Fact]
    public void WriteLine_FromTwoThreads_KeepsEveryLineWhole()
    {
        // serve writes its request log on a background task while the command prints its own lines on the same stderr; each
        // line must reach the synchronized inner writer in one call, or a reader sees "{log}serving ..." (a CI failure).
        var text = new StringWriter();
        var writer = NeutralizingWriter.Wrap(TextWriter.Synchronized(text));
        Parallel.For(0, 2, thread =>
        {
            for (int i = 0; i < 2000; i++) writer.WriteLine(thread == 0 ? $"serving {i} at http://127.0.0.1:{i}" : $"{{\"event\":{i}}}");
        });
        var lines = text.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4000, lines.Length);
        Assert.All(lines, line => Assert.True(line.StartsWith("serving ", StringComparison.Ordinal) ^ line.StartsWith("{\"event\":",
            StringComparison.Ordinal) && line.Count(c => c == '{') <= 1, line));
    }

    [Fact]
    public void WriteLine_ControlCharacters_BecomeVisibleEscapes()
    {
        var inner = new StringWriter();
        NeutralizingWriter.Wrap(inner).WriteLine("bag\u001B[2J\u202E");
        Assert.Equal("bag\\x1B[2J\\u202E" + Environment.NewLine, inner.ToString());
    }
}

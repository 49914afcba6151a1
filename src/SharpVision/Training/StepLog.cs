using SharpVision.IO;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpVision.Training;

/// <summary>One line of steps.jsonl: the state after optimizer step <see cref="Step"/> (1-based, counted over the whole run).</summary>
/// <param name="Step">Steps done so far (1 for the first step), as metrics.jsonl's "step".</param>
/// <param name="Epoch">The 1-based epoch the step belongs to.</param>
/// <param name="Loss">The minibatch's training loss (with the penalty, as the optimizer saw it).</param>
/// <param name="Accuracy">The share of the minibatch classified correctly before the update.</param>
/// <param name="LearningRate">The learning rate the step used.</param>
public sealed record StepMetrics(long Step, int Epoch, double Loss, double Accuracy, double LearningRate)
{
    /// <summary>{"step":…,"epoch":…,"loss":…,"accuracy":…,"lr":…}, numbers round-tripping exactly.</summary>
    public string ToJsonLine() => new JsonObject
    {
        ["step"] = Step,
        ["epoch"] = Epoch,
        ["loss"] = Loss,
        ["accuracy"] = Accuracy,
        ["lr"] = LearningRate,
    }.ToJsonString();

    /// <summary>Parses one line; null when it is not a complete, well-formed step line.</summary>
    public static StepMetrics? TryParse(string line)
    {
        try
        {
            if (OutsideJson.Parse(line) is not JsonObject o) return null;
            var step = new StepMetrics((long)o["step"]!, (int)o["epoch"]!, (double)o["loss"]!, (double)o["accuracy"]!, (double)o["lr"]!);
            return step.Step >= 1 && step.Epoch >= 1 ? step : null;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NullReferenceException)
        {
            return null;
        }
    }
}

/// <summary>
/// The per-step training log, <c>steps.jsonl</c>: one <see cref="StepMetrics"/> line per optimizer step, appended as
/// training goes. It is kept consistent with the checkpoint so that a resumed run's log has every step exactly once:
/// the log is flushed to disk before each checkpoint is written (so it always holds at least the checkpoint's steps),
/// and on resume it is cut back to the checkpoint's step, dropping the steps that will be redone and any line torn by a
/// crash.
/// </summary>
public sealed class StepLog : IDisposable
{
    /// <summary>"steps.jsonl".</summary>
    public const string FileName = "steps.jsonl";

    private readonly FileStream _stream;

    private StepLog(FileStream stream, string path, long steps)
    {
        _stream = stream;
        Path = path;
        Steps = steps;
    }

    /// <summary>The log file.</summary>
    public string Path { get; }

    /// <summary>Steps logged so far.</summary>
    public long Steps { get; private set; }

    /// <summary>
    /// Opens <c>steps.jsonl</c> in <paramref name="runDirectory"/> for a run that has done <paramref name="stepsDone"/>
    /// steps: keeps lines 1..stepsDone, removes everything after them, and appends from there (a fresh run starts empty).
    /// </summary>
    /// <exception cref="DataFormatException">The log lacks some of steps 1..stepsDone, or one of them is malformed.</exception>
    public static StepLog Open(string runDirectory, long stepsDone)
    {
        ArgumentNullException.ThrowIfNull(runDirectory);
        ArgumentOutOfRangeException.ThrowIfNegative(stepsDone);
        var path = System.IO.Path.Combine(runDirectory, FileName);
        long keepBytes = 0;
        if (stepsDone > 0)
        {
            if (!File.Exists(path))
                throw new DataFormatException(path, $"the per-step log is missing, but the checkpoint is at step {stepsDone}; its steps cannot be logged again");
            keepBytes = PrefixLength(path, stepsDone);
        }
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, 1 << 14);
        stream.SetLength(keepBytes);
        stream.Position = keepBytes;
        return new StepLog(stream, path, stepsDone);
    }

    // Byte length of the first `steps` lines, after checking they are steps 1..steps in order.
    private static long PrefixLength(string path, long steps)
    {
        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var line = new List<byte>(128);
        long offset = 0, seen = 0;
        int b;
        while (seen < steps && (b = reader.ReadByte()) >= 0)
        {
            offset++;
            if (b != '\n')
            {
                line.Add((byte)b);
                continue;
            }
            var text = Encoding.UTF8.GetString(line.ToArray());
            line.Clear();
            seen++;
            var parsed = StepMetrics.TryParse(text);
            if (parsed is null) throw new DataFormatException(path, $"line {seen} is not a step record: '{Shorten(text)}'");
            if (parsed.Step != seen) throw new DataFormatException(path, $"line {seen} records step {parsed.Step}; expected steps 1, 2, 3, … in order");
        }
        if (seen < steps)
            throw new DataFormatException(path, $"the per-step log holds {seen} complete steps, but the checkpoint is at step {steps}; the missing steps cannot be logged again");
        return offset;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";

    /// <summary>Appends the next step's line (handed to the operating system at once, on disk at the next <see cref="Sync"/>).</summary>
    /// <exception cref="ArgumentException">The step is not the next one.</exception>
    public void Append(StepMetrics step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Step != Steps + 1) throw new ArgumentException($"Step {step.Step} does not follow step {Steps}.", nameof(step));
        _stream.Write(Encoding.UTF8.GetBytes(step.ToJsonLine() + "\n"));
        _stream.Flush();
        Steps = step.Step;
    }

    /// <summary>Flushes the log to disk; called before a checkpoint names a step, so the log never lags it.</summary>
    public void Sync() => _stream.Flush(flushToDisk: true);

    /// <summary>Reads a complete log: every line must be the next step. A torn last line (a crash mid-write) is ignored.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">A malformed line or a step out of sequence (named with its line number).</exception>
    public static IReadOnlyList<StepMetrics> Read(string path)
    {
        var text = BoundedFile.ReadAllText(path, BoundedFile.MaxTextBytes, "a per-step log");
        var lines = text.Split('\n');
        var steps = new List<StepMetrics>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var parsed = StepMetrics.TryParse(lines[i]);
            bool torn = i == lines.Length - 1; // no newline after it
            if (parsed is null)
            {
                if (torn) break;
                throw new DataFormatException(path, $"line {i + 1} is not a step record: '{Shorten(lines[i])}'");
            }
            if (parsed.Step != steps.Count + 1)
                throw new DataFormatException(path, string.Create(CultureInfo.InvariantCulture, $"line {i + 1} records step {parsed.Step}; expected step {steps.Count + 1}"));
            steps.Add(parsed);
        }
        return steps;
    }

    public void Dispose() => _stream.Dispose();
}

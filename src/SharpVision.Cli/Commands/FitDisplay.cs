using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary>
/// Shows a fit's events on stderr: notes and epoch lines as log lines, progress as a bar when stderr is a terminal.
/// The library reports (<see cref="FitEvent"/>); this is the one place that decides how it looks.
/// </summary>
internal sealed class FitDisplay(CliConsole console, string indent = "", bool epochLines = true)
{
    /// <summary>Runs <paramref name="work"/> with a progress bar fed by the events it reports through the handler it is given.</summary>
    public T Run<T>(string description, Func<Action<FitEvent>, T> work) =>
        console.Steps(description, report => work(e => Handle(e, report)));

    private void Handle(FitEvent e, Action<long, long, string> report)
    {
        switch (e)
        {
            case FitProgress p:
                report(p.Done, p.Total, p.Detail.Length == 0 ? p.Stage : $"{p.Stage}: {p.Detail}");
                break;
            case FitNote n:
                console.Log(indent + n.Message);
                break;
            case EpochCompleted epoch when epochLines:
                console.Log(indent + EpochLine(epoch));
                break;
        }
    }

    /// <summary>"epoch 3/20: train loss 0.4321 acc 84.50%, val loss ... , lr 0.05, 12.30 s (4,390 images/s)".</summary>
    public static string EpochLine(EpochCompleted e)
    {
        var m = e.Metrics;
        var validation = m.ValidationAccuracy is double va ? FormattableString.Invariant($", val loss {m.ValidationLoss:F4} acc {va:P2}") : "";
        return FormattableString.Invariant(
            $"epoch {m.Epoch}/{e.Epochs}: train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2}{validation}, lr {m.LearningRate:G3}, {m.Seconds:F2} s ({e.TrainCount / Math.Max(m.Seconds, 1e-9):N0} images/s)");
    }
}

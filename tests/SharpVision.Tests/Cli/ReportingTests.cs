using SharpVision.Cli.Commands;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Reports;
using SharpVision.Runs;

namespace SharpVision.Tests.Cli;

/// <summary>How results are printed on the console, in JSON and in reports.</summary>
public class ReportingTests
{
    // Three queries per class, ranked so the true class is second for the last query of each class.
    private static (int[] Truth, Predictions Predictions, string[] Names) Ranked(int classes)
    {
        var names = Enumerable.Range(0, classes).Select(c => c == 0 ? "T-shirt/top" : $"class {c}").ToArray();
        var truth = Enumerable.Range(0, 3 * classes).Select(i => i / 3).ToArray();
        var ranking = new int[truth.Length * classes];
        for (int i = 0; i < truth.Length; i++)
        {
            int first = i % 3 == 2 ? (truth[i] + 1) % classes : truth[i];
            var order = new List<int> { first, truth[i] }.Distinct().ToList(); // the truth is first or second
            order.AddRange(Enumerable.Range(0, classes).Where(c => !order.Contains(c)));
            order.CopyTo(ranking, i * classes);
        }
        var probabilities = new float[truth.Length * classes];
        for (int i = 0; i < truth.Length; i++) probabilities[i * classes + ranking[i * classes]] = 1;
        return (truth, new Predictions(truth.Length, classes, probabilities, ranking), names);
    }

    [Fact]
    public void MetricsText_ConfusionMatrix_HasOneColumnPerClass_AndNumberedRows()
    {
        var (truth, predictions, names) = Ranked(10);
        var text = Reporting.MetricsText("test", ClassificationMetrics.Compute(truth, predictions, names));
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int header = lines.FindIndex(l => l.StartsWith("confusion matrix", StringComparison.Ordinal)) + 1;
        Assert.Equal(Enumerable.Range(0, 10).Select(j => j.ToString()), lines[header].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        for (int i = 0; i < 10; i++)
        {
            var row = lines[header + 1 + i];
            Assert.StartsWith($"{i} {names[i]}", row);
            var cells = row[(2 + names.Max(n => n.Length))..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            Assert.Equal(10, cells.Length); // one per predicted class: no 11th column repeating the row index
            Assert.Equal(2, cells[i]);
            Assert.Equal(1, cells[(i + 1) % 10]);
        }
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(5, false)]
    [InlineData(6, true)]
    [InlineData(10, true)]
    public void TopFive_ShownOnlyForMoreThanFiveClasses_InConsoleJsonAndReport(int classes, bool shown)
    {
        var (truth, predictions, names) = Ranked(classes);
        var metrics = ClassificationMetrics.Compute(truth, predictions, names);
        Assert.Equal(shown, !double.IsNaN(metrics.Top5Accuracy));
        if (shown) Assert.Equal(1.0, metrics.Top5Accuracy);
        Assert.Equal(shown, Reporting.MetricsText("test", metrics).Contains("top-5", StringComparison.Ordinal));
        Assert.Equal(shown, RunJson.Metrics(metrics)["top5_accuracy"] is not null);

        var test = new ImageDataset("t", 1, 2, 2, new byte[truth.Length * 4], truth, names);
        var page = RunReport.Build(new RunReportInput { Title = "t", Model = new FixedModel(names), Test = test, Predictions = predictions });
        Assert.Equal(shown, page.Contains("top-5", StringComparison.Ordinal));
    }

    // A model that only names its classes: the report takes the predictions it is given.
    private sealed class FixedModel(string[] names) : IImageClassifier
    {
        public string Kind => "fixed";
        public IReadOnlyList<string> ClassNames => names;
        public ImagePreparation Preparation => new(1, 2, 2);
        public Predictions Predict(ReadOnlySpan<byte> images, int threads = 0) => throw new NotSupportedException();
        public System.Text.Json.Nodes.JsonObject Describe() => new() { ["type"] = Kind };
        public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => throw new NotSupportedException();
    }
}

using System.Net;
using System.Text.RegularExpressions;
using SharpVision.Reports;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;

namespace SharpVision.Tests.Reports;

/// <summary>What the report's captions and summary say, for each kind of run on the sample.</summary>
[Collection(SampleRunsCollection.Name)]
public class ReportCaptionTests(SampleRuns runs)
{
    private static string Caption(string html, string figure) =>
        WebUtility.HtmlDecode(Regex.Match(html, $"data-figure=\"{figure}\">.*?<figcaption>(.*?)</figcaption>", RegexOptions.Singleline)
            .Groups[1].Value);

    private string Html(string kind) => File.ReadAllText(Path.Combine(runs[kind], "report.html"));

    [Theory]
    [InlineData("knn", "raw pixels")]
    [InlineData("softmax", "pixels standardized per position, what the linear classifier reads")]
    [InlineData("mlp", "penultimate-layer activations")]
    [InlineData("cnn2", "penultimate-layer activations")]
    public void EmbeddingMapCaption_SaysWhatTheImagesArePlacedBy(string kind, string expected)
    {
        var caption = Caption(Html(kind), RunReport.Figures.EmbeddingMap);
        Assert.Contains(expected, caption, StringComparison.Ordinal);
        if (kind is "knn" or "softmax") // no hidden layer: no penultimate layer
            Assert.DoesNotContain("penultimate", caption, StringComparison.Ordinal);
    }

    [Fact]
    public void LossCaptions_SpeakOfValidationOnlyWithASplit_AndExplainLabelSmoothing()
    {
        // softmax: 10 % validation by default, no label smoothing.
        var softmax = Html("softmax");
        Assert.Contains("validation loss after each epoch", Caption(softmax, RunReport.Figures.LossPerStep), StringComparison.Ordinal);
        Assert.DoesNotContain("smoothed", Caption(softmax, RunReport.Figures.LossPerEpoch), StringComparison.Ordinal);

        // cnn2's default recipe: no validation split, label smoothing 0.1, random flips.
        var cnn = Html("cnn2");
        string[] curves =
            [RunReport.Figures.LossPerStep, RunReport.Figures.LossPerEpoch, RunReport.Figures.AccuracyPerStep, RunReport.Figures.AccuracyPerEpoch];
        foreach (var figure in curves)
        {
            var caption = Caption(cnn, figure).Replace("held out no validation split", "", StringComparison.Ordinal);
            Assert.DoesNotContain("validation", caption, StringComparison.Ordinal);
        }
        var loss = Caption(cnn, RunReport.Figures.LossPerEpoch);
        Assert.Contains("label-smoothed targets (ε = 0.1)", loss, StringComparison.Ordinal);
        Assert.Contains("cannot fall below 0.500 for 10 classes", loss, StringComparison.Ordinal);
        Assert.Contains("randomly flipped", loss, StringComparison.Ordinal);
    }

    [Fact]
    public void SmoothedLossFloor_IsTheCrossEntropyOfPredictingTheSmoothedTarget()
    {
        // The engine's smoothed cross-entropy at logits log q (softmax gives q back) equals the floor; any other logits cost more.
        const int classes = 10;
        const float epsilon = 0.1f;
        double floor = RunReport.SmoothedLossFloor(epsilon, classes);
        Assert.Equal(0.5003, floor, 4);
        var q = Enumerable.Range(0, classes).Select(k => k == 3 ? 1 - epsilon + epsilon / classes : epsilon / classes).ToArray();
        var best = Ops.SoftmaxCrossEntropy(new Tensor(new Shape(1, classes), q.Select(p => MathF.Log(p)).ToArray()), [3], epsilon).Item();
        Assert.Equal(floor, best, 4);
        var confident = new Tensor(new Shape(1, classes), q.Select((p, k) => k == 3 ? 10f : 0f).ToArray());
        var sharper = Ops.SoftmaxCrossEntropy(confident, [3], epsilon).Item();
        Assert.True(sharper > floor);
    }

    [Theory]
    [InlineData("softmax")]
    [InlineData("cnn2")]
    public void Summary_ShowsDurationsForPeople(string kind)
    {
        var row = WebUtility.HtmlDecode(Regex.Match(Html(kind), "<th scope=\"row\">time</th><td>(.*?)</td>").Groups[1].Value);
        Assert.NotEmpty(row);
        Assert.DoesNotContain("_", row, StringComparison.Ordinal); // epoch_mean, ...
        Assert.DoesNotMatch(@"\d\.\d{2,} s", row); // 30.374 s
        Assert.Contains("per epoch ", row, StringComparison.Ordinal);
        Assert.Matches(@"^([a-z ]+ \d+(\.\d)?( ms| s|m \d\ds|h \d\dm)(, |$))+$", row);
    }

    [Theory]
    [InlineData(0.0123, "12 ms")]
    [InlineData(0.9994, "999 ms")]
    [InlineData(30.374, "30.4 s")]
    [InlineData(65.2, "1m 05s")]
    [InlineData(7384, "2h 03m")]
    [InlineData(-23.5, "-23.5 s")]
    public void DurationText_ReadsAsPeopleWriteIt(double seconds, string expected) => Assert.Equal(expected, DurationText.Format(seconds));
}

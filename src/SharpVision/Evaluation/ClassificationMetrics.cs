using SharpVision.Classic;

namespace SharpVision.Evaluation;

/// <summary>Precision, recall and F1 of one class.</summary>
/// <param name="Name">Class name.</param>
/// <param name="Precision">TP / (TP + FP); 0 when the class was never predicted.</param>
/// <param name="Recall">TP / (TP + FN); 0 when the class never occurs.</param>
/// <param name="F1">2PR / (P + R); 0 when both are 0.</param>
/// <param name="Support">How many samples truly belong to the class.</param>
public sealed record ClassMetrics(string Name, double Precision, double Recall, double F1, int Support);

/// <summary>
/// The standard classification report: accuracy, top-k accuracy, per-class precision/recall/F1 and the confusion
/// matrix (rows = true class, columns = predicted class).
/// </summary>
/// <remarks>
/// <see cref="Top5Accuracy"/> is NaN (shown nowhere: console, JSON null, report) when no ranking is known, and for
/// <see cref="Top5MinimumClasses"/> − 1 classes or fewer, where every label is among the top five by construction.
/// </remarks>
public sealed record ClassificationMetrics(
    int Count, double Accuracy, double Top5Accuracy, IReadOnlyList<string> ClassNames, int[][] ConfusionMatrix,
    IReadOnlyList<ClassMetrics> PerClass)
{
    /// <summary>Top-5 accuracy is reported only for at least this many classes (with 5 or fewer it is 1 by construction).</summary>
    public const int Top5MinimumClasses = 6;

    /// <summary>Unweighted mean F1 over classes that occur or are predicted.</summary>
    public double MacroF1 => PerClass.Count == 0 ? 0 : PerClass.Average(c => c.F1);

    /// <summary>Computes the report from true labels and predictions (top-5 from the rankings, for 6 classes or more).</summary>
    /// <exception cref="ArgumentException">When counts or class numbers disagree.</exception>
    public static ClassificationMetrics Compute(ReadOnlySpan<int> truth, Predictions predictions, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        if (truth.Length != predictions.Count)
            throw new ArgumentException($"{truth.Length} labels but {predictions.Count} predictions.", nameof(predictions));
        if (predictions.Classes != classNames.Count)
            throw new ArgumentException($"Predictions cover {predictions.Classes} classes, names {classNames.Count}.", nameof(classNames));
        var report = Compute(truth, predictions.Labels(), classNames);
        if (classNames.Count < Top5MinimumClasses) return report;
        int top5 = 0;
        for (int i = 0; i < truth.Length; i++)
            if (predictions.Top(i, 5).Contains(truth[i])) top5++;
        return report with { Top5Accuracy = truth.Length == 0 ? 0 : (double)top5 / truth.Length };
    }

    /// <summary>Computes the report from true and predicted labels (top-5 accuracy is then NaN: no ranking is known).</summary>
    public static ClassificationMetrics Compute(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted, IReadOnlyList<string> classNames)
    {
        if (truth.Length != predicted.Length)
            throw new ArgumentException($"{truth.Length} labels but {predicted.Length} predictions.", nameof(predicted));
        int c = classNames.Count;
        var confusion = new int[c][];
        for (int i = 0; i < c; i++) confusion[i] = new int[c];
        int correct = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            if ((uint)truth[i] >= (uint)c || (uint)predicted[i] >= (uint)c)
                throw new ArgumentException($"Sample {i}: label {truth[i]} or prediction {predicted[i]} is outside 0..{c - 1}.");
            confusion[truth[i]][predicted[i]]++;
            if (truth[i] == predicted[i]) correct++;
        }
        var perClass = new ClassMetrics[c];
        for (int k = 0; k < c; k++)
        {
            int tp = confusion[k][k];
            int support = confusion[k].Sum();
            int predictedAs = 0;
            for (int r = 0; r < c; r++) predictedAs += confusion[r][k];
            double precision = predictedAs == 0 ? 0 : (double)tp / predictedAs;
            double recall = support == 0 ? 0 : (double)tp / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass[k] = new ClassMetrics(classNames[k], precision, recall, f1, support);
        }
        double accuracy = truth.Length == 0 ? 0 : (double)correct / truth.Length;
        return new ClassificationMetrics(truth.Length, accuracy, double.NaN, classNames, confusion, perClass);
    }
}

using System.Text.Json.Nodes;
using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Reports;

/// <summary>
/// One run of each kind on the shipped sample, made once through the real command line and shared by the report tests
/// (the CLI tests, and the browser test): k-NN, softmax, MLP, a tiny cnn2 and a k-NN cross-validation with --test.
/// </summary>
public sealed class SampleRuns : IDisposable
{
    private readonly TempFolder _temp = new();

    public SampleRuns()
    {
        Knn = Train("knn", "--model", "knn", "--k", "5", "--metric", "l1");
        Softmax = Train("softmax", "--model", "softmax", "--epochs", "3");
        Mlp = Train("mlp", "--model", "mlp", "--hidden", "64", "--epochs", "3");
        Cnn = Train("cnn2", "--model", "cnn2", "--epochs", "1", "--train-limit", "300", "--batch-size", "32");
        Cv = Path.Combine(_temp.Path, "cv");
        var (code, _, err) = Run("cv", "--data", SampleDir, "--k", "1,3,5", "--metric", "l1,l2", "--folds", "3", "--train-limit", "600", "--test", "--threads", "2", "--out", Cv);
        if (code != 0) throw new InvalidOperationException($"cv failed ({code}): {err}");
    }

    public string Knn { get; }
    public string Softmax { get; }
    public string Mlp { get; }
    public string Cnn { get; }
    public string Cv { get; }

    /// <summary>Run kind → folder, for theories.</summary>
    public string this[string kind] => kind switch
    {
        "knn" => Knn,
        "softmax" => Softmax,
        "mlp" => Mlp,
        "cnn2" => Cnn,
        "cv" => Cv,
        _ => throw new ArgumentException(kind),
    };

    /// <summary>The figures each kind's report must show (RunReport.Figures ids).</summary>
    public static IReadOnlyList<string> ExpectedFigures(string kind)
    {
        string[] training = ["loss-per-step", "accuracy-per-step", "learning-rate", "loss-per-epoch", "accuracy-per-epoch"];
        string[] evaluation = ["confusion-matrix", "confused-pairs", "misclassified", "embedding-map"];
        return kind switch
        {
            "knn" => [.. evaluation, "nearest-neighbors"],
            "softmax" => [.. training, .. evaluation, "templates"],
            "mlp" => [.. training, .. evaluation],
            "cnn2" => [.. training, .. evaluation, "first-layer-filters", "feature-maps"],
            "cv" => ["cv-accuracy", .. evaluation, "nearest-neighbors"],
            _ => throw new ArgumentException(kind),
        };
    }

    public static readonly string[] AllKinds = ["knn", "softmax", "mlp", "cnn2", "cv"];

    public static readonly TheoryData<string> Kinds = new(AllKinds);

    private string Train(string name, params string[] args)
    {
        var dir = Path.Combine(_temp.Path, name);
        var (code, output, err) = Run(["train", "--data", SampleDir, "--threads", "2", "--out", dir, "--json", .. args]);
        if (code != 0) throw new InvalidOperationException($"train {name} failed ({code}): {err}");
        if ((string?)JsonNode.Parse(output)!["report"] != Path.Combine(dir, "report.html")) throw new InvalidOperationException($"train {name} wrote no report: {err}");
        return dir;
    }

    public void Dispose() => _temp.Dispose();
}

[CollectionDefinition(Name)]
public sealed class SampleRunsCollection : ICollectionFixture<SampleRuns>
{
    public const string Name = "sample runs";
}

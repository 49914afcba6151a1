using System.CommandLine;
using SharpVision.Classic;
using SharpVision.Serialization;

namespace SharpVision.Cli.Commands;

/// <summary>The k-NN flags. For `cv` they take comma-separated lists.</summary>
internal sealed class KnnOptions
{
    public Option<string> Model { get; }
    public Option<string> K { get; }
    public Option<string> Metric { get; }
    public Option<string> Weights { get; }

    public KnnOptions(bool lists)
    {
        string many = lists ? " (comma-separated list to compare)" : "";
        // train's default is the CNN recipe (the main job); cv compares k-NN settings.
        Model = new("--model") { Description = lists ? "Model: knn" : "Model: cnn2 (default CNN recipe), resnet8, resnet20, mlp, svm, softmax, logistic or knn", DefaultValueFactory = _ => lists ? "knn" : "cnn2" };
        K = new("--k") { Description = "Neighbours that vote" + many, DefaultValueFactory = _ => lists ? "1,3,5,7,9" : "5" };
        Metric = new("--metric") { Description = "Distance: l1 (Manhattan) or l2 (Euclidean)" + many, DefaultValueFactory = _ => lists ? "l1,l2" : "l2" };
        Weights = new("--weights") { Description = "Votes: uniform, or distance (1/d)" + many, DefaultValueFactory = _ => "uniform" };
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(K);
        command.Options.Add(Metric);
        command.Options.Add(Weights);
    }

    public void CheckModel(ParseResult parse)
    {
        var model = parse.GetValue(Model);
        if (!string.Equals(model, "knn", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"cv compares k-NN settings; --model {model} is not supported there yet (use train).");
    }

    public int[] Ks(ParseResult parse) => Split<int>(parse.GetValue(K)!, "--k", s => int.TryParse(s, out int k) && k >= 1 ? k : (int?)null);

    public DistanceMetric[] Metrics(ParseResult parse) => Split<DistanceMetric>(parse.GetValue(Metric)!, "--metric", ModelStore.ParseMetric);

    public NeighborWeighting[] Weightings(ParseResult parse) => Split<NeighborWeighting>(parse.GetValue(Weights)!, "--weights", s => s.ToLowerInvariant() switch
    {
        "uniform" => NeighborWeighting.Uniform,
        "distance" => NeighborWeighting.Distance,
        _ => (NeighborWeighting?)null,
    });

    private static T[] Split<T>(string text, string flag, Func<string, T?> parse) where T : struct
    {
        var values = new List<T>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            values.Add(parse(part) ?? throw new UsageException($"{flag}: invalid value '{part}'."));
        if (values.Count == 0) throw new UsageException($"{flag} needs a value.");
        return values.Distinct().ToArray();
    }
}

using SharpVision.IO;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Optim;
using SharpVision.Serialization;
using SharpVision.Tensors;

namespace SharpVision.Training;

/// <summary>
/// A resumable snapshot of training, in the same safe safetensors layout as model files: parameters
/// ("param.NAME"), optimizer state ("optim.NAME"), the best weights so far under early stopping ("best.NAME"),
/// and in <c>__metadata__</c> the options, the position (epoch, step, running sums) and the metrics so far.
/// Written atomically, so a crash (even SIGKILL) mid-write leaves the previous checkpoint intact.
/// </summary>
public sealed class Checkpoint
{
    /// <summary>"checkpoint.safetensors".</summary>
    public const string FileName = "checkpoint.safetensors";

    private Checkpoint(TrainingOptions options, TrainingPosition position, IReadOnlyList<EpochMetrics> metrics, SafeTensorsFile file, string path)
    {
        Options = options;
        Position = position;
        Metrics = metrics;
        _file = file;
        _path = path;
        var best = file.Tensors.Where(t => t.Name.StartsWith("best.", StringComparison.Ordinal)).ToList();
        Best = best.Count == 0 ? null : best.ToDictionary(t => t.Name["best.".Length..], t => t.ToSingle());
    }

    private readonly SafeTensorsFile _file;
    private readonly string _path;

    public TrainingOptions Options { get; }

    public TrainingPosition Position { get; }

    public IReadOnlyList<EpochMetrics> Metrics { get; }

    /// <summary>Best parameters so far (early stopping), by name; null when not tracked.</summary>
    public Dictionary<string, float[]>? Best { get; }

    /// <summary>Extra metadata saved with the checkpoint (the command line's configuration, for instance).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _file.Metadata;

    /// <summary>Writes a checkpoint atomically.</summary>
    public static void Save(string path, TrainingOptions options, IReadOnlyList<(string Name, Tensor Parameter)> parameters, Optimizer? optimizer,
        EarlyStopping? stopping, IReadOnlyList<EpochMetrics> metrics, TrainingPosition position, Dictionary<string, float[]>? best,
        IReadOnlyDictionary<string, string>? extraMetadata = null, IReadOnlyList<(string Name, float[] Values)>? buffers = null)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "sharpvision-checkpoint",
            ["format_version"] = "1",
            ["training"] = options.ToJson().ToJsonString(),
            ["position"] = JsonSerializer.Serialize(position),
            ["metrics"] = new JsonArray(metrics.Select(m => (JsonNode)m.ToJson()).ToArray()).ToJsonString(),
        };
        if (stopping is not null) metadata["early_stopping"] = JsonSerializer.Serialize(stopping.ExportState());
        if (extraMetadata is not null) foreach (var (k, v) in extraMetadata) metadata.TryAdd(k, v);
        var entries = new List<TensorEntry>();
        foreach (var (name, p) in parameters) entries.Add(TensorEntry.FromSingle("param." + name, p.Data, p.Shape.ToArray().Select(x => (long)x).ToArray()));
        foreach (var (name, values) in buffers ?? []) entries.Add(TensorEntry.FromSingle("buffer." + name, values, values.Length));
        if (optimizer is not null) foreach (var (name, values) in optimizer.ExportState()) entries.Add(TensorEntry.FromSingle("optim." + name, values, values.Length));
        if (best is not null) foreach (var (name, values) in best) entries.Add(TensorEntry.FromSingle("best." + name, values, values.Length));
        SafeTensorsFile.Write(path, metadata, entries);
    }

    /// <summary>Reads and validates a checkpoint (the safetensors rules, then the training fields).</summary>
    /// <exception cref="FileNotFoundException">No checkpoint there.</exception>
    /// <exception cref="DataFormatException">Malformed or not a checkpoint.</exception>
    public static Checkpoint Load(string path)
    {
        var file = SafeTensorsFile.Read(path);
        string Get(string key) => file.Metadata.TryGetValue(key, out var v) ? v : throw new DataFormatException(path, $"not a SharpVision checkpoint: __metadata__ has no '{key}'");
        if (Get("format") != "sharpvision-checkpoint") throw new DataFormatException(path, "not a SharpVision checkpoint (__metadata__.format is not 'sharpvision-checkpoint')");
        if (Get("format_version") != "1") throw new DataFormatException(path, $"checkpoint format version {Get("format_version")} is not supported (this build reads 1)");
        try
        {
            var options = TrainingOptions.FromJson(Get("training"));
            var position = JsonSerializer.Deserialize<TrainingPosition>(Get("position")) ?? throw new FormatException("null position");
            if (position.Epoch < 0 || position.StepInEpoch < 0 || position.GlobalStep < 0 || position.Seen < 0) throw new FormatException("negative position");
            var metrics = (OutsideJson.Parse(Get("metrics")) as JsonArray ?? throw new FormatException("metrics is not an array"))
                .Select(EpochMetrics.FromJson).ToList();
            foreach (var t in file.Tensors)
                if (t.DType != TensorDType.F32) throw new FormatException($"tensor '{t.Name}' is {t.DType}, expected F32");
            return new Checkpoint(options, position, metrics, file, path);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NullReferenceException or ArgumentException)
        {
            throw new DataFormatException(path, $"inconsistent checkpoint: {e.Message}", e);
        }
    }

    /// <summary>Copies parameters, optimizer and early-stopping state into a freshly built run.</summary>
    /// <exception cref="DataFormatException">A parameter is missing or has another shape.</exception>
    public void Restore(IReadOnlyList<(string Name, Tensor Parameter)> parameters, Optimizer optimizer, EarlyStopping? stopping, IReadOnlyList<(string Name, float[] Values)>? buffers = null)
    {
        foreach (var (name, values) in buffers ?? [])
        {
            var entry = _file.Find("buffer." + name) ?? throw new DataFormatException(_path, $"checkpoint has no buffer '{name}'");
            var stored = entry.ToSingle();
            if (stored.Length != values.Length) throw new DataFormatException(_path, $"buffer '{name}' has {stored.Length} values in the checkpoint, {values.Length} in the model");
            stored.CopyTo(values, 0);
        }
        foreach (var (name, p) in parameters)
        {
            var entry = _file.Find("param." + name) ?? throw new DataFormatException(_path, $"checkpoint has no parameter '{name}'");
            if (!entry.Shape.SequenceEqual(p.Shape.ToArray().Select(x => (long)x)))
                throw new DataFormatException(_path, $"parameter '{name}' is [{string.Join(", ", entry.Shape)}] in the checkpoint, {p.Shape} in the model");
            entry.ToSingle().CopyTo(p.Data, 0);
        }
        var state = _file.Tensors.Where(t => t.Name.StartsWith("optim.", StringComparison.Ordinal)).Select(t => (t.Name["optim.".Length..], t.ToSingle())).ToList();
        try
        {
            optimizer.ImportState(state);
            if (stopping is not null && _file.Metadata.TryGetValue("early_stopping", out var s))
                stopping.ImportState(JsonSerializer.Deserialize<EarlyStoppingState>(s) ?? throw new FormatException("null early stopping state"));
        }
        catch (Exception e) when (e is ArgumentException or FormatException or JsonException or KeyNotFoundException)
        {
            throw new DataFormatException(_path, $"optimizer state does not fit this model: {e.Message}", e);
        }
    }
}

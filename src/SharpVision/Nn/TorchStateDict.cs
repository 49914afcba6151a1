using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.IO;
using SharpVision.Serialization;

namespace SharpVision.Nn;

/// <summary>
/// A network model as a PyTorch state_dict in a safetensors file: tensor names, shapes and layouts are those of the
/// same network in PyTorch (torch_peers.py's cnn2, resnet8 and mlp: nn.Sequential indices, "3.c1.weight",
/// "1.running_mean", plus "num_batches_tracked" so load_state_dict(strict=True) accepts it), and __metadata__ carries
/// what PyTorch's state_dict does not: architecture, loss, normalization (mode, mean, scale), class names, preparation.
/// bench/peers/torch_state_dict.py loads it into PyTorch and saves it back; <see cref="Load"/> reads such a file.
/// </summary>
public static class TorchStateDict
{
    /// <summary>The __metadata__ "format" of these files.</summary>
    public const string Format = "pytorch_state_dict";

    /// <summary>Writes <paramref name="model"/>'s state_dict atomically.</summary>
    /// <exception cref="NotSupportedException">The model reads hand-crafted features (no PyTorch counterpart).</exception>
    public static void Save(string path, NetworkClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Features is not null) throw new NotSupportedException($"The {model.Kind} model reads hand-crafted features, which have no PyTorch counterpart; export models trained on pixels.");
        var n = model.Normalizer;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = Format,
            ["model"] = model.Kind,
            ["architecture"] = Architecture.ToJson(model.Network).ToJsonString(),
            ["loss"] = NetworkModelFile.LossName(model.Loss),
            ["normalization"] = new JsonObject
            {
                ["mode"] = Normalizer.Name(n.Mode), ["channels"] = n.Channels, ["sample_size"] = n.SampleSize,
                ["mean"] = new JsonArray(n.Mean.Select(v => (JsonNode)v).ToArray()), ["scale"] = new JsonArray(n.Scale.Select(v => (JsonNode)v).ToArray()),
            }.ToJsonString(),
            ["class_names"] = JsonSerializer.Serialize(model.ClassNames),
            ["preparation"] = new JsonObject { ["channels"] = model.Preparation.Channels, ["height"] = model.Preparation.Height, ["width"] = model.Preparation.Width }.ToJsonString(),
        };
        var entries = new List<TensorEntry>();
        foreach (var (name, p) in model.Network.NamedParameters())
            entries.Add(TensorEntry.FromSingle(name, p.Data, p.Shape.ToArray().Select(d => (long)d).ToArray()));
        foreach (var (name, values) in model.Network.NamedBuffers())
        {
            entries.Add(TensorEntry.FromSingle(name, values, values.Length));
            if (name.EndsWith(".running_var", StringComparison.Ordinal))
                entries.Add(new TensorEntry(name[..^".running_var".Length] + ".num_batches_tracked", TensorDType.I64, [], new byte[8]));
        }
        SafeTensorsFile.Write(path, metadata, [.. entries.OrderBy(e => e.Name, StringComparer.Ordinal)]);
    }

    /// <summary>
    /// Reads a state_dict back as a SharpVision model: architecture, loss, normalization, classes and preparation
    /// from the file's metadata, or from <paramref name="like"/> (a model of the same architecture) when the file
    /// has none, as a state_dict saved by plain PyTorch code.
    /// </summary>
    /// <exception cref="DataFormatException">A tensor missing, extra, of another shape or not finite; or no architecture to load into.</exception>
    public static NetworkClassifier Load(string path, NetworkClassifier? like = null)
    {
        var file = SafeTensorsFile.Read(path);
        var meta = file.Metadata;
        try
        {
            var model = like is null ? FromMetadata(path, meta) : Clone(like);
            Fill(path, file, model.Network);
            return model;
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException or InvalidOperationException or NullReferenceException)
        {
            throw new DataFormatException(path, $"not a state_dict of a SharpVision network: {e.Message}", e);
        }
    }

    private static NetworkClassifier FromMetadata(string path, IReadOnlyDictionary<string, string> meta)
    {
        string Get(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new DataFormatException(path, $"__metadata__ has no '{key}': pass a model of the same architecture (--like) to load a plain PyTorch state_dict");
        var network = Architecture.FromJson(JsonNode.Parse(Get("architecture")) as JsonArray ?? throw new FormatException("architecture is not a JSON array"));
        var loss = NetworkModelFile.ParseLoss(Get("loss")) ?? throw new FormatException($"unknown loss '{Get("loss")}'");
        var prep = JsonNode.Parse(Get("preparation"))!.AsObject();
        var preparation = new ImagePreparation((int)prep["channels"]!, (int)prep["height"]!, (int)prep["width"]!);
        if (preparation.Channels is not (1 or 3) || preparation.Height is < 1 or > 8192 || preparation.Width is < 1 or > 8192) throw new FormatException($"invalid preparation {Get("preparation")}");
        var norm = JsonNode.Parse(Get("normalization"))!.AsObject();
        var mode = Normalizer.Parse((string?)norm["mode"]) ?? throw new FormatException($"unknown normalization {norm["mode"]}");
        var normalizer = new Normalizer(mode, preparation.Channels, preparation.Channels * preparation.Height * preparation.Width,
            norm["mean"]!.AsArray().Select(v => (float)v!).ToArray(), norm["scale"]!.AsArray().Select(v => (float)v!).ToArray());
        var classNames = JsonSerializer.Deserialize<string[]>(Get("class_names")) ?? throw new FormatException("class_names is null");
        return new NetworkClassifier(meta.GetValueOrDefault("model", "mlp"), network, loss, normalizer, preparation, classNames);
    }

    private static NetworkClassifier Clone(NetworkClassifier like) =>
        new(like.Kind, Architecture.FromJson(Architecture.ToJson(like.Network)), like.Loss, like.Normalizer, like.Preparation, like.ClassNames);

    // Every parameter and buffer from the tensor of its name (F32, its shape, finite); nothing else but num_batches_tracked.
    private static void Fill(string path, SafeTensorsFile file, Sequential network)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, p) in network.NamedParameters())
        {
            expected.Add(name);
            Copy(path, file, name, p.Shape.ToArray().Select(d => (long)d).ToArray(), p.Data);
        }
        foreach (var (name, values) in network.NamedBuffers())
        {
            expected.Add(name);
            Copy(path, file, name, [values.Length], values);
        }
        var extra = file.Tensors.Select(t => t.Name).FirstOrDefault(n => !expected.Contains(n) && !n.EndsWith(".num_batches_tracked", StringComparison.Ordinal));
        if (extra is not null) throw new DataFormatException(path, $"tensor '{extra}' is not part of the {network.Layers.Count}-layer architecture");
    }

    private static void Copy(string path, SafeTensorsFile file, string name, long[] shape, float[] destination)
    {
        var entry = file.Find(name) ?? throw new DataFormatException(path, $"the architecture needs tensor '{name}', which the file lacks");
        if (entry.DType != TensorDType.F32 || !entry.Shape.SequenceEqual(shape))
            throw new DataFormatException(path, $"'{name}' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected F32 [{string.Join(", ", shape)}]");
        var values = entry.ToSingle();
        if (values.Any(v => !float.IsFinite(v))) throw new DataFormatException(path, $"'{name}' holds NaN or infinite values");
        values.CopyTo(destination, 0);
    }
}

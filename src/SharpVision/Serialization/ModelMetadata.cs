using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.IO;

namespace SharpVision.Serialization;

/// <summary>
/// The metadata every SharpVision model file carries in its safetensors header: the format and its version, the model
/// type (from a closed list), class names and image preparation, as strings (JSON where structured). Model families
/// add their own keys; this class writes and checks the shared ones.
/// </summary>
public static class ModelMetadata
{
    /// <summary>The model file format version this build writes and reads.</summary>
    public const string FormatVersion = "1";

    /// <summary>The shared keys of a model of <paramref name="kind"/>.</summary>
    public static Dictionary<string, string> Create(string kind, IReadOnlyList<string> classNames, ImagePreparation preparation)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(preparation);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "sharpvision",
            ["format_version"] = FormatVersion,
            ["model"] = kind,
            ["class_names"] = JsonSerializer.Serialize(classNames),
            ["preparation"] = new JsonObject
            {
                ["channels"] = preparation.Channels, ["height"] = preparation.Height, ["width"] = preparation.Width,
            }.ToJsonString(),
        };
    }

    /// <summary>Adds <paramref name="extra"/> keys that <paramref name="metadata"/> does not already have (a model's own keys win).</summary>
    public static void AddExtra(Dictionary<string, string> metadata, IReadOnlyDictionary<string, string>? extra)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (extra is null) return;
        foreach (var (key, value) in extra) metadata.TryAdd(key, value);
    }

    /// <summary>The model type of a SharpVision model file, after checking its format and version.</summary>
    /// <exception cref="DataFormatException">Not a SharpVision model, or another format version.</exception>
    public static string Kind(string path, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (Require(path, metadata, "format") != "sharpvision")
            throw new DataFormatException(path, "not a SharpVision model file (__metadata__.format is not 'sharpvision')");
        var version = Require(path, metadata, "format_version");
        if (version != FormatVersion)
            throw new DataFormatException(path, $"model format version {version} is not supported (this build reads {FormatVersion})");
        return Require(path, metadata, "model");
    }

    /// <summary>The value of <paramref name="key"/>.</summary>
    /// <exception cref="DataFormatException">The key is missing.</exception>
    public static string Require(string path, IReadOnlyDictionary<string, string> metadata, string key)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return metadata.TryGetValue(key, out var value) ? value : throw new DataFormatException(path, $"not a SharpVision model: __metadata__ has no '{key}'");
    }

    /// <summary>The class names (at least one, none empty).</summary>
    /// <exception cref="DataFormatException">Missing or not a JSON array of strings.</exception>
    public static string[] ClassNames(string path, IReadOnlyDictionary<string, string> metadata)
    {
        try
        {
            var names = JsonSerializer.Deserialize<string[]>(Require(path, metadata, "class_names"));
            if (names is null || names.Length == 0 || names.Any(string.IsNullOrEmpty))
                throw new DataFormatException(path, "class_names must be a non-empty list of non-empty names");
            return names;
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"class_names is not a JSON list of strings: {e.Message}", e);
        }
    }

    /// <summary>The image preparation (1 or 3 channels, at most 2²⁴ pixels).</summary>
    /// <exception cref="DataFormatException">Missing, malformed or out of range.</exception>
    public static ImagePreparation Preparation(string path, IReadOnlyDictionary<string, string> metadata)
    {
        var text = Require(path, metadata, "preparation");
        try
        {
            var node = OutsideJson.Parse(text) as JsonObject ?? throw new DataFormatException(path, $"preparation {text} is not a JSON object");
            int channels = (int)node["channels"]!, height = (int)node["height"]!, width = (int)node["width"]!;
            if (channels is not (1 or 3) || height < 1 || width < 1 || (long)height * width > 1 << 24)
                throw new DataFormatException(path, $"invalid preparation {text}");
            return new ImagePreparation(channels, height, width);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new DataFormatException(path, $"invalid preparation {text}: {e.Message}", e);
        }
    }

    /// <summary>Tensor <paramref name="name"/>, which the model needs.</summary>
    /// <exception cref="DataFormatException">The file lacks it.</exception>
    public static TensorEntry RequireTensor(string path, SafeTensorsFile file, string name, string owner)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.Find(name) ?? throw new DataFormatException(path, $"{owner} has no '{name}' tensor");
    }

    /// <summary>Refuses tensors other than <paramref name="known"/> (a file holds exactly what its model needs).</summary>
    /// <exception cref="DataFormatException">An unexpected tensor, named.</exception>
    public static void RejectUnknownTensors(string path, SafeTensorsFile file, IReadOnlySet<string> known, string owner)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(known);
        var extra = file.Tensors.Select(t => t.Name).FirstOrDefault(n => !known.Contains(n));
        if (extra is not null) throw new DataFormatException(path, $"tensor '{extra}' is not part of {owner}");
    }
}

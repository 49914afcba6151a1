using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpVision.IO;

/// <summary>
/// Parses JSON that came from outside (model metadata, checkpoints, a run folder's files): an object that names a
/// property twice is refused as malformed when parsed (a <see cref="JsonException"/>, which readers turn into a
/// DataFormatException), instead of throwing ArgumentException later, wherever the property is first read.
/// </summary>
public static class OutsideJson
{
    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    /// <summary>The parsed node (null for the literal null).</summary>
    /// <exception cref="JsonException">Not JSON, nested deeper than 64 levels, or an object with a duplicate property name.</exception>
    public static JsonNode? Parse(string text) => JsonNode.Parse(text, documentOptions: Strict);
}

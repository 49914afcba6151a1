namespace SharpVision.Onnx;

/// <summary>
/// A node's attributes read by name with defaults, remembering which were read, so that an attribute the importer
/// does not understand is reported (<see cref="RefuseUnread"/>) rather than silently ignored.
/// </summary>
internal sealed class NodeAttributes
{
    private readonly OnnxNode _node;
    private readonly Dictionary<string, OnnxAttribute> _byName = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <exception cref="OnnxImportException">Two attributes with one name, or an attribute referring to a function's.</exception>
    public NodeAttributes(OnnxNode node)
    {
        _node = node;
        foreach (var a in node.Attributes)
        {
            if (a.RefAttributeName.Length > 0) throw Error($"attribute '{a.Name}' refers to a function attribute, which SharpVision does not support");
            if (!_byName.TryAdd(a.Name, a)) throw Error($"attribute '{a.Name}' appears twice");
        }
    }

    public bool Has(string name) => _byName.ContainsKey(name);

    public long Int(string name, long fallback) => Get(name, OnnxAttributeType.Int)?.Int ?? fallback;

    public float Float(string name, float fallback) => Get(name, OnnxAttributeType.Float)?.Float ?? fallback;

    public string String(string name, string fallback) => Get(name, OnnxAttributeType.String)?.Text ?? fallback;

    /// <summary>An INTS attribute, or null when absent.</summary>
    public long[]? Ints(string name) => Get(name, OnnxAttributeType.Ints)?.Ints;

    public float[]? Floats(string name) => Get(name, OnnxAttributeType.Floats)?.Floats;

    public OnnxTensor? Tensor(string name) => Get(name, OnnxAttributeType.Tensor)?.Tensor;

    /// <summary>Marks attributes that do not change the computation (e.g. MaxPool's storage_order for its unused indices).</summary>
    public void Ignore(params string[] names)
    {
        foreach (var name in names) _read.Add(name);
    }

    /// <summary>Throws for the first attribute nobody read: the importer would not honour it.</summary>
    public void RefuseUnread()
    {
        foreach (var a in _node.Attributes)
            if (!_read.Contains(a.Name)) throw Error($"attribute '{a.Name}' is not supported");
    }

    /// <summary>An import error naming this node and its operator.</summary>
    public OnnxImportException Error(string reason) => new($"{_node.Describe()}: {reason}");

    private OnnxAttribute? Get(string name, OnnxAttributeType type)
    {
        _read.Add(name);
        if (!_byName.TryGetValue(name, out var a)) return null;
        if (a.Type != type) throw Error($"attribute '{name}' is {a.Type}, expected {type}");
        return a;
    }
}

/// <summary>A graph the engine cannot run (unsupported operator, attribute or layout); the message names the node.</summary>
public sealed class OnnxImportException(string message) : Exception(message);

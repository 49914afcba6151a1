using System.Globalization;
using System.Text.Json.Nodes;

namespace SharpVision.Nn;

/// <summary>One layer as data: a type from <see cref="Architecture"/>'s closed list and numeric hyperparameters.</summary>
public sealed record LayerSpec(string Type, Dictionary<string, double> Values);

/// <summary>
/// A network's architecture as data, so model files name layers from a closed list and never code:
/// <c>[{"type":"flatten"},{"type":"linear","in":784,"out":256,"bias":1},{"type":"relu"},...]</c>.
/// </summary>
public static class Architecture
{
    /// <summary>The layer types a model file may contain.</summary>
    public static IReadOnlyList<string> KnownLayers { get; } = ["flatten", "linear", "relu", "tanh", "sigmoid", "leaky_relu", "dropout"];

    /// <summary>The layers of <paramref name="network"/> as a JSON array.</summary>
    public static JsonArray ToJson(Sequential network)
    {
        var array = new JsonArray();
        foreach (var layer in network.Layers)
        {
            var spec = layer.Spec;
            var node = new JsonObject { ["type"] = spec.Type };
            foreach (var (key, value) in spec.Values) node[key] = value == Math.Floor(value) && Math.Abs(value) < int.MaxValue ? (int)value : value;
            array.Add(node);
        }
        return array;
    }

    /// <summary>Builds a network (parameters zeroed) from its JSON description.</summary>
    /// <exception cref="FormatException">Unknown layer type, missing or invalid hyperparameter (the layer's index is named).</exception>
    public static Sequential FromJson(JsonArray layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new FormatException("the architecture has no layers");
        var modules = new List<Module>();
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is not JsonObject layer) throw new FormatException($"layer {i} is not an object");
            string type = layer["type"]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string)layer["type"]! : throw new FormatException($"layer {i} has no type");
            int Int(string key, int min, int max)
            {
                var node = layer[key] ?? throw new FormatException($"layer {i} ({type}) has no '{key}'");
                double v = node.GetValue<double>();
                if (v != Math.Floor(v) || v < min || v > max) throw new FormatException($"layer {i} ({type}): '{key}' = {v.ToString(CultureInfo.InvariantCulture)} is not an integer in [{min}, {max}]");
                return (int)v;
            }
            modules.Add(type switch
            {
                "flatten" => new Flatten(),
                "linear" => new Linear(Int("in", 1, 1 << 24), Int("out", 1, 1 << 24), Int("bias", 0, 1) == 1),
                "relu" => new Activation(ActivationKind.Relu),
                "tanh" => new Activation(ActivationKind.Tanh),
                "sigmoid" => new Activation(ActivationKind.Sigmoid),
                "leaky_relu" => new Activation(ActivationKind.LeakyRelu),
                "dropout" => layer["p"]?.GetValue<double>() is double p && p >= 0 && p < 1 ? new Dropout((float)p) : throw new FormatException($"layer {i} (dropout) needs 'p' in [0, 1)"),
                _ => throw new FormatException($"layer {i} has unknown type '{type}' (known: {string.Join(", ", KnownLayers)})"),
            });
        }
        return new Sequential(modules);
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Tensors.Kernels;

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
    public static IReadOnlyList<string> KnownLayers { get; } =
        ["flatten", "linear", "relu", "tanh", "sigmoid", "leaky_relu", "gelu", "dropout", "conv2d", "max_pool2d", "avg_pool2d", "global_avg_pool2d",
         "batch_norm1d", "batch_norm2d", "dropout2d", "residual", "layer_norm", "patch_embedding", "channel_tokens", "encoder_block", "select_token",
         "sequence_pool", "imagenet_input"];

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
    /// <param name="layers">The description (<see cref="ToJson"/>'s output).</param>
    /// <param name="maxValues">
    /// Refuse, before allocating anything, an architecture whose parameters and buffers hold more values in all than this
    /// (a model file passes the values its tensors hold, so a header cannot ask for layers its data does not contain).
    /// </param>
    /// <param name="maxTensorValues">Likewise for the largest single parameter or buffer.</param>
    /// <exception cref="FormatException">
    /// Unknown layer type, missing or invalid hyperparameter, or layers larger than the limits (the layer's index is named).
    /// </exception>
    public static Sequential FromJson(JsonArray layers, long maxValues = long.MaxValue, long maxTensorValues = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new FormatException("the architecture has no layers");
        var modules = new List<Module>();
        long totalValues = 0;
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
            double Real(string key, double min, double max)
            {
                var node = layer[key] ?? throw new FormatException($"layer {i} ({type}) has no '{key}'");
                double v = node.GetValue<double>();
                if (!(v >= min && v <= max)) throw new FormatException($"layer {i} ({type}): '{key}' = {v.ToString(CultureInfo.InvariantCulture)} is outside [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]");
                return v;
            }
            int Optional(string key, int min, int max, int fallback) => layer[key] is null ? fallback : Int(key, min, max);
            // The layer's size from its hyperparameters alone, checked before its module allocates anything.
            var (values, largest) = Size(type, (key, min, max) => Int(key, min, max));
            totalValues += values;
            if (totalValues > maxValues || largest > maxTensorValues)
                throw new FormatException(totalValues > maxValues
                    ? string.Create(CultureInfo.InvariantCulture, $"layer {i} ({type}) brings the network to {totalValues:N0} parameter values, more than the {maxValues:N0} the file holds")
                    : string.Create(CultureInfo.InvariantCulture, $"layer {i} ({type}) needs a tensor of {largest:N0} values, larger than any the file holds ({maxTensorValues:N0})"));
            try
            {
                modules.Add(Build(type, Int, Optional, Real, i));
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"layer {i} ({type}): {e.Message}", e);
            }
        }
        return new Sequential(modules);
    }

    /// <summary>
    /// Values held by a layer's parameters and buffers, and its largest single tensor, from its hyperparameters
    /// (<paramref name="integer"/> reads one, checked against a range); must agree with what the modules allocate.
    /// </summary>
    private static (long Values, long Largest) Size(string type, Func<string, int, int, int> integer)
    {
        switch (type)
        {
            case "linear":
            {
                long inputs = integer("in", 1, 1 << 24), outputs = integer("out", 1, 1 << 24), bias = integer("bias", 0, 1);
                return (inputs * outputs + bias * outputs, Math.Max(inputs * outputs, outputs));
            }
            case "conv2d":
            {
                long inputs = integer("in", 1, 1 << 16), outputs = integer("out", 1, 1 << 16), kernel = integer("kernel", 1, 64), bias = integer("bias", 0, 1);
                long weight = outputs * inputs * kernel * kernel;
                return (weight + bias * outputs, Math.Max(weight, outputs));
            }
            case "batch_norm1d" or "batch_norm2d":
            {
                long features = integer("features", 1, 1 << 24);
                return (4 * features, features); // gamma, beta, running mean, running variance
            }
            case "residual":
            {
                long inputs = integer("in", 1, 1 << 16), outputs = integer("out", 1, 1 << 16), stride = integer("stride", 1, 64);
                long values = 9 * inputs * outputs + 9 * outputs * outputs + 8 * outputs;
                if (stride != 1 || inputs != outputs) values += inputs * outputs + 4 * outputs;
                return (values, Math.Max(9 * inputs * outputs, 9 * outputs * outputs));
            }
            case "layer_norm":
            {
                long features = integer("features", 1, 1 << 24);
                return (2 * features, features);
            }
            case "patch_embedding":
            {
                long channels = integer("channels", 1, 4096), height = integer("height", 1, 4096), width = integer("width", 1, 4096);
                long patch = integer("patch", 1, 4096), dim = integer("dim", 1, 1 << 14), classToken = integer("class_token", 0, 1);
                long tokens = height / patch * (width / patch) + classToken, weight = dim * channels * patch * patch;
                return (weight + dim + classToken * dim + tokens * dim, Math.Max(weight, tokens * dim));
            }
            case "channel_tokens":
            {
                long dim = integer("dim", 1, 1 << 14), tokens = integer("tokens", 1, 1 << 16), position = integer("position", 0, 1);
                return (position * tokens * dim, position * tokens * dim);
            }
            case "encoder_block":
            {
                // Two layer norms, attention (in-projection 3D×D + 3D, out-projection D×D + D), MLP D→M→D.
                long dim = integer("dim", 1, 1 << 14), mlp = integer("mlp", 1, 1 << 16);
                return (4 * dim + 4 * dim * dim + 4 * dim + 2 * dim * mlp + mlp + dim, Math.Max(3 * dim * dim, dim * mlp));
            }
            case "imagenet_input":
            {
                long crop = integer("crop", 1, 4096);
                return (3 * crop * crop, 3 * crop * crop); // the mean image
            }
            case "sequence_pool":
            {
                long dim = integer("dim", 1, 1 << 14);
                return (dim + 1, dim);
            }
            default:
                return (0, 0);
        }
    }

    // One layer from its type and hyperparameters (read through the validating accessors of FromJson).
    private static Module Build(string type, Func<string, int, int, int> Int, Func<string, int, int, int, int> Optional,
        Func<string, double, double, double> Real, int i) => type switch
    {
        "flatten" => new Flatten(),
        "linear" => new Linear(Int("in", 1, 1 << 24), Int("out", 1, 1 << 24), Int("bias", 0, 1) == 1),
        "relu" => new Activation(ActivationKind.Relu),
        "tanh" => new Activation(ActivationKind.Tanh),
        "sigmoid" => new Activation(ActivationKind.Sigmoid),
        "leaky_relu" => new Activation(ActivationKind.LeakyRelu),
        "gelu" => new Activation(ActivationKind.Gelu),
        "dropout" => new Dropout((float)Real("p", 0, 0.999999)),
        "dropout2d" => new Dropout2d((float)Real("p", 0, 0.999999)),
        "conv2d" => new Conv2d(Int("in", 1, 1 << 16), Int("out", 1, 1 << 16), Int("kernel", 1, 64), Int("stride", 1, 64), Int("padding", 0, 64),
            Int("bias", 0, 1) == 1),
        "max_pool2d" => Pool2d.Max(Int("kernel", 1, 64), Int("stride", 1, 64), Optional("padding", 0, 32, 0)),
        "avg_pool2d" => Pool2d.Average(Int("kernel", 1, 64), Int("stride", 1, 64)),
        "global_avg_pool2d" => Pool2d.GlobalAverage(),
        "batch_norm1d" or "batch_norm2d" => new BatchNorm(Int("features", 1, 1 << 24), type == "batch_norm2d", (float)Real("momentum", 0, 1),
            (float)Real("eps", 1e-12, 1)),
        "residual" => new ResidualBlock(Int("in", 1, 1 << 16), Int("out", 1, 1 << 16), Int("stride", 1, 64)),
        "layer_norm" => new LayerNorm(Int("features", 1, 1 << 24), (float)Real("eps", 1e-12, 1)),
        "patch_embedding" => new PatchEmbedding(Int("channels", 1, 4096), Int("height", 1, 4096), Int("width", 1, 4096),
            Int("patch", 1, 4096), Int("dim", 1, 1 << 14), Int("class_token", 0, 1) == 1),
        "channel_tokens" => new ChannelTokens(Int("dim", 1, 1 << 14), Int("tokens", 1, 1 << 16), Int("position", 0, 1) == 1),
        "encoder_block" => new TransformerEncoderBlock(Int("dim", 1, 1 << 14), Int("heads", 1, 1 << 14), Int("mlp", 1, 1 << 16),
            (float)Real("dropout", 0, 0.999999), (float)Real("attention_dropout", 0, 0.999999), (float)Real("drop_path", 0, 0.999999),
            Int("gelu_tanh", 0, 1) == 1 ? GeluApproximation.Tanh : GeluApproximation.None, Optional("output_token", -1, 1 << 16, -1)),
        "select_token" => new TokenSelect(Int("index", 0, 1 << 16)),
        "sequence_pool" => new SequencePooling(Int("dim", 1, 1 << 14)),
        "imagenet_input" => new ImageNetInput(Int("channels", 1, 3), Int("height", 1, 1 << 14), Int("width", 1, 1 << 14), Int("resize", 1, 4096),
            Int("crop", 1, 4096)),
        _ => throw new FormatException($"layer {i} has unknown type '{type}' (known: {string.Join(", ", KnownLayers)})"),
    };
}

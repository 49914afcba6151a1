using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Nn;
using SharpVision.Tensors;

namespace SharpVision.Onnx;

/// <summary>
/// Writes a network model (linear, logistic, MLP, cnn2, resnet8/20, a fine-tuned ResNet-18) as an ONNX graph that takes float pixels 0..255,
/// N×C×H×W, normalizes them as the model does, runs the network and outputs class probabilities. Class names,
/// preparation and normalization go into the model's metadata_props. Opset 13, IR version 7 (read by ONNX 1.8 and later).
/// </summary>
/// <remarks>
/// Parameters keep the engine's names ("0.weight", "3.c1.weight"), so the ONNX initializers line up with the model
/// file and with PyTorch's state_dict of the same network. Batch norms are exported as BatchNormalization nodes (not
/// folded), so an imported export can be fine-tuned. Test-time flip averaging is not part of the graph.
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The default-domain operator set the export uses.</summary>
    public const int OperatorSet = 13;

    /// <summary>The IR version written (ONNX 1.7's; onnx.checker 1.12 accepts up to 8).</summary>
    public const long IrVersion = 7;

    /// <summary>The graph's input and output names.</summary>
    public const string InputName = "pixels", OutputName = "probabilities";

    /// <summary>The ONNX model of <paramref name="model"/>, with <paramref name="metadata"/> added to its metadata_props.</summary>
    /// <exception cref="NotSupportedException">The model reads hand-crafted features, or has a layer ONNX export does not cover (GELU).</exception>
    public static OnnxModel Export(NetworkClassifier model, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Features is not null)
            throw new NotSupportedException($"The {model.Kind} model reads hand-crafted features ({model.Features.Pipeline.CanonicalConfig}), which ONNX export does not cover; export models trained on pixels.");
        var p = model.Preparation;
        var graph = new GraphWriter();
        string x = Normalization(graph, model.Normalizer, p);
        string scores = graph.Emit(model.Network, x, "");
        string output = Probabilities(graph, scores, model.Loss);
        var props = new List<KeyValuePair<string, string>>
        {
            new("sharpvision.kind", model.Kind),
            new("class_names", JsonSerializer.Serialize(model.ClassNames)),
            new("preparation", new JsonObject { ["channels"] = p.Channels, ["height"] = p.Height, ["width"] = p.Width }.ToJsonString()),
            new("normalization", new JsonObject { ["mode"] = Normalizer.Name(model.Normalizer.Mode), ["inside_graph"] = true }.ToJsonString()),
            new("input", $"float pixels 0..255, N×{p.Channels}×{p.Height}×{p.Width} ({(p.Channels == 1 ? "gray" : "RGB")}), resized as the preparation says"),
            new("output", "class probabilities, N×classes, rows sum to 1, in class_names order"),
        };
        if (metadata is not null) props.AddRange(metadata.Where(kv => props.All(e => e.Key != kv.Key)));
        return new OnnxModel
        {
            IrVersion = IrVersion,
            OperatorSets = [new OnnxOperatorSet("", OperatorSet)],
            ProducerName = "SharpVision",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            DocString = $"SharpVision {model.Kind} classifier of {model.ClassNames.Count} classes",
            Metadata = props,
            Graph = new OnnxGraph
            {
                Name = model.Kind,
                Nodes = graph.Nodes,
                Initializers = graph.Initializers,
                Inputs = [OnnxValueInfo.FloatTensor(InputName, "N", p.Channels, p.Height, p.Width)],
                Outputs = [OnnxValueInfo.FloatTensor(output, "N", model.ClassNames.Count)],
            },
        };
    }

    // pixels·(1/255), then − mean and · scale per channel or per pixel, as Normalizer.Apply does, in the same order.
    private static string Normalization(GraphWriter graph, Normalizer normalizer, ImagePreparation p)
    {
        string x = graph.Node("Mul", [InputName, graph.Constant("normalizer.inverse_255", [1f / 255f])], "scaled");
        if (normalizer.Mode == NormalizationMode.None) return x;
        long[] dims = normalizer.Mode == NormalizationMode.PerChannel ? [1, p.Channels, 1, 1] : [1, p.Channels, p.Height, p.Width];
        x = graph.Node("Sub", [x, graph.Constant("normalizer.mean", normalizer.Mean, dims)], "centered");
        return graph.Node("Mul", [x, graph.Constant("normalizer.scale", normalizer.Scale, dims)], "normalized");
    }

    // Scores → probabilities as NetworkClassifier.ToProbabilities: softmax, or [1 − σ(z), σ(z)] for logistic regression.
    private static string Probabilities(GraphWriter graph, string scores, ClassifierLoss loss)
    {
        if (loss != ClassifierLoss.Logistic) return graph.Node("Softmax", [scores], OutputName, OnnxAttribute.Of("axis", 1L));
        string positive = graph.Node("Sigmoid", [scores], "positive");
        string negative = graph.Node("Sub", [graph.Constant("one", [1f]), positive], "negative");
        return graph.Node("Concat", [negative, positive], OutputName, OnnxAttribute.Of("axis", 1L));
    }

    /// <summary>Collects nodes and initializers, naming values uniquely.</summary>
    private sealed class GraphWriter
    {
        public List<OnnxNode> Nodes { get; } = [];

        public List<OnnxTensor> Initializers { get; } = [];

        private readonly HashSet<string> _values = new(StringComparer.Ordinal) { InputName };

        public string Node(string op, string[] inputs, string output, params OnnxAttribute[] attributes)
        {
            output = Unique(output);
            Nodes.Add(new OnnxNode { OpType = op, Name = $"{op}_{Nodes.Count}", Inputs = inputs, Outputs = [output], Attributes = attributes });
            return output;
        }

        public string Constant(string name, float[] values, params long[] dims)
        {
            name = Unique(name);
            Initializers.Add(OnnxTensor.FromSingles(name, (float[])values.Clone(), dims.Length == 0 ? [] : dims));
            return name;
        }

        private string Parameter(string name, Tensor t) => Constant(name, t.Data, t.Shape.ToArray().Select(d => (long)d).ToArray());

        private string Unique(string name)
        {
            string unique = name;
            for (int i = 2; !_values.Add(unique); i++) unique = $"{name}_{i}";
            return unique;
        }

        /// <summary>The nodes computing <paramref name="module"/>(<paramref name="input"/>); parameters named with <paramref name="prefix"/>.</summary>
        public string Emit(Module module, string input, string prefix) => module switch
        {
            Sequential sequential => sequential.Children.Aggregate(input, (x, child) => Emit(child.Module, x, $"{prefix}{child.Name}.")),
            Flatten => Node("Flatten", [input], prefix + "flatten", OnnxAttribute.Of("axis", 1L)),
            Linear linear => Node("Gemm", linear.Bias is null ? [input, Parameter(prefix + "weight", linear.Weight)]
                : [input, Parameter(prefix + "weight", linear.Weight), Parameter(prefix + "bias", linear.Bias)], prefix + "gemm", OnnxAttribute.Of("transB", 1L)),
            Activation activation => activation.Kind switch
            {
                ActivationKind.Relu => Node("Relu", [input], prefix + "relu"),
                ActivationKind.Tanh => Node("Tanh", [input], prefix + "tanh"),
                ActivationKind.Sigmoid => Node("Sigmoid", [input], prefix + "sigmoid"),
                ActivationKind.LeakyRelu => Node("LeakyRelu", [input], prefix + "leaky_relu", OnnxAttribute.Of("alpha", 0.01f)),
                _ => throw new NotSupportedException($"Layer {prefix.TrimEnd('.')} ({Activation.Name(activation.Kind)}) has no ONNX export; GELU needs opset 20."),
            },
            Dropout or Dropout2d => input, // the identity at inference
            Conv2d conv => Node("Conv", conv.Bias is null ? [input, Parameter(prefix + "weight", conv.Weight)]
                : [input, Parameter(prefix + "weight", conv.Weight), Parameter(prefix + "bias", conv.Bias)], prefix + "conv",
                OnnxAttribute.Of("kernel_shape", conv.Kernel, conv.Kernel), OnnxAttribute.Of("strides", conv.Stride, conv.Stride),
                OnnxAttribute.Of("pads", conv.Padding, conv.Padding, conv.Padding, conv.Padding)),
            BatchNorm norm => Node("BatchNormalization",
                [input, Parameter(prefix + "weight", norm.Gamma), Parameter(prefix + "bias", norm.Beta),
                 Constant(prefix + "running_mean", norm.RunningMean, norm.Features), Constant(prefix + "running_var", norm.RunningVariance, norm.Features)],
                prefix + "batch_norm", OnnxAttribute.Of("epsilon", norm.Epsilon), OnnxAttribute.Of("momentum", 1 - norm.Momentum)),
            Pool2d pool => pool.Type switch
            {
                "max_pool2d" => Node("MaxPool", [input], prefix + "max_pool", OnnxAttribute.Of("kernel_shape", pool.Kernel, pool.Kernel),
                    OnnxAttribute.Of("strides", pool.Stride, pool.Stride),
                    OnnxAttribute.Of("pads", pool.Padding, pool.Padding, pool.Padding, pool.Padding)),
                "avg_pool2d" => Node("AveragePool", [input], prefix + "avg_pool", OnnxAttribute.Of("kernel_shape", pool.Kernel, pool.Kernel), OnnxAttribute.Of("strides", pool.Stride, pool.Stride)),
                _ => Node("Flatten", [Node("GlobalAveragePool", [input], prefix + "global_avg_pool")], prefix + "pooled", OnnxAttribute.Of("axis", 1L)),
            },
            ResidualBlock block => Residual(block, input, prefix),
            ImageNetInput layer => ImageNetCrop(layer, input, prefix),
            _ => throw new NotSupportedException($"Layer {prefix.TrimEnd('.')} ({module.Spec.Type}) has no ONNX export."),
        };

        // The input layer's evaluation form: channels to B, G, R (gray copied), R_y·x·R_xᵀ as two MatMuls, ·255, − mean.
        private string ImageNetCrop(ImageNetInput layer, string input, string prefix)
        {
            string bgr;
            if (layer.Channels == 1) bgr = Node("Concat", [input, input, input], prefix + "gray_to_bgr", OnnxAttribute.Of("axis", 1L));
            else
            {
                string[] planes = [Unique(prefix + "r"), Unique(prefix + "g"), Unique(prefix + "b")];
                Nodes.Add(new OnnxNode
                {
                    OpType = "Split", Name = $"Split_{Nodes.Count}", Inputs = [input], Outputs = planes,
                    Attributes = [OnnxAttribute.Of("axis", 1L)],
                });
                bgr = Node("Concat", [planes[2], planes[1], planes[0]], prefix + "bgr", OnnxAttribute.Of("axis", 1L));
            }
            var (rows, columns) = layer.CenterCropMatrices();
            int crop = layer.CropSize;
            var columnsT = new float[columns.Length];
            for (int i = 0; i < crop; i++)
                for (int j = 0; j < layer.Width; j++) columnsT[j * crop + i] = columns[i * layer.Width + j];
            string x = Node("MatMul", [bgr, Constant(prefix + "columns", columnsT, layer.Width, crop)], prefix + "resampled_columns");
            x = Node("MatMul", [Constant(prefix + "rows", rows, crop, layer.Height), x], prefix + "resampled");
            x = Node("Mul", [x, Constant(prefix + "to_255", [255f])], prefix + "pixels_255");
            return Node("Sub", [x, Constant(prefix + "mean", layer.Mean, 1, 3, crop, crop)], prefix + "centered");
        }

        // relu(b2(c2(relu(b1(c1(x))))) + shortcut(x)); the folded form has no b1, b2.
        private string Residual(ResidualBlock block, string input, string prefix)
        {
            var parts = block.Children.ToDictionary(c => c.Name, c => c.Module);
            string y = Emit(parts["c1"], input, prefix + "c1.");
            if (parts.TryGetValue("b1", out var b1)) y = Emit(b1, y, prefix + "b1.");
            y = Emit(parts["c2"], Node("Relu", [y], prefix + "relu1"), prefix + "c2.");
            if (parts.TryGetValue("b2", out var b2)) y = Emit(b2, y, prefix + "b2.");
            string shortcut = parts.TryGetValue("sc", out var sc) ? Emit(sc, input, prefix + "sc.") : input;
            return Node("Relu", [Node("Add", [y, shortcut], prefix + "sum")], prefix + "out");
        }
    }
}

using SharpVision.IO;
using SharpVision.Nn;
using SharpVision.Tensors;

namespace SharpVision.Onnx;

/// <summary>
/// Turns a checked <see cref="OnnxModel"/> into an <see cref="OnnxNetwork"/>: one step per node in dependency order,
/// weights from the initializers into engine layers, every attribute either honoured or refused.
/// </summary>
public static class OnnxImporter
{
    /// <summary>Oldest and newest default-domain operator sets accepted.</summary>
    public const int MinOperatorSet = 7, MaxOperatorSet = 17;

    /// <summary>The operators the engine runs (default ONNX domain).</summary>
    public static IReadOnlyList<string> SupportedOperators { get; } =
    [
        "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Tanh", "Sigmoid", "Add", "Sub", "Mul", "Div", "MaxPool", "AveragePool", "GlobalAveragePool",
        "Gemm", "MatMul", "Flatten", "Reshape", "Split", "Concat", "Softmax", "Dropout", "Identity", "Constant",
        // What torch.onnx.export adds around those: zero Pad before AveragePool, Cast of constant shapes, spatial ReduceMean.
        "Pad", "Cast", "ReduceMean",
    ];

    /// <summary>Imports <paramref name="model"/>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="DataFormatException">An unsupported operator set, operator or attribute (the node and operator are named), or weights that do not fit.</exception>
    public static OnnxNetwork Import(OnnxModel model, string source)
    {
        ArgumentNullException.ThrowIfNull(model);
        try
        {
            return new Builder(model).Build();
        }
        catch (Exception e) when (e is OnnxImportException or InvalidOperationException or ArgumentException or NotSupportedException or OverflowException)
        {
            throw new DataFormatException(source, e.Message, e);
        }
    }

    private sealed class Builder(OnnxModel model)
    {
        private readonly OnnxGraph _graph = model.Graph;
        private readonly long _opset = model.DefaultOperatorSet ?? throw new OnnxImportException("the model imports no default ONNX operator set");
        private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
        private readonly Dictionary<string, OnnxTensor> _initializers = new(StringComparer.Ordinal);
        private readonly Dictionary<int, Tensor> _constants = [];
        private readonly Dictionary<int, OnnxTensor> _constantTensors = [];
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private readonly HashSet<string> _read = new(StringComparer.Ordinal);

        public OnnxNetwork Build()
        {
            if (_opset < MinOperatorSet || _opset > MaxOperatorSet)
                throw new OnnxImportException($"operator set {_opset} is outside the supported {MinOperatorSet}–{MaxOperatorSet}");
            foreach (var t in _graph.Initializers)
                if (!_initializers.TryAdd(t.Name, t)) throw new OnnxImportException($"initializer '{t.Name}' appears twice");
            var inputs = _graph.Inputs.Where(i => !_initializers.ContainsKey(i.Name)).ToList();
            if (inputs.Count != 1) throw new OnnxImportException($"the graph has {inputs.Count} data inputs ({string.Join(", ", inputs.Select(i => i.Name))}); SharpVision runs graphs with one");
            var input = inputs[0];
            if (!input.IsTensor || input.ElementType != OnnxDataType.Float)
                throw new OnnxImportException($"input '{input.Name}' is {(input.IsTensor ? input.ElementType.ToString() : "not a tensor")}; SharpVision feeds float tensors");
            if (_graph.Outputs.Count == 0) throw new OnnxImportException("the graph declares no output");
            foreach (var node in _graph.Nodes)
                foreach (var name in node.Inputs) _read.Add(name);
            foreach (var output in _graph.Outputs) _read.Add(output.Name);

            int inputSlot = Slot(input.Name);
            var steps = new List<GraphStep>();
            foreach (var node in OnnxGraphOrder.Sort(_graph))
            {
                if (node.Domain is not ("" or "ai.onnx")) throw new OnnxImportException($"{node.Describe()}: operator domain '{node.Domain}' is not supported");
                if (Translate(node) is { } step) steps.Add(step);
            }
            int outputSlot = Slot(_graph.Outputs[0].Name);
            var constants = new Tensor?[_slots.Count];
            foreach (var (slot, tensor) in _constants) constants[slot] = tensor;
            return new OnnxNetwork(model, input.Name, input.Shape, _graph.Outputs[0].Name, [.. steps], constants, inputSlot, outputSlot);
        }

        private int Slot(string name)
        {
            if (!_slots.TryGetValue(name, out int slot))
            {
                _slots[name] = slot = _slots.Count;
                if (_initializers.TryGetValue(name, out var tensor)) // initializers read as data become constants
                {
                    _constants[slot] = new Tensor(new Shape(Dims(tensor)), tensor.ToSingles());
                    _constantTensors[slot] = tensor;
                }
            }
            return slot;
        }

        // Output slots: −1 for an optional output nobody reads.
        private int[] Outputs(OnnxNode node, int used)
        {
            for (int i = used; i < node.Outputs.Count; i++)
                if (node.Outputs[i].Length > 0 && _read.Contains(node.Outputs[i]))
                    throw new OnnxImportException($"{node.Describe()}: output {i} ('{node.Outputs[i]}') is not supported");
            return node.Outputs.Select((name, i) => i < used && name.Length > 0 ? Slot(name) : -1).ToArray();
        }

        // The slots of all inputs (−1 where omitted), after checking their count.
        private int[] Inputs(OnnxNode node, int min, int max)
        {
            int count = InputCount(node, min, max);
            return node.Inputs.Take(count).Select(name => name.Length == 0 ? -1 : Slot(name)).ToArray();
        }

        // The number of inputs given (trailing omitted optional inputs do not count), checked against [min, max].
        private static int InputCount(OnnxNode node, int min, int max)
        {
            int count = node.Inputs.Count;
            while (count > 0 && node.Inputs[count - 1].Length == 0) count--;
            if (count < min || count > max)
                throw new OnnxImportException($"{node.Describe()}: {count} inputs, expected {(min == max ? $"{min}" : $"{min}–{max}")}");
            return count;
        }

        // The slot of the data input of a layer whose other inputs are weights (read from the initializers, no slots).
        private int DataSlot(OnnxNode node, int min, int max)
        {
            InputCount(node, min, max);
            return node.Inputs[0].Length > 0 ? Slot(node.Inputs[0]) : throw new OnnxImportException($"{node.Describe()}: the data input is omitted");
        }

        // A unique layer name from the node's name (or operator and output), safe as a parameter-name prefix.
        private string LayerName(OnnxNode node)
        {
            string name = (node.Name.Length > 0 ? node.Name : $"{node.OpType}_{node.Outputs.FirstOrDefault()}").Replace('.', '_');
            string unique = name;
            for (int i = 2; !_names.Add(unique); i++) unique = $"{name}_{i}";
            return unique;
        }

        private OnnxTensor Initializer(OnnxNode node, int input, string role)
        {
            string name = node.Inputs[input];
            return _initializers.TryGetValue(name, out var t) ? t
                : throw new OnnxImportException($"{node.Describe()}: {role} '{name}' is computed; SharpVision needs it as an initializer");
        }

        // A constant's integer values (initializer or Constant output): Reshape's shape, Split's sizes.
        private long[] ConstantInts(OnnxNode node, int input, string role)
        {
            string name = node.Inputs[input];
            if (_initializers.TryGetValue(name, out var t)) return t.ToInt64s();
            if (_slots.TryGetValue(name, out int slot) && _constantTensors.TryGetValue(slot, out var c)) return c.ToInt64s();
            throw new OnnxImportException($"{node.Describe()}: {role} '{name}' is computed; SharpVision needs a constant");
        }

        private GraphStep? Translate(OnnxNode node)
        {
            var a = new NodeAttributes(node);
            GraphStep? step = node.OpType switch
            {
                "Conv" => Conv(node, a),
                "BatchNormalization" => BatchNormalization(node, a),
                "Relu" => Unary(node, x => Ops.Relu(x)),
                "LeakyRelu" => LeakyRelu(node, a),
                "Tanh" => Unary(node, x => Ops.Tanh(x)),
                "Sigmoid" => Unary(node, x => Ops.Sigmoid(x)),
                "Add" or "Sub" or "Mul" or "Div" => Binary(node),
                "MaxPool" or "AveragePool" => Pool(node, a),
                "GlobalAveragePool" => Unary(node, x => x.Shape.Rank == 4 ? Ops.GlobalAvgPool2d(x).Reshape(x.Shape[0], x.Shape[1], 1, 1)
                    : throw new ArgumentException($"{node.Describe()}: input {x.Shape} is not (N, C, H, W).")),
                "Gemm" => Gemm(node, a),
                "MatMul" => MatMul(node),
                "Flatten" => Flatten(node, a),
                "Reshape" => Reshape(node, a),
                "Split" => Split(node, a),
                "Concat" => Concat(node, a),
                "Softmax" => Softmax(node, a),
                "Dropout" => Dropout(node, a),
                "Identity" => Unary(node, x => x),
                "Constant" => Constant(node, a),
                "Pad" => Pad(node, a),
                "Cast" => Cast(node, a),
                "ReduceMean" => ReduceMean(node, a),
                _ => throw new OnnxImportException($"{node.Describe()}: operator '{node.OpType}' is not supported (supported: {string.Join(", ", SupportedOperators)})"),
            };
            a.RefuseUnread();
            return step;
        }

        private FunctionStep Unary(OnnxNode node, Func<Tensor, Tensor> f) =>
            new(LayerName(node), node.OpType, Inputs(node, 1, 1), Outputs(node, 1), (x, _) => [f(x[0]!)]);

        private GraphStep Conv(OnnxNode node, NodeAttributes a)
        {
            int input = DataSlot(node, 2, 3);
            bool hasBias = InputCount(node, 2, 3) == 3;
            var weight = Initializer(node, 1, "weight");
            if (weight.Dims.Length != 4) throw a.Error($"weight '{weight.Name}' has dims [{string.Join(", ", weight.Dims)}]; only 2-D convolutions (4-D weights) are supported");
            int filters = checked((int)weight.Dims[0]), channels = checked((int)weight.Dims[1]), kh = checked((int)weight.Dims[2]), kw = checked((int)weight.Dims[3]);
            if (a.Int("group", 1) != 1) throw a.Error($"group={a.Int("group", 1)} (grouped or depthwise convolution) is not supported");
            if (a.Ints("dilations") is { } dilations && dilations.Any(d => d != 1)) throw a.Error($"dilations [{string.Join(", ", dilations)}] are not supported");
            if (a.Ints("kernel_shape") is { } shape && (shape.Length != 2 || shape[0] != kh || shape[1] != kw))
                throw a.Error($"kernel_shape [{string.Join(", ", shape)}] does not match weight dims [{string.Join(", ", weight.Dims)}]");
            if (kh != kw) throw a.Error($"a {kh}×{kw} kernel is not supported (square kernels only)");
            int stride = Stride(a);
            var pads = Pads(a);
            var conv = new Conv2d(channels, filters, kh, stride, 0, bias: hasBias);
            weight.ToSingles().CopyTo(conv.Weight.Data, 0);
            if (hasBias)
            {
                var bias = Initializer(node, 2, "bias");
                if (bias.ElementCount != filters) throw a.Error($"bias '{bias.Name}' has {bias.ElementCount} values for {filters} filters");
                bias.ToSingles().CopyTo(conv.Bias!.Data, 0);
            }
            return new ConvStep(LayerName(node), [input], Outputs(node, 1), conv, pads);
        }

        private static int Stride(NodeAttributes a)
        {
            var strides = a.Ints("strides") ?? [1, 1];
            if (strides.Length != 2 || strides[0] != strides[1] || strides[0] < 1 || strides[0] > 64)
                throw a.Error($"strides [{string.Join(", ", strides)}] are not supported (equal strides in 2-D only)");
            return (int)strides[0];
        }

        private static WindowPads Pads(NodeAttributes a)
        {
            string autoPad = a.String("auto_pad", "NOTSET");
            if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER")) throw a.Error($"auto_pad '{autoPad}' is not an ONNX padding mode");
            var pads = a.Ints("pads") ?? [0, 0, 0, 0];
            if (pads.Length != 4 || pads.Any(p => p < 0 || p > 64)) throw a.Error($"pads [{string.Join(", ", pads)}] are not supported (2-D, 0–64)");
            if (autoPad != "NOTSET" && pads.Any(p => p != 0)) throw a.Error($"auto_pad {autoPad} together with explicit pads");
            return new WindowPads((int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3], autoPad);
        }

        private GraphStep BatchNormalization(OnnxNode node, NodeAttributes a)
        {
            int input = DataSlot(node, 5, 5);
            var parts = Enumerable.Range(1, 4).Select(i => Initializer(node, i, new[] { "scale", "bias", "mean", "variance" }[i - 1])).ToArray();
            long c = parts[0].ElementCount;
            if (parts.Any(p => p.ElementCount != c || p.Dims.Length != 1)) throw a.Error("scale, bias, mean and variance must be 1-D of one length");
            if (_opset < 9 && a.Int("spatial", 1) != 1) throw a.Error("spatial=0 (per-activation statistics) is not supported");
            if (a.Int("training_mode", 0) != 0) throw a.Error("training_mode=1 is not supported (the engine decides when statistics update)");
            float epsilon = a.Float("epsilon", 1e-5f), momentum = a.Float("momentum", 0.9f);
            if (!(epsilon > 0) || !(momentum >= 0 && momentum <= 1)) throw a.Error($"epsilon {epsilon} or momentum {momentum} is out of range");
            // ONNX: running = momentum·running + (1 − momentum)·batch; the engine's momentum is the batch's weight.
            var norm = new BatchNorm(checked((int)c), spatial: true, momentum: 1 - momentum, eps: epsilon);
            parts[0].ToSingles().CopyTo(norm.Gamma.Data, 0);
            parts[1].ToSingles().CopyTo(norm.Beta.Data, 0);
            parts[2].ToSingles().CopyTo(norm.RunningMean, 0);
            parts[3].ToSingles().CopyTo(norm.RunningVariance, 0);
            return new BatchNormStep(LayerName(node), [input], Outputs(node, 1), norm);
        }

        private FunctionStep LeakyRelu(OnnxNode node, NodeAttributes a)
        {
            float alpha = a.Float("alpha", 0.01f);
            return Unary(node, x => Ops.LeakyRelu(x, alpha));
        }

        private FunctionStep Binary(OnnxNode node)
        {
            string op = node.OpType;
            return new FunctionStep(LayerName(node), op, Inputs(node, 2, 2), Outputs(node, 1), (x, _) => [Broadcasting(op, x[0]!, x[1]!)]);
        }

        // NumPy broadcasting on the engine's ops: equal shapes and trailing-dimension operands directly, else both
        // operands expanded to the common shape first.
        private static Tensor Broadcasting(string op, Tensor a, Tensor b)
        {
            var shape = Ops.BroadcastShape(a.Shape, b.Shape);
            if (shape == a.Shape && Suffix(b, a.Shape) is { } bView) return Apply(op, a, bView);
            if (shape == b.Shape && op is "Add" or "Mul" && Suffix(a, b.Shape) is { } aView) return Apply(op, b, aView);
            return Apply(op, Ops.BroadcastTo(a, shape), Ops.BroadcastTo(b, shape));
        }

        // b without its leading 1s, when what remains is a's trailing dimensions (the engine's own broadcast rule).
        private static Tensor? Suffix(Tensor b, Shape a)
        {
            var dims = b.Shape.ToArray().SkipWhile(d => d == 1).ToArray();
            if (dims.Length > a.Rank) return null;
            for (int i = 0; i < dims.Length; i++)
                if (dims[i] != a[a.Rank - dims.Length + i]) return null;
            return dims.Length == b.Shape.Rank ? b : b.Reshape(dims.Length == 0 ? [1] : dims);
        }

        private static Tensor Apply(string op, Tensor a, Tensor b) => op switch
        {
            "Add" => Ops.Add(a, b),
            "Sub" => Ops.Sub(a, b),
            "Mul" => Ops.Mul(a, b),
            _ => Ops.Div(a, b),
        };

        private GraphStep Pool(OnnxNode node, NodeAttributes a)
        {
            var inputs = Inputs(node, 1, 1);
            var kernel = a.Ints("kernel_shape") ?? throw a.Error("kernel_shape is missing");
            if (kernel.Length != 2 || kernel[0] != kernel[1] || kernel[0] < 1 || kernel[0] > 64)
                throw a.Error($"kernel_shape [{string.Join(", ", kernel)}] is not supported (square 2-D windows only)");
            int stride = Stride(a);
            var pads = Pads(a);
            bool ceil = a.Int("ceil_mode", 0) != 0;
            if (a.Ints("dilations") is { } dilations && dilations.Any(d => d != 1)) throw a.Error($"dilations [{string.Join(", ", dilations)}] are not supported");
            if (node.OpType == "MaxPool")
            {
                a.Ignore("storage_order"); // only the order of the Indices output, which is refused
            }
            else if (a.Int("count_include_pad", 0) == 0 && (!pads.IsZero || pads.AutoPad is "SAME_UPPER" or "SAME_LOWER"))
            {
                throw a.Error("average pooling over padding with count_include_pad=0 is not supported");
            }
            return new PoolStep(LayerName(node), node.OpType, inputs, Outputs(node, 1), (int)kernel[0], stride, pads, ceil);
        }

        private GraphStep Gemm(OnnxNode node, NodeAttributes a)
        {
            int input = DataSlot(node, 2, 3);
            bool hasC = InputCount(node, 2, 3) == 3;
            float alpha = a.Float("alpha", 1), beta = a.Float("beta", 1);
            if (a.Int("transA", 0) != 0) throw a.Error("transA=1 is not supported");
            bool transB = a.Int("transB", 0) != 0;
            var b = Initializer(node, 1, "B");
            if (b.Dims.Length != 2) throw a.Error($"B '{b.Name}' has dims [{string.Join(", ", b.Dims)}], expected 2-D");
            int outputs = checked((int)(transB ? b.Dims[0] : b.Dims[1])), features = checked((int)(transB ? b.Dims[1] : b.Dims[0]));
            float[]? c = null;
            if (hasC)
            {
                var bias = Initializer(node, 2, "C");
                var values = bias.ToSingles();
                if (values.Length == 1) c = Enumerable.Repeat(values[0], outputs).ToArray();
                else if (values.Length == outputs && bias.Dims.Count(d => d != 1) <= 1) c = values;
                else throw a.Error($"C '{bias.Name}' with dims [{string.Join(", ", bias.Dims)}] does not broadcast as a per-output bias");
            }
            var linear = new Linear(features, outputs, bias: c is not null);
            var w = b.ToSingles();
            for (int o = 0; o < outputs; o++) // the engine's weight is (out, in): Bᵀ unless transB
                for (int i = 0; i < features; i++) linear.Weight.Data[o * features + i] = alpha * (transB ? w[o * features + i] : w[i * outputs + o]);
            if (c is not null)
                for (int o = 0; o < outputs; o++) linear.Bias!.Data[o] = beta * c[o];
            return new LinearStep(LayerName(node), "Gemm", [input], Outputs(node, 1), linear);
        }

        private GraphStep MatMul(OnnxNode node)
        {
            if (!_initializers.TryGetValue(node.Inputs.ElementAtOrDefault(1) ?? "", out var b))
                return new FunctionStep(LayerName(node), "MatMul", Inputs(node, 2, 2), Outputs(node, 1), (x, _) => [Ops.MatMul(x[0]!, x[1]!)]);
            int input = DataSlot(node, 2, 2);
            if (b.Dims.Length != 2) throw new OnnxImportException($"{node.Describe()}: B '{b.Name}' has dims [{string.Join(", ", b.Dims)}], expected 2-D");
            int features = checked((int)b.Dims[0]), outputs = checked((int)b.Dims[1]);
            var linear = new Linear(features, outputs, bias: false);
            var w = b.ToSingles();
            for (int o = 0; o < outputs; o++)
                for (int i = 0; i < features; i++) linear.Weight.Data[o * features + i] = w[i * outputs + o];
            return new LinearStep(LayerName(node), "MatMul", [input], Outputs(node, 1), linear);
        }

        private FunctionStep Flatten(OnnxNode node, NodeAttributes a)
        {
            int axis = (int)a.Int("axis", 1);
            return Unary(node, x =>
            {
                int at = axis < 0 ? axis + x.Shape.Rank : axis;
                if (at < 0 || at > x.Shape.Rank) throw new ArgumentException($"{node.Describe()}: axis {axis} is outside {x.Shape}.");
                int outer = 1;
                for (int d = 0; d < at; d++) outer *= x.Shape[d];
                return x.Reshape(outer, outer == 0 ? 0 : x.Size / outer);
            });
        }

        private FunctionStep Reshape(OnnxNode node, NodeAttributes a)
        {
            if (a.Int("allowzero", 0) != 0) throw a.Error("allowzero=1 is not supported");
            int input = DataSlot(node, 2, 2);
            var target = ConstantInts(node, 1, "shape");
            if (target.Count(d => d == -1) > 1 || target.Any(d => d < -1 || d > int.MaxValue)) throw a.Error($"shape [{string.Join(", ", target)}] is invalid");
            return new FunctionStep(LayerName(node), "Reshape", [input], Outputs(node, 1), (x, _) =>
            {
                var dims = new int[target.Length];
                for (int d = 0; d < dims.Length; d++)
                    dims[d] = target[d] != 0 ? (int)target[d] : d < x[0]!.Shape.Rank ? x[0]!.Shape[d]
                        : throw new ArgumentException($"{node.Describe()}: shape [{string.Join(", ", target)}] copies dimension {d} of {x[0]!.Shape}.");
                return [x[0]!.Reshape(dims)];
            });
        }

        private FunctionStep Split(OnnxNode node, NodeAttributes a)
        {
            int input = DataSlot(node, 1, 2);
            int axis = (int)a.Int("axis", 0), parts = node.Outputs.Count;
            long[]? sizes = _opset < 13 ? a.Ints("split") : InputCount(node, 1, 2) == 2 ? ConstantInts(node, 1, "split") : null;
            if (sizes is not null && (sizes.Length != parts || sizes.Any(s => s < 0 || s > int.MaxValue)))
                throw a.Error($"split [{string.Join(", ", sizes)}] does not give {parts} outputs");
            var outputs = node.Outputs.Select(name => name.Length > 0 ? Slot(name) : -1).ToArray();
            return new FunctionStep(LayerName(node), "Split", [input], outputs, (x, _) =>
            {
                var t = x[0]!;
                int at = axis < 0 ? axis + t.Shape.Rank : axis, size = t.Shape[at];
                if (sizes is null && size % parts != 0) throw new ArgumentException($"{node.Describe()}: {size} does not split into {parts} equal parts.");
                var lengths = sizes?.Select(s => (int)s).ToArray() ?? Enumerable.Repeat(size / parts, parts).ToArray();
                if (lengths.Sum() != size) throw new ArgumentException($"{node.Describe()}: split [{string.Join(", ", lengths)}] does not add up to {size}.");
                var results = new Tensor[parts];
                for (int i = 0, start = 0; i < parts; start += lengths[i++]) results[i] = Ops.Slice(t, at, start, lengths[i]);
                return results;
            });
        }

        private FunctionStep Concat(OnnxNode node, NodeAttributes a)
        {
            if (!a.Has("axis")) throw a.Error("axis is missing");
            int axis = (int)a.Int("axis", 0);
            var inputs = Inputs(node, 1, int.MaxValue);
            return new FunctionStep(LayerName(node), "Concat", inputs, Outputs(node, 1), (x, _) => [Ops.Concat(x.Select(t => t!).ToArray(), axis)]);
        }

        private FunctionStep Softmax(OnnxNode node, NodeAttributes a)
        {
            bool coerce = _opset < 13; // before opset 13: flatten to 2-D at the axis; since: along the axis
            int axis = (int)a.Int("axis", coerce ? 1 : -1);
            return Unary(node, x =>
            {
                int at = axis < 0 ? axis + x.Shape.Rank : axis;
                if (at < 0 || at >= Math.Max(1, x.Shape.Rank)) throw new ArgumentException($"{node.Describe()}: axis {axis} is outside {x.Shape}.");
                int outer = 1;
                for (int d = 0; d < at; d++) outer *= x.Shape[d];
                int inner = x.Size / Math.Max(1, outer);
                if (!coerce && at != x.Shape.Rank - 1 && inner != x.Shape[at])
                    throw new ArgumentException($"{node.Describe()}: softmax along axis {axis} of {x.Shape} is not supported (last axis only).");
                return Ops.Softmax(x.Reshape(outer, inner)).Reshape(x.Shape.ToArray());
            });
        }

        private FunctionStep Dropout(OnnxNode node, NodeAttributes a)
        {
            int input = DataSlot(node, 1, 3), count = InputCount(node, 1, 3);
            float ratio = _opset < 12 ? a.Float("ratio", 0.5f) : count > 1 ? ConstantFloat(node, 1, "ratio") : 0.5f;
            a.Ignore("is_test", "seed");
            if (count > 2) throw a.Error("a training_mode input is not supported (the engine's training mode decides)");
            if (!(ratio >= 0 && ratio < 1)) throw a.Error($"ratio {ratio} is outside [0, 1)");
            return new FunctionStep(LayerName(node), "Dropout", [input], Outputs(node, 1), (x, network) =>
                [network.Training && ratio > 0 ? Ops.Dropout(x[0]!, ratio, network.DropoutRng) : x[0]!]);
        }

        private float ConstantFloat(OnnxNode node, int input, string role)
        {
            string name = node.Inputs[input];
            OnnxTensor? t = _initializers.GetValueOrDefault(name) ?? (_slots.TryGetValue(name, out int slot) ? _constantTensors.GetValueOrDefault(slot) : null);
            var values = t?.ToSingles() ?? throw new OnnxImportException($"{node.Describe()}: {role} '{name}' is computed; SharpVision needs a constant");
            return values.Length == 1 ? values[0] : throw new OnnxImportException($"{node.Describe()}: {role} '{name}' is not a scalar");
        }

        private GraphStep? Constant(OnnxNode node, NodeAttributes a)
        {
            InputCount(node, 0, 0);
            var outputs = Outputs(node, 1);
            OnnxTensor? value = a.Tensor("value");
            if (a.Has("value_float")) value = OnnxTensor.FromSingles("", [a.Float("value_float", 0)]);
            if (a.Floats("value_floats") is { } floats) value = OnnxTensor.FromSingles("", floats, floats.Length);
            if (a.Has("value_int")) value = OnnxTensor.FromInt64s("", [a.Int("value_int", 0)]);
            if (a.Ints("value_ints") is { } ints) value = OnnxTensor.FromInt64s("", ints, ints.Length);
            if (value is null) throw a.Error("no value (sparse_value and strings are not supported)");
            if (outputs[0] < 0) return null;
            _constants[outputs[0]] = new Tensor(new Shape(Dims(value)), value.ToSingles());
            _constantTensors[outputs[0]] = value;
            return null;
        }

        // Constant zero padding of the two spatial axes of a 4-D tensor (pads from the attribute before opset 11, an input since).
        private FunctionStep Pad(OnnxNode node, NodeAttributes a)
        {
            int input = DataSlot(node, 1, 3), count = InputCount(node, 1, 3);
            string mode = a.String("mode", "constant");
            if (mode != "constant") throw a.Error($"mode '{mode}' is not supported (constant only)");
            var pads = _opset < 11 ? a.Ints("pads") ?? throw a.Error("pads is missing") : ConstantInts(node, 1, "pads");
            float value = _opset < 11 ? a.Float("value", 0) : count > 2 ? ConstantFloat(node, 2, "constant_value") : 0;
            if (pads.Length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || pads.Any(p => p < 0 || p > 1024))
                throw a.Error($"pads [{string.Join(", ", pads)}] are not supported (non-negative, on the last two axes of a 4-D tensor)");
            int top = (int)pads[2], left = (int)pads[3], bottom = (int)pads[6], right = (int)pads[7];
            return new FunctionStep(LayerName(node), "Pad", [input], Outputs(node, 1), (x, _) =>
                [top == 0 && left == 0 && bottom == 0 && right == 0 ? x[0]! : Ops.Pad2d(x[0]!, top, bottom, left, right, value)]);
        }

        // Cast: folded at import when the input is a constant (shapes for Reshape); on computed values only to float.
        private GraphStep? Cast(OnnxNode node, NodeAttributes a)
        {
            int input = DataSlot(node, 1, 1);
            var to = (OnnxDataType)a.Int("to", 0);
            var outputs = Outputs(node, 1);
            if (_constantTensors.TryGetValue(input, out var constant) || _initializers.TryGetValue(node.Inputs[0], out constant))
            {
                if (outputs[0] < 0) return null;
                var cast = to is OnnxDataType.Float or OnnxDataType.Double ? OnnxTensor.FromSingles("", constant.ToSingles(), constant.Dims)
                    : to is OnnxDataType.Int64 or OnnxDataType.Int32 ? OnnxTensor.FromInt64s("", constant.DataType is OnnxDataType.Float or OnnxDataType.Double
                        ? constant.ToSingles().Select(v => (long)v).ToArray() : constant.ToInt64s(), constant.Dims) // float → int truncates, as C
                    : throw a.Error($"a cast to {to} is not supported");
                _constants[outputs[0]] = new Tensor(new Shape(Dims(cast)), cast.ToSingles());
                _constantTensors[outputs[0]] = cast;
                return null;
            }
            if (to != OnnxDataType.Float) throw a.Error($"a cast of computed values to {to} is not supported (float only)");
            return new FunctionStep(LayerName(node), "Cast", [input], outputs, (x, _) => [x[0]!]);
        }

        // ReduceMean over the spatial axes of a 4-D tensor: global average pooling.
        private FunctionStep ReduceMean(OnnxNode node, NodeAttributes a)
        {
            var axes = (_opset < 18 ? a.Ints("axes") : null) ?? throw a.Error("axes is missing (a mean over all axes is not supported)");
            bool keep = a.Int("keepdims", 1) != 0;
            var sorted = axes.Select(x => x < 0 ? x + 4 : x).Order().ToArray();
            if (!sorted.SequenceEqual([2L, 3L])) throw a.Error($"axes [{string.Join(", ", axes)}] are not supported (the spatial axes 2, 3 of a 4-D tensor)");
            return Unary(node, x =>
            {
                if (x.Shape.Rank != 4) throw new ArgumentException($"{node.Describe()}: input {x.Shape} is not (N, C, H, W).");
                var mean = Ops.GlobalAvgPool2d(x);
                return keep ? mean.Reshape(x.Shape[0], x.Shape[1], 1, 1) : mean;
            });
        }

        private static int[] Dims(OnnxTensor t) => t.Dims.Select(d => checked((int)d)).ToArray();
    }
}

using SharpVision.IO;
using SharpVision.Nn;
using SharpVision.Tensors;

namespace SharpVision.Onnx;

/// <summary>A layer of an imported graph that holds parameters: its name, operator, stage and engine module.</summary>
/// <param name="Name">The node's name (unique; dots replaced by underscores); parameter names start with it.</param>
/// <param name="OpType">"Conv", "BatchNormalization", "Gemm" or "MatMul".</param>
/// <param name="Stage">Downsamplings (stride &gt; 1) between the input and this layer: 0 before the first, up to <see cref="OnnxNetwork.LastStage"/>.</param>
/// <param name="Module">The engine layer (<see cref="Conv2d"/>, <see cref="BatchNorm"/> or <see cref="Linear"/>).</param>
public sealed record OnnxLayer(string Name, string OpType, int Stage, Module Module);

/// <summary>
/// An ONNX graph imported as a network of the engine: forward and backward run on the engine's kernels (convolutions
/// on oneDNN where it measured faster), parameters are ordinary trainable tensors that can be frozen per layer or per
/// stage, batch-norm statistics are updated while training or frozen, and <see cref="Folded"/> is the inference form
/// with each batch norm folded into the convolution before it.
/// </summary>
/// <remarks>
/// Shape: the graph's single float input (typically (N, C, H, W)) → its first output. The operators supported are
/// listed in <see cref="OnnxImporter.SupportedOperators"/> (opsets 7–17). Parameters are named "layer.weight" after
/// the ONNX node that holds them.
/// </remarks>
public sealed class OnnxNetwork : Module
{
    private readonly GraphStep[] _steps;
    private readonly Tensor?[] _constants;
    private readonly int[] _lastUse;
    private readonly int _input, _output;

    internal OnnxNetwork(OnnxModel model, string inputName, IReadOnlyList<OnnxDimension>? inputShape, string outputName,
        GraphStep[] steps, Tensor?[] constants, int input, int output)
    {
        Model = model;
        InputName = inputName;
        InputShape = inputShape;
        OutputName = outputName;
        _steps = steps;
        _constants = constants;
        _input = input;
        _output = output;
        _lastUse = new int[constants.Length];
        Array.Fill(_lastUse, -1);
        for (int i = 0; i < steps.Length; i++)
            foreach (int slot in steps[i].Inputs)
                if (slot >= 0) _lastUse[slot] = i;
        _lastUse[output] = int.MaxValue;
        foreach (var step in steps) step.Stage = 0;
        AssignStages();
    }

    /// <summary>Reads an ONNX file and imports it.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">Malformed, or holds an operator or attribute the engine does not support (the node is named).</exception>
    public static OnnxNetwork Load(string path) => OnnxImporter.Import(OnnxFormat.Load(path), path);

    /// <summary>Parses ONNX bytes and imports them (<paramref name="source"/> names them in errors).</summary>
    /// <exception cref="DataFormatException">Malformed or unsupported.</exception>
    public static OnnxNetwork Parse(ReadOnlySpan<byte> bytes, string source = "<onnx bytes>") => OnnxImporter.Import(OnnxFormat.Parse(bytes, source), source);

    /// <summary>The model this network was imported from (graph, opsets, metadata).</summary>
    public OnnxModel Model { get; }

    /// <summary>The graph input's name.</summary>
    public string InputName { get; }

    /// <summary>The declared input dimensions, or null when the file does not record them.</summary>
    public IReadOnlyList<OnnxDimension>? InputShape { get; }

    /// <summary>The graph output this network returns (the first declared).</summary>
    public string OutputName { get; }

    /// <summary>The layers with parameters, in execution order.</summary>
    public IReadOnlyList<OnnxLayer> Layers => _steps.Where(s => s.Module is not null).Select(s => new OnnxLayer(s.Name, s.OpType, s.Stage, s.Module!)).ToList();

    /// <summary>The highest <see cref="OnnxLayer.Stage"/> (the last resolution of a CNN).</summary>
    public int LastStage => _steps.Length == 0 ? 0 : _steps.Max(s => s.Stage);

    /// <summary>Operators in execution order ("Conv", "Relu", ...).</summary>
    public IReadOnlyList<string> Operators => _steps.Select(s => s.OpType).ToList();

    public override LayerSpec Spec => new("onnx", []);

    /// <summary>The source of dropout masks in training mode.</summary>
    internal Rng DropoutRng => Random ?? throw new InvalidOperationException("Dropout in training mode needs an Rng: call Train(rng) on the network.");

    public override IEnumerable<(string Name, Module Module)> Children => _steps.Where(s => s.Module is not null).Select(s => (s.Name, s.Module!));

    /// <summary>
    /// Freezes (or unfreezes) the parameters of every layer <paramref name="frozen"/> selects: their tensors stop
    /// requiring gradients, and frozen batch norms also keep their running statistics (they normalize with them while
    /// the rest trains). Layers not selected become trainable with updated statistics.
    /// </summary>
    public void Freeze(Func<OnnxLayer, bool> frozen)
    {
        ArgumentNullException.ThrowIfNull(frozen);
        foreach (var step in _steps)
        {
            if (step.Module is null) continue;
            bool freeze = frozen(new OnnxLayer(step.Name, step.OpType, step.Stage, step.Module));
            foreach (var (_, p) in step.Module.NamedParameters()) p.RequiresGrad = !freeze;
            if (step is BatchNormStep norm) norm.FrozenStatistics = freeze;
        }
    }

    /// <summary>
    /// Whether batch norms normalize with their running statistics (and leave them unchanged) even while training:
    /// true for all, whatever <see cref="Freeze"/> chose, or false to let the trainable ones update again.
    /// </summary>
    public void FreezeBatchNormStatistics(bool frozen)
    {
        foreach (var step in _steps.OfType<BatchNormStep>())
            step.FrozenStatistics = frozen || step.Norm.Gamma is { RequiresGrad: false };
    }

    /// <summary>When set, <see cref="Forward"/> adds each step's wall time in milliseconds under its operator (for benchmarks).</summary>
    public Dictionary<string, double>? Profile { get; set; }

    /// <summary>y = graph(x). In training mode batch norms use batch statistics unless frozen, and Dropout is active.</summary>
    /// <exception cref="ArgumentException">The input does not fit the graph (the node that refused it is named).</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input);
        var values = (Tensor?[])_constants.Clone();
        values[_input] = input;
        for (int i = 0; i < _steps.Length; i++)
        {
            var step = _steps[i];
            var arguments = new Tensor?[step.Inputs.Length];
            for (int j = 0; j < arguments.Length; j++) arguments[j] = step.Inputs[j] < 0 ? null : values[step.Inputs[j]];
            long started = Profile is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            var results = step.Run(arguments, this);
            if (Profile is { } profile)
                profile[step.OpType] = profile.GetValueOrDefault(step.OpType) + System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            for (int j = 0; j < step.Outputs.Length && j < results.Length; j++)
                if (step.Outputs[j] >= 0) values[step.Outputs[j]] = results[j];
            foreach (int slot in step.Inputs) // drop activations nobody reads again: memory stays at the live set
                if (slot >= 0 && _lastUse[slot] == i && _constants[slot] is null) values[slot] = null;
        }
        return values[_output] ?? throw new InvalidOperationException($"The graph did not compute its output '{OutputName}'.");
    }

    private void CheckInput(Tensor input)
    {
        if (InputShape is null) return;
        if (input.Shape.Rank != InputShape.Count)
            throw new ArgumentException($"Input '{InputName}' is declared with {InputShape.Count} dimensions ({string.Join("×", InputShape)}); got {input.Shape}.", nameof(input));
        for (int d = 1; d < InputShape.Count; d++) // the batch dimension may differ from the declared one
            if (InputShape[d].Value is { } size && size > 0 && size != input.Shape[d])
                throw new ArgumentException($"Input '{InputName}' is declared as {string.Join("×", InputShape)}; got {input.Shape}.", nameof(input));
    }

    /// <summary>
    /// The inference form: each convolution (or Gemm) followed by a batch norm that alone reads it becomes one layer
    /// carrying the batch norm (<see cref="BatchNormFolding"/>). It computes this network's evaluation-mode function
    /// up to float32 rounding, shares no parameters with it, and is in evaluation mode.
    /// </summary>
    public OnnxNetwork Folded()
    {
        var readers = new int[_constants.Length];
        foreach (var step in _steps)
            foreach (int slot in step.Inputs)
                if (slot >= 0) readers[slot]++;
        var producers = new Dictionary<int, GraphStep>();
        foreach (var step in _steps)
            foreach (int slot in step.Outputs)
                if (slot >= 0) producers[slot] = step;
        var folded = new List<GraphStep>();
        var replaced = new Dictionary<GraphStep, GraphStep>();
        var dropped = new HashSet<GraphStep>();
        foreach (var step in _steps)
        {
            if (step is not BatchNormStep norm) continue;
            int source = norm.Inputs[0];
            if (readers[source] != 1 || source == _output || !producers.TryGetValue(source, out var producer)) continue;
            if (producer is ConvStep conv && conv.Conv.Outputs == norm.Norm.Features && norm.Norm.Spatial)
                replaced[producer] = new ConvStep(conv.Name, conv.Inputs, norm.Outputs, BatchNormFolding.Fold(conv.Conv, norm.Norm), conv.Pads);
            else if (producer is LinearStep linear && linear.Linear.Outputs == norm.Norm.Features)
                replaced[producer] = new LinearStep(linear.Name, linear.OpType, linear.Inputs, norm.Outputs, BatchNormFolding.Fold(linear.Linear, WithSpatial(norm.Norm, false)));
            else continue;
            dropped.Add(norm);
        }
        foreach (var step in _steps)
            if (!dropped.Contains(step)) folded.Add(replaced.GetValueOrDefault(step, step));
        var network = new OnnxNetwork(Model, InputName, InputShape, OutputName, [.. folded], _constants, _input, _output);
        network.Eval();
        return network;
    }

    // BatchNormFolding.Fold(Linear, ...) expects BatchNorm1d; an ONNX batch norm on (N, C) is one.
    private static BatchNorm WithSpatial(BatchNorm norm, bool spatial)
    {
        if (norm.Spatial == spatial) return norm;
        var copy = new BatchNorm(norm.Features, spatial, norm.Momentum, norm.Epsilon);
        norm.Gamma.Data.CopyTo(copy.Gamma.Data, 0);
        norm.Beta.Data.CopyTo(copy.Beta.Data, 0);
        norm.RunningMean.CopyTo(copy.RunningMean, 0);
        norm.RunningVariance.CopyTo(copy.RunningVariance, 0);
        return copy;
    }

    // A step's stage is the largest stage among its inputs, plus one if it downsamples (stride > 1).
    private void AssignStages()
    {
        var stageOf = new int[_constants.Length];
        foreach (var step in _steps)
        {
            int stage = 0;
            foreach (int slot in step.Inputs)
                if (slot >= 0) stage = Math.Max(stage, stageOf[slot]);
            if (Downsamples(step)) stage++;
            step.Stage = stage;
            foreach (int slot in step.Outputs)
                if (slot >= 0) stageOf[slot] = stage;
        }
    }

    private static bool Downsamples(GraphStep step) => step switch
    {
        ConvStep conv => conv.Conv.Stride > 1,
        PoolStep pool => pool.Stride > 1,
        _ => false,
    };
}

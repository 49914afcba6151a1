using SharpVision.Nn;
using SharpVision.Tensors;

namespace SharpVision.Onnx;

/// <summary>
/// One operation of an imported graph: the value slots it reads and writes, and how it computes. Layers with
/// parameters (convolution, batch norm, fully connected) hold an engine <see cref="Module"/>; the rest are functions.
/// </summary>
internal abstract class GraphStep(string name, string opType, int[] inputs, int[] outputs)
{
    /// <summary>The layer name (the node's name, made unique; dots replaced).</summary>
    public string Name { get; } = name;

    public string OpType { get; } = opType;

    /// <summary>Slots read; −1 for an omitted optional input.</summary>
    public int[] Inputs { get; } = inputs;

    /// <summary>Slots written; −1 for an output nobody reads.</summary>
    public int[] Outputs { get; } = outputs;

    /// <summary>Number of downsamplings (stride &gt; 1) between the graph input and this step's output.</summary>
    public int Stage { get; set; }

    /// <summary>The engine layer holding this step's parameters, or null.</summary>
    public virtual Module? Module => null;

    /// <summary>Computes the outputs from the inputs (null where an optional input is omitted).</summary>
    public abstract Tensor[] Run(Tensor?[] inputs, OnnxNetwork network);

    /// <summary>"Conv node 'conv1'": how run-time errors name the step.</summary>
    public string Describe() => $"{OpType} node '{Name}'";
}

/// <summary>Zero-padding of a convolution or pooling window per side, or computed from the input (auto_pad SAME_*).</summary>
internal readonly record struct WindowPads(int Top, int Left, int Bottom, int Right, string AutoPad = "NOTSET")
{
    /// <summary>The pads for an input of h×w: the stored ones, or SAME_UPPER/SAME_LOWER's so that Ho = ⌈H/stride⌉.</summary>
    public WindowPads Resolve(int h, int w, int kernel, int stride)
    {
        if (AutoPad is not ("SAME_UPPER" or "SAME_LOWER")) return this;
        int th = Math.Max(0, ((h + stride - 1) / stride - 1) * stride + kernel - h), tw = Math.Max(0, ((w + stride - 1) / stride - 1) * stride + kernel - w);
        bool upper = AutoPad == "SAME_UPPER"; // the odd pixel goes at the end (upper) or the beginning (lower)
        return new WindowPads(upper ? th / 2 : th - th / 2, upper ? tw / 2 : tw - tw / 2, upper ? th - th / 2 : th / 2, upper ? tw - tw / 2 : tw / 2);
    }

    public bool IsZero => Top == 0 && Left == 0 && Bottom == 0 && Right == 0;

    /// <summary>
    /// The symmetric padding that computes the same windows, when there is one: pads (p, p, e, e) give the windows
    /// of (p, p, p, p) whenever both output sizes agree (windows start at −p either way, and the last ends inside both).
    /// </summary>
    public int? Symmetric(int h, int w, int kernel, int stride)
    {
        if (Top != Left) return null;
        int p = Top;
        bool sameRows = (h + p + Bottom - kernel) / stride == (h + 2 * p - kernel) / stride;
        bool sameColumns = (w + p + Right - kernel) / stride == (w + 2 * p - kernel) / stride;
        return sameRows && sameColumns ? p : null;
    }
}

/// <summary>ONNX Conv on the engine's <see cref="Conv2d"/> (oneDNN or the managed kernels).</summary>
internal sealed class ConvStep(string name, int[] inputs, int[] outputs, Conv2d conv, WindowPads pads) : GraphStep(name, "Conv", inputs, outputs)
{
    public Conv2d Conv { get; } = conv;

    public WindowPads Pads { get; } = pads;

    public override Module Module => Conv;

    public override Tensor[] Run(Tensor?[] inputs, OnnxNetwork network)
    {
        var x = inputs[0]!;
        if (x.Shape.Rank != 4 || x.Shape[1] != Conv.Inputs)
            throw new ArgumentException($"{Describe()}: input {x.Shape} is not (N, {Conv.Inputs}, H, W).");
        var pads = Pads.Resolve(x.Shape[2], x.Shape[3], Conv.Kernel, Conv.Stride);
        if (pads.Symmetric(x.Shape[2], x.Shape[3], Conv.Kernel, Conv.Stride) is { } p)
            return [Ops.Conv2d(x, Conv.Weight, Conv.Bias, Conv.Stride, p)];
        var padded = Ops.Pad2d(x, pads.Top, pads.Bottom, pads.Left, pads.Right);
        return [Ops.Conv2d(padded, Conv.Weight, Conv.Bias, Conv.Stride, 0)];
    }
}

/// <summary>
/// ONNX BatchNormalization on the engine's <see cref="BatchNorm"/>: batch statistics while the network trains,
/// unless <see cref="FrozenStatistics"/>, then the running statistics (which are not updated).
/// </summary>
internal sealed class BatchNormStep(string name, int[] inputs, int[] outputs, BatchNorm norm) : GraphStep(name, "BatchNormalization", inputs, outputs)
{
    public BatchNorm Norm { get; } = norm;

    public bool FrozenStatistics { get; set; }

    public override Module Module => Norm;

    public override Tensor[] Run(Tensor?[] inputs, OnnxNetwork network)
    {
        var x = inputs[0]!;
        if (x.Shape.Rank is not (2 or 4) || x.Shape[1] != Norm.Features)
            throw new ArgumentException($"{Describe()}: input {x.Shape} does not have {Norm.Features} channels in dimension 1.");
        bool training = network.Training && !FrozenStatistics;
        return [Ops.BatchNorm(x, Norm.Gamma, Norm.Beta, Norm.RunningMean, Norm.RunningVariance, training, Norm.Momentum, Norm.Epsilon)];
    }
}

/// <summary>ONNX Gemm or MatMul with a constant right operand, as the engine's <see cref="Linear"/>: y = x·Wᵀ + b.</summary>
internal sealed class LinearStep(string name, string opType, int[] inputs, int[] outputs, Linear linear) : GraphStep(name, opType, inputs, outputs)
{
    public Linear Linear { get; } = linear;

    public override Module Module => Linear;

    public override Tensor[] Run(Tensor?[] inputs, OnnxNetwork network)
    {
        var x = inputs[0]!;
        if (x.Shape.Rank != 2 || x.Shape[1] != Linear.Inputs)
            throw new ArgumentException($"{Describe()}: input {x.Shape} is not (N, {Linear.Inputs}).");
        return [Ops.Linear(x, Linear.Weight, Linear.Bias)];
    }
}

/// <summary>A parameter-free operation.</summary>
internal sealed class FunctionStep(string name, string opType, int[] inputs, int[] outputs, Func<Tensor?[], OnnxNetwork, Tensor[]> run)
    : GraphStep(name, opType, inputs, outputs)
{
    public override Tensor[] Run(Tensor?[] inputs, OnnxNetwork network) => run(inputs, network);
}

/// <summary>ONNX MaxPool or AveragePool over square windows, with ONNX's pads (−∞ for max, zeros counted for average).</summary>
internal sealed class PoolStep(string name, string opType, int[] inputs, int[] outputs, int kernel, int stride, WindowPads pads, bool ceilMode)
    : GraphStep(name, opType, inputs, outputs)
{
    public int Kernel { get; } = kernel;

    public int Stride { get; } = stride;

    public WindowPads Pads { get; } = pads;

    private bool IsMax => OpType == "MaxPool";

    public override Tensor[] Run(Tensor?[] inputs, OnnxNetwork network)
    {
        var x = inputs[0]!;
        if (x.Shape.Rank != 4) throw new ArgumentException($"{Describe()}: input {x.Shape} is not (N, C, H, W).");
        int h = x.Shape[2], w = x.Shape[3];
        var pads = Pads.Resolve(h, w, Kernel, Stride);
        if (ceilMode && (Ceiling(h + pads.Top + pads.Bottom) != Floor(h + pads.Top + pads.Bottom) || Ceiling(w + pads.Left + pads.Right) != Floor(w + pads.Left + pads.Right)))
            throw new ArgumentException($"{Describe()}: ceil_mode=1 on a {h}×{w} input adds a partial window, which the engine does not compute.");
        if (pads.IsZero) return [IsMax ? Ops.MaxPool2d(x, Kernel, Stride) : Ops.AvgPool2d(x, Kernel, Stride)];
        if (IsMax && pads.Symmetric(h, w, Kernel, Stride) is { } p && p <= Kernel / 2) return [Ops.MaxPool2d(x, Kernel, Stride, p)];
        var padded = Ops.Pad2d(x, pads.Top, pads.Bottom, pads.Left, pads.Right, IsMax ? float.NegativeInfinity : 0f);
        return [IsMax ? Ops.MaxPool2d(padded, Kernel, Stride) : Ops.AvgPool2d(padded, Kernel, Stride)];
    }

    private int Floor(int padded) => (padded - Kernel) / Stride + 1;

    private int Ceiling(int padded) => (padded - Kernel + Stride - 1) / Stride + 1;
}

using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Nn;

/// <summary>2-D convolution (cross-correlation, zero padding) as PyTorch's nn.Conv2d.</summary>
/// <remarks>
/// Shape: (N, in, H, W) → (N, out, ⌊(H + 2p − k)/s⌋ + 1, ⌊(W + 2p − k)/s⌋ + 1). Weight (out, in, k, k), bias (out).
/// Initialization as PyTorch: U(−1/√fan_in, 1/√fan_in) for weight and bias, fan_in = in·k·k.
/// </remarks>
public sealed class Conv2d : Module
{
    /// <exception cref="ArgumentOutOfRangeException">A size below 1 or a negative padding.</exception>
    public Conv2d(int inputs, int outputs, int kernel, int stride = 1, int padding = 0, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        (Inputs, Outputs, Kernel, Stride, Padding) = (inputs, outputs, kernel, stride, padding);
        Weight = new Tensor(new Shape(outputs, inputs, kernel, kernel), new float[outputs * inputs * kernel * kernel], requiresGrad: true);
        Bias = bias ? new Tensor(new Shape(outputs), new float[outputs], requiresGrad: true) : null;
    }

    public int Inputs { get; }

    public int Outputs { get; }

    public int Kernel { get; }

    public int Stride { get; }

    public int Padding { get; }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public override LayerSpec Spec => new("conv2d", new() { ["in"] = Inputs, ["out"] = Outputs, ["kernel"] = Kernel, ["stride"] = Stride, ["padding"] = Padding, ["bias"] = Bias is null ? 0 : 1 });

    protected override IEnumerable<(string Name, Tensor Parameter)> OwnParameters =>
        Bias is null ? [("weight", Weight)] : [("weight", Weight), ("bias", Bias)];

    protected override void ResetOwnParameters(Rng rng)
    {
        float bound = 1f / MathF.Sqrt(Inputs * Kernel * Kernel);
        foreach (ref float w in Weight.Data.AsSpan()) w = (rng.NextFloat() * 2 - 1) * bound;
        if (Bias is not null) foreach (ref float b in Bias.Data.AsSpan()) b = (rng.NextFloat() * 2 - 1) * bound;
    }

    public override Tensor Forward(Tensor input) => Ops.Conv2d(input, Weight, Bias, Stride, Padding);
}

/// <summary>Max or average pooling over k×k windows with stride s (no padding, floor mode), or global average pooling.</summary>
/// <remarks>Shape: (N, C, H, W) → (N, C, ⌊(H − k)/s⌋ + 1, ⌊(W − k)/s⌋ + 1); global: (N, C, H, W) → (N, C).</remarks>
public sealed class Pool2d : Module
{
    private Pool2d(string type, int kernel, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        (Type, Kernel, Stride) = (type, kernel, stride);
    }

    /// <summary>"max_pool2d", "avg_pool2d" or "global_avg_pool2d".</summary>
    public string Type { get; }

    public int Kernel { get; }

    public int Stride { get; }

    /// <summary>nn.MaxPool2d(kernel, stride).</summary>
    public static Pool2d Max(int kernel, int? stride = null) => new("max_pool2d", kernel, stride ?? kernel);

    /// <summary>nn.AvgPool2d(kernel, stride).</summary>
    public static Pool2d Average(int kernel, int? stride = null) => new("avg_pool2d", kernel, stride ?? kernel);

    /// <summary>nn.AdaptiveAvgPool2d(1) followed by flatten: the mean of each channel.</summary>
    public static Pool2d GlobalAverage() => new("global_avg_pool2d", 1, 1);

    public override LayerSpec Spec => Type == "global_avg_pool2d" ? new(Type, []) : new(Type, new() { ["kernel"] = Kernel, ["stride"] = Stride });

    public override Tensor Forward(Tensor input) => Type switch
    {
        "max_pool2d" => Ops.MaxPool2d(input, Kernel, Stride),
        "avg_pool2d" => Ops.AvgPool2d(input, Kernel, Stride),
        _ => Ops.GlobalAvgPool2d(input),
    };
}

/// <summary>
/// Batch normalization as PyTorch's BatchNorm1d (input (N, C)) and BatchNorm2d (input (N, C, H, W)):
/// y = γ·(x − μ)/√(σ² + ε) + β with batch statistics in training (biased variance) and running statistics in
/// evaluation; running = (1 − momentum)·running + momentum·batch, with the unbiased batch variance.
/// </summary>
public sealed class BatchNorm : Module
{
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 feature, momentum outside [0, 1], eps ≤ 0.</exception>
    public BatchNorm(int features, bool spatial, float momentum = 0.1f, float eps = 1e-5f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be in [0, 1].");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "Epsilon must be positive.");
        (Features, Spatial, Momentum, Epsilon) = (features, spatial, momentum, eps);
        Gamma = new Tensor(new Shape(features), new float[features], requiresGrad: true);
        Beta = new Tensor(new Shape(features), new float[features], requiresGrad: true);
        RunningMean = new float[features];
        RunningVariance = new float[features];
        ResetOwnParameters(new Rng(0));
    }

    public int Features { get; }

    /// <summary>True for BatchNorm2d (per channel over N·H·W), false for BatchNorm1d.</summary>
    public bool Spatial { get; }

    public float Momentum { get; }

    public float Epsilon { get; }

    /// <summary>γ (PyTorch's "weight").</summary>
    public Tensor Gamma { get; }

    /// <summary>β (PyTorch's "bias").</summary>
    public Tensor Beta { get; }

    public float[] RunningMean { get; }

    public float[] RunningVariance { get; }

    public override LayerSpec Spec => new(Spatial ? "batch_norm2d" : "batch_norm1d", new() { ["features"] = Features, ["momentum"] = Momentum, ["eps"] = Epsilon });

    protected override IEnumerable<(string Name, Tensor Parameter)> OwnParameters => [("weight", Gamma), ("bias", Beta)];

    protected override IEnumerable<(string Name, float[] Values)> OwnBuffers => [("running_mean", RunningMean), ("running_var", RunningVariance)];

    // γ = 1, β = 0, running mean 0, running variance 1, as PyTorch's reset_parameters (no randomness).
    protected override void ResetOwnParameters(Rng rng)
    {
        Array.Fill(Gamma.Data, 1f);
        Array.Clear(Beta.Data);
        Array.Clear(RunningMean);
        Array.Fill(RunningVariance, 1f);
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Shape.Rank != (Spatial ? 4 : 2) || input.Shape[1] != Features)
            throw new ArgumentException($"{Spec.Type}({Features}) expects ({(Spatial ? "N, C, H, W" : "N, C")}) with C = {Features}, got {input.Shape}.", nameof(input));
        return Ops.BatchNorm(input, Gamma, Beta, RunningMean, RunningVariance, Training, Momentum, Epsilon);
    }
}

/// <summary>Channel dropout (nn.Dropout2d): whole channels zeroed with probability p while training, survivors scaled by 1/(1 − p).</summary>
public sealed class Dropout2d : Module
{
    public Dropout2d(float p)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        P = p;
    }

    public float P { get; }

    public override LayerSpec Spec => new("dropout2d", new() { ["p"] = P });

    public override Tensor Forward(Tensor input)
    {
        if (!Training || P == 0) return input;
        return Ops.Dropout2d(input, P, Random ?? throw new InvalidOperationException("Dropout2d in training mode needs an Rng: call Train(rng) on the model."));
    }
}

/// <summary>
/// The basic residual block of torch_peers.py's resnet8 and of He et al.'s CIFAR ResNets:
/// y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), with 3×3 convolutions (no bias), the first with stride s;
/// the shortcut is the identity, or a 1×1 convolution with stride s + batch norm when the shape changes.
/// Parameter names follow PyTorch's: c1, b1, c2, b2, sc.0, sc.1.
/// </summary>
/// <remarks>Shape: (N, in, H, W) → (N, out, ⌈H/s⌉, ⌈W/s⌉).</remarks>
public sealed class ResidualBlock : Module
{
    private readonly Conv2d _c1, _c2;
    private readonly BatchNorm? _b1, _b2;
    private readonly Module? _shortcut;

    public ResidualBlock(int inputs, int outputs, int stride)
    {
        (Inputs, Outputs, Stride) = (inputs, outputs, stride);
        _c1 = new Conv2d(inputs, outputs, 3, stride, 1, bias: false);
        _b1 = new BatchNorm(outputs, spatial: true);
        _c2 = new Conv2d(outputs, outputs, 3, 1, 1, bias: false);
        _b2 = new BatchNorm(outputs, spatial: true);
        if (stride != 1 || inputs != outputs)
            _shortcut = new Sequential(new Conv2d(inputs, outputs, 1, stride, 0, bias: false), new BatchNorm(outputs, spatial: true));
    }

    // The inference form made by BatchNormFolding: each convolution carries its batch norm in its weights and bias.
    private ResidualBlock(ResidualBlock original, Conv2d c1, Conv2d c2, Module? shortcut)
    {
        (Inputs, Outputs, Stride) = (original.Inputs, original.Outputs, original.Stride);
        (_c1, _c2, _shortcut) = (c1, c2, shortcut);
    }

    /// <summary>This block for inference, with batch norm folded into the convolutions (see <see cref="BatchNormFolding"/>).</summary>
    internal ResidualBlock Folded() => new(this,
        BatchNormFolding.Fold(_c1, _b1 ?? throw new InvalidOperationException("The block is already folded.")),
        BatchNormFolding.Fold(_c2, _b2!),
        _shortcut is null ? null : BatchNormFolding.Fold(_shortcut));

    public int Inputs { get; }

    public int Outputs { get; }

    public int Stride { get; }

    public override LayerSpec Spec => new("residual", new() { ["in"] = Inputs, ["out"] = Outputs, ["stride"] = Stride });

    public override IEnumerable<(string Name, Module Module)> Children =>
        _b1 is null ? (_shortcut is null ? [("c1", _c1), ("c2", _c2)] : [("c1", _c1), ("c2", _c2), ("sc", _shortcut)])
        : _shortcut is null ? [("c1", _c1), ("b1", _b1), ("c2", _c2), ("b2", _b2!)] : [("c1", _c1), ("b1", _b1), ("c2", _c2), ("b2", _b2!), ("sc", _shortcut)];

    public override Tensor Forward(Tensor input)
    {
        var y = _c1.Forward(input);
        y = Ops.Relu(_b1 is null ? y : _b1.Forward(y));
        y = _c2.Forward(y);
        if (_b2 is not null) y = _b2.Forward(y);
        return Ops.Relu(Ops.Add(y, _shortcut?.Forward(input) ?? input));
    }
}

/// <summary>
/// The inference form of Conv2d → ReLU (→ MaxPool2d), made by <see cref="InferenceForm"/>: one fused kernel
/// (<see cref="ConvBlockKernels"/>) computes y = maxpool(relu(conv(x, W) + b)) image by image, with the weights packed once
/// per SIMD path. It has no parameters and records no graph: it is never trained or saved.
/// </summary>
/// <remarks>Shape: (N, in, H, W) → (N, out, Hp, Wp), as the layers it replaces.</remarks>
public sealed class ConvBlock : Module
{
    private readonly float[] _weight, _bias;
    private readonly float[]?[] _packed = new float[]?[3]; // per SimdPath, packed on first use

    /// <summary>The block of <paramref name="conv"/>, then ReLU when <paramref name="relu"/>, then <paramref name="pool"/> when not null.</summary>
    /// <exception cref="ArgumentException">A pooling layer other than max pooling.</exception>
    public ConvBlock(Conv2d conv, bool relu, Pool2d? pool)
    {
        ArgumentNullException.ThrowIfNull(conv);
        if (pool is not null && pool.Type != "max_pool2d")
            throw new ArgumentException($"ConvBlock fuses max pooling only, not {pool.Type}.", nameof(pool));
        (Inputs, Outputs, Kernel, Stride, Padding, Relu) = (conv.Inputs, conv.Outputs, conv.Kernel, conv.Stride, conv.Padding, relu);
        (PoolKernel, PoolStride) = pool is null ? (1, 1) : (pool.Kernel, pool.Stride);
        _weight = (float[])conv.Weight.Data.Clone(); // a snapshot: the block never changes with the layer it came from
        _bias = conv.Bias is null ? [] : (float[])conv.Bias.Data.Clone();
    }

    /// <summary>Input channels.</summary>
    public int Inputs { get; }

    /// <summary>Output channels (filters).</summary>
    public int Outputs { get; }

    /// <summary>Square kernel side.</summary>
    public int Kernel { get; }

    /// <summary>Convolution stride.</summary>
    public int Stride { get; }

    /// <summary>Zero padding on each side.</summary>
    public int Padding { get; }

    /// <summary>Whether ReLU follows the bias.</summary>
    public bool Relu { get; }

    /// <summary>Max pooling window (1: none).</summary>
    public int PoolKernel { get; }

    /// <summary>Max pooling stride (1: none).</summary>
    public int PoolStride { get; }

    /// <summary>"conv_block": an inference-only type, not in <see cref="Architecture.KnownLayers"/> (model files hold the layers it fuses).</summary>
    public override LayerSpec Spec => new("conv_block", new()
    {
        ["in"] = Inputs, ["out"] = Outputs, ["kernel"] = Kernel, ["stride"] = Stride, ["padding"] = Padding, ["relu"] = Relu ? 1 : 0,
        ["pool_kernel"] = PoolKernel, ["pool_stride"] = PoolStride,
    });

    /// <summary>y = maxpool(relu(conv(x, W) + b)) on <see cref="SimdPaths.Default"/>'s path with <see cref="Engine.Threads"/> threads.</summary>
    /// <exception cref="ArgumentException">Input not (N, in, H, W), or too small for the kernel and the pooling window.</exception>
    /// <exception cref="InvalidOperationException">The input requires a gradient: this block is for inference only.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (GradMode.IsEnabled && input.RequiresGrad)
            throw new InvalidOperationException("ConvBlock is an inference form and records no graph; train the original Conv2d layers instead.");
        if (input.Shape.Rank != 4 || input.Shape[1] != Inputs)
            throw new ArgumentException($"ConvBlock expects (N, {Inputs}, H, W), got {input.Shape}.", nameof(input));
        var conv = new Conv2dGeometry(input.Shape[0], Inputs, input.Shape[2], input.Shape[3], Outputs, Kernel, Kernel, Stride, Padding);
        var g = new ConvBlockGeometry(conv, Relu, PoolKernel, PoolStride);
        g.Validate();
        var path = SimdPaths.Default;
        var y = BufferPool.Uninitialized<float>(conv.Batch * g.OutputImageSize); // every element is written
        ConvBlockKernels.Forward(g, input.Data, Packed(conv, path), y, Engine.Threads, path);
        return new Tensor(new Shape(conv.Batch, Outputs, g.OutputHeight, g.OutputWidth), y);
    }

    // The weights and bias packed for path; racing first calls pack the same values and one of them is kept.
    private float[] Packed(in Conv2dGeometry g, SimdPath path)
    {
        var packed = Volatile.Read(ref _packed[(int)path]);
        if (packed is not null) return packed;
        packed = new float[ConvBlockKernels.PackedLength(g, path)];
        ConvBlockKernels.PackWeights(g, _weight, _bias, packed, path);
        return Interlocked.CompareExchange(ref _packed[(int)path], packed, null) ?? packed;
    }
}

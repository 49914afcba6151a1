using SharpVision.Tensors;

namespace SharpVision.Nn;

/// <summary>Fully connected layer y = x·Wᵀ + b (PyTorch's nn.Linear).</summary>
/// <remarks>Shape: (N, in) → (N, out). Weight (out, in), bias (out). Initialization as PyTorch: U(−1/√in, 1/√in) for both.</remarks>
public sealed class Linear : Module
{
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    public Linear(int inputs, int outputs, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
        Inputs = inputs;
        Outputs = outputs;
        Weight = new Tensor(new Shape(outputs, inputs), new float[outputs * inputs], requiresGrad: true);
        Bias = bias ? new Tensor(new Shape(outputs), new float[outputs], requiresGrad: true) : null;
    }

    public int Inputs { get; }

    public int Outputs { get; }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public override LayerSpec Spec => new("linear", new() { ["in"] = Inputs, ["out"] = Outputs, ["bias"] = Bias is null ? 0 : 1 });

    protected override IEnumerable<(string Name, Tensor Parameter)> OwnParameters =>
        Bias is null ? [("weight", Weight)] : [("weight", Weight), ("bias", Bias)];

    protected override void ResetOwnParameters(Rng rng)
    {
        // kaiming_uniform(a=√5) on (out, in) reduces to U(−1/√in, 1/√in); the bias uses the same bound.
        float bound = 1f / MathF.Sqrt(Inputs);
        foreach (ref float w in Weight.Data.AsSpan()) w = (rng.NextFloat() * 2 - 1) * bound;
        if (Bias is not null) foreach (ref float b in Bias.Data.AsSpan()) b = (rng.NextFloat() * 2 - 1) * bound;
    }

    public override Tensor Forward(Tensor input) => Ops.Linear(input, Weight, Bias);
}

/// <summary>Elementwise activation functions without parameters.</summary>
public enum ActivationKind
{
    Relu,
    Tanh,
    Sigmoid,
    LeakyRelu,
    Gelu,
}

/// <summary>An elementwise nonlinearity: ReLU max(0, x), tanh, σ(x) = 1/(1 + e⁻ˣ), LeakyReLU (slope 0.01), or GELU x·Φ(x).</summary>
/// <remarks>Shape: any → same.</remarks>
public sealed class Activation(ActivationKind kind) : Module
{
    public ActivationKind Kind { get; } = Enum.IsDefined(kind) ? kind : throw new ArgumentOutOfRangeException(nameof(kind));

    public override LayerSpec Spec => new(Name(Kind), []);

    /// <summary>"relu", "tanh", "sigmoid", "leaky_relu".</summary>
    public static string Name(ActivationKind kind) => kind switch
    {
        ActivationKind.Relu => "relu",
        ActivationKind.Tanh => "tanh",
        ActivationKind.Sigmoid => "sigmoid",
        ActivationKind.Gelu => "gelu",
        _ => "leaky_relu",
    };

    public override Tensor Forward(Tensor input) => Kind switch
    {
        ActivationKind.Relu => Ops.Relu(input),
        ActivationKind.Tanh => Ops.Tanh(input),
        ActivationKind.Sigmoid => Ops.Sigmoid(input),
        ActivationKind.Gelu => Ops.Gelu(input),
        _ => Ops.LeakyRelu(input),
    };
}

/// <summary>Inverted dropout with probability p while training; the identity in evaluation mode.</summary>
/// <remarks>Shape: any → same.</remarks>
public sealed class Dropout : Module
{
    /// <exception cref="ArgumentOutOfRangeException">p outside [0, 1).</exception>
    public Dropout(float p)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        P = p;
    }

    public float P { get; }

    public override LayerSpec Spec => new("dropout", new() { ["p"] = P });

    public override Tensor Forward(Tensor input)
    {
        if (!Training || P == 0) return input;
        var rng = Random ?? throw new InvalidOperationException("Dropout in training mode needs an Rng: call Train(rng) on the model.");
        return Ops.Dropout(input, P, rng);
    }
}

/// <summary>Flattens each sample: (N, d1, d2, ...) → (N, d1·d2·...).</summary>
public sealed class Flatten : Module
{
    public override LayerSpec Spec => new("flatten", []);

    public override Tensor Forward(Tensor input) => input.Shape.Rank == 2 ? input : input.Reshape(input.Shape[0], -1);
}

/// <summary>Layers applied in order; parameter names are prefixed with the layer's index ("0.weight").</summary>
public sealed class Sequential : Module
{
    private readonly Module[] _layers;

    public Sequential(params IEnumerable<Module> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = layers.ToArray();
        if (_layers.Length == 0) throw new ArgumentException("A Sequential needs at least one layer.", nameof(layers));
    }

    public IReadOnlyList<Module> Layers => _layers;

    public override LayerSpec Spec => new("sequential", []);

    public override IEnumerable<(string Name, Module Module)> Children => _layers.Select((l, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), l));

    public override Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var layer in _layers) x = layer.Forward(x);
        return x;
    }
}

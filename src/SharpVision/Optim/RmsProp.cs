using SharpVision.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SharpVision.Optim;

/// <summary>Hyperparameters of <see cref="RmsProp"/> (PyTorch's <c>torch.optim.RMSprop</c>, centered = false).</summary>
/// <param name="LearningRate">Step size lr &gt; 0.</param>
/// <param name="Alpha">Smoothing constant α in [0, 1) of the running mean of squared gradients.</param>
/// <param name="Epsilon">ε &gt; 0 added to the root of that mean.</param>
/// <param name="WeightDecay">L2 penalty λ ≥ 0, coupled: added to the gradient.</param>
/// <param name="Momentum">μ in [0, 1); 0 applies the scaled gradient directly.</param>
public sealed record RmsPropOptions(double LearningRate = 0.01, double Alpha = 0.99, double Epsilon = 1e-8, double WeightDecay = 0, double Momentum = 0);

/// <summary>
/// RMSProp, exactly as <c>torch.optim.RMSprop</c> (torch 1.13, centered = false):
/// g ← g + λ·p;  a ← α·a + (1−α)·g²;  d = g / (√a + ε);  μ &gt; 0: b ← μ·b + d, p ← p − lr·b;  else p ← p − lr·d.
/// </summary>
/// <remarks>State: "rmsprop.square_avg.&lt;parameter&gt;" (a) and, with μ &gt; 0, "rmsprop.momentum.&lt;parameter&gt;" (b).</remarks>
public sealed class RmsProp : Optimizer
{
    private readonly float[]?[] _squareAverage;
    private readonly float[]?[]? _momentum;

    /// <summary>RMSProp over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the exception names it).</exception>
    /// <exception cref="ArgumentException">Invalid parameters (see <see cref="Optimizer"/>).</exception>
    public RmsProp(IReadOnlyList<Tensor> parameters, RmsPropOptions options)
        : base(parameters, (options ?? throw new ArgumentNullException(nameof(options))).LearningRate)
    {
        Hyperparameter.RequireUnitInterval(options.Alpha, nameof(RmsPropOptions.Alpha));
        Hyperparameter.RequirePositive(options.Epsilon, nameof(RmsPropOptions.Epsilon));
        Hyperparameter.RequireNonNegative(options.WeightDecay, nameof(RmsPropOptions.WeightDecay));
        Hyperparameter.RequireUnitInterval(options.Momentum, nameof(RmsPropOptions.Momentum));
        Options = options;
        _squareAverage = AddBuffers("rmsprop.square_avg", allocate: true);
        // torch creates the momentum buffer (zeros) only when momentum > 0.
        if (options.Momentum > 0) _momentum = AddBuffers("rmsprop.momentum", allocate: true);
    }

    /// <summary>The options given at construction (<see cref="Optimizer.LearningRate"/> may since have changed).</summary>
    public RmsPropOptions Options { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Span<float> parameter, ReadOnlySpan<float> gradient)
    {
        float lr = (float)LearningRate, alpha = (float)Options.Alpha, eps = (float)Options.Epsilon;
        float weightDecay = (float)Options.WeightDecay, mu = (float)Options.Momentum;
        var squareAverage = _squareAverage[index]!;
        if (weightDecay != 0)
        {
            var decayed = Scratch(0, parameter.Length);
            TensorPrimitives.FusedMultiplyAdd(parameter, weightDecay, gradient, decayed); // g ← g + λ·p
            gradient = decayed;
        }
        // a ← α·a + ((1−α)·g)·g, rounded in torch's order (mul_, then addcmul_)
        var step = Scratch(1, parameter.Length);
        TensorPrimitives.Multiply(squareAverage, alpha, squareAverage);
        TensorPrimitives.Multiply(gradient, (float)(1 - Options.Alpha), step);
        TensorPrimitives.MultiplyAdd(step, gradient, squareAverage, squareAverage);
        TensorPrimitives.Sqrt(squareAverage, step);
        TensorPrimitives.Add(step, eps, step);          // √a + ε
        TensorPrimitives.Divide(gradient, step, step);  // d = g / (√a + ε)
        if (_momentum is not null)
        {
            var buffer = _momentum[index]!;
            TensorPrimitives.MultiplyAdd(buffer, mu, step, buffer); // b ← μ·b + d
            TensorPrimitives.FusedMultiplyAdd(buffer, -lr, parameter, parameter);
        }
        else
        {
            TensorPrimitives.FusedMultiplyAdd(step, -lr, parameter, parameter);
        }
    }
}

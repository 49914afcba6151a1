using SharpVision.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SharpVision.Optim;

/// <summary>Hyperparameters of <see cref="AdamW"/> (PyTorch's <c>torch.optim.AdamW</c>, amsgrad off).</summary>
/// <param name="LearningRate">Step size lr &gt; 0.</param>
/// <param name="Beta1">β1 in [0, 1): decay of the first-moment (mean) estimate.</param>
/// <param name="Beta2">β2 in [0, 1): decay of the second-moment (uncentered variance) estimate.</param>
/// <param name="Epsilon">ε &gt; 0 added to the bias-corrected root of the second moment.</param>
/// <param name="WeightDecay">Decoupled decay λ ≥ 0: parameters shrink by lr·λ per step, independent of the gradient.</param>
public sealed record AdamWOptions(double LearningRate = 1e-3, double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, double WeightDecay = 0.01);

/// <summary>
/// AdamW (Loshchilov &amp; Hutter), exactly as <c>torch.optim.AdamW</c> (torch 1.13, amsgrad off), t the parameter's own step count:
/// p ← p·(1 − lr·λ);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).
/// </summary>
/// <remarks>
/// State: the same entries as <see cref="Adam"/> ("adam.m", "adam.v", "adam.step"), so moments carry over between the two.
/// <see cref="Beta1"/> is settable for one-cycle schedules.
/// </remarks>
public sealed class AdamW : Optimizer
{
    private readonly float[]?[] _m, _v;
    private readonly long[] _steps;
    private double _beta1;

    /// <summary>AdamW over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the exception names it).</exception>
    /// <exception cref="ArgumentException">Invalid parameters (see <see cref="Optimizer"/>).</exception>
    public AdamW(IReadOnlyList<Tensor> parameters, AdamWOptions options)
        : base(parameters, (options ?? throw new ArgumentNullException(nameof(options))).LearningRate)
    {
        Hyperparameter.RequireUnitInterval(options.Beta1, nameof(AdamWOptions.Beta1));
        Hyperparameter.RequireUnitInterval(options.Beta2, nameof(AdamWOptions.Beta2));
        Hyperparameter.RequirePositive(options.Epsilon, nameof(AdamWOptions.Epsilon));
        Hyperparameter.RequireNonNegative(options.WeightDecay, nameof(AdamWOptions.WeightDecay));
        Options = options;
        _beta1 = options.Beta1;
        _m = AddBuffers("adam.m", allocate: true);
        _v = AddBuffers("adam.v", allocate: true);
        _steps = AddCounters("adam.step");
    }

    /// <summary>The options given at construction (<see cref="Optimizer.LearningRate"/> and <see cref="Beta1"/> may since have changed).</summary>
    public AdamWOptions Options { get; }

    /// <summary>β1 for the next step; a schedule may set it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1).</exception>
    public double Beta1
    {
        get => _beta1;
        set
        {
            Hyperparameter.RequireUnitInterval(value, nameof(value));
            _beta1 = value;
        }
    }

    /// <inheritdoc/>
    protected override void Update(int index, Span<float> parameter, ReadOnlySpan<float> gradient)
    {
        long step = ++_steps[index];
        // Decoupled decay first, on the parameters before the Adam step (torch: param.mul_(1 − lr·λ)).
        if (Options.WeightDecay != 0) TensorPrimitives.Multiply(parameter, (float)(1 - LearningRate * Options.WeightDecay), parameter);
        AdamUpdate.Apply(parameter, gradient, _m[index]!, _v[index]!, Scratch(1, parameter.Length),
                         step, LearningRate, _beta1, Options.Beta2, Options.Epsilon);
    }
}

using SharpVision.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SharpVision.Optim;

/// <summary>Hyperparameters of <see cref="Adam"/> (PyTorch's <c>torch.optim.Adam</c>, amsgrad off).</summary>
/// <param name="LearningRate">Step size lr &gt; 0.</param>
/// <param name="Beta1">β1 in [0, 1): decay of the first-moment (mean) estimate.</param>
/// <param name="Beta2">β2 in [0, 1): decay of the second-moment (uncentered variance) estimate.</param>
/// <param name="Epsilon">ε &gt; 0 added to the bias-corrected root of the second moment.</param>
/// <param name="WeightDecay">L2 penalty λ ≥ 0, coupled: added to the gradient (for decoupled decay use <see cref="AdamW"/>).</param>
public sealed record AdamOptions(double LearningRate = 1e-3, double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, double WeightDecay = 0);

/// <summary>
/// Adam, exactly as <c>torch.optim.Adam</c> (torch 1.13, amsgrad off), with t the parameter's own step count:
/// g ← g + λ·p;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).
/// </summary>
/// <remarks>
/// State: "adam.m.&lt;parameter&gt;", "adam.v.&lt;parameter&gt;" and "adam.step.&lt;parameter&gt;" (t; per parameter as in torch,
/// so a parameter skipped on some steps keeps its own bias correction). <see cref="AdamW"/> uses the same entries.
/// <see cref="Beta1"/> is settable so that a one-cycle schedule can cycle it (torch's OneCycleLR does by default).
/// </remarks>
public sealed class Adam : Optimizer
{
    private readonly float[]?[] _m, _v;
    private readonly long[] _steps;
    private double _beta1;

    /// <summary>Adam over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the exception names it).</exception>
    /// <exception cref="ArgumentException">Invalid parameters (see <see cref="Optimizer"/>).</exception>
    public Adam(IReadOnlyList<Tensor> parameters, AdamOptions options)
        : base(parameters, (options ?? throw new ArgumentNullException(nameof(options))).LearningRate)
    {
        Hyperparameter.RequireUnitInterval(options.Beta1, nameof(AdamOptions.Beta1));
        Hyperparameter.RequireUnitInterval(options.Beta2, nameof(AdamOptions.Beta2));
        Hyperparameter.RequirePositive(options.Epsilon, nameof(AdamOptions.Epsilon));
        Hyperparameter.RequireNonNegative(options.WeightDecay, nameof(AdamOptions.WeightDecay));
        Options = options;
        _beta1 = options.Beta1;
        _m = AddBuffers("adam.m", allocate: true);
        _v = AddBuffers("adam.v", allocate: true);
        _steps = AddCounters("adam.step");
    }

    /// <summary>The options given at construction (<see cref="Optimizer.LearningRate"/> and <see cref="Beta1"/> may since have changed).</summary>
    public AdamOptions Options { get; }

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
        float weightDecay = (float)Options.WeightDecay;
        if (weightDecay != 0)
        {
            var decayed = Scratch(0, parameter.Length);
            TensorPrimitives.FusedMultiplyAdd(parameter, weightDecay, gradient, decayed); // g ← g + λ·p
            gradient = decayed;
        }
        AdamUpdate.Apply(parameter, gradient, _m[index]!, _v[index]!, Scratch(1, parameter.Length),
                         step, LearningRate, _beta1, Options.Beta2, Options.Epsilon);
    }
}

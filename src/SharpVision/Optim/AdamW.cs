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
/// <see cref="AdamBase.Beta1"/> is settable for one-cycle schedules.
/// </remarks>
public sealed class AdamW : AdamBase
{
    /// <summary>AdamW over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the exception names it).</exception>
    /// <exception cref="ArgumentException">Invalid parameters (see <see cref="Optimizer"/>).</exception>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="options">Hyperparameters.</param>
    /// <param name="decayed">
    /// The parameters weight decay applies to (as PyTorch parameter groups with weight_decay λ and 0); null: all of them.
    /// Transformers keep decay off biases, norms and embeddings (<see cref="DecaysByDefault"/>).
    /// </param>
    public AdamW(IReadOnlyList<Tensor> parameters, AdamWOptions options, IReadOnlySet<Tensor>? decayed = null)
        : base(parameters, (options ?? throw new ArgumentNullException(nameof(options))).LearningRate, options.Beta1, options.Beta2, options.Epsilon,
            options.WeightDecay)
    {
        Options = options;
        _decays = parameters.Select(p => decayed is null || decayed.Contains(p)).ToArray();
    }

    private readonly bool[] _decays;

    /// <summary>
    /// The usual rule for which parameters weight decay applies to: weight matrices and filters (rank ≥ 2, named
    /// "…weight"), not biases, normalization scales, class tokens or position embeddings.
    /// </summary>
    public static bool DecaysByDefault(string name, Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(parameter);
        return parameter.Shape.Rank >= 2 && name.EndsWith("weight", StringComparison.Ordinal);
    }

    /// <summary>The options given at construction (<see cref="Optimizer.LearningRate"/> and <see cref="AdamBase.Beta1"/> may since have changed).</summary>
    public AdamWOptions Options { get; }

    // Decoupled decay first, on the parameters before the Adam step (torch: param.mul_(1 − lr·λ)).
    private protected override ReadOnlySpan<float> ApplyWeightDecay(int index, Span<float> parameter, ReadOnlySpan<float> gradient)
    {
        if (Options.WeightDecay != 0 && _decays[index])
            TensorPrimitives.Multiply(parameter, (float)(1 - LearningRate * Options.WeightDecay), parameter);
        return gradient;
    }
}

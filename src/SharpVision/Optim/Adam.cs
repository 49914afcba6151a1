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
/// <see cref="AdamBase.Beta1"/> is settable so that a one-cycle schedule can cycle it (torch's OneCycleLR does by default).
/// </remarks>
public sealed class Adam : AdamBase
{
    /// <summary>Adam over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the exception names it).</exception>
    /// <exception cref="ArgumentException">Invalid parameters (see <see cref="Optimizer"/>).</exception>
    public Adam(IReadOnlyList<Tensor> parameters, AdamOptions options)
        : base(parameters, (options ?? throw new ArgumentNullException(nameof(options))).LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay)
    {
        Options = options;
    }

    /// <summary>The options given at construction (<see cref="Optimizer.LearningRate"/> and <see cref="AdamBase.Beta1"/> may since have changed).</summary>
    public AdamOptions Options { get; }

    private protected override ReadOnlySpan<float> ApplyWeightDecay(int index, Span<float> parameter, ReadOnlySpan<float> gradient)
    {
        float weightDecay = (float)Options.WeightDecay;
        if (weightDecay == 0) return gradient;
        var decayed = Scratch(0, parameter.Length);
        TensorPrimitives.FusedMultiplyAdd(parameter, weightDecay, gradient, decayed); // coupled: g ← g + λ·p
        return decayed;
    }
}

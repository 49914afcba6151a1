using SharpVision.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SharpVision.Optim;

/// <summary>Hyperparameters of <see cref="Adagrad"/> (PyTorch's <c>torch.optim.Adagrad</c> with lr_decay 0 and initial accumulator 0).</summary>
/// <param name="LearningRate">Step size lr &gt; 0.</param>
/// <param name="Epsilon">ε &gt; 0 added to the root of the accumulated squares.</param>
/// <param name="WeightDecay">L2 penalty λ ≥ 0, coupled: added to the gradient.</param>
public sealed record AdagradOptions(double LearningRate = 0.01, double Epsilon = 1e-10, double WeightDecay = 0);

/// <summary>
/// Adagrad, exactly as <c>torch.optim.Adagrad</c> (torch 1.13, lr_decay 0, initial_accumulator_value 0):
/// g ← g + λ·p;  s ← s + g²;  p ← p − lr·g / (√s + ε).
/// </summary>
/// <remarks>State: "adagrad.sum.&lt;parameter&gt;" (s).</remarks>
public sealed class Adagrad : Optimizer
{
    private readonly float[]?[] _sum;

    /// <summary>Adagrad over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the exception names it).</exception>
    /// <exception cref="ArgumentException">Invalid parameters (see <see cref="Optimizer"/>).</exception>
    public Adagrad(IReadOnlyList<Tensor> parameters, AdagradOptions options)
        : base(parameters, (options ?? throw new ArgumentNullException(nameof(options))).LearningRate)
    {
        Hyperparameter.RequirePositive(options.Epsilon, nameof(AdagradOptions.Epsilon));
        Hyperparameter.RequireNonNegative(options.WeightDecay, nameof(AdagradOptions.WeightDecay));
        Options = options;
        _sum = AddBuffers("adagrad.sum", allocate: true);
    }

    /// <summary>The options given at construction (<see cref="Optimizer.LearningRate"/> may since have changed).</summary>
    public AdagradOptions Options { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Span<float> parameter, ReadOnlySpan<float> gradient)
    {
        float lr = (float)LearningRate, eps = (float)Options.Epsilon, weightDecay = (float)Options.WeightDecay;
        var sum = _sum[index]!;
        if (weightDecay != 0)
        {
            var decayed = Scratch(0, parameter.Length);
            TensorPrimitives.FusedMultiplyAdd(parameter, weightDecay, gradient, decayed); // g ← g + λ·p
            gradient = decayed;
        }
        TensorPrimitives.MultiplyAdd(gradient, gradient, sum, sum); // s ← s + g²
        var step = Scratch(1, parameter.Length);
        TensorPrimitives.Sqrt(sum, step);
        TensorPrimitives.Add(step, eps, step);          // √s + ε (ε outside the root, as torch)
        TensorPrimitives.Divide(gradient, step, step);  // g / (√s + ε)
        TensorPrimitives.FusedMultiplyAdd(step, -lr, parameter, parameter);
    }
}

using SharpVision.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SharpVision.Optim;

/// <summary>
/// What <see cref="Adam"/> and <see cref="AdamW"/> share (torch 1.13 _single_tensor_adam/adamw, amsgrad off): the
/// moments, the per-parameter step counts, a settable β1, and the update
/// m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε).
/// They differ only in how weight decay enters (<see cref="ApplyWeightDecay"/>).
/// </summary>
/// <remarks>State: "adam.m.&lt;parameter&gt;", "adam.v.&lt;parameter&gt;", "adam.step.&lt;parameter&gt;" for both, so moments carry over.</remarks>
public abstract class AdamBase : Optimizer
{
    private readonly float[]?[] _m, _v;
    private readonly long[] _steps;
    private readonly double _beta2, _epsilon;
    private double _beta1;

    private protected AdamBase(IReadOnlyList<Tensor> parameters, double learningRate, double beta1, double beta2, double epsilon, double weightDecay)
        : base(parameters, learningRate)
    {
        Hyperparameter.RequireUnitInterval(beta1, "Beta1");
        Hyperparameter.RequireUnitInterval(beta2, "Beta2");
        Hyperparameter.RequirePositive(epsilon, "Epsilon");
        Hyperparameter.RequireNonNegative(weightDecay, "WeightDecay");
        (_beta1, _beta2, _epsilon) = (beta1, beta2, epsilon);
        _m = AddBuffers("adam.m", allocate: true);
        _v = AddBuffers("adam.v", allocate: true);
        _steps = AddCounters("adam.step");
    }

    /// <summary>β1 for the next step; a schedule may set it (torch's OneCycleLR cycles it by default).</summary>
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

    /// <summary>Applies weight decay before the moment update; returns the gradient to use (possibly a scratch copy).</summary>
    private protected abstract ReadOnlySpan<float> ApplyWeightDecay(int index, Span<float> parameter, ReadOnlySpan<float> gradient);

    /// <inheritdoc/>
    protected override void Update(int index, Span<float> parameter, ReadOnlySpan<float> gradient)
    {
        long step = ++_steps[index];
        gradient = ApplyWeightDecay(index, parameter, gradient);
        Span<float> m = _m[index]!, v = _v[index]!, scratch = Scratch(1, parameter.Length);
        double beta1 = _beta1, beta2 = _beta2, epsilon = _epsilon, learningRate = LearningRate;
        // Each torch in-place op rounds once; the same sequence of roundings keeps us within a few ulps of it.
        TensorPrimitives.Multiply(m, (float)beta1, m);
        TensorPrimitives.FusedMultiplyAdd(gradient, (float)(1 - beta1), m, m);            // m.mul_(β1).add_(g, alpha=1−β1)
        TensorPrimitives.Multiply(v, (float)beta2, v);
        TensorPrimitives.Multiply(gradient, (float)(1 - beta2), scratch);
        TensorPrimitives.MultiplyAdd(scratch, gradient, v, v);                             // v.mul_(β2).addcmul_(g, g, value=1−β2)

        // Bias corrections in double, as torch computes them with Python floats.
        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, step));
        double stepSize = learningRate / biasCorrection1;

        TensorPrimitives.Sqrt(v, scratch);
        TensorPrimitives.Divide(scratch, (float)biasCorrection2Sqrt, scratch);
        TensorPrimitives.Add(scratch, (float)epsilon, scratch);                            // denom = √v/√bc2 + ε
        TensorPrimitives.Divide(m, scratch, scratch);
        TensorPrimitives.FusedMultiplyAdd(scratch, (float)-stepSize, parameter, parameter); // p.addcdiv_(m, denom, value=−lr/bc1)
    }
}

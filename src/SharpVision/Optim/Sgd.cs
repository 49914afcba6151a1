using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using SharpVision.Tensors;

namespace SharpVision.Optim;

/// <summary>Hyperparameters of <see cref="Sgd"/> (PyTorch's <c>torch.optim.SGD</c> with dampening 0).</summary>
/// <param name="LearningRate">Step size lr &gt; 0.</param>
/// <param name="Momentum">μ in [0, 1); 0 is plain SGD.</param>
/// <param name="Nesterov">Nesterov momentum (needs μ &gt; 0).</param>
/// <param name="WeightDecay">L2 penalty λ ≥ 0, coupled: added to the gradient.</param>
public sealed record SgdOptions(double LearningRate, double Momentum = 0, bool Nesterov = false, double WeightDecay = 0);

/// <summary>
/// Stochastic gradient descent with optional (Nesterov) momentum and coupled weight decay, exactly as
/// <c>torch.optim.SGD</c> (torch 1.13, dampening 0):
/// g ← g + λ·p;  v ← μ·v + g (v ← g on a parameter's first step);  d = Nesterov ? g + μ·v : v;  p ← p − lr·d.
/// </summary>
/// <remarks>
/// State: "momentum.&lt;parameter&gt;" (v), created on a parameter's first step with μ &gt; 0.
/// <see cref="Momentum"/> is settable so that a one-cycle schedule can cycle it (PyTorch's OneCycleLR does by default).
/// </remarks>
public sealed class Sgd : Optimizer
{
    private readonly float[]?[] _velocity;
    private double _momentum;

    /// <summary>SGD over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the exception names it).</exception>
    /// <exception cref="ArgumentException">Nesterov without momentum, or invalid parameters (see <see cref="Optimizer"/>).</exception>
    public Sgd(IReadOnlyList<Tensor> parameters, SgdOptions options)
        : base(parameters, (options ?? throw new ArgumentNullException(nameof(options))).LearningRate)
    {
        Hyperparameter.RequireUnitInterval(options.Momentum, nameof(SgdOptions.Momentum));
        Hyperparameter.RequireNonNegative(options.WeightDecay, nameof(SgdOptions.WeightDecay));
        if (options.Nesterov && options.Momentum == 0)
            throw new ArgumentException("Nesterov momentum requires Momentum > 0.", nameof(SgdOptions.Nesterov));
        Options = options;
        _momentum = options.Momentum;
        _velocity = AddBuffers("momentum", allocate: false);
    }

    /// <summary>The options given at construction (<see cref="Optimizer.LearningRate"/> and <see cref="Momentum"/> may since have changed).</summary>
    public SgdOptions Options { get; }

    /// <summary>μ for the next step; a schedule may set it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1), or 0 with Nesterov.</exception>
    public double Momentum
    {
        get => _momentum;
        set
        {
            Hyperparameter.RequireUnitInterval(value, nameof(value));
            if (Options.Nesterov && value == 0) throw new ArgumentOutOfRangeException(nameof(value), value, "Nesterov momentum requires Momentum > 0.");
            _momentum = value;
        }
    }

    /// <inheritdoc/>
    protected override void Update(int index, Span<float> parameter, ReadOnlySpan<float> gradient)
    {
        float lr = (float)LearningRate, mu = (float)_momentum, weightDecay = (float)Options.WeightDecay;
        ReadOnlySpan<float> direction = gradient;
        if (weightDecay != 0)
        {
            // g ← g + λ·p, in scratch: the caller's gradient stays as backward left it.
            var decayed = Scratch(0, parameter.Length);
            TensorPrimitives.FusedMultiplyAdd(parameter, weightDecay, gradient, decayed);
            direction = decayed;
        }
        // PyTorch tests "momentum != 0" on every step; a buffer left from earlier steps is then simply ignored.
        if (mu != 0)
        {
            var velocity = _velocity[index];
            if (velocity is null)
            {
                velocity = _velocity[index] = direction.ToArray(); // v ← g on the first step (torch clones d_p)
            }
            else
            {
                TensorPrimitives.MultiplyAdd(velocity, mu, direction, velocity); // v ← μ·v + g
            }
            if (Options.Nesterov)
            {
                var lookahead = Scratch(0, parameter.Length); // may alias the decayed gradient: elementwise, so safe
                TensorPrimitives.FusedMultiplyAdd(velocity, mu, direction, lookahead); // d = g + μ·v
                direction = lookahead;
            }
            else
            {
                direction = velocity;
            }
        }
        TensorPrimitives.FusedMultiplyAdd(direction, -lr, parameter, parameter); // p ← p − lr·d
    }
}

using SharpVision.Tensors;

namespace SharpVision.Optim;

/// <summary>
/// Random search, the lectures' "strategy 1" for linear classifiers and a teaching baseline (not a gradient method):
/// each <see cref="Step"/> draws every parameter afresh, W ~ N(0, scale²), evaluates the loss, and keeps the candidate
/// only if its loss is lower than the best so far: W* ← argmin over {W*, W} of L. The parameters always hold the best
/// values seen, so the loss never rises; nothing is learned from the loss surface, which is why it does so badly
/// against gradient descent (CS231n reports ~15.5% on CIFAR-10 after 1000 tries vs ~10% chance).
/// </summary>
/// <remarks>
/// The first <see cref="Step"/> also scores the parameters' current values, so they take part as the first incumbent.
/// A NaN loss counts as +∞. Candidates are drawn in parameter order, element by element, from the given
/// <see cref="Rng"/>: same seed and same loss ⇒ same result; save <c>rng.State</c> to resume.
/// </remarks>
public sealed class RandomSearch
{
    private readonly Tensor[] _parameters;
    private readonly float[][] _best;
    private readonly Func<double> _loss;
    private readonly Rng _rng;

    /// <summary>Random search over <paramref name="parameters"/>, scored by <paramref name="loss"/> (which reads the parameters' current values).</summary>
    /// <param name="parameters">Tensors overwritten with candidates; gradients are not used, so RequiresGrad may be false.</param>
    /// <param name="loss">The loss of the current parameter values, e.g. the data loss on a training batch.</param>
    /// <param name="scale">Standard deviation of the candidates (the lectures use 1e-4 for CIFAR-10 pixels in [0, 255]).</param>
    /// <param name="rng">Source of the candidates.</param>
    /// <exception cref="ArgumentException">No parameters, a null or repeated tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scale"/> is not finite and &gt; 0.</exception>
    public RandomSearch(IReadOnlyList<Tensor> parameters, Func<double> loss, float scale, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(rng);
        if (parameters.Count == 0) throw new ArgumentException("Random search needs at least one parameter.", nameof(parameters));
        Hyperparameter.RequirePositive(scale, nameof(scale));
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        _parameters = new Tensor[parameters.Count];
        _best = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i] ?? throw new ArgumentException($"Parameter [{i}] is null.", nameof(parameters));
            if (!seen.Add(p)) throw new ArgumentException($"Parameter [{i}] appears more than once.", nameof(parameters));
            _parameters[i] = p;
            _best[i] = new float[p.Size];
        }
        _loss = loss;
        _rng = rng;
        Scale = scale;
    }

    /// <summary>Standard deviation of the candidates.</summary>
    public float Scale { get; }

    /// <summary>The lowest loss seen (the loss of the current parameters); +∞ before the first <see cref="Step"/>.</summary>
    public double BestLoss { get; private set; } = double.PositiveInfinity;

    /// <summary>Number of candidates tried.</summary>
    public long Trials { get; private set; }

    /// <summary>Number of candidates kept (each one lowered <see cref="BestLoss"/>).</summary>
    public long Improvements { get; private set; }

    /// <summary>Tries one candidate; returns whether it was kept (its loss was strictly lower than <see cref="BestLoss"/>).</summary>
    public bool Step()
    {
        if (Trials == 0 && double.IsPositiveInfinity(BestLoss)) BestLoss = Score(_loss());
        for (int i = 0; i < _parameters.Length; i++)
        {
            var data = _parameters[i].Data;
            data.CopyTo(_best[i], 0); // the incumbent, restored if the candidate loses
            for (int j = 0; j < data.Length; j++) data[j] = Scale * _rng.NextNormal();
        }
        Trials++;
        double candidate = Score(_loss());
        if (candidate < BestLoss)
        {
            BestLoss = candidate;
            Improvements++;
            return true;
        }
        for (int i = 0; i < _parameters.Length; i++) _best[i].CopyTo(_parameters[i].Data, 0);
        return false;
    }

    private static double Score(double loss) => double.IsNaN(loss) ? double.PositiveInfinity : loss;
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Nn;
using SharpVision.Optim;

namespace SharpVision.Training;

/// <summary>How <see cref="DualSvmTraining"/> trains a linear SVM exactly.</summary>
/// <param name="CValues">Candidate values of C (scikit-learn's <c>LinearSVC</c> C); more than one needs a validation split.</param>
/// <param name="Tolerance">Stopping tolerance of each solve (<see cref="DualCoordinateDescentOptions.Tolerance"/>); 0.1 is liblinear's default for this solver.</param>
/// <param name="MaxPasses">Pass limit of each solve.</param>
public sealed record DualSvmOptions(IReadOnlyList<double> CValues, double Tolerance = DualSvmOptions.DefaultTolerance, int MaxPasses = 1000)
{
    /// <summary>
    /// liblinear's default stopping tolerance for the dual solvers. On Fashion-MNIST's HOG features (L2-Hys, C = 0.1),
    /// 0.01 instead gave test accuracy 0.8893 against 0.8894 and took 1.3× as long; LinearSVC solved to 1e-4 gets 0.8894.
    /// </summary>
    public const double DefaultTolerance = 0.1;

    /// <summary>The default candidates: suited to standardized inputs of a few hundred to a few thousand dimensions.</summary>
    public static IReadOnlyList<double> DefaultCValues { get; } = [0.001, 0.003, 0.01, 0.03];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (CValues is null || CValues.Count == 0) throw new ArgumentException("At least one value of C is needed.");
        foreach (double c in CValues)
            if (!(c > 0 && double.IsFinite(c))) throw new ArgumentException($"C must be positive and finite, got {c.ToString(CultureInfo.InvariantCulture)}.");
        if (CValues.Distinct().Count() != CValues.Count) throw new ArgumentException("The values of C must differ.");
        if (!(Tolerance > 0 && double.IsFinite(Tolerance))) throw new ArgumentException($"The tolerance must be positive, got {Tolerance.ToString(CultureInfo.InvariantCulture)}.");
        if (MaxPasses < 1) throw new ArgumentException($"The pass limit must be at least 1, got {MaxPasses}.");
    }

    public JsonObject ToJson() => new()
    {
        ["solver"] = "dual-coordinate-descent",
        ["loss"] = "squared-hinge-ovr",
        ["c_values"] = new JsonArray(CValues.Select(c => (JsonNode)c).ToArray()),
        ["tolerance"] = Tolerance,
        ["max_passes"] = MaxPasses,
    };
}

/// <summary>One candidate C scored on the validation split.</summary>
public sealed record DualSvmCandidate(double C, double ValidationAccuracy, double Seconds, int Passes, bool Converged);

/// <summary>What <see cref="DualSvmTraining.Fit"/> did.</summary>
/// <param name="C">The C of the final model.</param>
/// <param name="Candidates">Each candidate's validation accuracy (empty when only one C was given).</param>
/// <param name="Refit">True when the final model was refitted on training + validation examples after the choice.</param>
/// <param name="Examples">Examples the final model was fitted on.</param>
/// <param name="Passes">Passes of the final solve, per class.</param>
/// <param name="Converged">Whether every class of the final solve reached the tolerance.</param>
/// <param name="SupportVectors">Examples with a non-zero dual variable in the final solve, per class.</param>
/// <param name="TrainAccuracy">Accuracy of the final model on the examples it was fitted on.</param>
/// <param name="ValidationAccuracy">The final model's validation accuracy when it was not refitted (else the chosen candidate's, on a split it had not seen).</param>
/// <param name="Seconds">Time of the whole fit.</param>
public sealed record DualSvmOutcome(double C, IReadOnlyList<DualSvmCandidate> Candidates, bool Refit, int Examples, int[] Passes, bool Converged, int[] SupportVectors,
    double TrainAccuracy, double? ValidationAccuracy, double Seconds)
{
    public JsonObject ToJson() => new()
    {
        ["c"] = C,
        ["candidates"] = new JsonArray(Candidates.Select(k => (JsonNode)new JsonObject
        {
            ["c"] = k.C,
            ["val_accuracy"] = Math.Round(k.ValidationAccuracy, 6),
            ["seconds"] = Math.Round(k.Seconds, 3),
            ["passes"] = k.Passes,
            ["converged"] = k.Converged,
        }).ToArray()),
        ["refit_on_validation"] = Refit,
        ["examples"] = Examples,
        ["passes"] = new JsonArray(Passes.Select(p => (JsonNode)p).ToArray()),
        ["converged"] = Converged,
        ["support_vectors"] = new JsonArray(SupportVectors.Select(p => (JsonNode)p).ToArray()),
        ["train_accuracy"] = Math.Round(TrainAccuracy, 6),
        ["val_accuracy"] = ValidationAccuracy is double v ? Math.Round(v, 6) : null,
        ["seconds"] = Math.Round(Seconds, 3),
    };
}

/// <summary>
/// Trains a linear SVM classifier exactly with <see cref="DualCoordinateDescent"/> (one-vs-rest squared hinge, the model
/// of scikit-learn's <c>LinearSVC</c>) instead of minibatch gradient descent. With several values of C, each is fitted on
/// the training examples (in increasing order, each warm-started from the previous optimum) and scored on the validation
/// split; the best (ties: the smaller C, the stronger regularization) is then refitted on training and validation
/// examples together, as a grid search with refit does, warm-started from its solve on the training examples.
/// </summary>
public static class DualSvmTraining
{
    /// <summary>Fits <paramref name="model"/>'s single linear layer in place.</summary>
    /// <param name="model">A linear classifier (<see cref="Flatten"/>, then one <see cref="Linear"/> layer with a bias) with the <see cref="ClassifierLoss.SquaredHinge"/> loss.</param>
    /// <param name="train">Training examples (already normalized or standardized).</param>
    /// <param name="validation">Validation examples, or null.</param>
    /// <param name="options">Candidates of C, tolerance, pass limit.</param>
    /// <param name="seed">Seeds the order examples are visited in.</param>
    /// <param name="threads">Classes solved at once (and GEMM threads for scoring, set by the caller).</param>
    /// <param name="onProgress">Called with (solves done, solves in all, what is being solved), from worker threads.</param>
    /// <param name="cancellationToken">Checked after every pass.</param>
    /// <exception cref="ArgumentException">Not a linear squared-hinge model, bad options, or several C without validation examples.</exception>
    public static DualSvmOutcome Fit(NetworkClassifier model, ExampleSet train, ExampleSet? validation, DualSvmOptions options, int seed, int threads,
        Action<int, int, string>? onProgress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (model.Loss != ClassifierLoss.SquaredHinge || model.Network.Layers is not [Flatten, Linear { Bias: not null } layer])
            throw new ArgumentException("The dual solver trains a linear classifier with the one-vs-rest squared hinge loss.", nameof(model));
        if (options.CValues.Count > 1 && (validation is null || validation.Count == 0))
            throw new ArgumentException("Choosing among several values of C needs a validation split.", nameof(options));
        int classes = model.ClassNames.Count, d = train.SampleSize;
        if (layer.Inputs != d || layer.Outputs != classes) throw new ArgumentException($"The layer maps {layer.Inputs} → {layer.Outputs}; the examples have {d} values and {classes} classes.", nameof(train));

        var clock = Stopwatch.StartNew();
        bool refit = options.CValues.Count > 1;
        int total = classes * (options.CValues.Count + (refit ? 1 : 0)), done = 0;
        void Solved(string what) => onProgress?.Invoke(Interlocked.Increment(ref done), total, what);
        DualCoordinateDescentResult Solve(ExampleSet set, double c, double[][]? warmStart)
        {
            var what = string.Create(CultureInfo.InvariantCulture, $"C = {c:G4} on {set.Count:N0} examples");
            return DualCoordinateDescent.Fit(set.Inputs, set.Labels, d, classes, new DualCoordinateDescentOptions(c, options.Tolerance, options.MaxPasses, seed), threads,
                _ => Solved(what), warmStart, cancellationToken);
        }

        var candidates = new List<DualSvmCandidate>();
        DualCoordinateDescentResult? final = null;
        double chosen = options.CValues[0];
        if (refit)
        {
            // Smallest C first, each solve warm-started from the previous optimum (a larger C moves it little).
            var alphas = new Dictionary<double, double[][]>();
            double[][]? previous = null;
            foreach (double c in options.CValues.Order())
            {
                var started = clock.Elapsed;
                var result = Solve(train, c, previous);
                Install(layer, result);
                double accuracy = Accuracy(model, validation!);
                candidates.Add(new DualSvmCandidate(c, accuracy, (clock.Elapsed - started).TotalSeconds, result.Passes.Max(), result.Converged.All(b => b)));
                alphas[c] = previous = result.Alphas;
            }
            var best = candidates.OrderByDescending(k => k.ValidationAccuracy).ThenBy(k => k.C).First();
            chosen = best.C;
            var all = new ExampleSet([.. train.Inputs, .. validation!.Inputs], [.. train.Labels, .. validation.Labels], d);
            // The refit starts from the chosen solve's α on the training examples and 0 on the validation ones.
            var start = alphas[chosen].Select(a => (double[])[.. a, .. new double[validation.Count]]).ToArray();
            final = Solve(all, chosen, start);
            Install(layer, final);
            return Outcome(all, best.ValidationAccuracy);
        }
        final = Solve(train, chosen, null);
        Install(layer, final);
        return Outcome(train, validation is { Count: > 0 } ? Accuracy(model, validation) : null);

        DualSvmOutcome Outcome(ExampleSet fitted, double? validationAccuracy) => new(chosen, candidates, refit, fitted.Count, final.Passes, final.Converged.All(b => b),
            final.SupportVectors, Accuracy(model, fitted), validationAccuracy, clock.Elapsed.TotalSeconds);
    }

    private static double Accuracy(NetworkClassifier model, ExampleSet set) => Trainer.Evaluate(model, set).Accuracy;

    private static void Install(Linear layer, DualCoordinateDescentResult result)
    {
        result.Weights.AsSpan().CopyTo(layer.Weight.Data);
        result.Biases.AsSpan().CopyTo(layer.Bias!.Data);
    }
}

using SharpVision.Tensors.Autograd;

namespace SharpVision.Tensors;

/// <summary>One input's comparison of analytic and numerical gradients.</summary>
/// <param name="Input">Index of the input.</param>
/// <param name="Name">Its <see cref="Tensor.Name"/>, if any.</param>
/// <param name="MaxError">Largest error |analytic − numerical| / max(1, |analytic|, |numerical|) over the checked elements.</param>
/// <param name="WorstElement">Flat index of that element.</param>
/// <param name="Analytic">Backward's value there.</param>
/// <param name="Numerical">The central difference there.</param>
public sealed record GradientCheckEntry(int Input, string? Name, double MaxError, int WorstElement, double Analytic, double Numerical);

/// <summary>The result of <see cref="GradientChecker.Check"/>.</summary>
public sealed record GradientCheckResult(bool Passed, double Tolerance, IReadOnlyList<GradientCheckEntry> Inputs)
{
    /// <summary>One line per input: "input 0 (w): max error 2.1e-04 at [17] (analytic 0.31, numerical 0.3101)".</summary>
    public override string ToString() => string.Join(Environment.NewLine, Inputs.Select(e =>
        FormattableString.Invariant($"input {e.Input}{(e.Name is null ? "" : $" ({e.Name})")}: max error {e.MaxError:E2} at [{e.WorstElement}] (analytic {e.Analytic:G6}, numerical {e.Numerical:G6}){(e.MaxError > Tolerance ? " FAILED" : "")}")));
}

/// <summary>
/// The lectures' gradient check: compares the analytic gradient from <see cref="Tensor.Backward(ReadOnlySpan{float})"/>
/// with the numerical one, (f(x + h) − f(x − h)) / 2h, element by element. Works on any function of tensors.
/// </summary>
/// <remarks>
/// A function with a non-scalar output is reduced to the scalar ⟨r, f(x)⟩ with a fixed random r, so every output
/// element takes part. The engine is float32, so the projection is summed in double and the error is relative for
/// large gradients and absolute for small ones: |a − n| / max(1, |a|, |n|). Keep inputs away from kinks (ReLU at 0,
/// |x| at 0, hinge margins) by more than h, or the central difference straddles them.
/// </remarks>
public static class GradientChecker
{
    /// <summary>Checks ∂f/∂input for every input with <see cref="Tensor.RequiresGrad"/>.</summary>
    /// <param name="function">The function; it must be deterministic (no fresh randomness per call).</param>
    /// <param name="inputs">Its inputs; their values are perturbed and restored, their gradients overwritten.</param>
    /// <param name="step">h of the central difference.</param>
    /// <param name="tolerance">Largest accepted error.</param>
    /// <param name="seed">Seed of the projection vector r.</param>
    public static GradientCheckResult Check(Func<Tensor[], Tensor> function, Tensor[] inputs, float step = 1e-2f, double tolerance = 1e-2, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        if (!inputs.Any(t => t.RequiresGrad)) throw new ArgumentException("No input requires a gradient; nothing to check.", nameof(inputs));

        foreach (var input in inputs) input.Grad = null;
        var output = function(inputs);
        var rng = new Rng(seed);
        var projection = new float[output.Size];
        for (int i = 0; i < projection.Length; i++) projection[i] = rng.NextFloat() * 2 - 1;
        if (output.Size == 1) projection[0] = 1;
        output.Backward(projection);

        double Evaluate()
        {
            using var _ = GradMode.NoGrad();
            var y = function(inputs);
            double sum = 0;
            for (int i = 0; i < y.Size; i++) sum += (double)projection[i] * y.Data[i];
            return sum;
        }

        var entries = new List<GradientCheckEntry>();
        for (int t = 0; t < inputs.Length; t++)
        {
            var input = inputs[t];
            if (!input.RequiresGrad) continue;
            var analytic = input.Grad ?? new float[input.Size];
            double worst = 0, worstA = 0, worstN = 0;
            int worstAt = 0;
            for (int i = 0; i < input.Size; i++)
            {
                float original = input.Data[i];
                input.Data[i] = original + step;
                double plus = Evaluate();
                input.Data[i] = original - step;
                double minus = Evaluate();
                input.Data[i] = original;
                // the perturbation actually applied in float32 may differ slightly from h
                double h = ((double)(original + step) - (original - step)) / 2;
                double numerical = (plus - minus) / (2 * h);
                double error = Math.Abs(analytic[i] - numerical) / Math.Max(1, Math.Max(Math.Abs(analytic[i]), Math.Abs(numerical)));
                if (error > worst || i == 0)
                {
                    (worst, worstAt, worstA, worstN) = (error, i, analytic[i], numerical);
                }
            }
            entries.Add(new GradientCheckEntry(t, input.Name, worst, worstAt, worstA, worstN));
        }
        return new GradientCheckResult(entries.All(e => e.MaxError <= tolerance), tolerance, entries);
    }
}

using System.Globalization;

namespace SharpVision.Cli.Commands;

/// <summary>
/// `cv`'s grid, read from the command line before it is parsed: a comma-separated value of a flag in
/// <see cref="ModelFlags.GridFlags"/> is one alternative per item. The command line is parsed with each flag's first
/// alternative (so typed flags parse), then once more per combination to build each candidate's trainer.
/// </summary>
internal sealed class CvGrid
{
    private readonly List<(string Flag, string[] Values)> _axes = [];

    /// <summary>The command line with every grid flag reduced to its first alternative.</summary>
    public string[] Arguments { get; private set; } = [];

    /// <summary>The flags that vary and their alternatives, in command-line order.</summary>
    public IReadOnlyList<(string Flag, string[] Values)> Axes => _axes;

    /// <summary>Takes the alternatives out of `cv`'s arguments (anything else is returned unchanged).</summary>
    public string[] Extract(string[] args)
    {
        Arguments = args;
        if (args.Length == 0 || args[0] != "cv") return args;
        var reduced = (string[])args.Clone();
        for (int i = 1; i + 1 < reduced.Length; i++)
        {
            if (!ModelFlags.GridFlags.Contains(reduced[i])) continue;
            var values = reduced[i + 1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct().ToArray();
            if (values.Length == 0) continue;
            if (_axes.Any(a => a.Flag == reduced[i])) throw new UsageException($"{reduced[i]} is given twice.");
            _axes.Add((reduced[i], values));
            reduced[i + 1] = values[0];
            i++;
        }
        Arguments = reduced;
        return reduced;
    }

    /// <summary>Adds an axis for a flag the user left at a list default (cv's k-NN grid: k ∈ {1, 3, 5, 7, 9} × L1/L2).</summary>
    public void AddDefault(string flag, string values)
    {
        if (_axes.Any(a => a.Flag == flag) || Arguments.Contains(flag)) return;
        _axes.Add((flag, values.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>Every combination, in grid order (the first axis varies slowest), as (arguments, parameters).</summary>
    public IEnumerable<(string[] Arguments, System.Text.Json.Nodes.JsonObject Parameters)> Combinations()
    {
        var indices = new int[_axes.Count];
        while (true)
        {
            var args = Arguments.Skip(1).ToList(); // without "cv": the command parses its own arguments
            var parameters = new System.Text.Json.Nodes.JsonObject();
            for (int a = 0; a < _axes.Count; a++)
            {
                var (flag, values) = _axes[a];
                var value = values[indices[a]];
                int at = args.IndexOf(flag);
                if (at >= 0 && at + 1 < args.Count) args[at + 1] = value;
                else args.AddRange([flag, value]);
                parameters[flag.TrimStart('-')] = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
                    ? (number == Math.Round(number) && Math.Abs(number) < 1e9 && !value.Contains('.') && !value.Contains('e') ? (long)number : number)
                    : value;
            }
            yield return (args.ToArray(), parameters);
            int axis = _axes.Count - 1;
            while (axis >= 0 && ++indices[axis] == _axes[axis].Values.Length)
            {
                indices[axis] = 0;
                axis--;
            }
            if (axis < 0) yield break;
        }
    }
}

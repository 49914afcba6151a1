using SharpVision.Cli;

namespace SharpVision.Tests.Layering;

/// <summary>
/// The namespace dependency table of docs/architecture.md is the law: the compiled assemblies may use only what it
/// allows, and the table itself has no cycle, so dependencies point one way.
/// </summary>
public class ArchitectureTests
{
    private static readonly string Document = Path.Combine(Support.CliRunner.RepositoryRoot, "docs", "architecture.md");

    private static IEnumerable<string> Assemblies() =>
    [
        typeof(SharpVision.Tensors.Tensor).Assembly.Location,
        typeof(IImageClassifier).Assembly.Location,
        typeof(CliApp).Assembly.Location,
        typeof(SharpVision.Web.ServeApp).Assembly.Location,
    ];

    [Fact]
    public void Assemblies_UseOnlyTheDependenciesTheArchitectureTableAllows()
    {
        var allowed = ArchitectureTable.Read(Document);
        var actual = NamespaceDependencies.Read(Assemblies());
        var violations = ArchitectureTable.Violations(allowed, actual);
        Assert.True(violations.Count == 0, "Dependencies docs/architecture.md does not allow:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void ArchitectureTable_HasNoCycle_AndNamesEveryComponent()
    {
        var allowed = ArchitectureTable.Read(Document);
        Assert.Null(ArchitectureTable.Cycle(allowed));
        var components = NamespaceDependencies.Read(Assemblies()).Keys;
        foreach (var c in components) Assert.True(allowed.ContainsKey(c), $"docs/architecture.md has no row for {c}");
    }

    [Fact]
    public void Violations_CatchAReverseDependency()
    {
        // The check can fail: Data using Runs is exactly what the table forbids.
        var allowed = ArchitectureTable.Read(Document);
        var reversed = new Dictionary<string, Dictionary<string, string>> { ["Data"] = new() { ["Runs"] = "SharpVision.Data.X → SharpVision.Runs.Y" } };
        Assert.Single(ArchitectureTable.Violations(allowed, reversed));
        var cyclic = new Dictionary<string, IReadOnlySet<string>> { ["A"] = new HashSet<string> { "B" }, ["B"] = new HashSet<string> { "A" } };
        Assert.NotNull(ArchitectureTable.Cycle(cyclic));
    }
}

/// <summary>The "| component | may use |" table of docs/architecture.md.</summary>
internal static class ArchitectureTable
{
    public static Dictionary<string, IReadOnlySet<string>> Read(string path)
    {
        var table = new Dictionary<string, IReadOnlySet<string>>();
        bool inTable = false;
        foreach (var line in File.ReadLines(path))
        {
            var cells = line.Trim().Trim('|').Split('|').Select(c => c.Trim().Trim('`')).ToArray();
            if (!line.TrimStart().StartsWith('|')) { inTable = false; continue; }
            if (cells.Length >= 2 && cells[0] == "component" && cells[1] == "may use") { inTable = true; continue; }
            if (!inTable || cells[0].StartsWith('-')) continue;
            table[cells[0]] = cells[1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(c => c.Trim('`')).ToHashSet(StringComparer.Ordinal);
        }
        if (table.Count == 0) throw new InvalidOperationException($"{path} has no '| component | may use |' table.");
        return table;
    }

    public static List<string> Violations(Dictionary<string, IReadOnlySet<string>> allowed, Dictionary<string, Dictionary<string, string>> actual)
    {
        var violations = new List<string>();
        foreach (var (from, targets) in actual.OrderBy(p => p.Key, StringComparer.Ordinal))
            foreach (var (to, example) in targets.OrderBy(p => p.Key, StringComparer.Ordinal))
                if (!allowed.TryGetValue(from, out var uses) || !uses.Contains(to))
                    violations.Add($"{from} → {to}: {example}");
        return violations;
    }

    /// <summary>A cycle of the table as "A → B → A", or null.</summary>
    public static string? Cycle(IReadOnlyDictionary<string, IReadOnlySet<string>> graph)
    {
        var state = new Dictionary<string, int>();
        var path = new List<string>();
        string? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (var next in graph.TryGetValue(node, out var n) ? n : new HashSet<string>())
            {
                if (state.GetValueOrDefault(next) == 1) return string.Join(" → ", path.SkipWhile(p => p != next).Append(next));
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } cycle) return cycle;
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
        foreach (var node in graph.Keys)
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle) return cycle;
        return null;
    }
}

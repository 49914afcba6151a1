using SharpVision.Tensors.Kernels;

namespace SharpVision.Tests.Support;

/// <summary>
/// A [Fact] for one SIMD level: skipped, with the reason, when this CPU lacks the level. Under CI=true it is skipped only
/// when the CPU itself lacks the instructions (/proc/cpuinfo); a CPU that has them but a runtime that hides them fails.
/// </summary>
public sealed class SimdLevelFactAttribute : FactAttribute
{
    public SimdLevelFactAttribute(SimdLevel level)
    {
        Level = level;
        Skip = SkipReason(level, SimdPaths.IsSupported(level), CpuFlags(), Environment.GetEnvironmentVariable("CI"));
    }

    public SimdLevel Level { get; }

    /// <summary>Null to run; else the reason to skip (never under CI=true when the CPU's flags show the level).</summary>
    internal static string? SkipReason(SimdLevel level, bool supported, IReadOnlySet<string>? cpuFlags, string? ciVariable)
    {
        if (supported) return null;
        bool cpuHasIt = cpuFlags is not null && Required(level).All(any => any.Split('|').Any(cpuFlags.Contains));
        if (ciVariable == "true" && cpuHasIt) return null; // the test runs and fails: the runtime hides what the CPU has
        return $"skipped: {SimdPaths.CpuModel} lacks {SimdDispatch.Name(level)} (the runtime offers {SimdDispatch.Names(SimdPaths.Machine)})";
    }

    // /proc/cpuinfo flags each level needs; "a|b" is either.
    private static string[] Required(SimdLevel level) => level switch
    {
        SimdLevel.Scalar => [],
        SimdLevel.Avx2 => ["avx2", "fma"],
        SimdLevel.AvxVnni => ["avx2", "fma", "avx_vnni"],
        SimdLevel.Avx512 => ["avx2", "fma", "avx512f", "avx512bw", "avx512vl"],
        _ => ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx_vnni|avx512_vnni"],
    };

    private static IReadOnlySet<string>? CpuFlags()
    {
        try
        {
            string? line = File.Exists("/proc/cpuinfo")
                ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))
                : null;
            return line is null ? null : line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        }
        catch (IOException)
        {
            return null;
        }
    }
}

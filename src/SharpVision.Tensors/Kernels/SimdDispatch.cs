// Run-time dispatch of the SIMD kernels. What the CPU has is detected once (CpuFeatures); SHARPVISION_SIMD, or a test's
// SimdPaths.Force, caps it at a SimdLevel; each kernel family then maps the effective features to its own path with a
// pure function (SimdDispatch.FloatPath, SimdDispatch.GemmKernel, NeighborSearch.ByteKernelFor, ...), so the choice
// for every kind of CPU is unit-tested on any machine, and every path this machine can run is tested against its
// scalar twin.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace SharpVision.Tensors.Kernels;

/// <summary>The CPU features the kernels dispatch on (a set: flags combine).</summary>
[Flags]
public enum CpuFeatures
{
    /// <summary>No vector extension the kernels use.</summary>
    None = 0,

    /// <summary>AVX2 with FMA: 256-bit integer and float vectors.</summary>
    Avx2 = 1,

    /// <summary>AVX-512 F, BW and VL, with 512-bit vectors accelerated by the runtime.</summary>
    Avx512 = 2,

    /// <summary>VEX-encoded AVX-VNNI: 256-bit <c>vpdpbusd</c>.</summary>
    AvxVnni = 4,

    /// <summary>
    /// EVEX AVX-512 VNNI (512-bit <c>vpdpbusd</c>), read from CPUID. .NET 10 has no intrinsic for it (no
    /// <c>AvxVnni.V512</c>), so the kernels cannot emit it: on such a CPU the AVX-512 BW paths run.
    /// </summary>
    Avx512Vnni = 8,

    /// <summary>AVX-512 BF16 (<c>vdpbf16ps</c>), read from CPUID. .NET 10 has no intrinsic for it; oneDNN uses it on its own.</summary>
    Avx512Bf16 = 16,
}

/// <summary>
/// The instruction sets kernels may use, as <c>SHARPVISION_SIMD</c> names them: each level allows a set of
/// <see cref="CpuFeatures"/>, and a kernel runs on what both the level allows and the CPU has.
/// </summary>
public enum SimdLevel
{
    /// <summary>No vector instructions: every kernel's scalar path.</summary>
    Scalar,

    /// <summary>AVX2 + FMA only.</summary>
    Avx2,

    /// <summary>AVX2 + FMA and VEX AVX-VNNI, no AVX-512.</summary>
    AvxVnni,

    /// <summary>AVX2 + FMA and AVX-512 (F, BW, VL; BF16 where present), no VNNI.</summary>
    Avx512,

    /// <summary>Everything: AVX-512 and VNNI in either encoding (the default on a CPU that has them).</summary>
    Avx512Vnni,
}

/// <summary>The <c>SHARPVISION_SIMD</c> environment variable names no SIMD level (a usage error).</summary>
/// <param name="message">The message, naming the variable, its value and the levels.</param>
public sealed class SimdLevelException(string message) : InvalidOperationException(message);

/// <summary>Vector width of the float kernels (GEMM, convolution, transformer rows, HOG, float k-NN).</summary>
public enum SimdPath
{
    /// <summary>One value at a time: runs everywhere.</summary>
    Scalar,

    /// <summary>256-bit vectors with FMA (x86 AVX2).</summary>
    Avx2,

    /// <summary>512-bit vectors with FMA (x86 AVX-512F).</summary>
    Avx512,
}

/// <summary>
/// The pure part of dispatch: from a set of <see cref="CpuFeatures"/> and a <see cref="SimdLevel"/> to the path each
/// kernel family takes. No method here looks at the machine except <see cref="Detect"/> and <see cref="CpuModel"/>.
/// </summary>
public static class SimdDispatch
{
    /// <summary>The features <paramref name="level"/> lets kernels use.</summary>
    public static CpuFeatures Allowed(SimdLevel level) => level switch
    {
        SimdLevel.Scalar => CpuFeatures.None,
        SimdLevel.Avx2 => CpuFeatures.Avx2,
        SimdLevel.AvxVnni => CpuFeatures.Avx2 | CpuFeatures.AvxVnni,
        SimdLevel.Avx512 => CpuFeatures.Avx2 | CpuFeatures.Avx512 | CpuFeatures.Avx512Bf16,
        _ => CpuFeatures.Avx2 | CpuFeatures.Avx512 | CpuFeatures.AvxVnni | CpuFeatures.Avx512Vnni | CpuFeatures.Avx512Bf16,
    };

    /// <summary>What kernels use on a CPU with <paramref name="machine"/> under <paramref name="level"/>: the intersection.</summary>
    public static CpuFeatures Effective(CpuFeatures machine, SimdLevel level) => machine & Allowed(level);

    /// <summary>
    /// Whether <paramref name="level"/> means something of its own on a CPU with <paramref name="machine"/> (tests force
    /// each supported level): AVX-VNNI needs VEX AVX-VNNI; AVX-512 VNNI needs AVX-512 and VNNI in either encoding.
    /// </summary>
    public static bool Supports(CpuFeatures machine, SimdLevel level) => level switch
    {
        SimdLevel.Scalar => true,
        SimdLevel.Avx2 => machine.HasFlag(CpuFeatures.Avx2),
        SimdLevel.AvxVnni => machine.HasFlag(CpuFeatures.Avx2 | CpuFeatures.AvxVnni),
        SimdLevel.Avx512 => machine.HasFlag(CpuFeatures.Avx2 | CpuFeatures.Avx512),
        _ => machine.HasFlag(CpuFeatures.Avx2 | CpuFeatures.Avx512) && (machine & (CpuFeatures.AvxVnni | CpuFeatures.Avx512Vnni)) != 0,
    };

    /// <summary>The levels <paramref name="machine"/> supports, scalar first.</summary>
    public static IReadOnlyList<SimdLevel> SupportedLevels(CpuFeatures machine) =>
        Enum.GetValues<SimdLevel>().Where(level => Supports(machine, level)).ToArray();

    /// <summary>The level that allows everything <paramref name="machine"/> has (the default).</summary>
    public static SimdLevel Best(CpuFeatures machine) =>
        Supports(machine, SimdLevel.Avx512Vnni) ? SimdLevel.Avx512Vnni
        : Supports(machine, SimdLevel.Avx512) ? SimdLevel.Avx512
        : Supports(machine, SimdLevel.AvxVnni) ? SimdLevel.AvxVnni
        : Supports(machine, SimdLevel.Avx2) ? SimdLevel.Avx2 : SimdLevel.Scalar;

    /// <summary>The float kernels' vector width: 512-bit with AVX-512, 256-bit with AVX2, else scalar.</summary>
    public static SimdPath FloatPath(CpuFeatures features) =>
        features.HasFlag(CpuFeatures.Avx512) ? SimdPath.Avx512 : features.HasFlag(CpuFeatures.Avx2) ? SimdPath.Avx2 : SimdPath.Scalar;

    /// <summary>
    /// The level a value of <c>SHARPVISION_SIMD</c> names: <c>scalar</c>, <c>avx2</c>, <c>avxvnni</c>, <c>avx512</c>,
    /// <c>avx512vnni</c> (any case), or the best level of <paramref name="machine"/> for null, blank or <c>auto</c>.
    /// A level above what the CPU has is a cap, not an error: kernels run on what both allow.
    /// </summary>
    /// <exception cref="SimdLevelException">The value names no level.</exception>
    public static SimdLevel Parse(string? value, CpuFeatures machine)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) return Best(machine);
        foreach (var level in Enum.GetValues<SimdLevel>())
            if (Name(level).Equals(value.Trim(), StringComparison.OrdinalIgnoreCase)) return level;
        throw new SimdLevelException(
            $"{SimdPaths.Variable}='{value}' is not a SIMD level; use scalar, avx2, avxvnni, avx512, avx512vnni or auto, or unset it.");
    }

    /// <summary>"scalar", "avx2", "avxvnni", "avx512" or "avx512vnni", as <c>SHARPVISION_SIMD</c> and JSON name it.</summary>
    public static string Name(SimdLevel level) => level switch
    {
        SimdLevel.Avx2 => "avx2",
        SimdLevel.AvxVnni => "avxvnni",
        SimdLevel.Avx512 => "avx512",
        SimdLevel.Avx512Vnni => "avx512vnni",
        _ => "scalar",
    };

    /// <summary>"avx512", "avx2" or "scalar".</summary>
    public static string Name(SimdPath path) => path switch
    {
        SimdPath.Avx512 => "avx512",
        SimdPath.Avx2 => "avx2",
        _ => "scalar",
    };

    /// <summary>The features as lower-case names separated by spaces ("avx2 avx512 avx512vnni"), or "none".</summary>
    public static string Names(CpuFeatures features)
    {
        var names = new List<string>();
        if (features.HasFlag(CpuFeatures.Avx2)) names.Add("avx2+fma");
        if (features.HasFlag(CpuFeatures.Avx512)) names.Add("avx512(f,bw,vl)");
        if (features.HasFlag(CpuFeatures.AvxVnni)) names.Add("avxvnni");
        if (features.HasFlag(CpuFeatures.Avx512Vnni)) names.Add("avx512vnni");
        if (features.HasFlag(CpuFeatures.Avx512Bf16)) names.Add("avx512bf16");
        return names.Count == 0 ? "none" : string.Join(' ', names);
    }

    /// <summary>
    /// What this process can use: the runtime's own <c>IsSupported</c> answers (so <c>DOTNET_EnableAVX512F=0</c> and the
    /// like are honoured), plus CPUID for the two AVX-512 extensions .NET 10 does not expose.
    /// </summary>
    public static CpuFeatures Detect()
    {
        var features = CpuFeatures.None;
        if (Avx2.IsSupported && Fma.IsSupported) features |= CpuFeatures.Avx2;
        if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512F.VL.IsSupported && Vector512.IsHardwareAccelerated)
            features |= CpuFeatures.Avx512;
        if (AvxVnni.IsSupported) features |= CpuFeatures.AvxVnni;
        if (features.HasFlag(CpuFeatures.Avx512) && X86Base.IsSupported && X86Base.CpuId(0, 0).Eax >= 7)
        {
            if ((X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0) features |= CpuFeatures.Avx512Vnni;
            if ((X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0) features |= CpuFeatures.Avx512Bf16;
        }
        return features;
    }

    /// <summary>The CPU's brand string ("AMD EPYC 9V74 80-Core Processor"), or "unknown CPU" off x86.</summary>
    public static string CpuModel()
    {
        if (!X86Base.IsSupported || (uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax < 0x80000004) return "unknown CPU";
        var bytes = new List<byte>(48);
        for (uint leaf = 0x80000002; leaf <= 0x80000004; leaf++)
        {
            var (a, b, c, d) = X86Base.CpuId(unchecked((int)leaf), 0);
            foreach (int register in new[] { a, b, c, d }) bytes.AddRange(BitConverter.GetBytes(register));
        }
        string model = Encoding.ASCII.GetString(bytes.ToArray()).TrimEnd('\0').Trim();
        return model.Length == 0 ? "unknown CPU" : string.Join(' ', model.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}

/// <summary>
/// The machine's <see cref="CpuFeatures"/>, the <see cref="SimdLevel"/> in force and the float path it gives; tests
/// and benchmarks force a level with <see cref="Force(SimdLevel)"/>.
/// </summary>
/// <remarks>
/// Kernels read <see cref="Features"/> (or <see cref="Default"/>) once at their entry point and pass the choice to
/// their loops. A forced level holds for the calling thread's execution context, including the parallel workers it
/// starts.
/// </remarks>
public static class SimdPaths
{
    /// <summary>
    /// Environment variable that caps every SIMD kernel: <c>scalar</c>, <c>avx2</c>, <c>avxvnni</c>, <c>avx512</c>,
    /// <c>avx512vnni</c> or <c>auto</c> (unset: auto, everything the CPU has).
    /// </summary>
    public const string Variable = "SHARPVISION_SIMD";

    private static readonly Lazy<SimdLevel> Configured = new(() => SimdDispatch.Parse(Environment.GetEnvironmentVariable(Variable), Machine));

    // AsyncLocal, not ThreadStatic: a forced level flows into the Parallel.For workers and tasks a call starts.
    private static readonly AsyncLocal<SimdLevel?> Forced = new();

    /// <summary>What this machine and runtime offer (<see cref="SimdDispatch.Detect"/>).</summary>
    public static CpuFeatures Machine { get; } = SimdDispatch.Detect();

    /// <summary>The CPU's brand string.</summary>
    public static string CpuModel { get; } = SimdDispatch.CpuModel();

    /// <summary>
    /// The level in force here: the one <see cref="Force(SimdLevel)"/> set in this execution context, else
    /// <see cref="Variable"/>'s.
    /// </summary>
    /// <exception cref="SimdLevelException">The variable names an unknown level.</exception>
    public static SimdLevel Level => Forced.Value ?? Configured.Value;

    /// <summary>The features kernels called from this thread use: <see cref="Machine"/> capped by <see cref="Level"/>.</summary>
    public static CpuFeatures Features => SimdDispatch.Effective(Machine, Level);

    /// <summary>The float kernels' path on this thread.</summary>
    public static SimdPath Default => SimdDispatch.FloatPath(Features);

    /// <summary>The widest float path this machine supports.</summary>
    public static SimdPath Best => SimdDispatch.FloatPath(Machine);

    /// <summary>The levels this machine supports, scalar first (tests run each).</summary>
    public static IReadOnlyList<SimdLevel> SupportedLevels => SimdDispatch.SupportedLevels(Machine);

    /// <summary>Whether this machine supports <paramref name="level"/>.</summary>
    public static bool IsSupported(SimdLevel level) => SimdDispatch.Supports(Machine, level);

    /// <summary>Whether this machine can run the float kernels at <paramref name="path"/>.</summary>
    public static bool IsSupported(SimdPath path) => path <= Best;

    /// <summary>"avx512", "avx2" or "scalar".</summary>
    public static string Name(SimdPath path) => SimdDispatch.Name(path);

    /// <summary>
    /// Runs kernels called from this execution context (and the workers it starts) at <paramref name="level"/> until the scope is disposed:
    /// <c>using (SimdPaths.Force(SimdLevel.Scalar)) { ... }</c>.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">This machine does not support <paramref name="level"/>.</exception>
    public static ForcedPath Force(SimdLevel level)
    {
        if (!IsSupported(level)) throw new PlatformNotSupportedException($"This machine cannot run the {SimdDispatch.Name(level)} kernels.");
        var previous = Forced.Value;
        Forced.Value = level;
        return new ForcedPath(previous);
    }

    /// <summary>Forces the level whose float path is <paramref name="path"/> (scalar, avx2 or avx512).</summary>
    /// <exception cref="PlatformNotSupportedException">This machine cannot run <paramref name="path"/>.</exception>
    public static ForcedPath Force(SimdPath path) => Force(path switch
    {
        SimdPath.Avx512 => SimdLevel.Avx512,
        SimdPath.Avx2 => SimdLevel.Avx2,
        _ => SimdLevel.Scalar,
    });

    /// <summary>One line for logs: "avx2 on AMD EPYC (avx2+fma; SHARPVISION_SIMD unset)".</summary>
    public static string Describe()
    {
        string? variable = Environment.GetEnvironmentVariable(Variable);
        string source = Forced.Value is not null ? "forced"
            : string.IsNullOrWhiteSpace(variable) ? $"{Variable} unset" : $"{Variable}={variable.Trim()}";
        return $"{SimdDispatch.Name(Level)} on {CpuModel} ({SimdDispatch.Names(Machine)}; {source})";
    }

    /// <summary>Restores the previous level when disposed.</summary>
    public readonly struct ForcedPath : IDisposable
    {
        private readonly SimdLevel? _previous;

        internal ForcedPath(SimdLevel? previous) => _previous = previous;

        /// <summary>Restores the level in force before <see cref="Force(SimdLevel)"/>.</summary>
        public void Dispose() => Forced.Value = _previous;
    }
}

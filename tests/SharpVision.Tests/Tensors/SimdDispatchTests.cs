using SharpVision.Classic;
using SharpVision.Tensors;
using SharpVision.Classic.Reference;
using SharpVision.Tensors.Kernels;
using SharpVision.Tensors.Kernels.Reference;
using SharpVision.Tests.Support;

namespace SharpVision.Tests.Tensors;

/// <summary>
/// The dispatch rules as pure functions of a CPU's features, for each kind of CPU the project runs on (whatever this
/// machine is), and the forcing mechanism on this machine.
/// </summary>
public class SimdDispatchTests
{
    // AMD Zen 3 EPYC: AVX2 + FMA, no AVX-512.
    private const CpuFeatures Avx2Only = CpuFeatures.Avx2;
    // AMD Zen 4 EPYC: half-width AVX-512 with EVEX VNNI and BF16, no VEX AVX-VNNI.
    private const CpuFeatures Avx512WithoutAvxVnni = CpuFeatures.Avx2 | CpuFeatures.Avx512 | CpuFeatures.Avx512Vnni | CpuFeatures.Avx512Bf16;
    // AMD Zen 5 EPYC: full-width AVX-512 with VNNI in both encodings and BF16.
    private const CpuFeatures Avx512WithAvxVnni = Avx512WithoutAvxVnni | CpuFeatures.AvxVnni;
    // A client CPU with AVX2 and AVX-VNNI but AVX-512 fused off.
    private const CpuFeatures Avx2WithAvxVnni = CpuFeatures.Avx2 | CpuFeatures.AvxVnni;

    public static TheoryData<CpuFeatures, SimdLevel, SimdPath, ByteKernel, ByteKernel> Kinds => new()
    {
        // machine, default level, float path, k-NN L1 kernel, k-NN L2 kernel
        { CpuFeatures.None, SimdLevel.Scalar, SimdPath.Scalar, ByteKernel.Scalar, ByteKernel.Scalar },
        { Avx2Only, SimdLevel.Avx2, SimdPath.Avx2, ByteKernel.Avx2, ByteKernel.Avx2 },
        { Avx2WithAvxVnni, SimdLevel.AvxVnni, SimdPath.Avx2, ByteKernel.Avx2, ByteKernel.AvxVnni },
        // EVEX AVX-512 VNNI has no .NET 10 intrinsic: L2 takes AVX-512 BW vpmaddwd, never a 256-bit path.
        { Avx512WithoutAvxVnni, SimdLevel.Avx512Vnni, SimdPath.Avx512, ByteKernel.Avx512, ByteKernel.Avx512 },
        { Avx512WithAvxVnni, SimdLevel.Avx512Vnni, SimdPath.Avx512, ByteKernel.Avx512, ByteKernel.AvxVnni },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EachCpuKind_GetsItsWidestPaths(CpuFeatures machine, SimdLevel best, SimdPath floats, ByteKernel l1, ByteKernel l2)
    {
        Assert.Equal(best, SimdDispatch.Best(machine));
        var features = SimdDispatch.Effective(machine, best);
        Assert.Equal(machine, features);
        Assert.Equal(floats, SimdDispatch.FloatPath(features));
        Assert.Equal(l1, NeighborSearch.ByteKernelFor(DistanceMetric.Manhattan, features));
        Assert.Equal(l2, NeighborSearch.ByteKernelFor(DistanceMetric.Euclidean, features));
        Assert.Equal((ManagedGemm.InstructionSet)floats, ManagedGemm.KernelFor(features));
    }

    [Fact]
    public void Levels_ForceEachKernelOnAFullWidthAvx512Cpu()
    {
        CpuFeatures At(SimdLevel level) => SimdDispatch.Effective(Avx512WithAvxVnni, level);
        Assert.Equal(
            [SimdLevel.Scalar, SimdLevel.Avx2, SimdLevel.AvxVnni, SimdLevel.Avx512, SimdLevel.Avx512Vnni],
            SimdDispatch.SupportedLevels(Avx512WithAvxVnni));
        Assert.Equal(ByteKernel.Scalar, NeighborSearch.ByteKernelFor(DistanceMetric.Euclidean, At(SimdLevel.Scalar)));
        Assert.Equal(ByteKernel.Avx2, NeighborSearch.ByteKernelFor(DistanceMetric.Euclidean, At(SimdLevel.Avx2)));
        Assert.Equal(ByteKernel.AvxVnni, NeighborSearch.ByteKernelFor(DistanceMetric.Euclidean, At(SimdLevel.AvxVnni)));
        Assert.Equal(ByteKernel.Avx2, NeighborSearch.ByteKernelFor(DistanceMetric.Manhattan, At(SimdLevel.AvxVnni)));
        Assert.Equal(SimdPath.Avx2, SimdDispatch.FloatPath(At(SimdLevel.AvxVnni)));
        Assert.Equal(ByteKernel.Avx512, NeighborSearch.ByteKernelFor(DistanceMetric.Euclidean, At(SimdLevel.Avx512)));
        Assert.Equal(SimdPath.Avx512, SimdDispatch.FloatPath(At(SimdLevel.Avx512)));
        Assert.Equal(ByteKernel.AvxVnni, NeighborSearch.ByteKernelFor(DistanceMetric.Euclidean, At(SimdLevel.Avx512Vnni)));
    }

    [Fact]
    public void Levels_OnEachKindOfCpu_AreThoseItHas()
    {
        Assert.Equal([SimdLevel.Scalar], SimdDispatch.SupportedLevels(CpuFeatures.None));
        Assert.Equal([SimdLevel.Scalar, SimdLevel.Avx2], SimdDispatch.SupportedLevels(Avx2Only));
        Assert.Equal([SimdLevel.Scalar, SimdLevel.Avx2, SimdLevel.Avx512, SimdLevel.Avx512Vnni], SimdDispatch.SupportedLevels(Avx512WithoutAvxVnni));
        Assert.Equal([SimdLevel.Scalar, SimdLevel.Avx2, SimdLevel.AvxVnni], SimdDispatch.SupportedLevels(Avx2WithAvxVnni));
    }

    [Theory]
    [InlineData(null, SimdLevel.Avx2)]
    [InlineData("  ", SimdLevel.Avx2)]
    [InlineData("auto", SimdLevel.Avx2)]
    [InlineData("SCALAR", SimdLevel.Scalar)]
    [InlineData(" avx2 ", SimdLevel.Avx2)]
    [InlineData("avxvnni", SimdLevel.AvxVnni)]
    [InlineData("avx512", SimdLevel.Avx512)]
    [InlineData("avx512vnni", SimdLevel.Avx512Vnni)]
    public void Variable_NamesALevel(string? value, SimdLevel expected) => Assert.Equal(expected, SimdDispatch.Parse(value, Avx2Only));

    [Fact]
    public void Variable_AboveTheCpu_CapsRatherThanFails()
    {
        // SHARPVISION_SIMD=avx512 on an AVX2 machine runs the AVX2 kernels (and the JSON names them).
        var features = SimdDispatch.Effective(Avx2Only, SimdDispatch.Parse("avx512", Avx2Only));
        Assert.Equal(SimdPath.Avx2, SimdDispatch.FloatPath(features));
        Assert.Equal(ByteKernel.Avx2, NeighborSearch.ByteKernelFor(DistanceMetric.Euclidean, features));
    }

    [Fact]
    public void Variable_Unknown_ThrowsNamingTheChoices()
    {
        var e = Assert.Throws<SimdLevelException>(() => SimdDispatch.Parse("sse9", Avx2Only));
        Assert.Contains("SHARPVISION_SIMD", e.Message);
        Assert.Contains("avx512vnni", e.Message);
    }

    [Fact]
    public void Force_HoldsInParallelWorkers_AndRestores()
    {
        var before = SimdPaths.Level;
        using (SimdPaths.Force(SimdLevel.Scalar))
        {
            var seen = new System.Collections.Concurrent.ConcurrentBag<SimdLevel>();
            Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
            {
                Thread.SpinWait(1000);
                seen.Add(SimdPaths.Level);
            });
            Assert.All(seen, level => Assert.Equal(SimdLevel.Scalar, level));
            Assert.Equal(SimdPath.Scalar, SimdPaths.Default);
            Assert.Equal("managed-scalar", new ManagedGemm().Name);
            Assert.Equal("l2-scalar", NeighborSearch.ByteBackend(DistanceMetric.Euclidean));
        }
        Assert.Equal(before, SimdPaths.Level);
    }

    [Fact]
    public void Force_ALevelTheMachineLacks_Throws()
    {
        foreach (var level in Enum.GetValues<SimdLevel>().Except(SimdPaths.SupportedLevels))
            Assert.Throws<PlatformNotSupportedException>(() => SimdPaths.Force(level));
        Assert.Contains(SimdLevel.Scalar, SimdPaths.SupportedLevels);
    }

    [Fact]
    public void ReluBackward_EveryLevel_GivesTheScalarBits()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 1000).Select(i => i % 7 == 0 ? 0f : (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var g = Enumerable.Range(0, 1000).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] Gradient(SimdLevel level)
        {
            using var forced = SimdPaths.Force(level);
            var input = new Tensor(new Shape(x.Length), (float[])x.Clone(), requiresGrad: true);
            Ops.Sum(Ops.Mul(Ops.Relu(input), new Tensor(new Shape(g.Length), g))).Backward();
            return input.Grad!.ToArray();
        }
        var scalar = Gradient(SimdLevel.Scalar);
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i] > 0 ? g[i] : 0f, scalar[i]);
        foreach (var level in SimdPaths.SupportedLevels) Assert.Equal(scalar, Gradient(level));
    }

    [Fact]
    public void Names_SayWhatRuns()
    {
        Assert.Equal("l2-avx2-vpmaddwd", NeighborSearch.ByteKernelName(DistanceMetric.Euclidean, ByteKernel.Avx2));
        Assert.Equal("l1-avx512-vpsadbw", NeighborSearch.ByteKernelName(DistanceMetric.Manhattan, ByteKernel.Avx512));
        Assert.Equal("l2-avxvnni-vpdpbusd", NeighborSearch.ByteKernelName(DistanceMetric.Euclidean, ByteKernel.AvxVnni));
        Assert.Equal("avx2+fma avx512(f,bw,vl) avx512vnni avx512bf16", SimdDispatch.Names(Avx512WithoutAvxVnni));
        Assert.Equal("none", SimdDispatch.Names(CpuFeatures.None));
        Assert.False(string.IsNullOrWhiteSpace(SimdPaths.CpuModel));
        Assert.Contains(SimdDispatch.Name(SimdPaths.Level), SimdPaths.Describe());
    }

    // One test per level, so a level this CPU lacks shows as skipped with the reason rather than silently absent.
    [SimdLevelFact(SimdLevel.Scalar)]
    public void Level_Scalar_RunsItsKernels() => RunsItsKernelsAgainstTheTwins(SimdLevel.Scalar);

    [SimdLevelFact(SimdLevel.Avx2)]
    public void Level_Avx2_RunsItsKernels() => RunsItsKernelsAgainstTheTwins(SimdLevel.Avx2);

    [SimdLevelFact(SimdLevel.AvxVnni)]
    public void Level_AvxVnni_RunsItsKernels() => RunsItsKernelsAgainstTheTwins(SimdLevel.AvxVnni);

    [SimdLevelFact(SimdLevel.Avx512)]
    public void Level_Avx512_RunsItsKernels() => RunsItsKernelsAgainstTheTwins(SimdLevel.Avx512);

    [SimdLevelFact(SimdLevel.Avx512Vnni)]
    public void Level_Avx512Vnni_RunsItsKernels() => RunsItsKernelsAgainstTheTwins(SimdLevel.Avx512Vnni);

    // Forced to the level, the k-NN and GEMM kernels say the path the level means on this CPU and equal their scalar twins.
    private static void RunsItsKernelsAgainstTheTwins(SimdLevel level)
    {
        bool avxVnni = SimdPaths.Machine.HasFlag(CpuFeatures.AvxVnni);
        (string l1, string l2, string gemm) = level switch
        {
            SimdLevel.Scalar => ("l1-scalar", "l2-scalar", "managed-scalar"),
            SimdLevel.Avx2 => ("l1-avx2-vpsadbw", "l2-avx2-vpmaddwd", "managed-avx2"),
            SimdLevel.AvxVnni => ("l1-avx2-vpsadbw", "l2-avxvnni-vpdpbusd", "managed-avx2"),
            SimdLevel.Avx512 => ("l1-avx512-vpsadbw", "l2-avx512-vpmaddwd", "managed-avx512"),
            _ => ("l1-avx512-vpsadbw", avxVnni ? "l2-avxvnni-vpdpbusd" : "l2-avx512-vpmaddwd", "managed-avx512"),
        };
        var rng = new Random((int)level + 11);
        int n = 300, q = 7, d = 784, m = 37, k = 129, cols = 53;
        var train = new byte[n * d];
        var queries = new byte[q * d];
        rng.NextBytes(train);
        rng.NextBytes(queries);
        var labels = Enumerable.Range(0, n).Select(i => i % 10).ToArray();
        var a = Enumerable.Range(0, m * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var b = Enumerable.Range(0, k * cols).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var expected = new float[m * cols];
        GemmReference.Multiply(false, false, m, cols, k, 1f, a, k, b, cols, 0f, expected, cols);

        using var forced = SimdPaths.Force(level);
        Assert.Equal(l1, NeighborSearch.ByteBackend(DistanceMetric.Manhattan));
        Assert.Equal(l2, NeighborSearch.ByteBackend(DistanceMetric.Euclidean));
        foreach (var metric in new[] { DistanceMetric.Manhattan, DistanceMetric.Euclidean })
        {
            var oracle = NeighborSearchReference.Search(train, labels, 10, queries, d, metric, 5);
            var fast = NeighborSearch.Search(train, labels, 10, queries, d, metric, 5, threads: 2);
            Assert.Equal(oracle.Indices, fast.Indices);
            Assert.Equal(oracle.Distances, fast.Distances);
        }
        var gemmProvider = new ManagedGemm();
        Assert.Equal(gemm, gemmProvider.Name);
        var c = new float[m * cols];
        gemmProvider.Multiply(false, false, m, cols, k, 1f, a, k, b, cols, 0f, c, cols, threads: 2);
        for (int i = 0; i < c.Length; i++) Assert.Equal(expected[i], c[i], 1e-4f);
    }

    [Fact]
    public void Cli_ForcedScalar_NamesItInJson_AndAnUnknownLevel_IsAUsageError()
    {
        // In a child process: the variable is read once per process.
        using var temp = new TempFolder();
        using (var scalar = CliProcess.StartWith(new Dictionary<string, string> { [SimdPaths.Variable] = "scalar" }, "train", "--data",
            CliRunner.SampleDir, "--model", "knn", "--k", "1", "--metric", "l2", "--train-limit", "200", "--threads", "2",
            "--out", temp.Combine("run"), "--json"))
        {
            Assert.True(scalar.WaitForExit() == 0, scalar.Err);
            var json = System.Text.Json.Nodes.JsonNode.Parse(scalar.Out)!;
            Assert.Equal("knn-l2-scalar", (string?)json["backend"]);
            Assert.Equal("scalar", (string?)json["simd"]!["level"]);
            Assert.Equal("scalar", (string?)json["simd"]!["variable"]);
        }
        using var unknown = CliProcess.StartWith(new Dictionary<string, string> { [SimdPaths.Variable] = "sse9" }, "datasets", "list");
        Assert.Equal(2, unknown.WaitForExit());
        Assert.Contains("error: SHARPVISION_SIMD='sse9' is not a SIMD level", unknown.Err);
        Assert.DoesNotContain("   at ", unknown.Err); // a message, not a stack trace
    }
}

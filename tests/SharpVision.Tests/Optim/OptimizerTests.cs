using SharpVision.Optim;
using SharpVision.Tensors;

namespace SharpVision.Tests.Optim;

/// <summary>The optimizer contract: validation, ZeroGrad, skipped parameters, and checkpoint state that resumes bit for bit.</summary>
public sealed class OptimizerTests
{
    private static readonly string[] AllKinds = ["sgd", "sgd_nesterov", "adagrad", "rmsprop", "rmsprop_momentum", "adam", "adamw"];

    public static TheoryData<string> Kinds() => new(AllKinds);

    private static Optimizer Create(string kind, IReadOnlyList<Tensor> parameters) => kind switch
    {
        "sgd" => new Sgd(parameters, new SgdOptions(0.05, Momentum: 0.9, WeightDecay: 1e-3)),
        "sgd_nesterov" => new Sgd(parameters, new SgdOptions(0.05, Momentum: 0.9, Nesterov: true)),
        "adagrad" => new Adagrad(parameters, new AdagradOptions(0.05, WeightDecay: 1e-3)),
        "rmsprop" => new RmsProp(parameters, new RmsPropOptions(0.01)),
        "rmsprop_momentum" => new RmsProp(parameters, new RmsPropOptions(0.01, Momentum: 0.5, WeightDecay: 1e-3)),
        "adam" => new Adam(parameters, new AdamOptions(0.01, WeightDecay: 1e-3)),
        "adamw" => new AdamW(parameters, new AdamWOptions(0.01)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    // Sizes off the vector widths (tails) and one parameter past 256 values; "b" is skipped on steps 0 and 3.
    private static Tensor[] MakeParameters()
    {
        var rng = new Rng(7);
        Tensor Make(string name, int size)
        {
            var data = new float[size];
            for (int i = 0; i < size; i++) data[i] = rng.NextNormal();
            return new Tensor(new Shape(size), data, requiresGrad: true) { Name = name };
        }
        return [Make("w", 263), Make("b", 7), Make("c", 1)];
    }

    private static void SetGradients(IReadOnlyList<Tensor> parameters, int step)
    {
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.Name == "b" && step is 0 or 3) { p.Grad = null; continue; }
            var rng = new Rng(1000 + step, i);
            var g = p.EnsureGrad();
            for (int j = 0; j < g.Length; j++) g[j] = rng.NextNormal();
        }
    }

    private static void Run(Optimizer optimizer, int from, int to)
    {
        for (int k = from; k < to; k++)
        {
            SetGradients(optimizer.Parameters, k);
            optimizer.LearningRate = 0.05 / (1 + k); // a schedule, to show rates are not state
            optimizer.Step();
        }
    }

    public static TheoryData<string, int> KindsAndSplits()
    {
        var data = new TheoryData<string, int>();
        foreach (var kind in AllKinds) { data.Add(kind, 1); data.Add(kind, 3); }
        return data;
    }

    [Theory]
    [MemberData(nameof(KindsAndSplits))]
    public void ImportState_ExportedMidRun_ResumesBitIdentically(string kind, int split)
    {
        var uninterrupted = Create(kind, MakeParameters());
        Run(uninterrupted, 0, 7);

        var first = Create(kind, MakeParameters());
        Run(first, 0, split); // split 1: "b" has had no gradient yet, so SGD has no momentum for it
        var state = first.ExportState();
        var values = first.Parameters.Select(p => (float[])p.Data.Clone()).ToArray();

        var resumedParameters = MakeParameters();
        for (int i = 0; i < resumedParameters.Length; i++) values[i].CopyTo(resumedParameters[i].Data, 0);
        var resumed = Create(kind, resumedParameters);
        resumed.ImportState(state.Select(e => (e.Name, (float[])e.Values.Clone())).ToList()); // as if read back from a file
        Assert.Equal(split, resumed.StepCount);
        Run(resumed, split, 7);

        Assert.Equal(uninterrupted.StepCount, resumed.StepCount);
        for (int i = 0; i < resumedParameters.Length; i++) Assert.Equal(uninterrupted.Parameters[i].Data, resumed.Parameters[i].Data);
        Assert.Equal(uninterrupted.ExportState().Select(e => e.Name), resumed.ExportState().Select(e => e.Name));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Step_SteadyState_AllocatesNothing(string kind)
    {
        var parameters = MakeParameters();
        var optimizer = Create(kind, parameters);
        SetGradients(parameters, 1);
        optimizer.Step(); // creates lazy state and scratch
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) optimizer.Step();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ExportState_Adam_NamesBuffersByParameterAndKeepsPerParameterSteps()
    {
        var adam = Create("adam", MakeParameters());
        Run(adam, 0, 3);
        var state = adam.ExportState().ToDictionary(e => e.Name, e => e.Values);
        Assert.Equal(
            ["step", "adam.m.w", "adam.m.b", "adam.m.c", "adam.v.w", "adam.v.b", "adam.v.c", "adam.step.w", "adam.step.b", "adam.step.c"],
            adam.ExportState().Select(e => e.Name));
        Assert.Equal([3f, 0f], state["step"]);
        Assert.Equal([2f, 0f], state["adam.step.b"]); // skipped on step 0
        Assert.Equal(263, state["adam.m.w"].Length);
    }

    [Fact]
    public void ExportState_SgdBeforeAParameterMoves_OmitsItsMomentum()
    {
        var sgd = Create("sgd", MakeParameters());
        Run(sgd, 0, 1); // b has no gradient on step 0
        Assert.Equal(["step", "momentum.w", "momentum.c"], sgd.ExportState().Select(e => e.Name));
    }

    [Fact]
    public void ExportState_UnnamedParameters_AreKeyedByPosition()
    {
        var p = new Tensor(new Shape(2), [1f, 2f], requiresGrad: true);
        var sgd = new Sgd([p], new SgdOptions(0.1, Momentum: 0.5));
        p.Grad = [1f, 1f];
        sgd.Step();
        Assert.Equal(["step", "momentum.[0]"], sgd.ExportState().Select(e => e.Name));
    }

    [Fact]
    public void ExportState_Counter_IsExactBeyondFloatIntegers()
    {
        var adam = Create("adam", MakeParameters());
        var state = adam.ExportState().ToList();
        long big = (1L << 40) + 12345;
        state[0] = ("step", [big % (1 << 24), big / (1 << 24)]);
        adam.ImportState(state);
        Assert.Equal(big, adam.StepCount);
    }

    [Theory]
    [InlineData("adam.m.nope", 7, false, "Unknown optimizer state entry 'adam.m.nope'")]
    [InlineData("momentum.w", 263, false, "Unknown optimizer state entry 'momentum.w'")]
    [InlineData("adam.m.b", 6, false, "State entry 'adam.m.b' has 6 values; parameter 'b' has 7.")]
    [InlineData("adam.m.w", 263, true, "State entry 'adam.m.w' appears twice.")]
    public void ImportState_BadEntry_ThrowsNamingIt(string name, int length, bool keepOriginal, string message)
    {
        var adam = Create("adam", MakeParameters());
        var state = adam.ExportState().Where(e => keepOriginal || e.Name != name).ToList();
        state.Add((name, new float[length]));
        var error = Assert.Throws<ArgumentException>(() => adam.ImportState(state));
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void ImportState_MissingRequiredEntry_ThrowsAndChangesNothing()
    {
        var adam = Create("adam", MakeParameters());
        Run(adam, 0, 2);
        var before = adam.ExportState();
        var state = Create("adam", MakeParameters()).ExportState().Where(e => e.Name != "adam.v.c").ToList();
        var error = Assert.Throws<ArgumentException>(() => adam.ImportState(state));
        Assert.StartsWith("State entry 'adam.v.c' is missing.", error.Message);
        Assert.Equal(before.SelectMany(e => e.Values), adam.ExportState().SelectMany(e => e.Values));
    }

    [Fact]
    public void ImportState_MalformedCounter_Throws()
    {
        var sgd = Create("sgd", MakeParameters());
        var error = Assert.Throws<ArgumentException>(() => sgd.ImportState([("step", [1.5f, 0f])]));
        Assert.StartsWith("State entry 'step' must hold a counter", error.Message);
        Assert.StartsWith("State entry 'step' is missing.", Assert.Throws<ArgumentException>(() => sgd.ImportState([])).Message);
    }

    [Fact]
    public void ZeroGrad_ExistingGradients_ZeroedInPlaceAndNullsKept()
    {
        var parameters = MakeParameters();
        var sgd = Create("sgd", parameters);
        SetGradients(parameters, 0); // b has none
        var buffer = parameters[0].Grad;
        sgd.ZeroGrad();
        Assert.Same(buffer, parameters[0].Grad);
        Assert.All(parameters[0].Grad!, g => Assert.Equal(0f, g));
        Assert.Null(parameters[1].Grad);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Step_ParameterWithoutGradient_IsLeftAlone(string kind)
    {
        var parameters = MakeParameters();
        var optimizer = Create(kind, parameters);
        var b = (float[])parameters[1].Data.Clone();
        SetGradients(parameters, 0);
        optimizer.Step();
        Assert.Equal(b, parameters[1].Data);
        Assert.NotEqual(MakeParameters()[0].Data, parameters[0].Data);
        Assert.Equal(1, optimizer.StepCount);
    }

    [Fact]
    public void Step_GradientOfWrongLength_ThrowsBeforeChangingAnything()
    {
        var parameters = MakeParameters();
        var sgd = Create("sgd", parameters);
        SetGradients(parameters, 1);
        parameters[2].Grad = new float[2];
        var w = (float[])parameters[0].Data.Clone();
        var error = Assert.Throws<InvalidOperationException>(sgd.Step);
        Assert.Equal("Parameter 'c' has 1 values but its gradient has 2.", error.Message);
        Assert.Equal(w, parameters[0].Data);
        Assert.Equal(0, sgd.StepCount);
    }

    [Fact]
    public void Step_Sgd_DoesNotModifyTheGradient()
    {
        var parameters = MakeParameters();
        var sgd = new Sgd(parameters, new SgdOptions(0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 0.1));
        SetGradients(parameters, 1);
        var g = (float[])parameters[0].Grad!.Clone();
        sgd.Step();
        Assert.Equal(g, parameters[0].Grad);
    }

    [Fact]
    public void Constructor_InvalidParameters_Throw()
    {
        var frozen = new Tensor(new Shape(1), [0f]) { Name = "frozen" };
        var a = new Tensor(new Shape(1), [0f], requiresGrad: true) { Name = "x" };
        var b = new Tensor(new Shape(1), [0f], requiresGrad: true) { Name = "x" };
        var options = new SgdOptions(0.1);
        Assert.Equal("An optimizer needs at least one parameter. (Parameter 'parameters')", Assert.Throws<ArgumentException>(() => new Sgd([], options)).Message);
        Assert.StartsWith("Parameter 'frozen' does not require a gradient", Assert.Throws<ArgumentException>(() => new Sgd([frozen], options)).Message);
        Assert.StartsWith("Two parameters are named 'x'", Assert.Throws<ArgumentException>(() => new Sgd([a, b], options)).Message);
        Assert.StartsWith("Parameter 'x' appears more than once", Assert.Throws<ArgumentException>(() => new Sgd([a, a], options)).Message);
    }

    public static TheoryData<string, Func<Tensor[], Optimizer>> InvalidOptions() => new()
    {
        { "LearningRate", p => new Sgd(p, new SgdOptions(0)) },
        { "LearningRate", p => new Adam(p, new AdamOptions(double.NaN)) },
        { "Momentum", p => new Sgd(p, new SgdOptions(0.1, Momentum: 1)) },
        { "Momentum", p => new RmsProp(p, new RmsPropOptions(Momentum: -0.1)) },
        { "WeightDecay", p => new Sgd(p, new SgdOptions(0.1, WeightDecay: -1)) },
        { "Nesterov", p => new Sgd(p, new SgdOptions(0.1, Nesterov: true)) },
        { "Epsilon", p => new Adagrad(p, new AdagradOptions(Epsilon: 0)) },
        { "Alpha", p => new RmsProp(p, new RmsPropOptions(Alpha: 1)) },
        { "Beta1", p => new Adam(p, new AdamOptions(Beta1: 1)) },
        { "Beta2", p => new AdamW(p, new AdamWOptions(Beta2: -0.5)) },
        { "WeightDecay", p => new AdamW(p, new AdamWOptions(WeightDecay: double.PositiveInfinity)) },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Constructor_OptionOutOfRange_ThrowsNamingIt(string option, Func<Tensor[], Optimizer> create)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => create(MakeParameters()));
        Assert.Equal(option, error.ParamName);
    }

    [Fact]
    public void Setters_OutOfRange_Throw()
    {
        var sgd = new Sgd(MakeParameters(), new SgdOptions(0.1, Momentum: 0.9, Nesterov: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.Momentum = 0); // Nesterov needs momentum
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(MakeParameters(), new AdamOptions()).Beta1 = 1);
        sgd.LearningRate = 0; // allowed: freezes the parameters
    }

    [Fact]
    public void Step_SgdDrivenByOneCycleSchedule_MatchesTorchOneCycleLR()
    {
        // The fixture case ran torch.optim.SGD under OneCycleLR(max_lr=0.1, total_steps=5); here our schedule drives it.
        var fixture = OptimFixtures.Case("optimizers.json", "sgd_one_cycle");
        var parameters = OptimFixtures.Parameters(fixture);
        var sgd = (Sgd)OptimFixtures.Optimizer(fixture, parameters);
        var schedule = new OneCycleSchedule(0.1, totalSteps: 5);
        int k = 0;
        foreach (var step in fixture.GetProperty("steps").EnumerateArray())
        {
            OptimFixtures.PrepareStep(step, sgd);
            OptimFixtures.AssertClose(sgd.LearningRate, schedule.At(k), $"lr {k}");
            OptimFixtures.AssertClose(sgd.Momentum, schedule.MomentumAt(k), $"momentum {k}");
            sgd.LearningRate = schedule.At(k);
            sgd.Momentum = schedule.MomentumAt(k);
            sgd.Step();
            var after = step.GetProperty("params_after");
            foreach (var p in parameters) OptimFixtures.AssertClose(OptimFixtures.Floats(after.GetProperty(p.Name!)), p.Data, $"step {k} {p.Name}");
            k++;
        }
    }
}

using System.Text.Json;
using SharpVision.Optim;
using SharpVision.Tensors;

namespace SharpVision.Tests.Optim;

/// <summary>Reads the files written by tests/Fixtures/optim/make_fixtures.py (PyTorch 1.13's optimizers and schedulers).</summary>
internal static class OptimFixtures
{
    public static JsonElement Load(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "optim", name);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("cases").Clone();
    }

    public static JsonElement Case(string file, string name) =>
        Load(file).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    public static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static double Option(JsonElement options, string name, double fallback) =>
        options.TryGetProperty(name, out var value) ? value.GetDouble() : fallback;

    /// <summary>The fixture's parameters "w" (2×3) and "b" (3) at their initial values.</summary>
    public static Tensor[] Parameters(JsonElement fixture)
    {
        var initial = fixture.GetProperty("initial");
        var w = new Tensor(new Shape(2, 3), Floats(initial.GetProperty("w")), requiresGrad: true) { Name = "w" };
        var b = new Tensor(new Shape(3), Floats(initial.GetProperty("b")), requiresGrad: true) { Name = "b" };
        return [w, b];
    }

    /// <summary>The optimizer a fixture case describes, with torch's defaults for the options it leaves out.</summary>
    public static Optimizer Optimizer(JsonElement fixture, IReadOnlyList<Tensor> parameters)
    {
        var o = fixture.GetProperty("options");
        double lr = o.GetProperty("lr").GetDouble();
        return fixture.GetProperty("optimizer").GetString() switch
        {
            "sgd" => new Sgd(parameters, new SgdOptions(lr, Option(o, "momentum", 0), o.TryGetProperty("nesterov", out var n) && n.GetBoolean(), Option(o, "weight_decay", 0))),
            "adagrad" => new Adagrad(parameters, new AdagradOptions(lr, WeightDecay: Option(o, "weight_decay", 0))),
            "rmsprop" => new RmsProp(parameters, new RmsPropOptions(lr, WeightDecay: Option(o, "weight_decay", 0), Momentum: Option(o, "momentum", 0))),
            "adam" => new Adam(parameters, new AdamOptions(lr, Option(o, "beta1", 0.9), Option(o, "beta2", 0.999), Option(o, "eps", 1e-8), Option(o, "weight_decay", 0))),
            "adamw" => new AdamW(parameters, new AdamWOptions(lr, Option(o, "beta1", 0.9), Option(o, "beta2", 0.999), Option(o, "eps", 1e-8), Option(o, "weight_decay", 0.01))),
            var other => throw new InvalidOperationException($"Unknown optimizer '{other}' in the fixture."),
        };
    }

    /// <summary>Sets the step's learning rate (and cycled momentum / β1) and gradients as the fixture recorded them.</summary>
    public static void PrepareStep(JsonElement step, Optimizer optimizer)
    {
        optimizer.LearningRate = step.GetProperty("lr").GetDouble();
        if (step.TryGetProperty("momentum", out var momentum)) ((Sgd)optimizer).Momentum = momentum.GetDouble();
        if (step.TryGetProperty("beta1", out var beta1)) ((Adam)optimizer).Beta1 = beta1.GetDouble();
        var grads = step.GetProperty("grads");
        foreach (var p in optimizer.Parameters)
        {
            var g = grads.GetProperty(p.Name!);
            p.Grad = g.ValueKind == JsonValueKind.Null ? null : Floats(g);
        }
    }

    /// <summary>|expected − actual| ≤ 1e-6·|expected| + 1e-7 for every element (float32 rounding differences only).</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = 1e-6 * Math.Abs(expected[i]) + 1e-7;
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}.");
        }
    }

    public static void AssertClose(double expected, double actual, string what)
    {
        double tolerance = 1e-6 * Math.Abs(expected) + 1e-12;
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: expected {expected:R}, got {actual:R}.");
    }
}

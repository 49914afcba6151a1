using System.Text.Json;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tests.Tensors;

/// <summary>
/// The transformer primitives against PyTorch 1.13 on the same inputs (tests/Fixtures/transformer/transformer.json, made by make_fixtures.py).
/// </summary>
public class TransformerFixtureTests
{
    private static readonly Lazy<JsonElement> Cases = new(() =>
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "transformer", "transformer.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("cases").Clone();
    });

    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var c in Cases.Value.EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
            return data;
        }
    }

    /// <summary>Every case on every SIMD path this machine runs (the others are covered on machines that have them).</summary>
    public static TheoryData<string, SimdPath> NamesAndPaths
    {
        get
        {
            var data = new TheoryData<string, SimdPath>();
            foreach (var c in Cases.Value.EnumerateArray())
                foreach (var path in Enum.GetValues<SimdPath>().Where(SimdPaths.IsSupported))
                    data.Add(c.GetProperty("name").GetString()!, path);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(NamesAndPaths))]
    public void Primitive_MatchesPyTorch(string name, SimdPath path)
    {
        var fixture = Cases.Value.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        var tensors = fixture.GetProperty("tensors");
        var options = fixture.GetProperty("options");
        Tensor Input(string key) => new(Shape(tensors.GetProperty(key)), Floats(tensors.GetProperty(key)), requiresGrad: true) { Name = key };
        bool Flag(string key) => options.GetProperty(key).GetBoolean();
        int Option(string key) => options.GetProperty(key).GetInt32();
        var inputs = new List<Tensor>();
        Tensor Use(string key)
        {
            var t = Input(key);
            inputs.Add(t);
            return t;
        }

        using (SimdPaths.Force(path))
        {
            var y = fixture.GetProperty("op").GetString() switch
            {
                "layer_norm" => Ops.LayerNorm(Use("x"), Use("gamma"), Use("beta"), options.GetProperty("eps").GetSingle()),
                "softmax" => Ops.Softmax(Use("x")),
                "gelu" => Ops.Gelu(Use("x"),
                    options.GetProperty("approximate").GetString() == "tanh" ? GeluApproximation.Tanh : GeluApproximation.None),
                "bmm" => Ops.BatchedMatMul(Use("a"), Use("b"), Flag("transpose_a"), Flag("transpose_b")),
                "attention" => Ops.ScaledDotProductAttention(Use("q"), Use("k"), Use("v")),
                "multi_head_attention" => Ops.MultiHeadAttention(Use("x"), Option("heads")),
                "split_heads" => Ops.SplitHeads(Use("x"), Option("heads")),
                "patches" => Ops.Patches(Use("x"), Option("patch")),
                "tokens_from_channels" => Ops.TokensFromChannels(Use("x")),
                "prepend_token" => Ops.PrependToken(Use("x"), Use("token")),
                "select_token" => Ops.SelectToken(Use("x"), Option("index")),
                var op => throw new InvalidOperationException($"Unknown op '{op}' in the fixture."),
            };
            Assert.Equal(Shape(tensors.GetProperty("y")), y.Shape);
            AssertClose(Floats(tensors.GetProperty("y")), y.Data, $"{name} y");
            y.Backward(Floats(tensors.GetProperty("dy")));
            foreach (var input in inputs) AssertClose(Floats(tensors.GetProperty("d" + input.Name)), input.Grad!, $"{name} d{input.Name}");
        }
    }

    [Fact]
    public void MergeHeads_UndoesSplitHeads_OnTheFixture()
    {
        var fixture = Cases.Value.EnumerateArray().Single(c => c.GetProperty("name").GetString() == "split_heads_2x3_h2_d4");
        var x = new Tensor(Shape(fixture.GetProperty("tensors").GetProperty("x")), Floats(fixture.GetProperty("tensors").GetProperty("x")));
        var split = Ops.SplitHeads(x, 2);
        Assert.Equal(Floats(fixture.GetProperty("tensors").GetProperty("y")), split.Data);
        var merged = Ops.MergeHeads(split);
        Assert.Equal(x.Shape, merged.Shape);
        Assert.Equal(x.Data, merged.Data);
    }

    private static Shape Shape(JsonElement t) => new(t.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray());

    private static float[] Floats(JsonElement t) => t.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    // float32 against float32 computed in another order: 1e-4 relative, plus 1e-5 of the tensor's largest magnitude
    // for elements that are sums of cancelling terms.
    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1, expected.Max(v => Math.Abs(v)));
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = 1e-4 * Math.Abs(expected[i]) + 1e-5 * scale;
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
                Assert.Fail($"{what}[{i}]: torch {expected[i]:R}, ours {actual[i]:R}.");
        }
    }
}

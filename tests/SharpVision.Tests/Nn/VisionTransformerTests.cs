using System.Text.Json.Nodes;
using SharpVision.Nn;
using SharpVision.Optim;
using SharpVision.Serialization;
using SharpVision.Tensors;

namespace SharpVision.Tests.Nn;

public class VisionTransformerTests
{
    [Fact]
    public void Vit_ParameterCount_MatchesTorchPeers()
    {
        // ../shared/bench/peers/torch_peers.py prints "vit: params=205962" for its definition on 1×28×28, 10 classes.
        Assert.Equal(205_962, Networks.Vit(1, 28, 28, 10).ParameterCount());
    }

    [Fact]
    public void Vit_OtherSizesAndChannels_Work()
    {
        // CIFAR's 32×32×3 with 4×4 patches: 64 tokens + the class token; patch 7 on 28×28: 16 tokens.
        var cifar = Networks.Vit(3, 32, 32, 10, new TransformerOptions(Width: 32, Depth: 2, Heads: 2));
        cifar.ResetParameters(new Rng(1));
        cifar.Eval();
        Assert.Equal(new Shape(2, 10), cifar.Forward(Tensor.Zeros(2, 3, 32, 32)).Shape);
        Assert.Equal(65, ((PatchEmbedding)cifar.Layers[0]).Tokens);
        var coarse = Networks.Vit(1, 28, 28, 5, new TransformerOptions(Patch: 7, Width: 24, Depth: 1, Heads: 3, MlpRatio: 1.5));
        Assert.Equal(17, ((PatchEmbedding)coarse.Layers[0]).Tokens);
        Assert.Equal(36, ((TransformerEncoderBlock)coarse.Layers[1]).Mlp);
        var cct = Networks.Cct(3, 32, 32, 10, new TransformerOptions(Width: 32, Depth: 1, Heads: 4));
        cct.ResetParameters(new Rng(1));
        cct.Eval();
        Assert.Equal(new Shape(3, 10), cct.Forward(Tensor.Zeros(3, 3, 32, 32)).Shape);
        Assert.Throws<ArgumentException>(() => Networks.Vit(1, 3, 3, 10));
        Assert.Throws<ArgumentException>(() => Networks.Vit(1, 28, 28, 10, new TransformerOptions(Heads: 5)));
    }

    [Fact]
    public void EncoderBlock_WithOneOutputToken_IsTheFullBlockThenSelect_ValuesAndGradients()
    {
        var full = new TransformerEncoderBlock(8, 2, 12);
        var one = new TransformerEncoderBlock(8, 2, 12, outputToken: 0);
        full.ResetParameters(new Rng(3));
        foreach (var ((_, p), (_, q)) in full.NamedParameters().Zip(one.NamedParameters())) p.Data.CopyTo(q.Data, 0);
        var rng = new Rng(4);
        var data = Enumerable.Range(0, 3 * 5 * 8).Select(_ => rng.NextNormal()).ToArray();
        var projection = Enumerable.Range(0, 3 * 8).Select(_ => rng.NextNormal()).ToArray();
        float[] Run(TransformerEncoderBlock block, bool select, out float[] gradients)
        {
            var x = new Tensor(new Shape(3, 5, 8), (float[])data.Clone(), requiresGrad: true);
            foreach (var p in block.Parameters()) p.Grad = null;
            var y = block.Forward(x);
            if (select) y = Ops.SelectToken(y, 0);
            Ops.Sum(Ops.Mul(y, Tensor.From(projection, 3, 8))).Backward();
            gradients = [.. x.Grad!, .. block.Parameters().SelectMany(p => p.Grad!)];
            return y.Data;
        }
        var expected = Run(full, select: true, out var expectedGradients);
        var actual = Run(one, select: false, out var actualGradients);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5);
        for (int i = 0; i < expectedGradients.Length; i++) Assert.Equal(expectedGradients[i], actualGradients[i], 1e-5);
    }

    [Fact]
    public void Architecture_RoundTripsThroughJson()
    {
        foreach (var net in new[] { Networks.Vit(1, 28, 28, 10, new TransformerOptions(DropPath: 0.2f, Dropout: 0.1f)), Networks.Cct(1, 28, 28, 10) })
        {
            var again = Architecture.FromJson(Architecture.ToJson(net));
            Assert.Equal(Architecture.ToJson(net).ToJsonString(), Architecture.ToJson(again).ToJsonString());
            Assert.Equal(net.NamedParameters().Select(p => (p.Name, p.Parameter.Shape)), again.NamedParameters().Select(p => (p.Name, p.Parameter.Shape)));
        }
        var blocks = Networks.Vit(1, 28, 28, 10, new TransformerOptions(DropPath: 0.2f)).Layers.OfType<TransformerEncoderBlock>().ToList();
        Assert.Equal(0f, blocks[0].DropPath);
        Assert.Equal(0.2f, blocks[^1].DropPath, 1e-6);
    }

    [Fact]
    public void Architecture_RejectsInconsistentTransformerLayers_NamingTheLayer()
    {
        // As read from a model file: numbers parsed from text.
        static JsonArray Edited(Action<JsonArray> edit)
        {
            var json = Architecture.ToJson(Networks.Vit(1, 28, 28, 10));
            edit(json);
            return JsonNode.Parse(json.ToJsonString())!.AsArray();
        }
        var ex = Assert.Throws<FormatException>(() => Architecture.FromJson(Edited(j => j[1]!["heads"] = 5))); // 64 is not a multiple of 5
        Assert.Contains("layer 1 (encoder_block)", ex.Message);
        Assert.Contains("'height'", Assert.Throws<FormatException>(() => Architecture.FromJson(Edited(j => j[0]!["height"] = 100000))).Message);
    }

    // tests/Fixtures/vit/make_fixtures.py's fill(), on PyTorch's parameter names.
    private static float[] Fill(string name, int n)
    {
        double a, b;
        if (name.Contains("norm", StringComparison.Ordinal) && name.EndsWith("weight", StringComparison.Ordinal)) (a, b) = (0.1, 1.0);
        else if (name.EndsWith("bias", StringComparison.Ordinal)) (a, b) = (0.05, 0.0);
        else (a, b) = (0.3 / Math.Sqrt(Math.Max(1, n / 16)), 0.0);
        return Enumerable.Range(0, n).Select(j => (float)(a * Math.Sin(0.37 * j + name.Length) + b)).ToArray();
    }

    // Our parameter name → torch_peers.py's: layer 0 is the embedding, 1–6 the blocks, 7 the norm, 8 the head.
    private static string TorchName(string name)
    {
        int dot = name.IndexOf('.');
        int layer = int.Parse(name[..dot], System.Globalization.CultureInfo.InvariantCulture);
        string rest = name[(dot + 1)..];
        return layer switch
        {
            0 => rest is "cls" or "pos" ? rest : "embed." + rest,
            >= 1 and <= 6 => $"blocks.layers.{layer - 1}.{rest}",
            7 => "norm." + rest,
            8 => "head." + rest,
            _ => throw new ArgumentException(name),
        };
    }

    [Fact]
    public void Vit_OneTrainingStep_MatchesPyTorch()
    {
        var fixture = SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "vit", "vit_step.safetensors"));
        float[] Get(string name) => (fixture.Find(name) ?? throw new InvalidOperationException($"fixture lacks {name}")).ToSingle();

        var net = Networks.Vit(1, 28, 28, 10);
        var parameters = net.NamedParameters();
        Assert.Equal(parameters.Count, fixture.Tensors.Count(t => t.Name.StartsWith("grad.", StringComparison.Ordinal)));
        foreach (var (name, p) in parameters) Fill(TorchName(name), p.Size).CopyTo(p.Data, 0);

        var x = new Tensor(new Shape(4, 1, 28, 28), Get("input"));
        var labels = fixture.Find("labels")!.ToInt32();
        net.Train(new Rng(0));
        var logits = net.Forward(x);
        var loss = Ops.SoftmaxCrossEntropy(logits, labels, 0.1f);
        var decayed = parameters.Where(p => AdamW.DecaysByDefault(p.Name, p.Parameter)).Select(p => p.Parameter).ToHashSet();
        Assert.Equal(6 * 4 + 2, decayed.Count); // embed, head, and per block in_proj, out_proj, linear1, linear2
        var optimizer = new AdamW(net.Parameters(), new AdamWOptions(1e-3, WeightDecay: 0.05), decayed);
        optimizer.ZeroGrad();
        loss.Backward();

        AssertClose("logits", Get("logits"), logits.Data, 1e-4);
        AssertClose("loss", Get("loss"), [loss.Item()], 1e-5);
        foreach (var (name, p) in parameters) AssertClose("grad." + TorchName(name), Get("grad." + TorchName(name)), p.Grad!, 2e-4);
        optimizer.Step();
        foreach (var (name, p) in parameters)
        {
            string torch = TorchName(name);
            AssertStepClose("after." + torch, Get("after." + torch), p.Data, Get("grad." + torch), learningRate: 1e-3);
        }
    }

    // Adam divides by √v: where the true gradient is 0 (the key bias: adding a constant to every key shifts all of a
    // query's scores equally, which softmax ignores) both engines hold only rounding noise of ~1e-9, and the first step
    // moves such an element by up to lr in a direction that noise picks. Elsewhere the step is determined: 1e-5.
    private static void AssertStepClose(string what, float[] expected, float[] actual, float[] gradient, double learningRate)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 1 + expected.Max(v => Math.Abs(v));
        for (int i = 0; i < expected.Length; i++)
        {
            bool noise = Math.Abs(gradient[i]) < 1e-7;
            double tolerance = noise ? learningRate * 1.01 : 1e-5 * scale;
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what}[{i}]: PyTorch {expected[i]}, SharpVision {actual[i]} (gradient {gradient[i]})");
        }
    }

    // |a − e| ≤ tolerance · (1 + max|e|) over the tensor: float32 summation order differs between the engines.
    private static void AssertClose(string what, float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 1 + expected.Max(v => Math.Abs(v));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"{what}[{i}]: PyTorch {expected[i]}, SharpVision {actual[i]}");
    }
}

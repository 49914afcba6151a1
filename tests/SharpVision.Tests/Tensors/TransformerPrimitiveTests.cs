using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tests.Tensors;

/// <summary>The transformer primitives through the gradient checker, plus their contracts (dropout, stochastic depth, views, errors).</summary>
public class TransformerPrimitiveTests
{
    private static Tensor Random(Rng rng, float low, float high, params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        for (int i = 0; i < t.Size; i++) t.Data[i] = low + (high - low) * rng.NextFloat();
        t.RequiresGrad = true;
        return t;
    }

    public static TheoryData<string> Primitives => new()
    {
        "layer_norm", "layer_norm_rank2", "softmax_rank3", "gelu", "gelu_tanh", "bmm", "bmm_ta", "bmm_tb", "bmm_tatb", "attention",
        "attention_fanout",
        "multi_head_attention", "multi_head_attention_one_query",
        "multi_head_attention_dropout", "split_heads", "merge_heads", "patches", "tokens_from_channels", "prepend_token",
        "select_token", "drop_path", "encoder_block",
    };

    [Theory]
    [MemberData(nameof(Primitives))]
    public void GradientChecker_TransformerPrimitive_AnalyticMatchesNumerical(string op)
    {
        var rng = new Rng(29);
        var (f, inputs) = op switch
        {
            "layer_norm" => Case(x => Ops.LayerNorm(x[0], x[1], x[2]),
                Random(rng, -2, 2, 2, 3, 5), Random(rng, 0.5f, 1.5f, 5), Random(rng, -1, 1, 5)),
            "layer_norm_rank2" => Case(x => Ops.LayerNorm(x[0], x[1], x[2]),
                Random(rng, -2, 2, 3, 9), Random(rng, 0.5f, 1.5f, 9), Random(rng, -1, 1, 9)),
            "softmax_rank3" => Case(x => Ops.Softmax(x[0]), Random(rng, -3, 3, 2, 3, 4)),
            "gelu" => Case(x => Ops.Gelu(x[0]), Random(rng, -4, 4, 5, 7)),
            "gelu_tanh" => Case(x => Ops.Gelu(x[0], GeluApproximation.Tanh), Random(rng, -4, 4, 5, 7)),
            "bmm" => Case(x => Ops.BatchedMatMul(x[0], x[1]), Random(rng, -1, 1, 2, 3, 4), Random(rng, -1, 1, 2, 4, 5)),
            "bmm_ta" => Case(x => Ops.BatchedMatMul(x[0], x[1], transposeA: true), Random(rng, -1, 1, 2, 4, 3), Random(rng, -1, 1, 2, 4, 5)),
            "bmm_tb" => Case(x => Ops.BatchedMatMul(x[0], x[1], transposeB: true), Random(rng, -1, 1, 2, 3, 4), Random(rng, -1, 1, 2, 5, 4)),
            "bmm_tatb" => Case(x => Ops.BatchedMatMul(x[0], x[1], true, true), Random(rng, -1, 1, 2, 4, 3), Random(rng, -1, 1, 2, 5, 4)),
            "attention" => Case(x => Ops.ScaledDotProductAttention(x[0], x[1], x[2]),
                Random(rng, -1, 1, 2, 2, 5, 3), Random(rng, -1, 1, 2, 2, 5, 3), Random(rng, -1, 1, 2, 2, 5, 3)),
            // the same tensor as queries and keys: both gradients land in one buffer
            "attention_fanout" => Case(x => Ops.ScaledDotProductAttention(x[0], x[0], x[1]),
                Random(rng, -1, 1, 1, 2, 4, 3), Random(rng, -1, 1, 1, 2, 4, 3)),
            "multi_head_attention" => Case(x => Ops.MultiHeadAttention(x[0], 2), Random(rng, -1, 1, 2, 4, 12)),
            "multi_head_attention_one_query" => Case(x => Ops.MultiHeadAttention(x[0], 2, query: 2), Random(rng, -1, 1, 2, 4, 12)),
            // a fixed seed each call: the checker's function must be deterministic
            "multi_head_attention_dropout" => Case(x => Ops.MultiHeadAttention(x[0], 2, 0.3f, new Rng(4)), Random(rng, -1, 1, 2, 4, 12)),
            "split_heads" => Case(x => Ops.SplitHeads(x[0], 3), Random(rng, -1, 1, 2, 4, 6)),
            "merge_heads" => Case(x => Ops.MergeHeads(x[0]), Random(rng, -1, 1, 2, 3, 4, 2)),
            "patches" => Case(x => Ops.Patches(x[0], 2), Random(rng, -1, 1, 2, 2, 5, 4)),
            "tokens_from_channels" => Case(x => Ops.TokensFromChannels(x[0]), Random(rng, -1, 1, 2, 3, 2, 2)),
            "prepend_token" => Case(x => Ops.PrependToken(x[0], x[1]), Random(rng, -1, 1, 2, 3, 4), Random(rng, -1, 1, 4)),
            "select_token" => Case(x => Ops.SelectToken(x[0], 1), Random(rng, -1, 1, 2, 3, 4)),
            "drop_path" => Case(x => Ops.DropPath(x[0], 0.5f, new Rng(8)), Random(rng, -1, 1, 6, 2, 3)),
            "encoder_block" => Case(Block, Random(rng, -1, 1, 2, 3, 4), Random(rng, 0.5f, 1.5f, 4), Random(rng, -0.5f, 0.5f, 4),
                Random(rng, -0.5f, 0.5f, 12, 4), Random(rng, -0.5f, 0.5f, 12), Random(rng, -0.5f, 0.5f, 4, 4)),
            _ => throw new ArgumentException(op),
        };
        var result = GradientChecker.Check(f, inputs);
        Assert.True(result.Passed, $"{op}:\n{result}");
        Assert.All(inputs, t => Assert.NotNull(t.Grad));
    }

    // A pre-norm attention sublayer, x + W_o·MHA(LN(x)·W_inᵀ + b): every primitive composed, with fan-out at x.
    private static Tensor Block(Tensor[] p)
    {
        var x = p[0];
        int n = x.Shape[0], t = x.Shape[1], d = x.Shape[2];
        var h = Ops.LayerNorm(x, p[1], p[2]).Reshape(n * t, d);
        var attention = Ops.MultiHeadAttention(Ops.Linear(h, p[3], p[4]).Reshape(n, t, 3 * d), 2);
        return Ops.Add(x, Ops.Linear(attention.Reshape(n * t, d), p[5], null).Reshape(n, t, d));
    }

    private static (Func<Tensor[], Tensor>, Tensor[]) Case(Func<Tensor[], Tensor> f, params Tensor[] inputs) => (f, inputs);

    [Fact]
    public void DropPath_DropsWholeSamples_AndScalesSurvivors()
    {
        var x = Tensor.From(Enumerable.Repeat(1f, 400 * 6).ToArray(), 400, 2, 3);
        var y = Ops.DropPath(x, 0.25f, new Rng(3));
        int dropped = 0;
        for (int s = 0; s < 400; s++)
        {
            var sample = y.Data.AsSpan(s * 6, 6).ToArray();
            Assert.True(sample.All(v => v == 0) || sample.All(v => Math.Abs(v - 1 / 0.75f) < 1e-6), $"sample {s} is mixed");
            if (sample[0] == 0) dropped++;
        }
        Assert.InRange(dropped, 70, 130); // 400 samples at p = 0.25: expected 100
        Assert.Equal(y.Data, Ops.DropPath(x, 0.25f, new Rng(3)).Data);
        Assert.Same(x, Ops.DropPath(x, 0, new Rng(3)));
    }

    [Fact]
    public void AttentionDropout_DropsAboutP_AndTheSameSeedGivesTheSameOutput()
    {
        // With V = identity rows, O = P ⊙ M, so each output element shows whether its probability was dropped.
        int t = 40;
        var packed = new float[t * 3 * t];
        for (int i = 0; i < t; i++) packed[i * 3 * t + 2 * t + i] = 1;
        var x = new Tensor(new Shape(1, t, 3 * t), packed);
        var y = Ops.MultiHeadAttention(x, 1, 0.3f, new Rng(11));
        int zeros = y.Data.Count(v => v == 0);
        Assert.InRange(zeros, 0.25 * t * t, 0.35 * t * t);
        Assert.All(y.Data.Where(v => v != 0), v => Assert.Equal(1f / t / 0.7f, v, 1e-6));
        Assert.Equal(y.Data, Ops.MultiHeadAttention(x, 1, 0.3f, new Rng(11)).Data);
        Assert.NotEqual(y.Data, Ops.MultiHeadAttention(x, 1, 0.3f, new Rng(12)).Data);
    }

    [Fact]
    public void SplitHeads_IsAView_WhenLayoutsCoincide()
    {
        var x = Tensor.From(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 2, 1, 6);
        Assert.Same(x.Data, Ops.SplitHeads(x, 3).Data);
        var single = Tensor.From(new float[2 * 5 * 4], 2, 5, 4);
        Assert.Same(single.Data, Ops.SplitHeads(single, 1).Data);
        Assert.NotSame(single.Data, Ops.SplitHeads(single, 2).Data);
    }

    [Fact]
    public void TransformerOps_GiveTheSameBits_ForOneAndTwoThreads()
    {
        var rng = new Rng(2);
        float[] Run(int threads)
        {
            int saved = Engine.Threads;
            Engine.Threads = threads;
            try
            {
                var r = new Rng(9);
                var x = Random(r, -2, 2, 64, 50, 24);
                var gamma = Random(r, 0.5f, 1.5f, 24);
                var beta = Random(r, -1, 1, 24);
                var h = Ops.Gelu(Ops.LayerNorm(x, gamma, beta));
                var y = Ops.MultiHeadAttention(Ops.Reshape(h, [64, 50, 24]), 2, 0.1f, new Rng(1));
                var loss = Ops.Sum(Ops.Square(Ops.Softmax(y)));
                loss.Backward();
                return [.. y.Data, .. x.Grad!, .. gamma.Grad!, .. beta.Grad!];
            }
            finally
            {
                Engine.Threads = saved;
            }
        }
        Assert.Equal(Run(1), Run(2));
    }

    [Fact]
    public void Primitives_RejectBadShapes_WithClearMessages()
    {
        var x = Tensor.Zeros(2, 3, 4);
        Assert.Contains("gamma", Assert.Throws<ArgumentException>(() => Ops.LayerNorm(x, Tensor.Zeros(3), Tensor.Zeros(4))).Message);
        Assert.Contains("inner dimensions", Assert.Throws<ArgumentException>(() => Ops.BatchedMatMul(x, Tensor.Zeros(2, 3, 4))).Message);
        Assert.Contains("3·2·d", Assert.Throws<ArgumentException>(() => Ops.MultiHeadAttention(Tensor.Zeros(2, 3, 8), 2)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.SelectToken(x, 3));
        Assert.Contains("smaller than one", Assert.Throws<ArgumentException>(() => Ops.Patches(Tensor.Zeros(1, 1, 3, 8), 4)).Message);
        Assert.Contains("D = 4", Assert.Throws<ArgumentException>(() => Ops.PrependToken(x, Tensor.Zeros(3))).Message);
        Assert.Contains("Rng", Assert.Throws<ArgumentException>(() => Ops.MultiHeadAttention(Tensor.Zeros(1, 2, 6), 1, 0.1f)).Message);
    }
}

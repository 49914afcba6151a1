using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;

namespace SharpVision.Tests.Tensors;

public class AutogradTests
{
    private static Tensor Random(Rng rng, float low, float high, params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        for (int i = 0; i < t.Size; i++) t.Data[i] = low + (high - low) * rng.NextFloat();
        t.RequiresGrad = true;
        return t;
    }

    // Values in ±[0.1, 1]: away from the kinks of relu/abs at 0 by more than the checker's step.
    private static Tensor AwayFromZero(Rng rng, params int[] dims)
    {
        var t = Random(rng, 0.1f, 1f, dims);
        for (int i = 0; i < t.Size; i++) if (rng.NextFloat() < 0.5f) t.Data[i] = -t.Data[i];
        return t;
    }

    public static TheoryData<string> Primitives => new()
    {
        "add", "add_broadcast", "add_scalar", "sub_broadcast", "mul", "mul_broadcast", "div", "scale", "exp", "log", "abs", "square",
        "relu", "leaky_relu", "tanh", "sigmoid", "sum", "mean", "sum_rows", "matmul", "linear", "linear_no_bias", "reshape",
        "transpose", "softmax", "softmax_cross_entropy", "softmax_cross_entropy_smoothed", "multiclass_hinge", "one_vs_rest_squared_hinge", "bce_with_logits", "mse",
    };

    [Theory]
    [MemberData(nameof(Primitives))]
    public void GradientChecker_EveryPrimitive_AnalyticMatchesNumerical(string op)
    {
        var rng = new Rng(42);
        int[] labels = [2, 0, 3, 3, 1];
        var (f, inputs) = op switch
        {
            "add" => Case(x => Ops.Add(x[0], x[1]), Random(rng, -1, 1, 3, 4), Random(rng, -1, 1, 3, 4)),
            "add_broadcast" => Case(x => Ops.Add(x[0], x[1]), Random(rng, -1, 1, 3, 4), Random(rng, -1, 1, 4)),
            "add_scalar" => Case(x => Ops.Add(x[0], x[1]), Random(rng, -1, 1, 3, 4), Random(rng, -1, 1, 1)),
            "sub_broadcast" => Case(x => Ops.Sub(x[0], x[1]), Random(rng, -1, 1, 2, 3, 4), Random(rng, -1, 1, 3, 4)),
            "mul" => Case(x => Ops.Mul(x[0], x[1]), Random(rng, -1, 1, 3, 4), Random(rng, -1, 1, 3, 4)),
            "mul_broadcast" => Case(x => Ops.Mul(x[0], x[1]), Random(rng, -1, 1, 5, 4), Random(rng, -1, 1, 4)),
            "div" => Case(x => Ops.Div(x[0], x[1]), Random(rng, -1, 1, 3, 4), Random(rng, 0.5f, 2, 4)),
            "scale" => Case(x => Ops.Scale(x[0], -2.5f), Random(rng, -1, 1, 7)),
            "exp" => Case(x => Ops.Exp(x[0]), Random(rng, -2, 2, 7)),
            "log" => Case(x => Ops.Log(x[0]), Random(rng, 0.5f, 3, 7)),
            "abs" => Case(x => Ops.Abs(x[0]), AwayFromZero(rng, 9)),
            "square" => Case(x => Ops.Square(x[0]), Random(rng, -2, 2, 9)),
            "relu" => Case(x => Ops.Relu(x[0]), AwayFromZero(rng, 4, 5)),
            "leaky_relu" => Case(x => Ops.LeakyRelu(x[0], 0.1f), AwayFromZero(rng, 4, 5)),
            "tanh" => Case(x => Ops.Tanh(x[0]), Random(rng, -2, 2, 4, 5)),
            "sigmoid" => Case(x => Ops.Sigmoid(x[0]), Random(rng, -3, 3, 4, 5)),
            "sum" => Case(x => Ops.Sum(x[0]), Random(rng, -1, 1, 3, 5)),
            "mean" => Case(x => Ops.Mean(x[0]), Random(rng, -1, 1, 3, 5)),
            "sum_rows" => Case(x => Ops.SumRows(x[0]), Random(rng, -1, 1, 6, 5)),
            "matmul" => Case(x => Ops.MatMul(x[0], x[1]), Random(rng, -1, 1, 7, 5), Random(rng, -1, 1, 5, 3)),
            "linear" => Case(x => Ops.Linear(x[0], x[1], x[2]), Random(rng, -1, 1, 6, 7), Random(rng, -1, 1, 4, 7), Random(rng, -1, 1, 4)),
            "linear_no_bias" => Case(x => Ops.Linear(x[0], x[1], null), Random(rng, -1, 1, 6, 7), Random(rng, -1, 1, 4, 7)),
            "reshape" => Case(x => Ops.Mul(x[0].Reshape(2, -1), x[1]), Random(rng, -1, 1, 3, 4), Random(rng, -1, 1, 2, 6)),
            "transpose" => Case(x => Ops.Mul(Ops.Transpose(x[0]), x[1]), Random(rng, -1, 1, 3, 4), Random(rng, -1, 1, 4, 3)),
            "softmax" => Case(x => Ops.Softmax(x[0]), Random(rng, -3, 3, 5, 4)),
            "softmax_cross_entropy" => Case(x => Ops.SoftmaxCrossEntropy(x[0], labels), Random(rng, -3, 3, 5, 4)),
            "softmax_cross_entropy_smoothed" => Case(x => Ops.SoftmaxCrossEntropy(x[0], labels, 0.1f), Random(rng, -3, 3, 5, 4)),
            "multiclass_hinge" => Case(x => Ops.MulticlassHinge(x[0], labels), HingeAwayFromKinks(rng, labels)),
            // The squared hinge is differentiable everywhere (its slope is continuous at the kink), so any scores do.
            "one_vs_rest_squared_hinge" => Case(x => Ops.OneVsRestSquaredHinge(x[0], labels), Random(rng, -2, 2, 5, 4)),
            "bce_with_logits" => Case(x => Ops.BinaryCrossEntropyWithLogits(x[0], [1, 0, 1, 0.3f, 0]), Random(rng, -4, 4, 5, 1)),
            "mse" => Case(x => Ops.MeanSquaredError(x[0], x[1]), Random(rng, -1, 1, 3, 4), Random(rng, -1, 1, 3, 4)),
            _ => throw new ArgumentException(op),
        };
        var result = GradientChecker.Check(f, inputs);
        Assert.True(result.Passed, $"{op}:\n{result}");
        Assert.All(inputs, t => Assert.NotNull(t.Grad));
    }

    private static (Func<Tensor[], Tensor>, Tensor[]) Case(Func<Tensor[], Tensor> f, params Tensor[] inputs) => (f, inputs);

    // Scores whose margins sⱼ − s_y + 1 are all at least 0.1 away from 0, so the hinge is differentiable there.
    private static Tensor HingeAwayFromKinks(Rng rng, int[] labels)
    {
        var t = Random(rng, -2, 2, labels.Length, 4);
        for (int i = 0; i < labels.Length; i++)
            for (int j = 0; j < 4; j++)
            {
                if (j == labels[i]) continue;
                float margin = t.Data[i * 4 + j] - t.Data[i * 4 + labels[i]] + 1;
                if (Math.Abs(margin) < 0.1f) t.Data[i * 4 + j] += 0.3f;
            }
        return t;
    }

    [Fact]
    public void GradientChecker_WrongBackward_IsCaught()
    {
        // ReLU whose backward forgets the mask (passes every gradient through): a classic bug.
        static Tensor BrokenRelu(Tensor x)
        {
            var y = new float[x.Size];
            for (int i = 0; i < y.Length; i++) y[i] = Math.Max(0, x.Data[i]);
            var result = new Tensor(x.Shape, y);
            return result.Record("broken_relu", [x], () =>
            {
                var gx = x.EnsureGrad();
                for (int i = 0; i < gx.Length; i++) gx[i] += result.Grad![i];
            });
        }
        var input = AwayFromZero(new Rng(1), 4, 4);
        var result = GradientChecker.Check(x => BrokenRelu(x[0]), [input]);
        Assert.False(result.Passed);
        Assert.Contains("FAILED", result.ToString());
    }

    [Fact]
    public void GradientChecker_GradientOffByFactor_IsCaught()
    {
        static Tensor HalfGradientSquare(Tensor x)
        {
            var result = new Tensor(x.Shape, x.Data.Select(v => v * v).ToArray());
            return result.Record("half_square", [x], () =>
            {
                var gx = x.EnsureGrad();
                for (int i = 0; i < gx.Length; i++) gx[i] += x.Data[i] * result.Grad![i]; // should be 2x
            });
        }
        var result = GradientChecker.Check(x => HalfGradientSquare(x[0]), [AwayFromZero(new Rng(2), 6)]);
        Assert.False(result.Passed);
    }

    [Fact]
    public void Backward_SharedInput_AccumulatesBothPaths()
    {
        var x = Tensor.From([3f], 1);
        x.RequiresGrad = true;
        var y = Ops.Sum(Ops.Add(Ops.Mul(x, x), Ops.Scale(x, 4))); // y = x² + 4x, dy/dx = 2x + 4 = 10
        y.Backward();
        Assert.Equal(10f, x.Grad![0]);
    }

    [Fact]
    public void Backward_TwoPasses_AccumulateIntoLeafGradients()
    {
        var w = Tensor.From([1f, 2f], 2);
        w.RequiresGrad = true;
        Ops.Sum(Ops.Scale(w, 3)).Backward();
        Ops.Sum(Ops.Scale(w, 3)).Backward();
        Assert.Equal([6f, 6f], w.Grad!);
    }

    [Fact]
    public void Backward_VeryDeepChain_DoesNotOverflowTheStack()
    {
        var x = Tensor.From([0.5f], 1);
        x.RequiresGrad = true;
        var y = x;
        for (int i = 0; i < 100_000; i++) y = Ops.Scale(y, 1f);
        Ops.Sum(y).Backward();
        Assert.Equal(1f, x.Grad![0]);
    }

    [Fact]
    public void NoGrad_RecordsNothing()
    {
        var w = Tensor.From([1f, 2f], 2);
        w.RequiresGrad = true;
        Tensor y;
        using (GradMode.NoGrad()) y = Ops.Sum(Ops.Scale(w, 2));
        Assert.False(y.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.True(GradMode.IsEnabled);
    }

    [Fact]
    public void Backward_NonScalarWithoutGradient_Throws()
    {
        var w = Tensor.From([1f, 2f], 2);
        w.RequiresGrad = true;
        var ex = Assert.Throws<InvalidOperationException>(() => Ops.Scale(w, 2).Backward());
        Assert.Contains("(2)", ex.Message);
    }

    [Fact]
    public void SoftmaxCrossEntropy_MatchesFormulaAndSurvivesHugeLogits()
    {
        // First principles: −log softmax with max-subtraction; 1000 would overflow e^z without it.
        var logits = Tensor.From([1000f, 999f, 998f, -5f, 0f, 5f], 2, 3);
        var loss = Ops.SoftmaxCrossEntropy(logits, [1, 2], 0.2f).Item();
        double Expected(double[] z, int y, double eps)
        {
            double max = z.Max(), lse = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
            return z.Select((v, j) => ((j == y ? 1 - eps : 0) + eps / z.Length) * (lse - v)).Sum();
        }
        double expected = (Expected([1000, 999, 998], 1, 0.2) + Expected([-5, 0, 5], 2, 0.2)) / 2;
        Assert.Equal(expected, loss, 1e-4);
        Assert.False(float.IsNaN(loss));
    }

    [Fact]
    public void MulticlassHinge_MatchesLectureExample()
    {
        // CS231n's example: scores cat/car/frog for three images, Δ = 1: losses 2.9, 0, 12.9 → mean 5.27 (= 15.8/3).
        var scores = Tensor.From([3.2f, 5.1f, -1.7f, 1.3f, 4.9f, 2.0f, 2.2f, 2.5f, -3.1f], 3, 3);
        var loss = Ops.MulticlassHinge(scores, [0, 1, 2]).Item();
        double expected = (Math.Max(0, 5.1 - 3.2 + 1) + Math.Max(0, -1.7 - 3.2 + 1)
            + Math.Max(0, 1.3 - 4.9 + 1) + Math.Max(0, 2.0 - 4.9 + 1)
            + Math.Max(0, 2.2 + 3.1 + 1) + Math.Max(0, 2.5 + 3.1 + 1)) / 3;
        Assert.Equal(expected, loss, 1e-5);
    }

    [Fact]
    public void OneVsRestSquaredHinge_MatchesItsDefinition()
    {
        // Two images, three classes: each score is a binary SVM's, target +1 for the label and −1 for the others.
        var scores = Tensor.From([0.5f, -2f, 0.3f, 1.5f, 0.2f, -0.4f], 2, 3);
        var loss = Ops.OneVsRestSquaredHinge(scores, [0, 2]).Item();
        static double Sq(double slack) => Math.Max(0, slack) * Math.Max(0, slack);
        double expected = (Sq(1 - 0.5) + Sq(1 - 2) + Sq(1 + 0.3) + Sq(1 + 1.5) + Sq(1 + 0.2) + Sq(1 + 0.4)) / 2; // the last: t = +1, s = −0.4
        Assert.Equal(expected, loss, 1e-5);
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits_ExtremeLogits_StayFinite()
    {
        var loss = Ops.BinaryCrossEntropyWithLogits(Tensor.From([100f, -100f], 2), [0f, 1f]).Item();
        Assert.Equal(100.0, loss, 1e-3); // each term is ≈ |z|
    }

    [Fact]
    public void Broadcast_IncompatibleShapes_NamesBoth()
    {
        var ex = Assert.Throws<ArgumentException>(() => Ops.Add(Tensor.Zeros(3, 4), Tensor.Zeros(3)));
        Assert.Contains("(3)", ex.Message);
        Assert.Contains("(3, 4)", ex.Message);
    }

    [Fact]
    public void Reshape_SharesStorageAndInfersOneDimension()
    {
        var x = Tensor.Zeros(2, 3, 4);
        var y = x.Reshape(2, -1);
        Assert.Equal(new Shape(2, 12), y.Shape);
        Assert.Same(x.Data, y.Data);
        Assert.Throws<ArgumentException>(() => x.Reshape(5, -1));
    }

    [Fact]
    public void Linear_MatchesScalarFormula()
    {
        var rng = new Rng(3);
        var x = Random(rng, -1, 1, 5, 7);
        var w = Random(rng, -1, 1, 3, 7);
        var b = Random(rng, -1, 1, 3);
        var y = Ops.Linear(x, w, b);
        for (int i = 0; i < 5; i++)
            for (int o = 0; o < 3; o++)
            {
                double s = b.Data[o];
                for (int k = 0; k < 7; k++) s += (double)x.Data[i * 7 + k] * w.Data[o * 7 + k];
                Assert.Equal(s, y.Data[i * 3 + o], 1e-5);
            }
    }
}

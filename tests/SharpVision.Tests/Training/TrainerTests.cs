using SharpVision.Optim;
using SharpVision.Training;
using static SharpVision.Tests.Training.TrainingFixtures;

namespace SharpVision.Tests.Training;

public class TrainerTests
{
    private static readonly TrainingOptions Quick = new(Epochs: 8, BatchSize: 16, Optimizer: "nesterov", LearningRate: 0.05, Schedule: "cosine");

    // The shared classifier contract: learns separable blobs, is reproducible with a seed, rejects wrong shapes.
    [Theory]
    [InlineData("svm", 4)]
    [InlineData("softmax", 4)]
    [InlineData("logistic", 2)]
    [InlineData("mlp", 4)]
    public void Fit_SeparableBlobs_LearnsThemAndPredictsHeldOutData(string kind, int classes)
    {
        var (model, train) = Setup(kind, Blobs(400, classes, seed: 1), seed: 3);
        new Trainer(Quick).Fit(model, train, null, null);
        var test = Blobs(200, classes, seed: 2);
        var predicted = model.Predict(test).Labels();
        double accuracy = predicted.Zip(test.Labels).Count(p => p.First == p.Second) / (double)test.Count;
        Assert.True(accuracy > 0.95, $"{kind}: {accuracy}");
        Assert.Throws<ArgumentException>(() => model.Predict(new byte[17]));
    }

    [Fact]
    public void Fit_SameSeed_SameBits_DifferentSeed_DifferentResult()
    {
        float[] Run(int seed)
        {
            var (model, train) = Setup("mlp", Blobs(300, 4, 1), seed, dropout: 0.2f);
            new Trainer(Quick with { Seed = seed, Optimizer = "adam", LearningRate = 0.01 }).Fit(model, train, null, null);
            return Flatten(model);
        }
        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Theory]
    [InlineData("nesterov", "onecycle", 0f, 0)]
    [InlineData("adam", "cosine", 0.3f, 2)]
    [InlineData("rmsprop", "step", 0f, 0)]
    public void Resume_AfterInterruptAtAnyStep_MatchesUninterruptedRunBitForBit(string optimizer, string schedule, float dropout, int patience)
    {
        var options = Quick with { Optimizer = optimizer, Schedule = schedule, LearningRate = optimizer == "nesterov" ? 0.05 : 0.005, StepEpochs = 3, Patience = patience, Epochs = 6 };
        var data = Blobs(300, 4, 1);
        var validation = Setup("mlp", Blobs(80, 4, 9), 0).Train;

        var (reference, train) = Setup("mlp", data, 7, dropout);
        using var referenceDir = new TempFolder();
        new Trainer(options).Fit(reference, train, validation, referenceDir.Path);

        foreach (int stopAfter in new[] { 1, 19, 40, 57 })
        {
            using var dir = new TempFolder();
            var (model, _) = Setup("mlp", data, 7, dropout);
            using var cancel = new CancellationTokenSource();
            int steps = 0;
            var interrupted = new Trainer(options) { OnStep = _ => { if (++steps == stopAfter) cancel.Cancel(); } };
            Assert.ThrowsAny<OperationCanceledException>(() => interrupted.Fit(model, train, validation, dir.Path, null, cancel.Token));

            var checkpoint = Checkpoint.Load(Path.Combine(dir.Path, Checkpoint.FileName));
            Assert.Equal(stopAfter, checkpoint.Position.GlobalStep);
            var (resumed, _) = Setup("mlp", data, 99, dropout); // other initial values: the checkpoint must overwrite them
            var result = new Trainer(options).Fit(resumed, train, validation, dir.Path, checkpoint);
            Assert.Equal(Flatten(reference), Flatten(resumed));
            Assert.Equal(options.Epochs, result.Epochs.Count);
            Assert.Equal(File.ReadAllLines(Path.Combine(referenceDir.Path, "metrics.jsonl")).Select(StripSeconds), File.ReadAllLines(Path.Combine(dir.Path, "metrics.jsonl")).Select(StripSeconds));
            // The per-step log has every step once, with the same values as the uninterrupted run's.
            Assert.Equal(File.ReadAllText(Path.Combine(referenceDir.Path, StepLog.FileName)), File.ReadAllText(Path.Combine(dir.Path, StepLog.FileName)));
        }

        static string StripSeconds(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"seconds\":[0-9.eE+-]+", "");
    }

    [Fact]
    public void TimeLimit_Reached_StopsAfterTheCurrentStep_WithACheckpointThatResumesToTheUninterruptedModel()
    {
        var data = Blobs(300, 4, 1);
        var options = Quick with { Epochs = 3 };
        var (reference, train) = Setup("mlp", data, 7);
        var unlimited = new Trainer(options) { TimeLimit = TimeSpan.FromHours(1) }.Fit(reference, train, null, null);
        Assert.False(unlimited.ReachedTimeLimit);
        Assert.Equal(3, unlimited.Epochs.Count);

        // A limit of zero is reached as soon as the first step is done: Fit returns (no exception) with that step's weights.
        using var dir = new TempFolder();
        var (model, _) = Setup("mlp", data, 7);
        int steps = 0;
        var limited = new Trainer(options) { TimeLimit = TimeSpan.Zero, OnStep = _ => steps++ }.Fit(model, train, null, dir.Path);
        Assert.True(limited.ReachedTimeLimit);
        Assert.Equal(1, steps);
        Assert.Empty(limited.Epochs);
        Assert.NotEqual(Flatten(reference), Flatten(model));

        var checkpoint = Checkpoint.Load(Path.Combine(dir.Path, Checkpoint.FileName));
        Assert.Equal(1, checkpoint.Position.GlobalStep);
        var (resumed, _) = Setup("mlp", data, 99);
        var finished = new Trainer(options).Fit(resumed, train, null, dir.Path, checkpoint);
        Assert.False(finished.ReachedTimeLimit);
        Assert.Equal(Flatten(reference), Flatten(resumed));
    }

    [Fact]
    public void Fit_LossBecomesNaN_StopsWithClearErrorAndKeepsLastGoodCheckpoint()
    {
        using var dir = new TempFolder();
        var data = Blobs(200, 4, 1);
        var (model, train) = Setup("softmax", data, 1);
        var good = Quick with { Epochs = 2 };
        new Trainer(good).Fit(model, train, null, dir.Path);
        var checkpointPath = Path.Combine(dir.Path, Checkpoint.FileName);
        var before = File.ReadAllBytes(checkpointPath);

        // A learning rate of 1e20 through two layers overflows float32 within a few steps.
        var (diverging, mlpTrain) = Setup("mlp", data, 1);
        var ex = Assert.Throws<TrainingDivergedException>(() => new Trainer(good with { LearningRate = 1e20, Schedule = "constant", Optimizer = "sgd" }).Fit(diverging, mlpTrain, null, dir.Path));
        Assert.Contains("lower --lr", ex.Message);
        Assert.Matches("became (NaN|∞|-∞|Infinity)", ex.Message);
        // The diverging run wrote its epoch-0 start nothing: the good checkpoint is byte for byte what it was.
        Assert.Equal(before, File.ReadAllBytes(checkpointPath));
        Assert.Contains("the last good checkpoint was kept", ex.Message);
    }

    [Fact]
    public void Fit_DivergingBeforeAnyCheckpoint_DoesNotClaimOneWasKept()
    {
        using var dir = new TempFolder();
        var (diverging, train) = Setup("mlp", Blobs(200, 4, 1), 1);
        var ex = Assert.Throws<TrainingDivergedException>(() =>
            new Trainer(Quick with { Epochs = 2, LearningRate = 1e20, Schedule = "constant", Optimizer = "sgd" }).Fit(diverging, train, null, dir.Path));
        Assert.DoesNotContain("checkpoint was kept", ex.Message);
        Assert.Contains("before any checkpoint was written", ex.Message);
        Assert.False(File.Exists(Path.Combine(dir.Path, Checkpoint.FileName)));
    }

    [Fact]
    public void EarlyStopping_RestoresTheBestEpochWeights()
    {
        var data = Blobs(300, 4, 1);
        // Validation labels shuffled: the better the model fits the training data, the worse its validation loss.
        var clean = Setup("mlp", Blobs(100, 4, 5), 0).Train;
        var shuffled = clean.Labels.ToArray();
        new SharpVision.Tensors.Rng(3).Shuffle(shuffled.AsSpan());
        var validation = clean with { Labels = shuffled };
        var (model, train) = Setup("mlp", data, 2);
        var options = Quick with { Epochs = 30, Patience = 2, EarlyStoppingMetric = "loss" };
        var result = new Trainer(options).Fit(model, train, validation, null);
        Assert.True(result.StoppedEarly);
        var best = result.Epochs[result.BestEpoch - 1].ValidationLoss!.Value;
        Assert.Equal(result.Epochs.Min(e => e.ValidationLoss!.Value), best);
        Assert.Equal(best, Trainer.Evaluate(model, validation).Loss, 5);
    }

    [Fact]
    public void RandomSearch_IsTheLecturesWeakBaseline()
    {
        var data = Blobs(400, 4, 1);
        var (model, train) = Setup("softmax", data, 1);
        var result = new Trainer(Quick with { Optimizer = "random-search", Epochs = 4, RandomSearchScale = 1 }).Fit(model, train, null, null);
        var (searched, gradient) = (Trainer.Evaluate(model, train).Accuracy, 0.0);
        var (trained, _) = Setup("softmax", data, 1);
        new Trainer(Quick).Fit(trained, train, null, null);
        gradient = Trainer.Evaluate(trained, train).Accuracy;
        Assert.True(searched > 0.3, $"random search {searched} should beat chance (0.25)");
        Assert.True(gradient > searched, $"gradient descent {gradient} should beat random search {searched}");
        Assert.Equal(4, result.Epochs.Count);
    }

    [Fact]
    public void Options_Invalid_AreRejectedByName()
    {
        Assert.Contains("Optimizer", Assert.Throws<ArgumentException>(() => new Trainer(Quick with { Optimizer = "lbfgs" })).Message);
        Assert.Contains("LearningRate", Assert.Throws<ArgumentException>(() => new Trainer(Quick with { LearningRate = -1 })).Message);
        Assert.Contains("L1Ratio", Assert.Throws<ArgumentException>(() => new Trainer(Quick with { L1Ratio = 2 })).Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void Regularization_ShrinksWeights(double l1Ratio)
    {
        var data = Blobs(300, 4, 1);
        float Norm(double lambda)
        {
            var (model, train) = Setup("softmax", data, 1);
            new Trainer(Quick with { Regularization = lambda, L1Ratio = l1Ratio }).Fit(model, train, null, null);
            return model.Network.Parameters()[0].Data.Sum(Math.Abs);
        }
        Assert.True(Norm(0.05) < 0.8 * Norm(0), $"α = {l1Ratio}");
    }
}

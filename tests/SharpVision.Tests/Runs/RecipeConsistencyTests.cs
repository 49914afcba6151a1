using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Models;
using SharpVision.Runs;
using SharpVision.Tests.Support;
using SharpVision.Training;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Runs;

/// <summary>
/// One recipe, three callers: the library, `train` and the ladder train the default CNN recipe from
/// <see cref="Recipes.Default"/> and give the same bits.
/// </summary>
public class RecipeConsistencyTests
{
    [Fact]
    public void LadderCnnRung_IsTheDefaultRecipe_ByConstruction()
    {
        var rung = Ladder.DefaultRungs(channels: 1, seed: 3).Single(r => r.Name == "cnn");
        var trainer = Assert.IsType<NetworkTrainer>(Assert.Single(rung.Grid).Trainer);
        Assert.Equal(Recipes.Default("cnn2", seed: 3), trainer.Recipe);
        Assert.Equal(new NetworkSpec("cnn2"), trainer.Spec);
    }

    [Fact]
    public void DefaultCnnRecipe_Library_Train_AndLadder_GiveTheSameBits()
    {
        using var temp = new TempFolder();
        var location = new DatasetLocation("fashion-mnist", "idx", SampleDir, "--data", IsSample: true);
        var splits = DatasetLoader.Load(location);
        // The default recipe, one epoch so the test is quick; everything else (split, normalization, initialization,
        // augmentation, flip averaging) is the default's.
        var recipe = Recipes.Default("cnn2") with { Epochs = 1 };

        var library = new NetworkTrainer(new NetworkSpec("cnn2"), recipe).Fit(splits.Train, null, new FitContext { Threads = 2 }).Predict(splits.Test, 2);

        var trainDir = temp.Combine("train");
        var (code, _, err) = Run("train", "--model", "cnn2", "--data", SampleDir, "--epochs", "1", "--threads", "2", "--out", trainDir);
        Assert.True(code == 0, err);
        var trained = ModelFile.Load(Path.Combine(trainDir, "model.safetensors")).Predict(splits.Test, 2);

        var rung = Ladder.DefaultRungs(1, 0).Single(r => r.Name == "cnn");
        var cnn = (NetworkTrainer)rung.Grid[0].Trainer;
        var oneEpoch = rung with { Grid = [new Candidate(rung.Grid[0].Parameters, new NetworkTrainer(cnn.Spec, cnn.Recipe with { Epochs = 1 }))] };
        var ladder = new Ladder(new LadderOptions(TimeSpan.FromHours(1), Seed: 0, Threads: 2, Rungs: ["cnn"], Definition: [oneEpoch]));
        ladder.Run(splits, location, temp.Combine("ladder"), TimeSpan.Zero);
        var laddered = ModelFile.Load(temp.Combine("ladder", "cnn", "model.safetensors")).Predict(splits.Test, 2);

        Assert.Equal(library.Probabilities, trained.Probabilities);
        Assert.Equal(library.Probabilities, laddered.Probabilities);
    }
}

using SharpVision.Data;
using SharpVision.Models;
using SharpVision.Tests.Support;

namespace SharpVision.Tests.Contract;

/// <summary>
/// The classifier contract, checked on every family (in the spirit of scikit-learn's estimator checks): it learns,
/// it is reproducible whatever the thread count, its probabilities are probabilities, a saved model loads back with
/// the same predictions bit for bit, bad input and one-class data are refused clearly, and a class absent from the
/// training images does not break it.
/// </summary>
public class ClassifierContractTests
{
    private static (ImageDataset Train, ImageDataset Test) Data(ContractFamilies.Family family) =>
        (ContractFamilies.Bars(160, family.Binary ? 2 : 4, seed: 1), ContractFamilies.Bars(80, family.Binary ? 2 : 4, seed: 2));

    private static IImageClassifier Fit(ContractFamilies.Family family, ImageDataset train, int threads = 2, int seed = 0) =>
        family.Create(seed).Fit(train, null, new FitContext { Threads = threads });

    [Theory]
    [MemberData(nameof(ContractFamilies.Names), MemberType = typeof(ContractFamilies))]
    public void Fit_LearnsSeparableImages(string name)
    {
        var family = ContractFamilies.Get(name);
        var (train, test) = Data(family);
        var model = Fit(family, train);
        Assert.Equal(family.Create(0).Kind, model.Kind);
        Assert.Equal(train.ClassNames, model.ClassNames);
        Assert.Equal(new ImagePreparation(1, 12, 12), model.Preparation);
        Assert.True(model.Score(test) >= family.MinAccuracy, $"{name}: accuracy {model.Score(test):P1}");
    }

    [Theory]
    [MemberData(nameof(ContractFamilies.Names), MemberType = typeof(ContractFamilies))]
    public void Fit_SameSeed_GivesTheSameBits_ForAnyThreadCount(string name)
    {
        var family = ContractFamilies.Get(name);
        var (train, test) = Data(family);
        var one = Fit(family, train, threads: 1).Predict(test, 1).Probabilities;
        var two = Fit(family, train, threads: 2).Predict(test, 2).Probabilities;
        var again = Fit(family, train, threads: 2).Predict(test, 1).Probabilities;
        Assert.Equal(one, two);
        Assert.Equal(one, again);
    }

    [Theory]
    [MemberData(nameof(ContractFamilies.Names), MemberType = typeof(ContractFamilies))]
    public void Predict_GivesFiniteProbabilitiesSummingToOne_RankedConsistently(string name)
    {
        var family = ContractFamilies.Get(name);
        var (train, test) = Data(family);
        var predictions = Fit(family, train).Predict(test);
        Assert.Equal(test.Count, predictions.Count);
        Assert.Equal(train.ClassNames.Count, predictions.Classes);
        for (int i = 0; i < predictions.Count; i++)
        {
            var p = predictions.ProbabilitiesOf(i).ToArray();
            Assert.All(p, v => Assert.True(float.IsFinite(v) && v >= 0 && v <= 1, $"{name}: probability {v}"));
            Assert.Equal(1.0, p.Sum(v => (double)v), 4);
            var ranking = predictions.Top(i, predictions.Classes).ToArray();
            Assert.Equal(Enumerable.Range(0, predictions.Classes), ranking.Order());
            for (int r = 1; r < ranking.Length; r++) Assert.True(p[ranking[r - 1]] >= p[ranking[r]], $"{name}: ranking disagrees with probabilities");
        }
    }

    [Theory]
    [MemberData(nameof(ContractFamilies.Names), MemberType = typeof(ContractFamilies))]
    public void SaveThenLoad_PredictsTheSameBits(string name)
    {
        using var temp = new TempFolder();
        var family = ContractFamilies.Get(name);
        var (train, test) = Data(family);
        var model = Fit(family, train);
        var path = temp.Combine("model.safetensors");
        model.Save(path, new Dictionary<string, string> { ["dataset"] = "bars" });
        var loaded = ModelFile.Load(path, out var metadata);
        Assert.Equal("bars", metadata["dataset"]);
        Assert.Equal(model.Kind, loaded.Kind);
        Assert.Equal(model.ClassNames, loaded.ClassNames);
        Assert.Equal(model.Preparation, loaded.Preparation);
        Assert.Equal(model.Describe().ToJsonString(), loaded.Describe().ToJsonString());
        Assert.Equal(model.Predict(test).Probabilities, loaded.Predict(test).Probabilities);
        Assert.Equal(model.Predict(test).Ranking, loaded.Predict(test).Ranking);
    }

    [Theory]
    [MemberData(nameof(ContractFamilies.Names), MemberType = typeof(ContractFamilies))]
    public void Predict_InputsOfAnotherShape_AreAClearError(string name)
    {
        var family = ContractFamilies.Get(name);
        var (train, _) = Data(family);
        var model = Fit(family, train);
        var error = Assert.ThrowsAny<ArgumentException>(() => model.Predict(new byte[12 * 12 + 5]));
        Assert.Contains("12", error.Message);
        var larger = new ImageDataset("big", 1, 14, 14, new byte[2 * 14 * 14], [0, 1], train.ClassNames);
        var shape = Assert.ThrowsAny<ArgumentException>(() => model.Predict(larger));
        Assert.Contains("1×14×14", shape.Message);
        Assert.Contains("1×12×12", shape.Message);
    }

    [Theory]
    [MemberData(nameof(ContractFamilies.Names), MemberType = typeof(ContractFamilies))]
    public void Fit_OneClass_IsRefusedWithAClearMessage(string name)
    {
        var family = ContractFamilies.Get(name);
        var oneClass = ContractFamilies.Bars(40, family.Binary ? 2 : 4, seed: 3, present: [1]);
        var error = Assert.ThrowsAny<ArgumentException>(() => Fit(family, oneClass));
        Assert.Contains("one class", error.Message);
    }

    [Theory]
    [MemberData(nameof(ContractFamilies.Names), MemberType = typeof(ContractFamilies))]
    public void Fit_ClassMissingFromTraining_StillPredictsEveryClassColumn(string name)
    {
        var family = ContractFamilies.Get(name);
        if (family.Binary) return; // two classes, both needed: one of them missing is the one-class case above
        var train = ContractFamilies.Bars(120, 4, seed: 4, present: [0, 1, 2]);
        var test = ContractFamilies.Bars(40, 4, seed: 5);
        var model = Fit(family, train);
        Assert.Equal(4, model.ClassNames.Count);
        var predictions = model.Predict(test);
        Assert.Equal(4, predictions.Classes);
        for (int i = 0; i < predictions.Count; i++) Assert.Equal(1.0, predictions.ProbabilitiesOf(i).ToArray().Sum(v => (double)v), 4);
        double accuracy = model.Score(test);
        Assert.InRange(accuracy, 0.0, 0.75 + 1e-9); // the unseen class (a quarter of the test images) is never right
    }

    [Theory]
    [MemberData(nameof(ContractFamilies.Names), MemberType = typeof(ContractFamilies))]
    public void Trainer_IsNotAModel_AndFitLeavesItsInputsAlone(string name)
    {
        var family = ContractFamilies.Get(name);
        var trainer = family.Create(0);
        Assert.False(trainer is IImageClassifier, "an unfitted trainer must not be usable as a classifier");
        var (train, _) = Data(family);
        var pixels = (byte[])train.Pixels.Clone();
        var labels = (int[])train.Labels.Clone();
        var model = Fit(family, train);
        Assert.Equal(pixels, train.Pixels);
        Assert.Equal(labels, train.Labels);
        var card = model.Describe();
        foreach (var key in new[] { "type", "classes", "preparation", "parameters" }) Assert.True(card.ContainsKey(key), $"{name}: Describe() lacks \"{key}\"");
        Assert.Equal(model.Kind, (string?)card["type"]);
    }
}

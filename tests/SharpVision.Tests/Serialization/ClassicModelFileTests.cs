using System.Runtime.InteropServices;
using SharpVision.Classic.Svm;
using SharpVision.Classic.Trees;
using SharpVision.IO;
using SharpVision.Models;
using SharpVision.Serialization;
using SharpVision.Tests.Contract;

namespace SharpVision.Tests.Serialization;

/// <summary>Model files of trees, forests, boosted trees and kernel SVMs: every kind of damage refused by ModelFile.Load, naming the file.</summary>
public class ClassicModelFileTests
{
    private static string Save(TempFolder temp, IClassifierTrainer trainer)
    {
        var model = trainer.Fit(ContractFamilies.Bars(120, 3, seed: 1), null, new FitContext { Threads = 2 });
        var path = temp.Combine("model.safetensors");
        model.Save(path);
        return path;
    }

    private static string Forest(TempFolder temp) => Save(temp, new RandomForestTrainer(new RandomForestOptions(Trees: 3)));

    private static string Svm(TempFolder temp) => Save(temp, new KernelSvmTrainer(new KernelSvmOptions(C: 10)));

    // Rewrites the file with one tensor replaced (or removed, or added) and/or metadata changed.
    private static void Rewrite(string path, string name, Func<TensorEntry?, TensorEntry?> change, Action<Dictionary<string,
        string>>? metadata = null)
    {
        var file = SafeTensorsFile.Read(path);
        var entries = file.Tensors.Where(t => t.Name != name).ToList();
        if (change(file.Find(name)) is { } replacement) entries.Add(replacement);
        var meta = file.Metadata.ToDictionary();
        metadata?.Invoke(meta);
        SafeTensorsFile.Write(path, meta, entries);
    }

    private static string Refusal(string path)
    {
        var message = Assert.Throws<DataFormatException>(() => ModelFile.Load(path)).Message;
        Assert.Contains(path, message);
        return message;
    }

    private static TensorEntry Ints(TensorEntry entry, Action<int[]> edit)
    {
        var values = entry.ToInt32();
        edit(values);
        return TensorEntry.FromInt32(entry.Name, values, entry.Shape);
    }

    private static TensorEntry Floats(TensorEntry entry, Action<float[]> edit)
    {
        var values = entry.ToSingle();
        edit(values);
        return TensorEntry.FromSingle(entry.Name, values, entry.Shape);
    }

    [Fact]
    public void Tree_ChildPointingBackToItsParent_IsRefused()
    {
        using var temp = new TempFolder();
        var path = Forest(temp);
        Rewrite(path, "nodes.left", e => Ints(e!, v => v[0] = 0));
        Assert.Contains("tree 0 is not a valid tree", Refusal(path));
    }

    [Fact]
    public void Tree_OffsetsThatDoNotRise_AreRefused()
    {
        using var temp = new TempFolder();
        var path = Forest(temp);
        Rewrite(path, "trees.offsets", e => Ints(e!, v => v[2] = v[1]));
        Assert.Contains("'trees.offsets' must rise", Refusal(path));
    }

    [Fact]
    public void Tree_FeatureOutOfRange_NaNValues_WrongTypes_AndStrangers_AreRefused()
    {
        using var temp = new TempFolder();
        var path = Forest(temp);
        var pristine = File.ReadAllBytes(path);
        Rewrite(path, "nodes.feature", e => Ints(e!, v => v[0] = 144));
        Assert.Contains("feature 144", Refusal(path));
        File.WriteAllBytes(path, pristine);
        Rewrite(path, "nodes.value", e => Floats(e!, v => v[3] = float.NaN));
        Assert.Contains("NaN", Refusal(path));
        File.WriteAllBytes(path, pristine);
        Rewrite(path, "nodes.threshold", e => TensorEntry.FromInt32(e!.Name, new int[e.Shape[0]], e.Shape));
        Assert.Contains("expected F32", Refusal(path));
        File.WriteAllBytes(path, pristine);
        Rewrite(path, "extra.weights", _ => TensorEntry.FromSingle("extra.weights", [1f], 1));
        Assert.Contains("'extra.weights' is not part of", Refusal(path));
        File.WriteAllBytes(path, pristine);
        Rewrite(path, "importances", _ => null);
        Assert.Contains("has no 'importances' tensor", Refusal(path));
    }

    [Fact]
    public void Boost_TreesThatAreNotWholeRounds_AreRefused()
    {
        using var temp = new TempFolder();
        var path = Save(temp, new GradientBoostingTrainer(new GradientBoostingOptions(Rounds: 2, MaxLeaves: 4, MinSamplesLeaf: 5)));
        Rewrite(path, "x", _ => null, meta => meta["class_names"] = "[\"a\",\"b\",\"c\",\"d\"]");
        Assert.Contains("not whole rounds of 4 classes", Refusal(path));
    }

    [Fact]
    public void KernelSvm_NaNCoefficients_MissingRho_BadKernel_AndUnsortedClasses_AreRefused()
    {
        using var temp = new TempFolder();
        var path = Svm(temp);
        var pristine = File.ReadAllBytes(path);
        Rewrite(path, "dual_coef", e =>
        {
            var values = MemoryMarshal.Cast<byte, double>(e!.Data).ToArray();
            values[0] = double.NaN;
            return new TensorEntry(e.Name, TensorDType.F64, e.Shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        });
        Assert.Contains("'dual_coef' holds NaN", Refusal(path));
        File.WriteAllBytes(path, pristine);
        Rewrite(path, "rho", _ => null);
        Assert.Contains("has no 'rho' tensor", Refusal(path));
        File.WriteAllBytes(path, pristine);
        Rewrite(path, "x", _ => null, meta => meta["kernel"] = "{\"kind\":\"sigmoid\",\"gamma\":1,\"degree\":3,\"coef0\":0}");
        Assert.Contains("unknown kernel", Refusal(path));
        File.WriteAllBytes(path, pristine);
        Rewrite(path, "support.classes", e => Ints(e!, v => (v[0], v[1]) = (v[1], v[0])));
        Assert.Contains("ascending", Refusal(path));
        File.WriteAllBytes(path, pristine);
        Rewrite(path, "support.counts", e => Ints(e!, v => v[0]++));
        Assert.Contains("'support.images'", Refusal(path));
    }

    [Fact]
    public void KernelSvm_OnPixels_StoresTheSupportVectorsAsTheirImages()
    {
        using var temp = new TempFolder();
        var path = Svm(temp);
        var file = SafeTensorsFile.Read(path);
        Assert.Null(file.Find("support.vectors")); // x = byte / 255 is rebuilt from support.images, bit for bit
        var model = Assert.IsType<KernelSvmModel>(ModelFile.Load(path));
        Assert.Equal(file.Find("support.images")!.Data.Select(b => b / 255f), model.Svm.SupportVectors);
    }
}

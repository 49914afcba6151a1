using SharpVision.Models;
using SharpVision.IO;
using System.Buffers.Binary;
using System.Text;
using SharpVision.Nn;
using SharpVision.Serialization;
using SharpVision.Tests.Training;
using SharpVision.Training;

namespace SharpVision.Tests.Serialization;

/// <summary>Model files of network models (here an MLP): round trip, and every kind of damage refused by ModelFile.Load.</summary>
public class NetworkModelFileTests
{
    private static (string Path, NetworkClassifier Model) SaveTrained(TempFolder temp)
    {
        var data = TrainingFixtures.Blobs(200, 4, 1);
        var (model, train) = TrainingFixtures.Setup("mlp", data, 1);
        new Trainer(new TrainingOptions(Epochs: 2, BatchSize: 32)).Fit(model, train, null, null);
        var path = temp.Combine("model.safetensors");
        model.Save(path);
        return (path, model);
    }

    // Rewrites the JSON header through `edit`, keeping the data bytes.
    internal static void EditHeader(string path, Func<string, string> edit)
    {
        var bytes = File.ReadAllBytes(path);
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = Encoding.UTF8.GetBytes(edit(Encoding.UTF8.GetString(bytes, 8, length)));
        var result = new byte[8 + header.Length + bytes.Length - 8 - length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)header.Length);
        header.CopyTo(result, 8);
        bytes.AsSpan(8 + length).CopyTo(result.AsSpan(8 + header.Length));
        File.WriteAllBytes(path, result);
    }

    private static string Refusal(string path)
    {
        var message = Assert.Throws<DataFormatException>(() => ModelFile.Load(path)).Message;
        Assert.Contains(path, message); // the error names the file
        return message;
    }

    [Fact]
    public void SaveLoad_RoundTrip_PredictsIdentically()
    {
        using var temp = new TempFolder();
        var (path, model) = SaveTrained(temp);
        var loaded = (NetworkClassifier)ModelFile.Load(path);
        Assert.Equal("mlp", loaded.Kind);
        var images = TrainingFixtures.Blobs(50, 4, 7).Pixels;
        Assert.Equal(model.Predict(images).Probabilities, loaded.Predict(images).Probabilities);
        Assert.Equal(Architecture.ToJson(model.Network).ToJsonString(), Architecture.ToJson(loaded.Network).ToJsonString());
    }

    [Fact]
    public void SaveLoad_ColorCnn_RoundTrips()
    {
        // A cnn2 on 3×8×8 images: its first convolution reads 3 channels of 8×8, i.e. 192 values per image.
        using var temp = new TempFolder();
        var network = Networks.Cnn2(3, 8, 8, 4);
        network.ResetParameters(new SharpVision.Tensors.Rng(1));
        var pixels = new byte[20 * 192];
        new Random(2).NextBytes(pixels);
        var images = new SharpVision.Data.ImageDataset("rgb", 3, 8, 8, pixels, Enumerable.Range(0, 20).Select(i => i % 4).ToArray(), ["a", "b", "c", "d"]);
        var model = new NetworkClassifier("cnn2", network, ClassifierLoss.Softmax, SharpVision.Data.Normalizer.Fit(images, SharpVision.Data.NormalizationMode.PerChannel),
            new SharpVision.Data.ImagePreparation(3, 8, 8), images.ClassNames);
        var path = temp.Combine("model.safetensors");
        model.Save(path);
        var loaded = (NetworkClassifier)ModelFile.Load(path);
        Assert.Equal(model.Predict(images).Probabilities, loaded.Predict(images).Probabilities);
    }

    [Fact]
    public void TruncatedByOneByte_IsRefused()
    {
        using var temp = new TempFolder();
        var (path, _) = SaveTrained(temp);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^1]);
        Assert.Contains("data section", Refusal(path));
    }

    [Fact]
    public void OneExtraByte_IsRefused()
    {
        using var temp = new TempFolder();
        var (path, _) = SaveTrained(temp);
        File.AppendAllText(path, "\0");
        Assert.Contains("after the last tensor", Refusal(path));
    }

    [Fact]
    public void OverlappingOffsets_AreRefused()
    {
        using var temp = new TempFolder();
        var (path, _) = SaveTrained(temp);
        // The normalizer's scale claims the mean's bytes (sizes still match their shapes).
        EditHeader(path, h => System.Text.RegularExpressions.Regex.Replace(h, "(\"normalizer.scale\":\\{[^}]*\"data_offsets\":)\\[\\d+,\\d+\\]", "${1}[0,64]"));
        Assert.Contains("overlaps", Refusal(path));
    }

    [Fact]
    public void HeaderLengthBeyondTheFile_IsRefused()
    {
        using var temp = new TempFolder();
        var (path, _) = SaveTrained(temp);
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)bytes.Length);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("header length", Refusal(path));
    }

    [Fact]
    public void DuplicateTensorName_IsRefused()
    {
        using var temp = new TempFolder();
        var (path, _) = SaveTrained(temp);
        EditHeader(path, h => h.Replace("\"param.3.bias\"", "\"param.1.bias\""));
        Assert.Contains("duplicate entry 'param.1.bias'", Refusal(path));
    }

    [Fact]
    public void PickleRenamed_IsRefusedAsPickle()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("model.safetensors");
        File.WriteAllBytes(path, [0x80, 0x02, (byte)'}', (byte)'q', 0, (byte)'.']);
        Assert.Contains("pickle", Refusal(path));
    }

    [Fact]
    public void UnknownLayerType_IsRefusedNamingIt()
    {
        using var temp = new TempFolder();
        var (path, _) = SaveTrained(temp);
        EditHeader(path, h => h.Replace("{\\\"type\\\":\\\"relu\\\"}", "{\\\"type\\\":\\\"lambda\\\"}"));
        Assert.Contains("unknown type 'lambda'", Refusal(path));
    }

    [Fact]
    public void ArchitectureThatDoesNotFitTheTensors_IsRefused()
    {
        using var temp = new TempFolder();
        var (path, _) = SaveTrained(temp);
        EditHeader(path, h => h.Replace("\\\"out\\\":12", "\\\"out\\\":13"));
        Assert.Contains("param.1.weight", Refusal(path));
    }

    [Fact]
    public void NonFiniteWeights_AreRefused()
    {
        using var temp = new TempFolder();
        var data = TrainingFixtures.Blobs(50, 4, 1);
        var (model, _) = TrainingFixtures.Setup("softmax", data, 1);
        model.Network.Parameters()[0].Data[5] = float.NaN;
        var path = temp.Combine("nan.safetensors");
        model.Save(path);
        Assert.Contains("NaN", Refusal(path));
    }
}

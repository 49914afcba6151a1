using SharpVision.Models;
using SharpVision.IO;
using System.Buffers.Binary;
using System.Text;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Serialization;

namespace SharpVision.Tests.Serialization;

public class SafeTensorsTests
{
    private static readonly Dictionary<string, string> Meta = new() { ["format"] = "test" };

    private static string WriteValid(TempFolder temp)
    {
        var path = temp.Combine("m.safetensors");
        SafeTensorsFile.Write(path, Meta, [new TensorEntry("a", TensorDType.U8, [2, 3], [1, 2, 3, 4, 5, 6]), TensorEntry.FromInt32("b", [7, -8], 2)]);
        return path;
    }

    // A file with a hand-written header, for the malformed cases.
    private static string WriteRaw(TempFolder temp, string header, int dataBytes, long? claimedLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(claimedLength ?? json.Length));
        json.CopyTo(bytes, 8);
        var path = temp.Combine("raw.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Refusal(string path) => Assert.Throws<DataFormatException>(() => SafeTensorsFile.Read(path)).Message;

    [Fact]
    public void WriteThenRead_RoundTripsEverything()
    {
        using var temp = new TempFolder();
        var file = SafeTensorsFile.Read(WriteValid(temp));
        Assert.Equal("test", file.Metadata["format"]);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, file.Find("a")!.Data);
        Assert.Equal([2L, 3], file.Find("a")!.Shape);
        Assert.Equal([7, -8], file.Find("b")!.ToInt32());
        Assert.Empty(Directory.GetFiles(temp.Path, "*.tmp")); // the atomic write left no temp file
    }

    [Fact]
    public void Read_TruncatedByOneByte_IsRefused()
    {
        using var temp = new TempFolder();
        var path = WriteValid(temp);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^1]);
        Assert.Contains("ends at byte 14 but the data section has 13 bytes", Refusal(path));
    }

    [Fact]
    public void Read_OneExtraByte_IsRefused()
    {
        using var temp = new TempFolder();
        var path = WriteValid(temp);
        File.AppendAllText(path, "x");
        Assert.Contains("1 bytes after the last tensor", Refusal(path));
    }

    [Fact]
    public void Read_OverlappingOffsets_AreRefused()
    {
        using var temp = new TempFolder();
        var path = WriteRaw(temp, """{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}""", 6);
        Assert.Contains("overlaps", Refusal(path));
    }

    [Fact]
    public void Read_HeaderLengthBeyondFile_IsRefusedBeforeAllocating()
    {
        using var temp = new TempFolder();
        var path = WriteRaw(temp, "{}", 0, claimedLength: long.MaxValue / 2);
        Assert.Contains("header length", Refusal(path));
    }

    [Fact]
    public void Read_DuplicateTensorName_IsRefused()
    {
        using var temp = new TempFolder();
        var path = WriteRaw(temp, """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", 2);
        Assert.Contains("duplicate entry 'a'", Refusal(path));
    }

    [Fact]
    public void Read_PickleRenamed_IsRefusedAsPickle()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("model.safetensors");
        // The opening of any protocol-4 pickle: PROTO 4, FRAME, ... (what torch.save(..., _use_new_zipfile_serialization=False) writes).
        File.WriteAllBytes(path, [0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, (byte)'}', (byte)'.']);
        Assert.Contains("Python pickle", Refusal(path));
    }

    [Fact]
    public void Read_HeaderLengthWhoseBytesLookLikeAPickle_IsStillRead()
    {
        // A 640-byte header: the length field starts 0x80 0x02, like a protocol-2 pickle. Found by a training test.
        using var temp = new TempFolder();
        var header = """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""";
        var path = WriteRaw(temp, header.PadRight(640), 1);
        Assert.Equal(0x80, File.ReadAllBytes(path)[0]);
        Assert.Equal("a", SafeTensorsFile.Read(path).Tensors.Single().Name);
    }

    [Fact]
    public void Read_TorchZipRenamed_IsRefused()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("model.safetensors");
        File.WriteAllBytes(path, [(byte)'P', (byte)'K', 3, 4, 20, 0, 0, 0, 0, 0]);
        Assert.Contains("zip archive", Refusal(path));
    }

    [Fact]
    public void Read_UnknownDtypeOrSizeMismatch_IsRefused()
    {
        using var temp = new TempFolder();
        Assert.Contains("unsupported dtype 'F16'", Refusal(WriteRaw(temp, """{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}""", 2)));
        Assert.Contains("data_offsets span 3", Refusal(WriteRaw(temp, """{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,3]}}""", 3)));
    }

    [Fact]
    public void ModelFile_SaveLoad_PredictsTheSame_AndRejectsUnknownModelTypes()
    {
        using var temp = new TempFolder();
        var random = new Random(4);
        var pixels = new byte[30 * 12];
        random.NextBytes(pixels);
        var train = new ImageDataset("t", 3, 2, 2, pixels, Enumerable.Range(0, 30).Select(i => i % 3).ToArray(), ["x", "y", "z"]);
        var model = new KNearestNeighbors(new(3, DistanceMetric.Manhattan, NeighborWeighting.Distance)).FitPixels(train);
        var path = temp.Combine("knn.safetensors");
        model.Save(path);
        var loaded = (KNearestNeighborsModel)ModelFile.Load(path);
        Assert.Equal(new ImagePreparation(3, 2, 2), loaded.Preparation);
        Assert.Equal(model.Options, loaded.Options);
        var queries = new byte[7 * 12];
        random.NextBytes(queries);
        Assert.Equal(model.Predict(queries).Ranking, loaded.Predict(queries).Ranking);

        var file = SafeTensorsFile.Read(path);
        var meta = file.Metadata.ToDictionary();
        meta["model"] = "System.Diagnostics.Process";
        SafeTensorsFile.Write(path, meta, file.Tensors);
        Assert.Contains("unknown model type", Assert.Throws<DataFormatException>(() => ModelFile.Load(path)).Message);
    }
}

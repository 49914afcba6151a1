using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using SharpVision.IO;
using SharpVision.Serialization;
using SharpVision.Tests.Training;
using SharpVision.Training;

namespace SharpVision.Tests.Serialization;

/// <summary>Issue 14's hostile model files: each is refused with a <see cref="DataFormatException"/> naming the file, cheaply.</summary>
public class HostileModelFileTests
{
    // A file with a hand-written header and `dataBytes` zero bytes of data (the length field may lie).
    private static string WriteRaw(TempFolder temp, string header, long dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var path = temp.Combine("raw.safetensors");
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        file.Write(length);
        file.Write(json);
        file.SetLength(8 + json.Length + dataBytes); // sparse: no disk space for large data
        return path;
    }

    private static string Refusal(string path)
    {
        var e = Assert.Throws<DataFormatException>(() => SafeTensorsFile.Read(path));
        Assert.Equal(path, e.Path);
        return e.Reason;
    }

    private static string SavedMlp(TempFolder temp)
    {
        var data = TrainingFixtures.Blobs(100, 4, 1);
        var (model, _) = TrainingFixtures.Setup("mlp", data, 1);
        var path = temp.Combine("model.safetensors");
        model.Save(path);
        return path;
    }

    [Theory]
    [InlineData("[\"0\",\"4\"]")]
    [InlineData("[null,4]")]
    [InlineData("[0,\"4\"]")]
    [InlineData("[0,4.5]")]
    [InlineData("[true,4]")]
    public void SafeTensors_NonNumericDataOffsets_IsDataFormatError(string offsets)
    {
        using var temp = new TempFolder();
        var path = WriteRaw(temp, $"{{\"a\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{offsets}}}}}", 4);
        Assert.Contains("invalid data_offsets", Refusal(path));
    }

    [Fact]
    public void SafeTensors_TensorOver2GiB_IsDataFormatError()
    {
        // A sparse 3 GB file whose one U8 tensor tiles the data section exactly: valid by every other rule.
        using var temp = new TempFolder();
        const long bytes = 3_000_000_000;
        var path = WriteRaw(temp, $"{{\"train.images\":{{\"dtype\":\"U8\",\"shape\":[{bytes}],\"data_offsets\":[0,{bytes}]}}}}", bytes);
        Assert.Contains("more than one array can hold", Refusal(path));
    }

    [Fact]
    public void ModelFile_ArchitectureAskingForHugeLayers_IsRefusedBeforeAllocating()
    {
        // A small MLP file whose architecture metadata asks for a 2,000,000 × 100 layer (800 MB) the file does not hold.
        using var temp = new TempFolder();
        var path = SavedMlp(temp);
        NetworkModelFileTests.EditHeader(path, h => h.Replace("{\\\"type\\\":\\\"relu\\\"}",
            "{\\\"type\\\":\\\"linear\\\",\\\"in\\\":2000000,\\\"out\\\":100,\\\"bias\\\":1},{\\\"type\\\":\\\"relu\\\"}"));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => SharpVision.Models.ModelFile.Load(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64L << 20, $"the loader allocated {allocated:N0} bytes before refusing");
        Assert.Equal(path, e.Path);
        Assert.Contains("layer 2 (linear)", e.Reason);
    }

    [Theory]
    [InlineData(" F32")]
    [InlineData("U8,F32")]
    [InlineData("f32")]
    [InlineData("3")]
    [InlineData("F32 ")]
    public void SafeTensors_LooseDtypeName_IsRefused(string dtype)
    {
        using var temp = new TempFolder();
        var path = WriteRaw(temp, $"{{\"a\":{{\"dtype\":\"{dtype}\",\"shape\":[1],\"data_offsets\":[0,4]}}}}", 4);
        Assert.Contains("unsupported dtype", Refusal(path));
    }

    [Fact]
    public void ModelFile_UnknownTensorBesideTheParameters_IsRefused()
    {
        using var temp = new TempFolder();
        var data = TrainingFixtures.Blobs(100, 4, 1);
        var (model, _) = TrainingFixtures.Setup("softmax", data, 1);
        var path = temp.Combine("model.safetensors");
        model.Save(path);
        var file = SafeTensorsFile.Read(path);
        SafeTensorsFile.Write(path, file.Metadata, [.. file.Tensors, TensorEntry.FromSingle("payload", [1f, 2f], 2)]);
        var e = Assert.Throws<DataFormatException>(() => SharpVision.Models.ModelFile.Load(path));
        Assert.Contains("'payload'", e.Reason);
    }

    [Fact]
    public void SafeTensors_MoreTensorsThanTheLimit_IsRefusedQuickly()
    {
        using var temp = new TempFolder();
        var header = new StringBuilder("{");
        for (int i = 0; i < 70_000; i++) // over the 65,536 limit
            header.Append(i == 0 ? "" : ",").Append($"\"t{i}\":{{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}");
        header.Append('}');
        var path = WriteRaw(temp, header.ToString(), 0);
        var clock = Stopwatch.StartNew();
        Assert.Contains("more than 65536 tensors", Refusal(path));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }
}

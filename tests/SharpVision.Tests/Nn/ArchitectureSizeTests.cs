using SharpVision.Nn;

namespace SharpVision.Tests.Nn;

/// <summary>
/// Architecture.FromJson sizes every layer from its hyperparameters before building it (so a model file cannot make the
/// loader allocate more than its tensors hold): the size must be exactly what the modules allocate, for every layer type.
/// </summary>
public class ArchitectureSizeTests
{
    public static TheoryData<string> Networks_() => new() { "mlp", "cnn2", "resnet8", "resnet20", "vit", "cct" };

    private static Sequential Build(string name) => name switch
    {
        "mlp" => Networks.Mlp(16, [6, 5], 3),
        "cnn2" => Networks.Cnn2(3, 8, 8, 4),
        "resnet8" => Networks.Resnet8(1, 10),
        "resnet20" => Networks.Resnet20(3, 10),
        "vit" => Networks.Vit(1, 8, 8, 10, new TransformerOptions(Patch: 4, Width: 16, Depth: 2, Heads: 2)),
        _ => Networks.Cct(3, 8, 8, 10, new TransformerOptions(Patch: 4, Width: 16, Depth: 2, Heads: 2)),
    };

    [Theory]
    [MemberData(nameof(Networks_))]
    public void FromJson_SizesEachLayerExactly_BeforeBuildingIt(string name)
    {
        var network = Build(name);
        var json = Architecture.ToJson(network);
        long values = network.ParameterCount() + network.NamedBuffers().Sum(b => (long)b.Values.Length);
        long largest = network.NamedParameters().Select(p => (long)p.Parameter.Size).Concat(network.NamedBuffers().Select(b => (long)b.Values.Length)).Max();
        Assert.Equal(values, Architecture.FromJson(json, values, largest).ParameterCount() + network.NamedBuffers().Sum(b => (long)b.Values.Length));
        Assert.Contains("more than the", Assert.Throws<FormatException>(() => Architecture.FromJson(json, values - 1, largest)).Message);
        Assert.Contains("larger than any", Assert.Throws<FormatException>(() => Architecture.FromJson(json, values, largest - 1)).Message);
    }
}

using System.Runtime.InteropServices;
using SharpVision.Serialization;

namespace SharpVision.Tests.Classic.Trees;

/// <summary>tests/Fixtures/trees/{trees,svm}.safetensors, made by make_fixtures.py with scikit-learn 1.2.</summary>
internal sealed class TreeFixtures(string file)
{
    private readonly Lazy<SafeTensorsFile> _file = new(() => SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "trees", file)));

    public static TreeFixtures Trees { get; } = new("trees.safetensors");

    public static TreeFixtures Svm { get; } = new("svm.safetensors");

    public IReadOnlyDictionary<string, string> Metadata => _file.Value.Metadata;

    public TensorEntry Tensor(string name) => _file.Value.Find(name) ?? throw new KeyNotFoundException($"fixture tensor '{name}'");

    public float[] Floats(string name) => Tensor(name).ToSingle();

    public int[] Ints(string name) => Tensor(name).ToInt32();

    public double[] Doubles(string name)
    {
        var t = Tensor(name);
        Assert.Equal(TensorDType.F64, t.DType);
        return MemoryMarshal.Cast<byte, double>(t.Data).ToArray();
    }

    public int Columns(string name) => (int)Tensor(name).Shape[^1];
}

using SharpVision.Serialization;

namespace SharpVision.Tests.Features;

/// <summary>tests/Fixtures/features/features.safetensors, made by make_fixtures.py with scikit-image 0.19.3.</summary>
internal static class FeatureFixtures
{
    private static readonly Lazy<SafeTensorsFile> File = new(() =>
        SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "features", "features.safetensors")));

    public static IReadOnlyDictionary<string, string> Metadata => File.Value.Metadata;

    public static TensorEntry Tensor(string name) => File.Value.Find(name) ?? throw new KeyNotFoundException($"fixture tensor '{name}'");

    /// <summary>Image bytes (C×H×W planar) and their shape.</summary>
    public static (byte[] Pixels, int Channels, int Height, int Width) Image(string name)
    {
        var t = Tensor("image." + name);
        return (t.Data, (int)t.Shape[0], (int)t.Shape[1], (int)t.Shape[2]);
    }

    public static float[] Floats(string name) => Tensor(name).ToSingle();

    public static double[] Doubles(string name)
    {
        var t = Tensor(name);
        Assert.Equal(TensorDType.F64, t.DType);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(t.Data).ToArray();
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
                Assert.Fail($"{what}: value {i} of {expected.Length} is {actual[i]}, expected {expected[i]} (tolerance {tolerance})");
    }
}

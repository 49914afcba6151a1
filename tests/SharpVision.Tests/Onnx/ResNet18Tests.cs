using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Onnx;
using SharpVision.Tensors;
using Tensor = SharpVision.Tensors.Tensor;
using SharpVision.Tensors.Autograd;
using Xunit.Abstractions;

namespace SharpVision.Tests.Onnx;

/// <summary>
/// A [Fact] skipped, with the reason, when the photos of Debian's python3-skimage / python3-sklearn are absent;
/// under CI=true it runs anyway (and fails), because .ci/run installs them.
/// </summary>
public sealed class PhotosFactAttribute : FactAttribute
{
    public PhotosFactAttribute()
    {
        if (OnnxTestFiles.MissingPhotos() is { } missing && Environment.GetEnvironmentVariable("CI") != "true") Skip = missing;
    }
}

/// <summary>Where the ONNX test inputs live: ML.NET's ResNet-18 (copied from the NuGet package) and real photos.</summary>
internal static class OnnxTestFiles
{
    public static string ResNet18 => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    public static string Preprocess => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>Photographs shipped by python3-skimage and python3-sklearn.</summary>
    public static string[] Photos { get; } =
    [
        "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
        "/usr/lib/python3/dist-packages/skimage/data/chelsea.png",
        "/usr/lib/python3/dist-packages/skimage/data/coffee.png",
        "/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg",
        "/usr/lib/python3/dist-packages/sklearn/datasets/images/flower.jpg",
    ];

    public static string? MissingPhotos() =>
        Photos.FirstOrDefault(p => !File.Exists(p)) is { } missing ? $"skipped: {missing} is missing (install python3-skimage and python3-sklearn)" : null;

    /// <summary>A photo resized to 224×224 RGB, as float pixels 0..255 in C×H×W order.</summary>
    public static float[] Pixels(string path, int size = 224)
    {
        var planar = new ImagePreparation(3, size, size).Prepare(ImageDecoder.Load(path));
        return planar.Select(b => (float)b).ToArray();
    }
}

/// <summary>ML.NET's ImageNet ResNet-18 (CNTK export, opset 8) imported into the engine, against ONNX Runtime.</summary>
public class ResNet18Tests(ITestOutputHelper output)
{
    [PhotosFact]
    public void ImportedResNet18_RealPhotos_EqualsOnnxRuntime()
    {
        var preprocess = OnnxNetwork.Load(OnnxTestFiles.Preprocess);
        var backbone = OnnxNetwork.Load(OnnxTestFiles.ResNet18);
        var inference = backbone.Folded();
        using var prepSession = new InferenceSession(OnnxTestFiles.Preprocess);
        using var session = new InferenceSession(OnnxTestFiles.ResNet18);
        double worstRelative = 0, worstAbsolute = 0, worstFoldedRelative = 0;
        foreach (var photo in OnnxTestFiles.Photos.Take(3))
        {
            var pixels = OnnxTestFiles.Pixels(photo);
            var expected = RunOrt(session, backbone.InputName, RunOrt(prepSession, preprocess.InputName, pixels));
            float[] ours, folded;
            using (GradMode.NoGrad())
            {
                backbone.Eval();
                var x = preprocess.Forward(Tensor.From(pixels, 1, 3, 224, 224));
                ours = backbone.Forward(x).Data;
                folded = inference.Forward(x).Data;
            }
            var (absolute, relative) = Difference(expected, ours);
            var (_, foldedRelative) = Difference(expected, folded);
            output.WriteLine($"{Path.GetFileName(photo)}: max |ours − ORT| = {absolute:E2}, relative to max |ORT| = {relative:E2}; folded {foldedRelative:E2}");
            worstAbsolute = Math.Max(worstAbsolute, absolute);
            worstRelative = Math.Max(worstRelative, relative);
            worstFoldedRelative = Math.Max(worstFoldedRelative, foldedRelative);
        }
        Assert.True(worstRelative <= 1e-4, $"relative difference {worstRelative:E2} (absolute {worstAbsolute:E2})");
        Assert.True(worstFoldedRelative <= 1e-4, $"folded: relative difference {worstFoldedRelative:E2}");
    }

    internal static float[] RunOrt(InferenceSession session, string input, float[] values, int[]? dims = null)
    {
        var shape = dims ?? session.InputMetadata[input].Dimensions.Select(d => d < 0 ? 1 : d).ToArray();
        var tensor = new DenseTensor<float>(values, shape);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, tensor)]);
        return results.First().AsEnumerable<float>().ToArray();
    }

    // Max absolute difference, and the same relative to the largest |expected| (outputs near zero make elementwise
    // relative errors meaningless).
    internal static (double Absolute, double Relative) Difference(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            max = Math.Max(max, Math.Abs(expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        return (max, max / scale);
    }
}

using SharpVision.Cli;
using SharpVision.Training;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Runs;

/// <summary>The training memory estimate: computed without building, refused before allocating, with the estimate.</summary>
public class NetworkSpecMemoryTests
{
    [Theory]
    [InlineData("svm", 1, 28, 28)]
    [InlineData("logistic", 1, 28, 28)]
    [InlineData("mlp", 1, 28, 28)]
    [InlineData("cnn2", 1, 28, 28)]
    [InlineData("cnn2", 3, 32, 32)]
    [InlineData("resnet8", 3, 32, 32)]
    [InlineData("resnet20", 1, 28, 28)]
    public void ParameterCount_WithoutBuilding_EqualsTheBuiltNetwork(string kind, int channels, int height, int width)
    {
        var spec = new NetworkSpec(kind, Hidden: kind == "mlp" ? [64, 32] : null);
        int inputs = channels * height * width, outputs = kind == "logistic" ? 1 : 10;
        var built = spec.BuildNetwork(inputs, channels, height, width, 10);
        Assert.Equal(built.ParameterCount(), spec.ParameterCount(inputs, channels, height, width, outputs));
        Assert.True(NetworkSpec.ActivationValues(built, channels, height, width) > 0);
    }

    [Fact]
    public void Train_MlpTooLargeToTrainHere_IsAUsageErrorWithTheEstimate()
    {
        // 784 → 65,536 → 65,536 → 10: 4.35 billion parameters, about 139 GB to train.
        var (code, _, err) = Run("train", "--data", SampleDir, "--model", "mlp", "--hidden", "65536,65536", "--train-limit", "100", "--epochs", "1");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("4,347,133,962 parameters", err);
        Assert.Contains("GB to train", err);
        Assert.Contains("--hidden", err);
    }
}

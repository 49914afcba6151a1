using SharpVision.Tensors;

namespace SharpVision.Nn;

/// <summary>
/// Inference form of a network: every convolution (or linear layer) followed by a batch norm becomes one convolution
/// whose weights and bias carry the batch norm's running statistics, so evaluation skips a whole pass over each
/// activation. With s = γ / √(running_var + eps): W' = s·W (per output channel), b' = s·(b − running_mean) + β.
/// </summary>
/// <remarks>
/// The folded network computes the evaluation-mode function of the original up to float32 rounding; it shares no
/// parameter tensors with it (training the original afterwards does not change it) and is not meant to be trained.
/// </remarks>
public static class BatchNormFolding
{
    /// <summary>The inference form of <paramref name="network"/>; modules without a batch norm to fold are shared, not copied.</summary>
    public static Module Fold(Module network)
    {
        ArgumentNullException.ThrowIfNull(network);
        switch (network)
        {
            case ResidualBlock block:
                return block.Folded();
            case Sequential sequential:
                var layers = new List<Module>();
                var source = sequential.Layers;
                for (int i = 0; i < source.Count; i++)
                {
                    var next = i + 1 < source.Count ? source[i + 1] as BatchNorm : null;
                    if (source[i] is Conv2d conv && next is { Spatial: true } && next.Features == conv.Outputs)
                    {
                        layers.Add(Fold(conv, next));
                        i++;
                    }
                    else if (source[i] is Linear linear && next is { Spatial: false } && next.Features == linear.Outputs)
                    {
                        layers.Add(Fold(linear, next));
                        i++;
                    }
                    else
                    {
                        layers.Add(Fold(source[i]));
                    }
                }
                return new Sequential(layers);
            default:
                return network;
        }
    }

    /// <summary>One convolution carrying the evaluation-mode batch norm that follows it.</summary>
    public static Conv2d Fold(Conv2d conv, BatchNorm norm)
    {
        ArgumentNullException.ThrowIfNull(conv);
        ArgumentNullException.ThrowIfNull(norm);
        var folded = new Conv2d(conv.Inputs, conv.Outputs, conv.Kernel, conv.Stride, conv.Padding, bias: true);
        FoldInto(conv.Weight.Data, conv.Bias?.Data, norm, folded.Weight.Data, folded.Bias!.Data);
        return folded;
    }

    /// <summary>One linear layer carrying the evaluation-mode BatchNorm1d that follows it.</summary>
    public static Linear Fold(Linear linear, BatchNorm norm)
    {
        ArgumentNullException.ThrowIfNull(linear);
        ArgumentNullException.ThrowIfNull(norm);
        var folded = new Linear(linear.Inputs, linear.Outputs, bias: true);
        FoldInto(linear.Weight.Data, linear.Bias?.Data, norm, folded.Weight.Data, folded.Bias!.Data);
        return folded;
    }

    // Weights are laid out output-major (out, …) for both layer kinds: row o is scaled by s[o].
    private static void FoldInto(float[] weight, float[]? bias, BatchNorm norm, float[] foldedWeight, float[] foldedBias)
    {
        int outputs = norm.Features, row = weight.Length / outputs;
        for (int o = 0; o < outputs; o++)
        {
            double scale = norm.Gamma.Data[o] / Math.Sqrt((double)norm.RunningVariance[o] + norm.Epsilon);
            for (int j = 0; j < row; j++) foldedWeight[o * row + j] = (float)(scale * weight[o * row + j]);
            foldedBias[o] = (float)(scale * ((bias?[o] ?? 0) - (double)norm.RunningMean[o]) + norm.Beta.Data[o]);
        }
    }
}

namespace SharpVision.Nn;

/// <summary>
/// The form a network predicts in: batch norms folded into the layers before them (<see cref="BatchNormFolding"/>),
/// then every Conv2d → ReLU (→ MaxPool2d) run of a <see cref="Sequential"/> fused into one <see cref="ConvBlock"/>, so
/// a convolution's output is biased, rectified and pooled while it is still in cache instead of in three more passes.
/// </summary>
/// <remarks>
/// Same function as the evaluation-mode network up to float32 rounding (the fused kernel sums each output in its own
/// order). Built from a snapshot of the weights: training the original afterwards does not change it.
/// </remarks>
public static class InferenceForm
{
    /// <summary>The inference form of <paramref name="network"/> (switched to evaluation mode first).</summary>
    public static Module Of(Module network)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.Eval();
        var inference = Fuse(BatchNormFolding.Fold(network));
        inference.Eval();
        return inference;
    }

    /// <summary>
    /// <paramref name="network"/> with each Conv2d followed by a ReLU (and optionally a max pooling) in a
    /// <see cref="Sequential"/> replaced by a <see cref="ConvBlock"/>; other modules are shared, not copied.
    /// </summary>
    public static Module Fuse(Module network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network is not Sequential sequential) return network;
        var source = sequential.Layers;
        var layers = new List<Module>(source.Count);
        bool fused = false;
        for (int i = 0; i < source.Count; i++)
        {
            if (source[i] is Conv2d conv && i + 1 < source.Count && source[i + 1] is Activation { Kind: ActivationKind.Relu })
            {
                var pool = i + 2 < source.Count && source[i + 2] is Pool2d { Type: "max_pool2d" } max ? max : null;
                layers.Add(new ConvBlock(conv, relu: true, pool));
                i += pool is null ? 1 : 2;
                fused = true;
            }
            else
            {
                var inner = Fuse(source[i]);
                fused |= !ReferenceEquals(inner, source[i]);
                layers.Add(inner);
            }
        }
        return fused ? new Sequential(layers) : network;
    }
}

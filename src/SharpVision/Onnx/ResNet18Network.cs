using System.Globalization;
using SharpVision.IO;
using SharpVision.Nn;
using SharpVision.Tensors;

namespace SharpVision.Onnx;

/// <summary>What fine-tuning trains of a pretrained network (<c>--finetune</c>, <c>--finetune last</c>).</summary>
public enum FineTuneScope
{
    /// <summary>Every layer: the body (at the recipe's body learning-rate factor) and the new head.</summary>
    All,

    /// <summary>The last stage (the 512-channel blocks) and the head; everything before is frozen, statistics included.</summary>
    LastStage,
}

/// <summary>
/// The ImageNet ResNet-18 of <see cref="PretrainedBackbones"/> as an ordinary network of the engine, for fine-tuning:
/// <see cref="ImageNetInput"/> (crop, BGR, mean image), conv 7×7/2 + batch norm + ReLU, max pool 3×3/2 (padding 1),
/// nine residual blocks (64, 64 | 128/2, 128 | 256/2, 256 | 512/2, 512, 512: the package's CNTK layout, whose last stage
/// has three blocks), global average pooling and a new linear head. Its model file holds every weight (they change),
/// so it loads, predicts, serves and exports like any network model.
/// </summary>
/// <remarks>
/// <para>Shape: (N, C, H, W) pixels in [0, 1], C = 1 or 3 → (N, classes).</para>
/// <para>The file's pads are asymmetric (top/left only, e.g. [3, 3, 2, 2] on the 7×7 stride-2 convolution); with a
/// stride of 2 and an even input, the symmetric padding of the engine's layers reads exactly the same windows (the
/// extra bottom/right row is never reached), so the two compute the same function (a test holds it).</para>
/// </remarks>
public static class ResNet18Network
{
    /// <summary>The residual blocks: (inputs, outputs, stride).</summary>
    private static readonly (int In, int Out, int Stride)[] Blocks =
        [(64, 64, 1), (64, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2), (512, 512, 1), (512, 512, 1)];

    /// <summary>Index in the network of the first block of the last stage (the 512-channel blocks).</summary>
    public const int LastStageStart = 5 + 6;

    /// <summary>
    /// The network with the pretrained weights found by <see cref="PretrainedBackbones.LocateResNet18(Func{string, string?})"/>
    /// and a new head for <paramref name="classes"/> classes initialized from <paramref name="seed"/> (PyTorch's Linear
    /// initialization), for images of <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>.
    /// </summary>
    /// <exception cref="BackboneNotFoundException">The weights are not found (the message says where it looked).</exception>
    /// <exception cref="DataFormatException">The files are not the ResNet-18 this layout describes.</exception>
    public static Sequential CreatePretrained(int channels, int height, int width, int classes, int seed)
    {
        var (networkPath, preprocessPath) = PretrainedBackbones.LocateResNet18();
        var network = OnnxNetwork.Load(networkPath);
        var preprocess = OnnxFormat.Load(preprocessPath);
        var mean = preprocess.Graph.Initializers.FirstOrDefault(t => t.Name == "MeanImage")
            ?? throw new DataFormatException(preprocessPath, "no MeanImage initializer (expected ML.NET's ResNetPreprocess.onnx)");
        return FromBackbone(network, mean.ToSingles(), channels, height, width, classes, seed, networkPath);
    }

    /// <summary>
    /// The network with the weights of an imported <paramref name="backbone"/> (ML.NET's ResNet18.onnx layout) and the
    /// mean image <paramref name="meanImage"/> (3×224×224, B, G, R planes), and a new head.
    /// </summary>
    /// <exception cref="DataFormatException">The backbone's layers do not have ResNet-18's shapes (<paramref name="source"/> is named).</exception>
    public static Sequential FromBackbone(OnnxNetwork backbone, float[] meanImage, int channels, int height, int width, int classes, int seed,
        string source = "<backbone>")
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(meanImage);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        var input = new ImageNetInput(channels, height, width);
        if (meanImage.Length != input.Mean.Length)
            throw new DataFormatException(source, $"the mean image has {meanImage.Length} values; expected 3×224×224");
        meanImage.CopyTo(input.Mean, 0);
        var head = new Linear(512, classes);
        head.ResetParameters(new Rng(seed));
        var stem = new Conv2d(3, 64, 7, 2, 3, bias: false);
        var stemNorm = new BatchNorm(64, spatial: true);
        var layers = new List<Module> { input, stem, stemNorm, new Activation(ActivationKind.Relu), Pool2d.Max(3, 2, 1) };
        layers.AddRange(Blocks.Select(b => new ResidualBlock(b.In, b.Out, b.Stride)));
        layers.Add(Pool2d.GlobalAverage());
        layers.Add(head);
        var network = new Sequential(layers);
        CopyWeights(backbone, network, source);
        return network;
    }

    /// <summary>
    /// Freezes what <paramref name="scope"/> does not train (parameters stop requiring gradients, their batch norms keep
    /// their statistics), and freezes the batch-norm statistics of the trained layers too unless <paramref name="updateStatistics"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Not a network of <see cref="FromBackbone"/>'s layout.</exception>
    public static void Freeze(Sequential network, FineTuneScope scope, bool updateStatistics)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.Layers.Count != LastStageStart + 5 || network.Layers[0] is not ImageNetInput)
            throw new ArgumentException("Not a pretrained ResNet-18 network.", nameof(network));
        for (int i = 0; i < network.Layers.Count; i++)
        {
            bool frozen = scope == FineTuneScope.LastStage && i < LastStageStart;
            foreach (var (_, p) in network.Layers[i].NamedParameters()) p.RequiresGrad = !frozen;
            foreach (var norm in BatchNorms(network.Layers[i])) norm.FrozenStatistics = frozen || !updateStatistics;
        }
    }

    private static IEnumerable<BatchNorm> BatchNorms(Module module) =>
        module is BatchNorm norm ? [norm] : module.Children.SelectMany(c => BatchNorms(c.Module));

    // The ONNX layers in execution order, as (convolution, its batch norm) pairs: the stem, then per block c1, c2 and,
    // in a downsampling block, the 1×1 shortcut (which the file runs first).
    private static void CopyWeights(OnnxNetwork backbone, Sequential network, string source)
    {
        var layers = backbone.Layers;
        var pairs = new List<(Conv2d Conv, BatchNorm Norm, string Name)>();
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i].Module is not Conv2d conv) continue;
            if (i + 1 >= layers.Count || layers[i + 1].Module is not BatchNorm norm)
                throw new DataFormatException(source, $"convolution {layers[i].Name} is not followed by a batch norm; not the ResNet-18 layout");
            pairs.Add((conv, norm, layers[i].Name));
        }
        int next = 0;
        (Conv2d, BatchNorm, string) Take() => next < pairs.Count ? pairs[next++]
            : throw new DataFormatException(source, $"has {pairs.Count} convolutions; ResNet-18 has 22");
        Copy(Take(), (Conv2d)network.Layers[1], (BatchNorm)network.Layers[2], source);
        for (int b = 0; b < Blocks.Length; b++)
        {
            var block = (ResidualBlock)network.Layers[5 + b];
            var parts = block.Children.ToDictionary(c => c.Name, c => c.Module);
            bool projection = parts.ContainsKey("sc");
            var taken = Enumerable.Range(0, projection ? 3 : 2).Select(_ => Take()).ToList();
            var shortcut = taken.FirstOrDefault(t => t.Item1.Kernel == 1);
            var main = taken.Where(t => t.Item1.Kernel != 1).ToList();
            if (main.Count != 2 || (projection && shortcut.Item1 is null))
                throw new DataFormatException(source,
                    $"block {b + 1} does not have two 3×3 convolutions{(projection ? " and a 1×1 shortcut" : "")}");
            Copy(main[0], (Conv2d)parts["c1"], (BatchNorm)parts["b1"], source);
            Copy(main[1], (Conv2d)parts["c2"], (BatchNorm)parts["b2"], source);
            if (projection)
            {
                var sc = (Sequential)parts["sc"];
                Copy(shortcut, (Conv2d)sc.Layers[0], (BatchNorm)sc.Layers[1], source);
            }
        }
        if (next != pairs.Count) throw new DataFormatException(source, $"has {pairs.Count} convolutions; ResNet-18 has {next}");
    }

    private static void Copy((Conv2d Conv, BatchNorm Norm, string Name) from, Conv2d conv, BatchNorm norm, string source)
    {
        var c = from.Conv;
        if (c.Inputs != conv.Inputs || c.Outputs != conv.Outputs || c.Kernel != conv.Kernel || c.Stride != conv.Stride || c.Bias is not null
            || from.Norm.Features != norm.Features)
            throw new DataFormatException(source, string.Create(CultureInfo.InvariantCulture,
                $"layer {from.Name} is a {c.Inputs}→{c.Outputs} {c.Kernel}×{c.Kernel}/{c.Stride} convolution; ResNet-18 has " +
                $"{conv.Inputs}→{conv.Outputs} {conv.Kernel}×{conv.Kernel}/{conv.Stride} (without bias) there"));
        c.Weight.Data.CopyTo(conv.Weight.Data, 0);
        from.Norm.Gamma.Data.CopyTo(norm.Gamma.Data, 0);
        from.Norm.Beta.Data.CopyTo(norm.Beta.Data, 0);
        from.Norm.RunningMean.CopyTo(norm.RunningMean, 0);
        from.Norm.RunningVariance.CopyTo(norm.RunningVariance, 0);
        if (from.Norm.Epsilon != norm.Epsilon && Math.Abs(from.Norm.Epsilon - norm.Epsilon) > 1e-9f)
            throw new DataFormatException(source,
                $"layer {from.Name}'s batch norm has ε = {from.Norm.Epsilon}; the engine's layer uses {norm.Epsilon}");
    }
}

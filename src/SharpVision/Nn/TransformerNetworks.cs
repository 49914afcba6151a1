using SharpVision.Tensors.Kernels;

namespace SharpVision.Nn;

/// <summary>The shape of a vision transformer (<c>--model vit</c> and <c>--model cct</c>); the defaults are torch_peers.py's vit.</summary>
/// <param name="Patch">vit: side p of the square patches (a 28×28 image makes ⌊28/p⌋² tokens).</param>
/// <param name="Width">D, the width of every token.</param>
/// <param name="Depth">Encoder blocks.</param>
/// <param name="Heads">Attention heads per block (D must be a multiple).</param>
/// <param name="MlpRatio">The MLP's hidden width as a multiple of D (2 gives torch_peers.py's 128 for D = 64).</param>
/// <param name="Dropout">Dropout on residual branches and in the MLP (PyTorch's TransformerEncoderLayer dropout).</param>
/// <param name="AttentionDropout">Dropout on the attention probabilities.</param>
/// <param name="DropPath">Stochastic depth of the last block; block i drops its branches with DropPath·i/(Depth − 1), as timm does.</param>
/// <param name="Activation">GELU form of the MLP.</param>
/// <param name="ConvLayers">cct: 3×3 convolution + ReLU + 2×2 max-pool stages of the tokenizer (each halves the image side).</param>
public sealed record TransformerOptions(int Patch = 4, int Width = 64, int Depth = 6, int Heads = 4, double MlpRatio = 2, float Dropout = 0,
    float AttentionDropout = 0, float DropPath = 0, GeluApproximation Activation = GeluApproximation.None, int ConvLayers = 2)
{
    /// <summary>The MLP's hidden width, round(MlpRatio·Width).</summary>
    public int MlpWidth => (int)Math.Round(MlpRatio * Width);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        static void Require(bool ok, string name, object value, string rule)
        {
            if (!ok) throw new ArgumentException($"{name} = {Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)}: {rule}.", name);
        }
        Require(Patch is >= 1 and <= 256, nameof(Patch), Patch, "must be in [1, 256]");
        Require(Width is >= 1 and <= 4096, nameof(Width), Width, "must be in [1, 4096]");
        Require(Depth is >= 1 and <= 64, nameof(Depth), Depth, "must be in [1, 64]");
        Require(Heads >= 1 && Width % Heads == 0, nameof(Heads), Heads, $"must divide the width {Width}");
        Require(MlpRatio > 0 && MlpWidth is >= 1 and <= 65536, nameof(MlpRatio), MlpRatio, "must give an MLP width in [1, 65536]");
        Require(Dropout is >= 0 and < 1, nameof(Dropout), Dropout, "must be in [0, 1)");
        Require(AttentionDropout is >= 0 and < 1, nameof(AttentionDropout), AttentionDropout, "must be in [0, 1)");
        Require(DropPath is >= 0 and < 1, nameof(DropPath), DropPath, "must be in [0, 1)");
        Require(Enum.IsDefined(Activation), nameof(Activation), Activation, "unknown");
        Require(ConvLayers is >= 1 and <= 6, nameof(ConvLayers), ConvLayers, "must be in [1, 6]");
    }

    // Stochastic depth rises linearly from 0 at the first block to DropPath at the last.
    internal float DropPathOf(int block) => Depth == 1 ? DropPath : DropPath * block / (Depth - 1);
}

public static partial class Networks
{
    /// <summary>The transformer networks of <c>--model</c>.</summary>
    public static IReadOnlyList<string> Transformers { get; } = ["vit", "cct"];

    /// <summary>
    /// torch_peers.py's vit (with the default options): p×p patches linearly embedded to D plus a class token and learned
    /// position embeddings, Depth pre-norm encoder blocks, the class token's output layer-normalized and classified
    /// linearly. 205,962 parameters on 1×28×28 with 10 classes.
    /// </summary>
    /// <remarks>
    /// Layers: patch_embedding, encoder_block × Depth (the last outputting the class token only), layer_norm, linear.
    /// Shape: (N, C, H, W) → (N, classes).
    /// </remarks>
    /// <exception cref="ArgumentException">Invalid options, or images smaller than one patch.</exception>
    public static Sequential Vit(int channels, int height, int width, int classes, TransformerOptions? options = null)
    {
        var o = options ?? new TransformerOptions();
        o.Validate();
        if (height < o.Patch || width < o.Patch)
            throw new ArgumentException($"Images of {height}×{width} are smaller than one {o.Patch}×{o.Patch} patch.");
        var layers = new List<Module> { new PatchEmbedding(channels, height, width, o.Patch, o.Width) };
        // The last block outputs the class token alone (what torch_peers.py selects after its final norm: the same
        // function, as layer norm and the head act on each token separately).
        AddEncoder(layers, o, lastOutputToken: 0);
        layers.AddRange([new LayerNorm(o.Width), new Linear(o.Width, classes)]);
        return new Sequential(layers);
    }

    /// <summary>
    /// A Compact Convolutional Transformer (Hassani et al., 2021): a convolutional tokenizer (ConvLayers stages of 3×3
    /// convolution + ReLU + 2×2 max-pool, the last with D channels, the earlier with D/2), one token per position of the
    /// resulting map with learned position embeddings, Depth pre-norm encoder blocks, a final layer norm, sequence
    /// pooling instead of a class token, and a linear classifier.
    /// </summary>
    /// <remarks>Shape: (N, C, H, W) → (N, classes); 28×28 with two stages makes 7×7 = 49 tokens.</remarks>
    /// <exception cref="ArgumentException">Invalid options, or images too small for the pooling stages.</exception>
    public static Sequential Cct(int channels, int height, int width, int classes, TransformerOptions? options = null)
    {
        var o = options ?? new TransformerOptions();
        o.Validate();
        int side = 1 << o.ConvLayers;
        if (height < side || width < side)
            throw new ArgumentException($"{o.ConvLayers} pooling stages need images of at least {side}×{side}; these are {height}×{width}.");
        var layers = new List<Module>();
        int previous = channels, h = height, w = width;
        for (int stage = 0; stage < o.ConvLayers; stage++)
        {
            int outputs = stage == o.ConvLayers - 1 ? o.Width : Math.Max(1, o.Width / 2);
            layers.AddRange([new Conv2d(previous, outputs, 3, 1, 1), new Activation(ActivationKind.Relu), Pool2d.Max(2)]);
            (previous, h, w) = (outputs, h / 2, w / 2);
        }
        layers.Add(new ChannelTokens(o.Width, h * w, positionEmbedding: true));
        AddEncoder(layers, o);
        layers.AddRange([new LayerNorm(o.Width), new SequencePooling(o.Width), new Linear(o.Width, classes)]);
        return new Sequential(layers);
    }

    private static void AddEncoder(List<Module> layers, TransformerOptions o, int lastOutputToken = -1)
    {
        for (int block = 0; block < o.Depth; block++)
            layers.Add(new TransformerEncoderBlock(o.Width, o.Heads, o.MlpWidth, o.Dropout, o.AttentionDropout, o.DropPathOf(block), o.Activation,
                block == o.Depth - 1 ? lastOutputToken : -1));
    }
}

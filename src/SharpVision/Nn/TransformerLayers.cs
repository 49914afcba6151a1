using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Nn;

/// <summary>Layer normalization over the last axis (PyTorch's nn.LayerNorm(D)): y = γ ⊙ (x − μ)/√(σ² + ε) + β per token.</summary>
/// <remarks>Shape: (..., D) → (..., D). Parameters "weight" (γ, ones) and "bias" (β, zeros), as PyTorch names and initializes them.</remarks>
public sealed class LayerNorm : Module
{
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 feature, or ε ≤ 0.</exception>
    public LayerNorm(int features, float epsilon = 1e-5f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be positive.");
        (Features, Epsilon) = (features, epsilon);
        Gamma = new Tensor(new Shape(features), new float[features], requiresGrad: true);
        Beta = new Tensor(new Shape(features), new float[features], requiresGrad: true);
        ResetOwnParameters(new Rng(0));
    }

    public int Features { get; }

    public float Epsilon { get; }

    /// <summary>γ (PyTorch's "weight").</summary>
    public Tensor Gamma { get; }

    /// <summary>β (PyTorch's "bias").</summary>
    public Tensor Beta { get; }

    public override LayerSpec Spec => new("layer_norm", new() { ["features"] = Features, ["eps"] = Epsilon });

    protected override IEnumerable<(string Name, Tensor Parameter)> OwnParameters => [("weight", Gamma), ("bias", Beta)];

    protected override void ResetOwnParameters(Rng rng)
    {
        Array.Fill(Gamma.Data, 1f);
        Array.Clear(Beta.Data);
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Shape.Rank == 0 || input.Shape[-1] != Features)
            throw new ArgumentException($"layer_norm({Features}) expects (..., {Features}), got {input.Shape}.", nameof(input));
        return Ops.LayerNorm(input, Gamma, Beta, Epsilon);
    }
}

/// <summary>
/// ViT's tokenizer: non-overlapping p×p patches, each mapped linearly to D features (PyTorch's Conv2d(C, D, p, stride p)
/// then flatten(2).transpose(1, 2)), an optional learned class token in front, and learned position embeddings added.
/// </summary>
/// <remarks>
/// Shape: (N, C, H, W) → (N, T + 1, D) with T = ⌊H/p⌋·⌊W/p⌋ (T without a class token). Parameters, with torch_peers.py's
/// names and initialization: "weight" (D, C, p, p) and "bias" (D) U(±1/√(C·p·p)) as a convolution, "cls" (D) zeros,
/// "pos" (T + 1, D) N(0, 0.02²).
/// </remarks>
public sealed class PatchEmbedding : Module
{
    /// <exception cref="ArgumentOutOfRangeException">A size below 1, or images smaller than one patch.</exception>
    public PatchEmbedding(int channels, int height, int width, int patch, int dim, bool classToken = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(patch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, patch);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, patch);
        (Channels, Height, Width, Patch, Dim, ClassToken) = (channels, height, width, patch, dim, classToken);
        Patches = height / patch * (width / patch);
        int length = channels * patch * patch;
        Weight = new Tensor(new Shape(dim, channels, patch, patch), new float[dim * length], requiresGrad: true);
        Bias = new Tensor(new Shape(dim), new float[dim], requiresGrad: true);
        Class = classToken ? new Tensor(new Shape(dim), new float[dim], requiresGrad: true) : null;
        Position = new Tensor(new Shape(Tokens, dim), new float[Tokens * dim], requiresGrad: true);
    }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    public int Patch { get; }

    /// <summary>D, the width of every token.</summary>
    public int Dim { get; }

    public bool ClassToken { get; }

    /// <summary>T: patches per image.</summary>
    public int Patches { get; }

    /// <summary>Tokens per image: the patches, plus the class token.</summary>
    public int Tokens => Patches + (ClassToken ? 1 : 0);

    public Tensor Weight { get; }

    public Tensor Bias { get; }

    /// <summary>The class token, or null.</summary>
    public Tensor? Class { get; }

    /// <summary>Position embeddings (T + 1, D), the class token's first.</summary>
    public Tensor Position { get; }

    public override LayerSpec Spec => new("patch_embedding", new()
    {
        ["channels"] = Channels, ["height"] = Height, ["width"] = Width, ["patch"] = Patch, ["dim"] = Dim, ["class_token"] = ClassToken ? 1 : 0,
    });

    protected override IEnumerable<(string Name, Tensor Parameter)> OwnParameters =>
        Class is null ? [("weight", Weight), ("bias", Bias), ("pos", Position)] : [("weight", Weight), ("bias", Bias), ("cls", Class), ("pos", Position)];

    protected override void ResetOwnParameters(Rng rng)
    {
        float bound = 1f / MathF.Sqrt(Channels * Patch * Patch);
        foreach (ref float w in Weight.Data.AsSpan()) w = (rng.NextFloat() * 2 - 1) * bound;
        foreach (ref float b in Bias.Data.AsSpan()) b = (rng.NextFloat() * 2 - 1) * bound;
        if (Class is not null) Array.Clear(Class.Data);
        foreach (ref float p in Position.Data.AsSpan()) p = 0.02f * rng.NextNormal();
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Shape.Rank != 4 || input.Shape[1] != Channels || input.Shape[2] != Height || input.Shape[3] != Width)
            throw new ArgumentException($"patch_embedding expects (N, {Channels}, {Height}, {Width}), got {input.Shape}.", nameof(input));
        int n = input.Shape[0];
        var patches = Ops.Patches(input, Patch).Reshape(n * Patches, -1);
        var tokens = Ops.Linear(patches, Weight.Reshape(Dim, -1), Bias).Reshape(n, Patches, Dim);
        if (Class is not null) tokens = Ops.PrependToken(tokens, Class);
        return Ops.Add(tokens, Position);
    }
}

/// <summary>
/// A convolutional feature map as tokens (the Compact Convolutional Transformer's tokenizer output): one token per
/// position, x.flatten(2).transpose(1, 2), plus learned position embeddings when asked.
/// </summary>
/// <remarks>Shape: (N, D, H, W) → (N, H·W, D). Parameter "pos" (H·W, D), N(0, 0.02²), when <see cref="PositionEmbedding"/>.</remarks>
public sealed class ChannelTokens : Module
{
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    public ChannelTokens(int dim, int tokens, bool positionEmbedding)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        (Dim, Tokens, PositionEmbedding) = (dim, tokens, positionEmbedding);
        Position = positionEmbedding ? new Tensor(new Shape(tokens, dim), new float[tokens * dim], requiresGrad: true) : null;
    }

    public int Dim { get; }

    public int Tokens { get; }

    public bool PositionEmbedding { get; }

    /// <summary>Position embeddings (T, D), or null.</summary>
    public Tensor? Position { get; }

    public override LayerSpec Spec => new("channel_tokens", new() { ["dim"] = Dim, ["tokens"] = Tokens, ["position"] = PositionEmbedding ? 1 : 0 });

    protected override IEnumerable<(string Name, Tensor Parameter)> OwnParameters => Position is null ? [] : [("pos", Position)];

    protected override void ResetOwnParameters(Rng rng)
    {
        if (Position is not null) foreach (ref float p in Position.Data.AsSpan()) p = 0.02f * rng.NextNormal();
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Shape.Rank != 4 || input.Shape[1] != Dim || input.Shape[2] * input.Shape[3] != Tokens)
            throw new ArgumentException($"channel_tokens expects (N, {Dim}, H, W) with H·W = {Tokens}, got {input.Shape}.", nameof(input));
        var tokens = Ops.TokensFromChannels(input);
        return Position is null ? tokens : Ops.Add(tokens, Position);
    }
}

/// <summary>
/// Multi-head self-attention as PyTorch's nn.MultiheadAttention(D, H, batch_first=True) called as attn(x, x, x):
/// packed projections [Q | K | V] = x·W_inᵀ + b_in, per head softmax(Q_h·K_hᵀ/√d)·V_h (d = D/H), heads concatenated
/// (c), then y = c·W_outᵀ + b_out. Attention dropout on the probabilities while training.
/// </summary>
/// <remarks>
/// Shape: (N, T, D) → (N, T, D). Parameters "in_proj_weight" (3D, D) Xavier-uniform, "in_proj_bias" (3D) zeros,
/// "out_proj.weight" (D, D) U(±1/√D), "out_proj.bias" (D) zeros: PyTorch's names and initialization.
/// </remarks>
public sealed class MultiHeadSelfAttention : Module
{
    /// <exception cref="ArgumentOutOfRangeException">A size below 1, D not a multiple of H, or dropout outside [0, 1).</exception>
    public MultiHeadSelfAttention(int dim, int heads, float dropout = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        if (dim % heads != 0) throw new ArgumentOutOfRangeException(nameof(heads), heads, $"The width {dim} must be a multiple of the head count.");
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout probability must be in [0, 1).");
        (Dim, Heads, Dropout) = (dim, heads, dropout);
        InputWeight = new Tensor(new Shape(3 * dim, dim), new float[3 * dim * dim], requiresGrad: true);
        InputBias = new Tensor(new Shape(3 * dim), new float[3 * dim], requiresGrad: true);
        OutputWeight = new Tensor(new Shape(dim, dim), new float[dim * dim], requiresGrad: true);
        OutputBias = new Tensor(new Shape(dim), new float[dim], requiresGrad: true);
    }

    public int Dim { get; }

    public int Heads { get; }

    /// <summary>Dropout on the attention probabilities while training.</summary>
    public float Dropout { get; }

    /// <summary>W_in (3D, D): rows 0…D−1 make Q, D…2D−1 K, 2D…3D−1 V.</summary>
    public Tensor InputWeight { get; }

    public Tensor InputBias { get; }

    /// <summary>W_out (D, D).</summary>
    public Tensor OutputWeight { get; }

    public Tensor OutputBias { get; }

    public override LayerSpec Spec => new("multi_head_attention", new() { ["dim"] = Dim, ["heads"] = Heads, ["dropout"] = Dropout });

    protected override IEnumerable<(string Name, Tensor Parameter)> OwnParameters =>
        [("in_proj_weight", InputWeight), ("in_proj_bias", InputBias), ("out_proj.weight", OutputWeight), ("out_proj.bias", OutputBias)];

    protected override void ResetOwnParameters(Rng rng)
    {
        // xavier_uniform_ on (3D, D): U(±√(6/(fan_in + fan_out))) = U(±√(6/(4D))); the output projection as nn.Linear's
        // weight; both biases zero (MultiheadAttention._reset_parameters).
        float bound = MathF.Sqrt(6f / (4 * Dim));
        foreach (ref float w in InputWeight.Data.AsSpan()) w = (rng.NextFloat() * 2 - 1) * bound;
        Array.Clear(InputBias.Data);
        float outputBound = 1f / MathF.Sqrt(Dim);
        foreach (ref float w in OutputWeight.Data.AsSpan()) w = (rng.NextFloat() * 2 - 1) * outputBound;
        Array.Clear(OutputBias.Data);
    }

    public override Tensor Forward(Tensor input)
    {
        var heads = Attend(input, null);
        int n = input.Shape[0], t = input.Shape[1];
        return Ops.Linear(heads.Reshape(n * t, Dim), OutputWeight, OutputBias).Reshape(n, t, Dim);
    }

    /// <summary>The output of token <paramref name="token"/> alone (every token still a key and value): (N, T, D) → (N, D).</summary>
    public Tensor ForwardToken(Tensor input, int token)
    {
        var heads = Attend(input, token);
        return Ops.Linear(heads.Reshape(input.Shape[0], Dim), OutputWeight, OutputBias);
    }

    private Tensor Attend(Tensor input, int? query)
    {
        var packed = Projections(input);
        float p = Training ? Dropout : 0;
        return Ops.MultiHeadAttention(packed, Heads, p, p > 0 ? Random ?? throw MissingRng() : null, query);
    }

    /// <summary>The attention probabilities (N, H, T, T) for <paramref name="input"/> (N, T, D), without a graph and without dropout.</summary>
    public Tensor Probabilities(Tensor input) => Ops.AttentionProbabilities(Projections(input), Heads);

    private Tensor Projections(Tensor input)
    {
        if (input.Shape.Rank != 3 || input.Shape[2] != Dim)
            throw new ArgumentException($"multi_head_attention({Dim}) expects (N, T, {Dim}), got {input.Shape}.", nameof(input));
        int n = input.Shape[0], t = input.Shape[1];
        return Ops.Linear(input.Reshape(n * t, Dim), InputWeight, InputBias).Reshape(n, t, 3 * Dim);
    }

    internal static InvalidOperationException MissingRng() => new("Dropout in training mode needs an Rng: call Train(rng) on the model.");
}

/// <summary>
/// A pre-norm transformer encoder block, PyTorch's nn.TransformerEncoderLayer(D, H, F, dropout, GELU, batch_first=True,
/// norm_first=True): x ← x + drop_path(dropout(MHA(LN₁(x)))); x ← x + drop_path(dropout(W₂·dropout(GELU(W₁·LN₂(x) + b₁)) + b₂)).
/// </summary>
/// <remarks>
/// Shape: (N, T, D) → (N, T, D), or (N, D) for one <see cref="OutputToken"/>.
/// Parameter names as PyTorch's: norm1, self_attn (in_proj_weight, in_proj_bias, out_proj),
/// linear1 (F, D), linear2 (D, F), norm2. <see cref="Dropout"/> is PyTorch's one dropout (attention probabilities,
/// both residual branches, and inside the MLP); <see cref="AttentionDropout"/> overrides it on the probabilities;
/// <see cref="DropPath"/> is stochastic depth (timm's drop_path) on both residual branches.
/// </remarks>
public sealed class TransformerEncoderBlock : Module
{
    private readonly LayerNorm _norm1, _norm2;
    private readonly MultiHeadSelfAttention _attention;
    private readonly Linear _linear1, _linear2;

    /// <exception cref="ArgumentOutOfRangeException">A size below 1, D not a multiple of H, or a probability outside [0, 1).</exception>
    public TransformerEncoderBlock(int dim, int heads, int mlp, float dropout = 0, float attentionDropout = 0, float dropPath = 0,
        GeluApproximation activation = GeluApproximation.None, int outputToken = -1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputToken, -1);
        ArgumentOutOfRangeException.ThrowIfLessThan(mlp, 1);
        foreach (var (p, name) in new[] { (dropout, nameof(dropout)), (dropPath, nameof(dropPath)) })
            if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(name, p, "Probabilities must be in [0, 1).");
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation));
        (Dim, Heads, Mlp, Dropout, AttentionDropout, DropPath, Activation) = (dim, heads, mlp, dropout, attentionDropout, dropPath, activation);
        OutputToken = outputToken;
        _norm1 = new LayerNorm(dim);
        _attention = new MultiHeadSelfAttention(dim, heads, attentionDropout);
        _linear1 = new Linear(dim, mlp);
        _linear2 = new Linear(mlp, dim);
        _norm2 = new LayerNorm(dim);
    }

    public int Dim { get; }

    public int Heads { get; }

    /// <summary>F, the hidden width of the MLP.</summary>
    public int Mlp { get; }

    /// <summary>Dropout on both residual branches and after the MLP's activation while training.</summary>
    public float Dropout { get; }

    /// <summary>Dropout on the attention probabilities while training.</summary>
    public float AttentionDropout { get; }

    /// <summary>Stochastic depth: the probability that a residual branch is dropped for a sample while training.</summary>
    public float DropPath { get; }

    public GeluApproximation Activation { get; }

    /// <summary>
    /// −1: the block outputs every token, (N, T, D) → (N, T, D). Otherwise only this token's output, (N, T, D) → (N, D):
    /// a ViT's last block, whose class token alone is classified, skips the other tokens' attention queries, output
    /// projection and MLP. The same function of its input as selecting the token afterwards; a tenth less work.
    /// </summary>
    public int OutputToken { get; }

    /// <summary>The attention sublayer (for attention maps).</summary>
    public MultiHeadSelfAttention Attention => _attention;

    /// <summary>LN₁, whose output the attention reads.</summary>
    public LayerNorm Norm1 => _norm1;

    public override LayerSpec Spec => new("encoder_block", new()
    {
        ["dim"] = Dim, ["heads"] = Heads, ["mlp"] = Mlp, ["dropout"] = Dropout, ["attention_dropout"] = AttentionDropout, ["drop_path"] = DropPath,
        ["gelu_tanh"] = Activation == GeluApproximation.Tanh ? 1 : 0, ["output_token"] = OutputToken,
    });

    public override IEnumerable<(string Name, Module Module)> Children =>
        [("norm1", _norm1), ("self_attn", _attention), ("linear1", _linear1), ("linear2", _linear2), ("norm2", _norm2)];

    /// <summary>The attention probabilities (N, H, T, T) this block computes for <paramref name="input"/> (N, T, D), without a graph.</summary>
    public Tensor AttentionProbabilities(Tensor input) => _attention.Probabilities(_norm1.Forward(input));

    public override Tensor Forward(Tensor input)
    {
        if (input.Shape.Rank != 3 || input.Shape[2] != Dim)
            throw new ArgumentException($"encoder_block({Dim}) expects (N, T, {Dim}), got {input.Shape}.", nameof(input));
        int n = input.Shape[0], t = input.Shape[1];
        if (OutputToken >= 0)
        {
            // One token's output: x[:, token] + attention of that query alone, then its MLP; (N, D) from here on.
            if (OutputToken >= t) throw new ArgumentException($"encoder_block outputs token {OutputToken}; the input has {t} tokens.", nameof(input));
            var token = Ops.Add(Ops.SelectToken(input, OutputToken), Branch(_attention.ForwardToken(_norm1.Forward(input), OutputToken)));
            var tokenHidden = Ops.Gelu(_linear1.Forward(_norm2.Forward(token)), Activation);
            return Ops.Add(token, Branch(_linear2.Forward(Dropped(tokenHidden))));
        }
        var x = Ops.Add(input, Branch(_attention.Forward(_norm1.Forward(input))));
        var hidden = Ops.Gelu(_linear1.Forward(_norm2.Forward(x).Reshape(n * t, Dim)), Activation);
        var mlp = _linear2.Forward(Dropped(hidden)).Reshape(n, t, Dim);
        return Ops.Add(x, Branch(mlp));
    }

    // A residual branch's dropout, then stochastic depth.
    private Tensor Branch(Tensor y)
    {
        y = Dropped(y);
        if (!Training || DropPath == 0) return y;
        return Ops.DropPath(y, DropPath, Random ?? throw MultiHeadSelfAttention.MissingRng());
    }

    private Tensor Dropped(Tensor y) =>
        !Training || Dropout == 0 ? y : Ops.Dropout(y, Dropout, Random ?? throw MultiHeadSelfAttention.MissingRng());
}

/// <summary>The output of token <see cref="Index"/> of every sequence (the class token's is token 0).</summary>
/// <remarks>Shape: (N, T, D) → (N, D).</remarks>
public sealed class TokenSelect : Module
{
    /// <exception cref="ArgumentOutOfRangeException">A negative index.</exception>
    public TokenSelect(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Index = index;
    }

    public int Index { get; }

    public override LayerSpec Spec => new("select_token", new() { ["index"] = Index });

    public override Tensor Forward(Tensor input) => Ops.SelectToken(input, Index);
}

/// <summary>
/// Sequence pooling (Hassani et al., Compact Convolutional Transformers): a learned weight per token,
/// w = softmax(x·a + b) over the tokens, and the weighted mean z = wᵀ·x, in place of a class token.
/// </summary>
/// <remarks>Shape: (N, T, D) → (N, D). Parameters "attention.weight" (1, D) and "attention.bias" (1), initialized as a linear layer.</remarks>
public sealed class SequencePooling : Module
{
    private readonly Linear _attention;

    /// <exception cref="ArgumentOutOfRangeException">dim below 1.</exception>
    public SequencePooling(int dim)
    {
        Dim = dim;
        _attention = new Linear(dim, 1);
    }

    public int Dim { get; }

    public override LayerSpec Spec => new("sequence_pool", new() { ["dim"] = Dim });

    public override IEnumerable<(string Name, Module Module)> Children => [("attention", _attention)];

    /// <summary>The pooling weights (N, T) for tokens (N, T, D).</summary>
    public Tensor Weights(Tensor input)
    {
        if (input.Shape.Rank != 3 || input.Shape[2] != Dim)
            throw new ArgumentException($"sequence_pool({Dim}) expects (N, T, {Dim}), got {input.Shape}.", nameof(input));
        int n = input.Shape[0], t = input.Shape[1];
        return Ops.Softmax(_attention.Forward(input.Reshape(n * t, Dim)).Reshape(n, t));
    }

    public override Tensor Forward(Tensor input)
    {
        var weights = Weights(input);
        int n = input.Shape[0], t = input.Shape[1];
        return Ops.BatchedMatMul(weights.Reshape(n, 1, t), input).Reshape(n, Dim);
    }
}

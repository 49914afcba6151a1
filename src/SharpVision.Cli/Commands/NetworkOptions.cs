using System.CommandLine;
using System.Globalization;
using SharpVision.Data;
using SharpVision.Nn;
using SharpVision.Runs;
using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary>Flags of the gradient-trained models (svm, softmax, logistic, mlp).</summary>
internal sealed class NetworkOptions
{
    public Option<string?> Hidden { get; } = new("--hidden") { Description = "mlp: hidden layer sizes, comma-separated (default 256)" };
    public Option<string> Activation { get; } = new("--activation") { Description = "mlp: relu, tanh, sigmoid or leaky-relu", DefaultValueFactory = _ => "relu" };
    public Option<double> Dropout { get; } = new("--dropout")
    {
        Description = "mlp: dropout probability after each hidden layer; vit, cct: dropout on residual branches and in the MLP",
        DefaultValueFactory = _ => 0,
    };
    public Option<string?> Classes { get; } = new("--classes") { Description = "Train on these classes only, by index or name (e.g. 0,6 or " +
        "T-shirt/top,Shirt); logistic needs exactly two" };
    public Option<string?> Preprocess { get; } = new("--preprocess") { Description = "Input normalization fitted on the training split: pixel " +
        "(standardize each pixel), channel, mean-image, none (default: pixel for linear models, channel for mlp)" };
    public Option<string?> Optimizer { get; } = new("--optimizer") { Description = $"{string.Join(", ", TrainingOptions.Optimizers)} (default " +
        $"depends on the model)" };
    public Option<double?> Momentum { get; } = new("--momentum") { Description = "Momentum for momentum/nesterov (and rmsprop)" };
    public Option<double?> WeightDecay { get; } = new("--weight-decay") { Description = "Optimizer weight decay (decoupled for adamw)" };
    public Option<string?> DecayScope { get; } = new("--weight-decay-on")
    {
        Description = "adamw: all parameters, or weights (weight matrices and filters only: not biases, norms or embeddings; the default for vit " +
                      "and cct)",
    };
    public Option<string?> Schedule { get; } = new("--schedule") { Description = $"Learning-rate schedule: " +
        $"{string.Join(", ", TrainingOptions.Schedules)}" };
    public Option<double?> Warmup { get; } = new("--warmup") { Description = "Linear learning-rate warm-up, in epochs (may be fractional)" };
    public Option<int?> StepEpochs { get; } = new("--step-epochs") { Description = "step schedule: epochs between decays" };
    public Option<double?> Gamma { get; } = new("--lr-decay") { Description = "step/exponential schedules: the learning rate's decay factor γ" };
    public Option<double?> Reg { get; } = new("--reg") { Description = "Regularization strength λ of λ·(α·‖W‖₁ + (1−α)/2·‖W‖²) on weights" };
    public Option<double?> L1Ratio { get; } = new("--l1-ratio") { Description = "α: 0 = L2, 1 = L1, between = elastic net" };
    public Option<double?> LabelSmoothing { get; } = new("--label-smoothing") { Description = "softmax/mlp: label smoothing ε" };
    public Option<int?> Patience { get; } = new("--patience") { Description = "Early stopping: epochs without validation improvement (0 = off)" };
    public Option<string?> StopOn { get; } = new("--early-stopping-metric") { Description = "accuracy or loss (validation)" };
    public Option<double?> ValidationFraction { get; } = new("--validation-fraction") { Description = "Share of the training split held out for " +
        "validation (boost: the boosting curve and early stopping; kernel-svm: probability calibration; networks: each epoch) (0 = none; the " +
            "recipe's default: 0.1, and 0 for the convolutional networks, whose recipe selects nothing on validation data)" };
    public Option<int?> CheckpointEvery { get; } = new("--checkpoint-every") { Description = "Also write a checkpoint every N steps (default: each " +
        "epoch)" };
    public Option<double?> SearchScale { get; } = new("--search-scale") { Description = "random-search: standard deviation of candidate weights" };
    public Option<bool?> Flip { get; } = new("--flip") { Description = "Augmentation: random horizontal flips (default on for CNNs)" };
    public Option<int?> CropPadding { get; } = new("--crop-padding") { Description = "Augmentation: random crop after padding each side by N " +
        "pixels (0 = off)" };
    public Option<int?> Cutout { get; } = new("--cutout") { Description = "Augmentation: cutout square side in pixels (0 = off)" };
    public Option<string?> Tta { get; } = new("--tta") { Description = "Test-time augmentation, stored with the model: none or flip (average each " +
        "image with its mirror; default flip for CNNs)" };
    public Option<string?> Solver { get; } = new("--solver") { Description = "svm: sgd (minibatch gradient descent on the multiclass hinge, the " +
        "default) or dual (exact one-vs-rest squared hinge, scikit-learn LinearSVC's model, by dual coordinate descent)" };
    public Option<string?> C { get; } = new("--c") { Description = $"kernel-svm: C, the cost of a margin violation (default 1). svm --solver dual: " +
        $"C of ½‖w‖² + C·Σ loss, or comma-separated candidates chosen on the validation split and then refitted on training + validation (default " +
            $"{string.Join(",", DualSvmOptions.DefaultCValues)})" };
    public Option<double?> Tolerance { get; } = new("--tol") { Description = "kernel-svm: SMO stopping tolerance (default 1e-3, libsvm's). svm " +
        "--solver dual: stopping tolerance on the projected gradient's spread (default 0.1, liblinear's)" };
    public Option<int?> Patch { get; } = new("--patch")
    {
        Description = "vit: side of the square patches (default 4: a 28×28 image makes 49 tokens)",
    };
    public Option<int?> Width { get; } = new("--width") { Description = "vit, cct: width of every token (default 64)" };
    public Option<int?> Depth { get; } = new("--depth") { Description = "vit, cct: encoder blocks (default 6)" };
    public Option<int?> Heads { get; } = new("--heads") { Description = "vit, cct: attention heads per block; must divide the width (default 4)" };
    public Option<double?> MlpRatio { get; } = new("--mlp-ratio")
    {
        Description = "vit, cct: the blocks' MLP width as a multiple of the token width (default 2)",
    };
    public Option<double?> AttentionDropout { get; } = new("--attention-dropout")
    {
        Description = "vit, cct: dropout on the attention probabilities (default 0)",
    };
    public Option<double?> DropPath { get; } = new("--drop-path")
    {
        Description = "vit, cct: stochastic depth of the last block, rising linearly from 0 at the first (default 0)",
    };
    public Option<string?> Gelu { get; } = new("--gelu") { Description = "vit, cct: the MLP's GELU, exact or tanh (default exact, as PyTorch's)" };
    public Option<int?> ConvLayers { get; } = new("--conv-layers")
    {
        Description = "cct: convolution + max-pool stages of the tokenizer, each halving the image side (default 2)",
    };
    public Option<string?> Resume { get; } = new("--resume") { Description = "Continue the run in this folder from its checkpoint (the recipe " +
        "comes from the checkpoint)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[]
                 {
                     Hidden, Activation, Dropout, Classes, Preprocess, Optimizer, Momentum, WeightDecay, Schedule, Warmup, StepEpochs, Gamma, Reg,
                     L1Ratio, LabelSmoothing, Patience, StopOn, ValidationFraction, CheckpointEvery, SearchScale, Flip, CropPadding, Cutout, Tta,
                     Solver, C, Tolerance,
                     Patch, Width, Depth, Heads, MlpRatio, AttentionDropout, DropPath, Gelu, ConvLayers, DecayScope, Resume,
                 })
            command.Options.Add(option);
    }

    /// <summary>Options that only make sense for gradient-trained models, for warnings on knn.</summary>
    public IEnumerable<(string Name, bool Given)> Given(ParseResult parse) =>
        new (string, object?)[]
        {
            ("--hidden", parse.GetValue(Hidden)), ("--classes", parse.GetValue(Classes)), ("--preprocess", parse.GetValue(Preprocess)), ("--optimizer", parse.GetValue(Optimizer)),
            ("--schedule", parse.GetValue(Schedule)), ("--reg", parse.GetValue(Reg)), ("--patience", parse.GetValue(Patience)), ("--resume", parse.GetValue(Resume)),
        }.Select(p => (p.Item1, p.Item2 is not null));

    /// <summary>The recipe for <paramref name="model"/>: its defaults overridden by the flags given.</summary>
    public TrainingOptions Recipe(ParseResult parse, TrainingFlags shared, string model, int seed)
    {
        var r = Recipes.Default(model, seed);
        if (parse.GetValue(shared.Epochs) is int e) r = r with { Epochs = e };
        if (parse.GetValue(shared.BatchSize) is int b) r = r with { BatchSize = b };
        if (parse.GetValue(shared.LearningRate) is double lr) r = r with { LearningRate = lr };
        if (parse.GetValue(Optimizer) is string o) r = r with { Optimizer = o.ToLowerInvariant() };
        if (parse.GetValue(Momentum) is double m) r = r with { Momentum = m };
        if (parse.GetValue(WeightDecay) is double wd) r = r with { WeightDecay = wd };
        if (parse.GetValue(Schedule) is string s) r = r with { Schedule = s.ToLowerInvariant() };
        if (parse.GetValue(Warmup) is double w) r = r with { WarmupEpochs = w };
        if (parse.GetValue(StepEpochs) is int se) r = r with { StepEpochs = se };
        if (parse.GetValue(Gamma) is double g) r = r with { Gamma = g };
        if (parse.GetValue(Reg) is double reg) r = r with { Regularization = reg };
        if (parse.GetValue(L1Ratio) is double l1) r = r with { L1Ratio = l1 };
        if (parse.GetValue(LabelSmoothing) is double ls) r = r with { LabelSmoothing = ls };
        if (parse.GetValue(Patience) is int p) r = r with { Patience = p };
        if (parse.GetValue(StopOn) is string stop) r = r with { EarlyStoppingMetric = stop.ToLowerInvariant() };
        if (parse.GetValue(CheckpointEvery) is int ce) r = r with { CheckpointEvery = ce };
        if (parse.GetValue(SearchScale) is double ss) r = r with { RandomSearchScale = ss };
        if (parse.GetValue(Flip) is bool flip) r = r with { Flip = flip };
        if (parse.GetValue(CropPadding) is int crop) r = r with { CropPadding = crop };
        if (parse.GetValue(Cutout) is int cutout) r = r with { Cutout = cutout };
        if (parse.GetValue(ValidationFraction) is double v) r = r with { ValidationFraction = v };
        if (parse.GetValue(Tta) is string tta) r = r with { Tta = tta.ToLowerInvariant() };
        if (parse.GetValue(DecayScope) is string scope) r = r with { WeightDecayScope = scope.ToLowerInvariant() };
        try
        {
            r.Validate();
        }
        catch (ArgumentException ex)
        {
            var message = ex.ParamName is null ? ex.Message : ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal);
            throw new UsageException(FlagOf(ex.ParamName) is { } flag ? $"{flag}: {message}" : message);
        }
        if (r.Optimizer == "random-search" && model is not ("svm" or "softmax" or "logistic"))
            throw new UsageException("--optimizer random-search is for linear models (svm, softmax, logistic).");
        return r;
    }

    /// <summary>The svm solver: "sgd" unless --solver says otherwise; an error for other models.</summary>
    public string SolverName(ParseResult parse, string model)
    {
        var solver = parse.GetValue(Solver)?.ToLowerInvariant() ?? "sgd";
        if (!NetworkSpec.Solvers.Contains(solver)) throw new UsageException($"--solver must be sgd or dual, got '{solver}'.");
        if (solver == "dual" && model != "svm") throw new UsageException($"--solver dual trains linear SVMs (--model svm), not {model}.");
        bool tuning = parse.GetValue(C) is not null || parse.GetValue(Tolerance) is not null;
        if (tuning && solver != "dual") throw new UsageException("--c and --tol set the dual solver: add --solver dual (with --model svm).");
        return solver;
    }

    /// <summary>Refuses gradient-training flags next to --solver dual, which would silently do nothing.</summary>
    public void RejectGradientFlags(ParseResult parse, TrainingFlags shared)
    {
        var ignored = new Option[] { shared.Epochs, shared.BatchSize, shared.LearningRate, Optimizer, Momentum, WeightDecay, Schedule, Warmup, StepEpochs, Gamma, Reg, L1Ratio,
                LabelSmoothing, Patience, StopOn, CheckpointEvery, SearchScale, Flip, CropPadding, Cutout, Tta }
            .Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (ignored.Count > 0)
            throw new UsageException($"{string.Join(", ", ignored)} set{(ignored.Count == 1 ? "s" : "")} gradient training, which --solver dual " +
                $"does not use; its settings are --c and --tol.");
    }

    /// <summary>The dual solver's settings from --c and --tol.</summary>
    public DualSvmOptions DualOptions(ParseResult parse)
    {
        var values = DualSvmOptions.DefaultCValues;
        if (parse.GetValue(C) is string text)
        {
            var list = new List<double>();
            foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                list.Add(double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double c) && c > 0 && double.IsFinite(c)
                    ? c : throw new UsageException($"--c: '{part}' is not a positive number."));
            if (list.Count == 0) throw new UsageException("--c needs at least one value.");
            values = list;
        }
        var options = new DualSvmOptions(values, parse.GetValue(Tolerance) ?? DualSvmOptions.DefaultTolerance);
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--c/--tol: {e.Message}");
        }
        return options;
    }

    /// <summary>
    /// vit, cct: the transformer's shape from --patch, --width, --depth, --heads, --mlp-ratio, --dropout, --attention-dropout,
    /// --drop-path, --gelu and --conv-layers over <see cref="TransformerOptions"/>' defaults; null for other models.
    /// </summary>
    /// <exception cref="UsageException">A transformer flag for another model, or an invalid value (named).</exception>
    public TransformerOptions? TransformerShape(ParseResult parse, string model)
    {
        var flags = new Option[] { Patch, Width, Depth, Heads, MlpRatio, AttentionDropout, DropPath, Gelu, ConvLayers };
        if (!Recipes.Transformers.Contains(model))
        {
            var given = flags.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
            if (given.Count > 0)
                throw new UsageException($"{string.Join(", ", given)} shape{(given.Count == 1 ? "s" : "")} vit and cct, not --model {model}.");
            return null;
        }
        if (model == "vit" && parse.GetResult(ConvLayers) is { Implicit: false })
            throw new UsageException("--conv-layers shapes cct's tokenizer; vit cuts patches (--patch).");
        if (model == "cct" && parse.GetResult(Patch) is { Implicit: false })
            throw new UsageException("--patch shapes vit; cct's tokens come from --conv-layers.");
        var o = new TransformerOptions();
        if (parse.GetValue(Patch) is int p) o = o with { Patch = p };
        if (parse.GetValue(Width) is int w) o = o with { Width = w };
        if (parse.GetValue(Depth) is int d) o = o with { Depth = d };
        if (parse.GetValue(Heads) is int h) o = o with { Heads = h };
        if (parse.GetValue(MlpRatio) is double ratio) o = o with { MlpRatio = ratio };
        if (parse.GetValue(AttentionDropout) is double ad) o = o with { AttentionDropout = (float)ad };
        if (parse.GetValue(DropPath) is double dp) o = o with { DropPath = (float)dp };
        if (parse.GetValue(ConvLayers) is int layers) o = o with { ConvLayers = layers };
        o = o with { Dropout = DropoutProbability(parse) };
        o = o with
        {
            Activation = parse.GetValue(Gelu)?.ToLowerInvariant() switch
            {
                null or "exact" => Tensors.Kernels.GeluApproximation.None,
                "tanh" => Tensors.Kernels.GeluApproximation.Tanh,
                var g => throw new UsageException($"--gelu must be exact or tanh, got '{g}'."),
            },
        };
        try
        {
            o.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{TransformerFlagOf(e.ParamName)}: {e.Message}");
        }
        return o;
    }

    private static string TransformerFlagOf(string? option) => option switch
    {
        nameof(TransformerOptions.Patch) => "--patch",
        nameof(TransformerOptions.Width) => "--width",
        nameof(TransformerOptions.Depth) => "--depth",
        nameof(TransformerOptions.Heads) => "--heads",
        nameof(TransformerOptions.MlpRatio) => "--mlp-ratio",
        nameof(TransformerOptions.AttentionDropout) => "--attention-dropout",
        nameof(TransformerOptions.DropPath) => "--drop-path",
        nameof(TransformerOptions.ConvLayers) => "--conv-layers",
        _ => "--dropout",
    };

    public int[] HiddenSizes(ParseResult parse)
    {
        var text = parse.GetValue(Hidden) ?? "256";
        var sizes = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            sizes.Add(int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int h) && h >= 1 && h <= 1 << 16 ? h : throw new UsageException($"--hidden: '{part}' is not a layer size (1..65536)."));
        if (sizes.Count == 0) throw new UsageException("--hidden needs at least one size.");
        return sizes.ToArray();
    }

    public ActivationKind ActivationKind(ParseResult parse) => parse.GetValue(Activation)!.ToLowerInvariant() switch
    {
        "relu" => Nn.ActivationKind.Relu,
        "tanh" => Nn.ActivationKind.Tanh,
        "sigmoid" => Nn.ActivationKind.Sigmoid,
        "leaky-relu" or "leaky_relu" => Nn.ActivationKind.LeakyRelu,
        var a => throw new UsageException($"--activation must be relu, tanh, sigmoid or leaky-relu, got '{a}'."),
    };

    public float DropoutProbability(ParseResult parse)
    {
        double p = parse.GetValue(Dropout);
        if (!(p >= 0 && p < 1)) throw new UsageException($"--dropout must be in [0, 1), got {p.ToString(CultureInfo.InvariantCulture)}.");
        return (float)p;
    }

    public NormalizationMode Normalization(ParseResult parse, string model)
    {
        var text = parse.GetValue(Preprocess) ?? (model is "svm" or "softmax" or "logistic" ? "pixel" : "channel");
        return Normalizer.Parse(text) ?? throw new UsageException($"--preprocess must be pixel, channel, mean-image or none, got '{text}'.");
    }

    private static int IndexOfName(IReadOnlyList<string> names, string name)
    {
        for (int j = 0; j < names.Count; j++)
            if (string.Equals(names[j], name, StringComparison.OrdinalIgnoreCase)) return j;
        return -1;
    }

    /// <summary>--tta none|flip; <paramref name="fallback"/> when not given.</summary>
    public static bool ParseTta(string? text, bool fallback) => text?.ToLowerInvariant() switch
    {
        null => fallback,
        "none" => false,
        "flip" => true,
        var t => throw new UsageException($"--tta must be none or flip, got '{t}'."),
    };

    // The flag that sets a recipe option (for messages that name what to change).
    private static string? FlagOf(string? option) => option switch
    {
        nameof(TrainingOptions.Epochs) => "--epochs",
        nameof(TrainingOptions.BatchSize) => "--batch-size",
        nameof(TrainingOptions.Optimizer) => "--optimizer",
        nameof(TrainingOptions.LearningRate) => "--lr",
        nameof(TrainingOptions.Momentum) => "--momentum",
        nameof(TrainingOptions.WeightDecay) => "--weight-decay",
        nameof(TrainingOptions.Schedule) => "--schedule",
        nameof(TrainingOptions.WarmupEpochs) => "--warmup",
        nameof(TrainingOptions.StepEpochs) => "--step-epochs",
        nameof(TrainingOptions.Gamma) => "--lr-decay",
        nameof(TrainingOptions.Regularization) => "--reg",
        nameof(TrainingOptions.L1Ratio) => "--l1-ratio",
        nameof(TrainingOptions.LabelSmoothing) => "--label-smoothing",
        nameof(TrainingOptions.Patience) => "--patience",
        nameof(TrainingOptions.EarlyStoppingMetric) => "--early-stopping-metric",
        nameof(TrainingOptions.CheckpointEvery) => "--checkpoint-every",
        nameof(TrainingOptions.RandomSearchScale) => "--search-scale",
        nameof(TrainingOptions.CropPadding) => "--crop-padding",
        nameof(TrainingOptions.Cutout) => "--cutout",
        nameof(TrainingOptions.ValidationFraction) => "--validation-fraction",
        nameof(TrainingOptions.Tta) => "--tta",
        nameof(TrainingOptions.WeightDecayScope) => "--weight-decay-on",
        _ => null,
    };

    /// <summary>Resolves --classes (indices or names) against the dataset's class names.</summary>
    public int[]? ClassSelection(ParseResult parse, IReadOnlyList<string> names)
    {
        if (parse.GetValue(Classes) is not string text) return null;
        var chosen = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int index = int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < names.Count ? i
                : IndexOfName(names, part);
            if (index < 0) throw new UsageException($"--classes: '{part}' is neither a class index (0..{names.Count - 1}) nor a class name " +
                $"({string.Join(", ", names)}).");
            if (chosen.Contains(index)) throw new UsageException($"--classes: '{part}' is given twice.");
            chosen.Add(index);
        }
        if (chosen.Count < 2) throw new UsageException("--classes needs at least two classes.");
        return chosen.ToArray();
    }
}

using System.CommandLine;
using System.Globalization;
using SharpVision.Classic;
using FeaturePipeline = SharpVision.Features.FeaturePipeline;
using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary>
/// Every flag that says what model to fit, and the one place that turns them into a trainer of the classifier contract.
/// `train` reads single values; `cv` reads the same flags with comma-separated alternatives (<see cref="GridFlags"/>).
/// </summary>
internal sealed class ModelFlags
{
    public ModelFlags(bool cv)
    {
        string many = cv ? " (comma-separated alternatives to compare)" : "";
        Model = new("--model")
        {
            Description = cv ? $"The model to cross-validate: {string.Join(", ", Kinds)}"
                : "cnn2 (the default CNN recipe), resnet8, resnet20, vit (vision transformer), cct (compact convolutional transformer), mlp, " +
                  "svm, softmax, logistic, knn, tree, forest, boost, kernel-svm, or resnet18 --pretrained (the ImageNet ResNet-18 as a frozen " +
                  "feature extractor under --head, or fine-tuned with --finetune)",
            DefaultValueFactory = _ => cv ? "knn" : "cnn2",
        };
        K = new("--k") { Description = "knn: neighbours that vote" + many, DefaultValueFactory = _ => cv ? "1,3,5,7,9" : "5" };
        Metric = new("--metric") { Description = "knn: distance, l1 (Manhattan) or l2 (Euclidean)" + many, DefaultValueFactory = _ => cv ? "l1,l2" : "l2" };
        Weights = new("--weights") { Description = "knn: votes, uniform or distance (1/d)" + many, DefaultValueFactory = _ => "uniform" };
        Features = new FeatureOptions("Hand-crafted features instead of pixels (knn, svm, softmax, logistic, mlp, tree, forest, boost, " +
            "kernel-svm), " +
            "e.g. hog, hog+color, " +
            "hog:orientations=9,cell=4,block=2, sift:words=64; the pipeline's learned parts and the standardization are fitted on the training " +
                "images only " +
            "(on each fold's training part in cv) and stored in the model; extraction is cached on disk; resnet18 is the ImageNet ResNet-18's " +
            "512 features (a frozen pretrained network)");
        Pretrained = new("--pretrained")
        {
            Description = "resnet18: start from the ImageNet weights (required: the backbone is not trained from scratch)",
        };
        Head = new("--head")
        {
            Description = "resnet18 --pretrained: the classifier on the backbone's features: softmax, svm (exact linear SVM, C chosen " +
                "on validation) or knn",
            DefaultValueFactory = _ => "softmax",
        };
        FineTune = new("--finetune")
        {
            Description = "resnet18 --pretrained: fine-tune the backbone with a new linear head instead of extracting features: all layers " +
                "(--finetune or --finetune all) or only the last stage (--finetune last); random resized crops and flips while training, " +
                "resize 256 + center crop 224 for evaluation; recipe: 5 epochs, nesterov lr 0.01 for the head, batch 32",
            Arity = ArgumentArity.ZeroOrOne,
        };
        UpdateBatchNorm = new("--update-batch-norm")
        {
            Description = "--finetune: let the trained batch norms update their running statistics (default: frozen, as small CPU batches " +
                "give noisy statistics)",
        };
        BackboneLearningRateFactor = new("--backbone-lr-factor")
        {
            Description = "--finetune: the backbone's learning rate is this times the head's (--lr); in (0, 1], default 0.1",
        };
        Backbone = new("--backbone")
        {
            Description = "Folder holding the pretrained backbone's files (the NuGet package's DnnImageModels/); the same as " +
                "$SHARPVISION_BACKBONES. Default: $SHARPVISION_BACKBONES, then DnnImageModels/ next to the program, then the NuGet cache",
        };
    }

    /// <summary>The model kinds the command line trains.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["knn", .. Recipes.Kinds, .. ClassicOptions.Kinds, .. Recipes.Pretrained];

    /// <summary>The flags whose values `cv` compares, by name: a comma-separated value is one alternative per item.</summary>
    public static IReadOnlyList<string> GridFlags { get; } =
        ["--k", "--metric", "--weights", "--lr", "--reg", "--l1-ratio", "--momentum", "--weight-decay", "--batch-size", "--epochs", "--dropout",
         "--label-smoothing", "--c", .. ClassicOptions.GridFlags];

    public Option<string> Model { get; }

    public Option<string> K { get; }

    public Option<string> Metric { get; }

    public Option<string> Weights { get; }

    public NetworkOptions Network { get; } = new();

    /// <summary>Flags of the trees and the kernel SVM.</summary>
    public ClassicOptions Classic { get; } = new();

    public FeatureOptions Features { get; }

    /// <summary>--pretrained: the backbone starts from its published weights.</summary>
    public Option<bool> Pretrained { get; }

    /// <summary>--head: the classifier on a pretrained backbone's features.</summary>
    public Option<string> Head { get; }

    /// <summary>--finetune [all|last]: fine-tune the pretrained backbone.</summary>
    public Option<string?> FineTune { get; }

    /// <summary>--update-batch-norm: fine-tuning updates the batch-norm statistics.</summary>
    public Option<bool> UpdateBatchNorm { get; }

    /// <summary>--backbone-lr-factor: the backbone's learning rate relative to the head's.</summary>
    public Option<double?> BackboneLearningRateFactor { get; }

    /// <summary>--backbone DIR: where the pretrained weights are.</summary>
    public Option<string?> Backbone { get; }

    public void AddTo(Command command)
    {
        Option[] options = [Model, K, Metric, Weights, Pretrained, Head, FineTune, UpdateBatchNorm, BackboneLearningRateFactor, Backbone];
        foreach (var option in options) command.Options.Add(option);
        Network.AddTo(command);
        Classic.AddTo(command);
        Features.AddTo(command);
    }

    /// <summary>The model kind, checked against <see cref="Kinds"/>.</summary>
    /// <exception cref="UsageException">An unknown model.</exception>
    public string Kind(ParseResult parse)
    {
        var kind = parse.GetValue(Model)!.ToLowerInvariant();
        return Kinds.Contains(kind) ? kind : throw new UsageException($"--model must be one of {string.Join(", ", Kinds)}, got '{kind}'.");
    }

    /// <summary>Warns about flags that do nothing for this model.</summary>
    public void WarnUnused(ParseResult parse, TrainingFlags shared, CliConsole console, string kind)
    {
        if (ClassicOptions.Kinds.Contains(kind))
        {
            foreach (var name in ClassicOptions.UnusedNetworkFlags(parse, Network, kind)) console.Log($"warning: {name} has no effect on --model " +
                $"{kind}");
            var gradientFlags = new[]
            {
                ("--epochs", parse.GetValue(shared.Epochs) is not null), ("--batch-size", parse.GetValue(shared.BatchSize) is not null),
                ("--lr", kind != "boost" && parse.GetValue(shared.LearningRate) is not null),
            };
            foreach (var (name, given) in gradientFlags)
                if (given) console.Log($"warning: {name} has no effect on --model {kind} (it has no gradient training)");
            return;
        }
        if (kind != "knn") return;
        foreach (var (name, given) in Network.Given(parse))
            if (given) console.Log($"warning: {name} has no effect on --model knn");
        shared.WarnUnused(parse, console, kind);
    }

    /// <summary>The trainer the flags describe (single values: `cv` expands its alternatives before calling this).</summary>
    /// <param name="parse">The parsed flags.</param>
    /// <param name="shared">--epochs, --batch-size, --lr, --seed.</param>
    /// <param name="kind">The model kind from <see cref="Kind"/>.</param>
    /// <exception cref="UsageException">A value or combination of flags that does not make a model, naming the flag.</exception>
    public IClassifierTrainer CreateTrainer(ParseResult parse, TrainingFlags shared, string kind)
    {
        int seed = parse.GetValue(shared.Seed);
        if (parse.GetValue(Backbone) is { } backbone) UseBackboneFolder(backbone);
        var pipeline = Features.Pipeline(parse);
        string recipeKind = kind;
        bool transfer = Recipes.Pretrained.Contains(kind);
        if (transfer && FineTuneScope(parse) is { } scope) return FineTuner(parse, shared, kind, pipeline, scope, seed);
        if (transfer) (kind, pipeline, recipeKind) = PretrainedHead(parse, kind, pipeline);
        else RejectTransferFlags(parse, kind);
        RejectFineTuneFlags(parse, kind);
        try
        {
            if (kind == "knn")
            {
                Classic.RejectAll(parse, kind);
                var options = new KNearestNeighborsOptions(Single(parse, K, "--k", ParseK), Single(parse, Metric, "--metric", NeighborNames.ParseMetric),
                    Single(parse, Weights, "--weights", NeighborNames.ParseWeighting), pipeline, seed);
                return new KNearestNeighbors(options);
            }
            if (ClassicOptions.Kinds.Contains(kind))
                return Classic.CreateTrainer(parse, kind, pipeline, seed, parse.GetValue(shared.LearningRate), Network);
            Classic.RejectAll(parse, kind);
            if (pipeline is not null && Recipes.ReadsImages(kind))
                throw new UsageException($"--features works with knn, svm, softmax, logistic and mlp, not {kind}.");
            var recipe = Network.Recipe(parse, shared, recipeKind, seed);
            var solver = transfer && kind == "svm" && parse.GetValue(Network.Solver) is null ? "dual" : Network.SolverName(parse, kind);
            if (solver == "dual") Network.RejectGradientFlags(parse, shared);
            bool mlp = kind == "mlp";
            var spec = new NetworkSpec(kind, Network.Normalization(parse, kind), mlp ? Network.HiddenSizes(parse) : null,
                mlp ? Network.ActivationKind(parse) : Nn.ActivationKind.Relu, mlp ? Network.DropoutProbability(parse) : 0, pipeline, solver,
                Network.TransformerShape(parse, kind));
            var dual = solver == "dual" ? Network.DualOptions(parse) : null;
            return new NetworkTrainer(spec, recipe, dual);
        }
        catch (ModelSetupException e)
        {
            throw new UsageException(FlagMessage(e));
        }
    }

    // --model resnet18 --pretrained [--head H]: the backbone's features under the head's own trainer (softmax: the transfer recipe).
    private (string Head, FeaturePipeline Pipeline, string RecipeKind) PretrainedHead(ParseResult parse, string kind, FeaturePipeline? given)
    {
        if (!parse.GetValue(Pretrained))
            throw new UsageException($"--model {kind} is only offered pretrained: add --pretrained (the ImageNet weights; " +
                "training a ResNet-18 from scratch on a CPU is not what this tool is for, use resnet8 or resnet20).");
        if (given is not null)
            throw new UsageException($"--features cannot be combined with --model {kind}, which is the {kind} features under --head; " +
                $"use --model MODEL --features {kind} to put another model on them.");
        var head = parse.GetValue(Head)!.ToLowerInvariant();
        if (!Runs.TransferLearning.HeadNames.Contains(head))
            throw new UsageException($"--head must be one of {string.Join(", ", Runs.TransferLearning.HeadNames)}, got '{head}'.");
        var pipeline = FeatureOptions.Checked(() => FeaturePipeline.Parse(Runs.TransferLearning.FeatureSpec(kind)));
        return (head, pipeline, head == "softmax" ? kind : head);
    }

    /// <summary>The scope --finetune names (null: not given).</summary>
    /// <exception cref="UsageException">A value other than all or last.</exception>
    public Onnx.FineTuneScope? FineTuneScope(ParseResult parse)
    {
        if (parse.GetResult(FineTune) is not { Implicit: false } given) return null;
        string name = given.Tokens.Count == 0 ? "all" : given.Tokens[0].Value;
        try
        {
            return Runs.TransferLearning.ParseScope(name);
        }
        catch (ArgumentException)
        {
            throw new UsageException($"--finetune takes {string.Join(" or ", Runs.TransferLearning.FineTuneScopeNames)} " +
                $"(or no value: all), got '{name}'.");
        }
    }

    // --model resnet18 --pretrained --finetune [all|last]: backbone and a new head trained together (the fine-tuning recipe).
    private NetworkTrainer FineTuner(ParseResult parse, TrainingFlags shared, string kind, FeaturePipeline? given, Onnx.FineTuneScope scope, int seed)
    {
        if (!parse.GetValue(Pretrained))
            throw new UsageException($"--finetune starts from the ImageNet weights: add --pretrained (--model {kind} --pretrained --finetune).");
        if (given is not null) throw new UsageException($"--features cannot be combined with --finetune, which trains the {kind} network itself.");
        if (parse.GetResult(Head) is { Implicit: false })
            throw new UsageException("--head chooses the classifier on frozen features; --finetune always trains a new linear (softmax) head " +
                "with the backbone.");
        if (parse.GetValue(Network.Flip) is not null || parse.GetValue(Network.CropPadding) is not null)
            throw new UsageException("--flip and --crop-padding do not apply to --finetune: its input layer already takes random resized " +
                "crops and flips.");
        Classic.RejectAll(parse, kind);
        if (parse.GetValue(Network.Solver) is not null) throw new UsageException("--solver is for svm; --finetune trains by gradient descent.");
        var recipe = Network.Recipe(parse, shared, Recipes.FineTuneRecipe, seed);
        if (parse.GetValue(BackboneLearningRateFactor) is double factor)
        {
            if (!(factor > 0 && factor <= 1))
                throw new UsageException($"--backbone-lr-factor must be in (0, 1], got {factor.ToString(CultureInfo.InvariantCulture)}.");
            recipe = recipe with { BodyLearningRateFactor = factor };
        }
        return Runs.TransferLearning.FineTuner(scope, parse.GetValue(UpdateBatchNorm), recipe);
    }

    private void RejectFineTuneFlags(ParseResult parse, string kind)
    {
        string what = Recipes.Pretrained.Contains(kind) ? $"--model {kind} --pretrained --finetune"
            : $"--model resnet18 --pretrained --finetune, not --model {kind}";
        if (parse.GetResult(FineTune) is { Implicit: false }) throw new UsageException($"--finetune is for {what}.");
        if (parse.GetValue(UpdateBatchNorm)) throw new UsageException($"--update-batch-norm is for {what}.");
        if (parse.GetValue(BackboneLearningRateFactor) is not null) throw new UsageException($"--backbone-lr-factor is for {what}.");
    }

    private void RejectTransferFlags(ParseResult parse, string kind)
    {
        if (parse.GetValue(Pretrained)) throw new UsageException($"--pretrained is for {string.Join(", ", Recipes.Pretrained)}, not --model {kind}.");
        if (parse.GetResult(Head) is { Implicit: false })
            throw new UsageException("--head chooses the classifier on a pretrained backbone (--model resnet18 --pretrained), " +
                $"not for --model {kind}.");
    }

    // --backbone DIR is the environment variable the backbone lookup reads, for this process.
    private static void UseBackboneFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new UsageException($"--backbone: no such folder '{folder}'.");
        Environment.SetEnvironmentVariable(Onnx.PretrainedBackbones.EnvironmentVariable, Path.GetFullPath(folder));
    }

    /// <summary>A setup error as a command-line message: the setting becomes the flag that sets it.</summary>
    public static string FlagMessage(ModelSetupException e) => e.Setting switch
    {
        "features" => $"--features: {e.Message}",
        "c" => $"--c: {e.Message}",
        "k" => $"--k: {e.Message}",
        "folds" => $"--folds: {e.Message}",
        "early-stopping-rounds" => $"--early-stopping-rounds: {e.Message}",
        "classes" => $"--model: {e.Message} Pass --classes A,B (e.g. --classes 0,6).",
        _ => e.Message,
    };

    private static int? ParseK(string s) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k >= 1 ? k : null;

    // One value of a flag that cv may give as a list: train (and each cv candidate) takes exactly one.
    private static T Single<T>(ParseResult parse, Option<string> option, string flag, Func<string, T?> read) where T : struct
    {
        var parts = parse.GetValue(option)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 1)
            throw new UsageException($"{flag} takes one value here ('{parse.GetValue(option)}'); use `sharpvision cv` to compare several.");
        return read(parts[0]) ?? throw new UsageException($"{flag}: invalid value '{parts[0]}'.");
    }
}

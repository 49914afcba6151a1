using System.CommandLine;
using System.Globalization;
using SharpVision.Classic.Svm;
using SharpVision.Classic.Trees;
using SharpVision.Features;

namespace SharpVision.Cli.Commands;

/// <summary>
/// Flags of the tree families (tree, forest, boost) and the kernel SVM (kernel-svm), named as scikit-learn and LightGBM
/// users know them; each value is text so that `cv` can give comma-separated alternatives.
/// </summary>
internal sealed class ClassicOptions
{
    /// <summary>The model kinds these flags build.</summary>
    public static IReadOnlyList<string> Kinds { get; } = [TreeModelFile.TreeKind, TreeModelFile.ForestKind, TreeModelFile.BoostKind,
        KernelSvmModelFile.Kind];

    /// <summary>The flags of this group that `cv` compares.</summary>
    public static IReadOnlyList<string> GridFlags { get; } =
        ["--trees", "--max-depth", "--min-samples-leaf", "--min-samples-split", "--max-features", "--criterion", "--rounds", "--leaves", "--l2",
            "--min-gain",
         "--subsample", "--colsample", "--kernel", "--gamma", "--degree", "--coef0", "--max-bins", "--components"];

    public Option<string?> Trees { get; } = new("--trees") { Description = "forest: number of trees (default 100)" };
    public Option<string?> MaxDepth { get; } = new("--max-depth") { Description = "tree, forest, boost: deepest split level (default: unlimited)" };
    public Option<string?> MinSamplesLeaf { get; } = new("--min-samples-leaf") { Description = "tree, forest, boost: fewest training rows per leaf " +
        "(default 1; boost 20)" };
    public Option<string?> MinSamplesSplit { get; } = new("--min-samples-split") { Description = "tree, forest: fewest rows a node needs to be " +
        "split (default 2)" };
    public Option<string?> MaxFeatures { get; } = new("--max-features") { Description = "tree, forest: features tried per split: sqrt, log2, all, " +
        "a fraction or a count (default: forest sqrt, tree all)" };
    public Option<string?> Criterion { get; } = new("--criterion") { Description = "tree, forest: gini or entropy (default gini)" };
    public Option<string?> Bootstrap { get; } = new("--bootstrap") { Description = "forest: true (each tree draws N rows with replacement; " +
        "out-of-bag accuracy) or false (default true)" };
    public Option<string?> SplitSearch { get; } = new("--split-search") { Description = $"tree, forest: auto (exact up to " +
        $"{TreeDefaults.ExactRowLimit:N0} rows, else histogram), exact or histogram" };
    public Option<string?> MaxBins { get; } = new("--max-bins") { Description = "tree, forest, boost: histogram bins per feature, 2..255, fitted " +
        "on the training images (default 255)" };
    public Option<string?> Rounds { get; } = new("--rounds") { Description = "boost: boosting rounds, one tree per class each (default 100)" };
    public Option<string?> Leaves { get; } = new("--leaves") { Description = "boost: leaves per tree, grown best-first (default 31)" };
    public Option<string?> L2 { get; } = new("--l2") { Description = "boost: L2 penalty λ on leaf values, −G/(H+λ) (default 0)" };
    public Option<string?> MinGain { get; } = new("--min-gain") { Description = "boost: least loss reduction a split must bring (default 0)" };
    public Option<string?> MinHessian { get; } = new("--min-hessian") { Description = "boost: least hessian sum per leaf (default 1e-3)" };
    public Option<string?> Subsample { get; } = new("--subsample") { Description = "boost: share of rows each round learns from; forest: rows " +
        "drawn per tree as a share of N (default 1)" };
    public Option<string?> Colsample { get; } = new("--colsample") { Description = "boost: share of features each tree may split on (default 1)" };
    public Option<string?> EarlyStoppingRounds { get; } = new("--early-stopping-rounds") { Description = "boost: stop when the validation loss has " +
        "not improved for this many rounds and keep the best round (needs --validation-fraction > 0)" };
    public Option<string?> Kernel { get; } = new("--kernel") { Description = "kernel-svm: rbf, poly or linear (default rbf)" };
    public Option<string?> Gamma { get; } = new("--gamma") { Description = "kernel-svm: γ of rbf and poly, scale (1/(D·Var X), scikit-learn's " +
        "default), auto (1/D) or a number" };
    public Option<string?> Degree { get; } = new("--degree") { Description = "kernel-svm: degree of the poly kernel (default 3)" };
    public Option<string?> Coef0 { get; } = new("--coef0") { Description = "kernel-svm: constant of the poly kernel (default 0)" };
    public Option<string?> CacheMegabytes { get; } = new("--cache-mb") { Description = "kernel-svm: memory for kernel values in MB (default 2000); " +
        "the whole kernel matrix is computed at once when it fits" };
    public Option<string?> Probability { get; } = new("--probability") { Description = "kernel-svm: how pairwise probabilities are calibrated: " +
        "auto (on the validation split when there is one, else the training decisions) or cv (libsvm's 5-fold, slower)" };

    public Option<string?> Approximation { get; } = new("--approx") { Description = "kernel-svm: exact (libsvm's SMO on the whole kernel " +
        "matrix, the default) or nystroem (a Nyström map of --components landmarks feeding the exact linear SVM: time grows with N, not N², " +
        "for 60,000 images; the model file's kind is nystroem-svm)" };
    public Option<string?> Components { get; } = new("--components") { Description = "kernel-svm --approx nystroem: landmarks, the length of " +
        "the mapped rows (default 2000)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Trees, MaxDepth, MinSamplesLeaf, MinSamplesSplit, MaxFeatures, Criterion, Bootstrap, SplitSearch,
            MaxBins, Rounds, Leaves,
                     L2, MinGain, MinHessian, Subsample, Colsample, EarlyStoppingRounds, Kernel, Gamma, Degree, Coef0, CacheMegabytes, Probability,
                     Approximation, Components })
            command.Options.Add(option);
    }

    /// <summary>The trainer of <paramref name="kind"/> (one of <see cref="Kinds"/>) from the flags.</summary>
    /// <exception cref="UsageException">A value that does not parse or is out of range, naming its flag; a flag of another model.</exception>
    public IClassifierTrainer CreateTrainer(ParseResult parse, string kind, FeaturePipeline? features, int seed, double? learningRate,
        NetworkOptions network)
    {
        RejectOthers(parse, kind);
        try
        {
            return kind switch
            {
                TreeModelFile.TreeKind => new DecisionTreeTrainer(TreeOptions(parse, FeatureCount.All), features, seed),
                TreeModelFile.ForestKind => new RandomForestTrainer(ForestOptions(parse), features, seed),
                TreeModelFile.BoostKind => new GradientBoostingTrainer(BoostOptions(parse, learningRate), features, seed, ValidationFraction(parse,
                    network, 0)),
                _ when Approximate(parse) => new NystroemSvmTrainer(NystroemOptions(parse, network), features, seed),
                _ => new KernelSvmTrainer(SvmOptions(parse, network), features, seed, ValidationFraction(parse, network, 0)),
            };
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new UsageException($"{FlagOf(e.ParamName)}: {e.Message.Split(" (Parameter")[0]}");
        }
    }

    private DecisionTreeOptions TreeOptions(ParseResult parse, FeatureCount defaultFeatures) => new(
        Criterion: Read(parse, Criterion, "--criterion", t => t.ToLowerInvariant() switch { "gini" => SplitCriterion.Gini, "entropy" =>
            SplitCriterion.Entropy, _ => (SplitCriterion?)null })
            ?? SplitCriterion.Gini,
        MaxDepth: Int(parse, MaxDepth, "--max-depth", 1),
        MinSamplesLeaf: Int(parse, MinSamplesLeaf, "--min-samples-leaf", 1) ?? 1,
        MinSamplesSplit: Int(parse, MinSamplesSplit, "--min-samples-split", 2) ?? 2,
        MaxFeatures: Read(parse, MaxFeatures, "--max-features", t => TryParse(() => FeatureCount.Parse(t))) ?? defaultFeatures,
        Search: Read(parse, SplitSearch, "--split-search", t => Enum.TryParse<SplitSearch>(t, true, out var s)
            && Enum.IsDefined(s) ? s : (SplitSearch?)null)
            ?? Classic.Trees.SplitSearch.Auto,
        MaxBins: Int(parse, MaxBins, "--max-bins", 2) ?? TreeDefaults.MaxBins);

    private RandomForestOptions ForestOptions(ParseResult parse)
    {
        bool bootstrap = Read(parse, Bootstrap, "--bootstrap", t => bool.TryParse(t, out bool b) ? b : (bool?)null) ?? true;
        return new RandomForestOptions(Int(parse, Trees, "--trees", 1) ?? 100, TreeOptions(parse, FeatureCount.Sqrt), bootstrap,
            Double(parse, Subsample, "--subsample") ?? 1, OutOfBag: bootstrap);
    }

    private GradientBoostingOptions BoostOptions(ParseResult parse, double? learningRate) => new(
        Rounds: Int(parse, Rounds, "--rounds", 1) ?? 100,
        LearningRate: learningRate ?? 0.1,
        MaxLeaves: Int(parse, Leaves, "--leaves", 2) ?? 31,
        MaxDepth: Int(parse, MaxDepth, "--max-depth", 1),
        MinSamplesLeaf: Int(parse, MinSamplesLeaf, "--min-samples-leaf", 1) ?? 20,
        MinHessian: Double(parse, MinHessian, "--min-hessian") ?? 1e-3,
        L2: Double(parse, L2, "--l2") ?? 0,
        MinGain: Double(parse, MinGain, "--min-gain") ?? 0,
        Subsample: Double(parse, Subsample, "--subsample") ?? 1,
        ColumnSample: Double(parse, Colsample, "--colsample") ?? 1,
        EarlyStoppingRounds: Int(parse, EarlyStoppingRounds, "--early-stopping-rounds", 1),
        MaxBins: Int(parse, MaxBins, "--max-bins", 2) ?? TreeDefaults.MaxBins);

    private KernelSvmOptions SvmOptions(ParseResult parse, NetworkOptions network) => new(
        Kernel: Read(parse, Kernel, "--kernel", KernelSvmModelFile.ParseKernel) ?? KernelKind.Rbf,
        C: parse.GetValue(network.C) is string text ? Number(text, "--c") : 1,
        Gamma: Read(parse, Gamma, "--gamma", t => TryParse(() => GammaSetting.Parse(t))) ?? GammaSetting.Scale,
        Degree: Int(parse, Degree, "--degree", 1) ?? 3,
        Coef0: Double(parse, Coef0, "--coef0") ?? 0,
        Tolerance: parse.GetValue(network.Tolerance) ?? 1e-3,
        CacheMegabytes: Int(parse, CacheMegabytes, "--cache-mb", 1) ?? 2000,
        Probability: Read(parse, Probability, "--probability", t => t.ToLowerInvariant() switch
        {
            "auto" => ProbabilityCalibration.Auto,
            "cv" or "cross-validation" => ProbabilityCalibration.CrossValidation,
            _ => (ProbabilityCalibration?)null,
        }) ?? ProbabilityCalibration.Auto);

    private bool Approximate(ParseResult parse) => Read(parse, Approximation, "--approx", t => t.ToLowerInvariant() switch
    {
        "exact" or "none" => false,
        "nystroem" or "nystrom" => true,
        _ => (bool?)null,
    }) ?? false;

    private NystroemSvmOptions NystroemOptions(ParseResult parse, NetworkOptions network)
    {
        if (parse.GetResult(CacheMegabytes) is { Implicit: false } || parse.GetResult(Probability) is { Implicit: false })
            throw new UsageException("--cache-mb and --probability apply to the exact kernel SVM, not to --approx nystroem.");
        return new(
            Kernel: Read(parse, Kernel, "--kernel", KernelSvmModelFile.ParseKernel) ?? KernelKind.Rbf,
            C: parse.GetValue(network.C) is string text ? Number(text, "--c") : 1,
            Gamma: Read(parse, Gamma, "--gamma", t => TryParse(() => GammaSetting.Parse(t))) ?? GammaSetting.Scale,
            Components: Int(parse, Components, "--components", 1) ?? 2000,
            Degree: Int(parse, Degree, "--degree", 1) ?? 3,
            Coef0: Double(parse, Coef0, "--coef0") ?? 0,
            Tolerance: parse.GetValue(network.Tolerance) ?? 0.1);
    }

    private static double ValidationFraction(ParseResult parse, NetworkOptions network, double fallback) =>
        parse.GetValue(network.ValidationFraction) ?? fallback;

    /// <summary>Refuses this group's flags for a model outside it (knn, the networks), which would ignore them.</summary>
    /// <exception cref="UsageException">Some of them were given.</exception>
    public void RejectAll(ParseResult parse, string kind) => RejectOthers(parse, kind);

    // Flags of this group that the chosen model does not read are mistakes, not silent no-ops.
    private void RejectOthers(ParseResult parse, string kind)
    {
        var uses = kind switch
        {
            TreeModelFile.TreeKind => new Option[] { MaxDepth, MinSamplesLeaf, MinSamplesSplit, MaxFeatures, Criterion, SplitSearch, MaxBins },
            TreeModelFile.ForestKind => [Trees, MaxDepth, MinSamplesLeaf, MinSamplesSplit, MaxFeatures, Criterion, Bootstrap, SplitSearch, MaxBins,
                Subsample],
            TreeModelFile.BoostKind => [Rounds, Leaves, MaxDepth, MinSamplesLeaf, MaxBins, L2, MinGain, MinHessian, Subsample, Colsample,
                EarlyStoppingRounds],
            KernelSvmModelFile.Kind => [Kernel, Gamma, Degree, Coef0, CacheMegabytes, Probability, Approximation, Components],
            _ => Array.Empty<Option>(),
        };
        var ignored = new Option[] { Trees, MaxDepth, MinSamplesLeaf, MinSamplesSplit, MaxFeatures, Criterion, Bootstrap, SplitSearch, MaxBins,
            Rounds, Leaves, L2,
                MinGain, MinHessian, Subsample, Colsample, EarlyStoppingRounds, Kernel, Gamma, Degree, Coef0, CacheMegabytes, Probability,
                Approximation, Components }
            .Where(o => !uses.Contains(o) && parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (ignored.Count > 0)
            throw new UsageException($"{string.Join(", ", ignored)} do{(ignored.Count == 1 ? "es" : "")} not apply to --model {kind}.");
    }

    /// <summary>Flags of other models that these kinds ignore (for a warning).</summary>
    public static IEnumerable<string> UnusedNetworkFlags(ParseResult parse, NetworkOptions network, string kind)
    {
        var options = new List<Option> { network.Hidden, network.Optimizer, network.Momentum, network.WeightDecay, network.Schedule, network.Reg,
            network.Patience,
            network.Solver, network.Resume, network.Flip, network.Tta, network.LabelSmoothing };
        if (kind != KernelSvmModelFile.Kind) options.AddRange([network.C, network.Tolerance]);
        if (kind is not (TreeModelFile.BoostKind or KernelSvmModelFile.Kind)) options.Add(network.ValidationFraction);
        return options.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name);
    }

    private static T? Read<T>(ParseResult parse, Option<string?> option, string flag, Func<string, T?> read) where T : struct
    {
        if (parse.GetValue(option) is not string text) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 1) throw new UsageException($"{flag} takes one value here ('{text}'); use `sharpvision cv` to compare several.");
        return read(parts[0]) ?? throw new UsageException($"{flag}: invalid value '{parts[0]}'.");
    }

    private static int? Int(ParseResult parse, Option<string?> option, string flag, int min) =>
        Read(parse, option, flag, t => int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)
            && v >= min ? v : (int?)null);

    private static double? Double(ParseResult parse, Option<string?> option, string flag) =>
        Read(parse, option, flag, t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            && double.IsFinite(v) ? v : (double?)null);

    private static double Number(string text, string flag)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 1) throw new UsageException($"{flag} takes one value here ('{text}'); use `sharpvision cv` to compare several.");
        return double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) && v > 0
            ? v : throw new UsageException($"{flag}: '{parts[0]}' is not a positive number.");
    }

    private static T? TryParse<T>(Func<T> parse) where T : struct
    {
        try
        {
            return parse();
        }
        catch (FormatException)
        {
            return null;
        }
    }

    // The flag that sets an option (for messages that name what to change).
    private static string FlagOf(string? option) => option switch
    {
        "Trees" => "--trees",
        "MaxDepth" => "--max-depth",
        "MinSamplesLeaf" => "--min-samples-leaf",
        "MinSamplesSplit" => "--min-samples-split",
        "MaxFeatures" => "--max-features",
        "MaxBins" => "--max-bins",
        "SampleFraction" or "Subsample" => "--subsample",
        "Rounds" => "--rounds",
        "LearningRate" => "--lr",
        "MaxLeaves" => "--leaves",
        "MinHessian" => "--min-hessian",
        "L2" => "--l2",
        "MinGain" => "--min-gain",
        "ColumnSample" => "--colsample",
        "EarlyStoppingRounds" => "--early-stopping-rounds",
        "C" => "--c",
        "Gamma" => "--gamma",
        "Degree" => "--degree",
        "Coef0" => "--coef0",
        "Tolerance" => "--tol",
        "Components" => "--components",
        "CacheMegabytes" => "--cache-mb",
        "validationFraction" => "--validation-fraction",
        _ => option ?? "model",
    };
}

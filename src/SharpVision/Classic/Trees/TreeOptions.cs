using System.Globalization;
using System.Text.Json.Nodes;

namespace SharpVision.Classic.Trees;

/// <summary>The impurity a classification tree's splits reduce.</summary>
public enum SplitCriterion
{
    /// <summary>Gini impurity 1 − Σₖ pₖ² (scikit-learn's default).</summary>
    Gini,

    /// <summary>Entropy −Σₖ pₖ·log₂ pₖ (information gain).</summary>
    Entropy,
}

/// <summary>How split thresholds are searched.</summary>
public enum SplitSearch
{
    /// <summary><see cref="Exact"/> up to <see cref="TreeDefaults.ExactRowLimit"/> training rows, else <see cref="Histogram"/>.</summary>
    Auto,

    /// <summary>Every midpoint between consecutive distinct training values of a node (scikit-learn's splitter).</summary>
    Exact,

    /// <summary>Only the edges of at most <c>MaxBins</c> quantile bins per feature, fitted on the training split.</summary>
    Histogram,
}

/// <summary>How many features a split considers (scikit-learn's <c>max_features</c>).</summary>
public enum FeatureCountRule
{
    /// <summary>Every feature.</summary>
    All,

    /// <summary>⌊√D⌋ (at least 1).</summary>
    Sqrt,

    /// <summary>⌊log₂ D⌋ (at least 1).</summary>
    Log2,

    /// <summary>⌊fraction·D⌋ (at least 1).</summary>
    Fraction,

    /// <summary>A fixed number (at most D).</summary>
    Count,
}

/// <summary>Features tried per split: a rule and, for <see cref="FeatureCountRule.Fraction"/> and <see cref="FeatureCountRule.Count"/>, its
/// value.</summary>
public readonly record struct FeatureCount(FeatureCountRule Rule, double Value = 0)
{
    public static FeatureCount All => new(FeatureCountRule.All);

    public static FeatureCount Sqrt => new(FeatureCountRule.Sqrt);

    public static FeatureCount Log2 => new(FeatureCountRule.Log2);

    /// <summary>⌊<paramref name="fraction"/>·D⌋ features, 0 &lt; fraction ≤ 1.</summary>
    public static FeatureCount Fraction(double fraction) => new(FeatureCountRule.Fraction, fraction);

    /// <summary><paramref name="count"/> features (at most D).</summary>
    public static FeatureCount Fixed(int count) => new(FeatureCountRule.Count, count);

    /// <summary>The number of features for D = <paramref name="dimension"/>.</summary>
    public int Resolve(int dimension) => Rule switch
    {
        FeatureCountRule.All => dimension,
        FeatureCountRule.Sqrt => Math.Max(1, (int)Math.Sqrt(dimension)),
        FeatureCountRule.Log2 => Math.Max(1, (int)Math.Log2(dimension)),
        FeatureCountRule.Fraction => Math.Max(1, (int)(Value * dimension)),
        _ => Math.Min(dimension, (int)Value),
    };

    /// <summary>Throws unless the value suits the rule.</summary>
    public void Validate(string parameter)
    {
        if (!Enum.IsDefined(Rule)) throw new ArgumentOutOfRangeException(parameter, Rule, "Unknown feature-count rule.");
        if (Rule == FeatureCountRule.Fraction && !(Value > 0 && Value <= 1))
            throw new ArgumentOutOfRangeException(parameter, Value, "A feature fraction must be in (0, 1].");
        if (Rule == FeatureCountRule.Count && !(Value >= 1 && Value == Math.Floor(Value) && Value <= int.MaxValue))
            throw new ArgumentOutOfRangeException(parameter, Value, "A feature count must be a whole number ≥ 1.");
    }

    /// <summary>Parses "all", "sqrt", "log2", a fraction such as "0.3", or a count such as "28".</summary>
    /// <exception cref="FormatException">Anything else.</exception>
    public static FeatureCount Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t is "all" or "none") return All;
        if (t == "sqrt") return Sqrt;
        if (t == "log2") return Log2;
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count >= 1) return Fixed(count);
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double fraction) && fraction > 0
            && fraction <= 1) return Fraction(fraction);
        throw new FormatException($"'{text}' is not a feature count: use all, sqrt, log2, a fraction in (0, 1] or a whole number ≥ 1.");
    }

    /// <summary>"all", "sqrt", "log2", the fraction or the count: what <see cref="Parse"/> reads back.</summary>
    public override string ToString() => Rule switch
    {
        FeatureCountRule.All => "all",
        FeatureCountRule.Sqrt => "sqrt",
        FeatureCountRule.Log2 => "log2",
        FeatureCountRule.Fraction => Value.ToString("R", CultureInfo.InvariantCulture),
        _ => ((int)Value).ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>Defaults shared by the tree families.</summary>
public static class TreeDefaults
{
    /// <summary><see cref="SplitSearch.Auto"/> searches exactly up to this many training rows.</summary>
    public const int ExactRowLimit = 10_000;

    /// <summary>Histogram bins per feature (LightGBM's and <c>HistGradientBoostingClassifier</c>'s 255).</summary>
    public const int MaxBins = FeatureBins.MaxHistogramBins;
}

/// <summary>How a CART classification tree grows (scikit-learn's <c>DecisionTreeClassifier</c> parameters).</summary>
/// <param name="Criterion">Gini or entropy.</param>
/// <param name="MaxDepth">Deepest split level (null: grow until pure or too small).</param>
/// <param name="MinSamplesLeaf">Fewest training rows a leaf may hold.</param>
/// <param name="MinSamplesSplit">Fewest training rows a node needs to be split.</param>
/// <param name="MaxFeatures">Features tried per split, drawn afresh at each node (features constant in a node do not count).</param>
/// <param name="Search">Exact or histogram thresholds.</param>
/// <param name="MaxBins">Bins per feature of histogram search (2..255).</param>
public sealed record DecisionTreeOptions(SplitCriterion Criterion = SplitCriterion.Gini, int? MaxDepth = null, int MinSamplesLeaf = 1,
    int MinSamplesSplit = 2,
    FeatureCount MaxFeatures = default, SplitSearch Search = SplitSearch.Auto, int MaxBins = TreeDefaults.MaxBins)
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Criterion)) throw new ArgumentOutOfRangeException(nameof(Criterion), Criterion, "Unknown split criterion.");
        if (MaxDepth is < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxDepth), MaxDepth, "The maximum depth must be at least 1 (or unlimited).");
        if (MinSamplesLeaf < 1) throw new ArgumentOutOfRangeException(nameof(MinSamplesLeaf), MinSamplesLeaf, "A leaf holds at least 1 row.");
        if (MinSamplesSplit < 2) throw new ArgumentOutOfRangeException(nameof(MinSamplesSplit), MinSamplesSplit, "A split needs at least 2 rows.");
        MaxFeatures.Validate(nameof(MaxFeatures));
        if (!Enum.IsDefined(Search)) throw new ArgumentOutOfRangeException(nameof(Search), Search, "Unknown split search.");
        if (MaxBins is < 2 or > FeatureBins.MaxHistogramBins)
            throw new ArgumentOutOfRangeException(nameof(MaxBins), MaxBins, $"Bins per feature must be in 2..{FeatureBins.MaxHistogramBins}.");
    }

    /// <summary>The options as run folders and model files record them (scikit-learn's names).</summary>
    public JsonObject ToJson() => new()
    {
        ["criterion"] = Criterion == SplitCriterion.Entropy ? "entropy" : "gini",
        ["max_depth"] = MaxDepth,
        ["min_samples_leaf"] = MinSamplesLeaf,
        ["min_samples_split"] = MinSamplesSplit,
        ["max_features"] = MaxFeatures.ToString(),
        ["search"] = Search.ToString().ToLowerInvariant(),
        ["max_bins"] = MaxBins,
    };

    /// <summary>Whether <see cref="Search"/> is exact for <paramref name="rows"/> training rows.</summary>
    public bool SearchesExactly(int rows) => Search == SplitSearch.Exact || (Search == SplitSearch.Auto && rows <= TreeDefaults.ExactRowLimit);
}

/// <summary>How a random forest is grown (scikit-learn's <c>RandomForestClassifier</c> parameters).</summary>
/// <param name="Trees">Number of trees.</param>
/// <param name="Tree">How each tree grows; a forest tries √D features per split unless told otherwise.</param>
/// <param name="Bootstrap">Each tree learns from N rows drawn with replacement (else from every row).</param>
/// <param name="SampleFraction">Rows drawn per tree, as a fraction of N (scikit-learn's <c>max_samples</c>).</param>
/// <param name="OutOfBag">Score each training row with the trees that did not draw it (needs <paramref name="Bootstrap"/>).</param>
public sealed record RandomForestOptions(int Trees = 100, DecisionTreeOptions? Tree = null, bool Bootstrap = true, double SampleFraction = 1.0,
    bool OutOfBag = true)
{
    /// <summary>The tree options in effect: <see cref="Tree"/>, or the forest default (Gini, √D features per split).</summary>
    public DecisionTreeOptions TreeOptions => Tree ?? new DecisionTreeOptions(MaxFeatures: FeatureCount.Sqrt);

    /// <summary>The options as run folders and model files record them (scikit-learn's names).</summary>
    public JsonObject ToJson()
    {
        var json = TreeOptions.ToJson();
        json["trees"] = Trees;
        json["bootstrap"] = Bootstrap;
        json["sample_fraction"] = SampleFraction;
        json["oob_score"] = OutOfBag;
        return json;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Trees < 1) throw new ArgumentOutOfRangeException(nameof(Trees), Trees, "A forest needs at least 1 tree.");
        TreeOptions.Validate();
        if (!(SampleFraction > 0 && SampleFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(SampleFraction), SampleFraction, "The sample fraction must be in (0, 1].");
        if (OutOfBag && !Bootstrap) throw new ArgumentOutOfRangeException(nameof(OutOfBag), "Out-of-bag scores need bootstrap samples.");
    }
}

using SharpVision.Analysis;
using System.Globalization;
using SharpVision.Classic;
using SharpVision.Data;
using System.Text.Json.Nodes;
using SharpVision.Evaluation;
using SharpVision.Features;
using SharpVision.Nn;
using SharpVision.Reports.Charts;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;
using SharpVision.Training;

namespace SharpVision.Reports;

/// <summary>Everything a run report shows; the parts a run does not have stay empty and their sections are left out.</summary>
public sealed record RunReportInput
{
    /// <summary>Page title, e.g. "cnn2 on fashion-mnist".</summary>
    public required string Title { get; init; }

    /// <summary>Line under the title (the run folder, say).</summary>
    public string? Subtitle { get; init; }

    /// <summary>The run's key facts (model, data, recipe, timings) as label–value rows.</summary>
    public IReadOnlyList<(string Label, string Value)> Summary { get; init; } = [];

    /// <summary>metrics.jsonl: one entry per epoch.</summary>
    public IReadOnlyList<EpochMetrics> Epochs { get; init; } = [];

    /// <summary>steps.jsonl: one entry per optimizer step.</summary>
    public IReadOnlyList<StepMetrics> Steps { get; init; } = [];

    /// <summary>The dual SVM solver's candidates of C with their validation accuracy (train --solver dual with several C).</summary>
    public IReadOnlyList<Training.DualSvmCandidate> SolverCandidates { get; init; } = [];

    /// <summary>The C the dual solver's final model used (null: not a dual-solver run).</summary>
    public double? SolverC { get; init; }

    /// <summary>The boosting curve of a boosted-trees run (metrics.json's boosting.rounds).</summary>
    public IReadOnlyList<Classic.Trees.BoostingRound> BoostingRounds { get; init; } = [];

    /// <summary>Cross-validation results (cv runs).</summary>
    public IReadOnlyList<CrossValidationResult> CrossValidation { get; init; } = [];

    /// <summary>The trained model (k-NN or network), for the evaluation and model sections.</summary>
    public IImageClassifier? Model { get; init; }

    /// <summary>The test split the model is evaluated on.</summary>
    public ImageDataset? Test { get; init; }

    /// <summary>The model's predictions on <see cref="Test"/> (computed when null).</summary>
    public Predictions? Predictions { get; init; }

    /// <summary>Worker threads for predictions the report computes itself.</summary>
    public int Threads { get; init; }

    /// <summary>The recipe's label smoothing ε (0: none): the training loss is then measured against smoothed targets.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>The recipe trained on randomly flipped images (the training loss and accuracy are measured on them).</summary>
    public bool Augmented { get; init; }
}

/// <summary>What an embedding map is drawn from: one row of features per test image shown, with its labels.</summary>
/// <param name="Features">Count × Dimension values, row-major: a network's penultimate activations (the input of its last linear layer), or a k-NN model's pixels scaled to [0, 1].</param>
/// <param name="Count">Images.</param>
/// <param name="Dimension">Features per image.</param>
/// <param name="Labels">True class of each image.</param>
/// <param name="Predicted">Predicted class of each image.</param>
/// <param name="ClassNames">Class names in label order.</param>
/// <param name="TestIndices">Which test images the rows are.</param>
public sealed record EmbeddingMapInput(float[] Features, int Count, int Dimension, int[] Labels, int[] Predicted, IReadOnlyList<string> ClassNames, int[] TestIndices);

/// <summary>
/// The embedding-map hook: turns penultimate activations into a figure (e.g. a t-SNE scatter as SVG). Returns the
/// figure's markup, escaped by the renderer; <see cref="RunReport"/> wraps it in the "Embedding map" section.
/// </summary>
public delegate string EmbeddingMapRenderer(EmbeddingMapInput input);

/// <summary>Options of <see cref="RunReport.Build"/>.</summary>
public sealed record RunReportOptions
{
    /// <summary>Most misclassified test images shown (the most confident mistakes first).</summary>
    public int MisclassifiedImages { get; init; } = 48;

    /// <summary>Most-confused (true, predicted) pairs shown, each with up to <see cref="PairExamples"/> images.</summary>
    public int ConfusedPairs { get; init; } = 5;

    public int PairExamples { get; init; } = 8;

    /// <summary>Points per step curve at most (bucket means beyond that; the full log stays in steps.jsonl).</summary>
    public int MaxCurvePoints { get; init; } = 600;

    /// <summary>k-NN retrieval grid: the first test image of each class, up to this many queries.</summary>
    public int RetrievalQueries { get; init; } = 10;

    /// <summary>Neighbours shown per query at most.</summary>
    public int RetrievalNeighbors { get; init; } = 10;

    /// <summary>
    /// Hook for the "Embedding map" section (t-SNE of penultimate activations, drawn by SharpVision.Analysis): null
    /// leaves the section out. It receives the first <see cref="EmbeddingSampleSize"/> test images' activations.
    /// </summary>
    public EmbeddingMapRenderer? EmbeddingMap { get; init; }

    public int EmbeddingSampleSize { get; init; } = 1024; // two of the 512-image slices a backbone's prediction cache stores
}

/// <summary>
/// Builds a run's self-contained HTML report: training curves per step and per epoch with the learning-rate schedule;
/// the confusion matrix, per-class precision/recall, the most confused pairs and the misclassified images; then what
/// the model learned — k-NN retrieval grids, linear templates, or a CNN's first-layer filters and feature maps; and for
/// cross-validation, mean accuracy ± 1 std against k. Deterministic: the same input gives the same bytes.
/// </summary>
public static class RunReport
{
    /// <summary>Figure ids, as <c>data-figure</c> attributes on the page.</summary>
    public static class Figures
    {
        public const string LossPerStep = "loss-per-step";
        public const string AccuracyPerStep = "accuracy-per-step";
        public const string LossPerEpoch = "loss-per-epoch";
        public const string AccuracyPerEpoch = "accuracy-per-epoch";
        public const string LearningRate = "learning-rate";
        public const string ConfusionMatrix = "confusion-matrix";
        public const string ConfusedPairs = "confused-pairs";
        public const string Misclassified = "misclassified";
        public const string NearestNeighbors = "nearest-neighbors";
        /// <summary>Nearest test images in a pretrained network's feature space.</summary>
        public const string FeatureNeighbors = "feature-neighbors";
        public const string Templates = "templates";
        public const string Filters = "first-layer-filters";
        public const string FeatureMaps = "feature-maps";
        public const string CrossValidation = "cv-accuracy";
        public const string SolverSearch = "solver-c-search";
        public const string EmbeddingMap = "embedding-map";
        public const string AttentionRollout = "attention-rollout";
        public const string PositionSimilarity = "position-similarity";
    }

    /// <summary>The report page.</summary>
    /// <exception cref="ArgumentException">Model, test set and predictions do not fit together.</exception>
    public static string Build(RunReportInput input, RunReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var threads = Engine.UseThreads(input.Threads);
        options ??= new RunReportOptions();
        var page = new HtmlReport(input.Title, input.Subtitle);
        if (input.Summary.Count > 0)
            page.AddSection("summary", "Run", HtmlReport.KeyValueTable(input.Summary));
        if (input.CrossValidation.Count > 0) page.AddSection("cross-validation", "Cross-validation", CrossValidationSection(input.CrossValidation));
        if (input.Epochs.Count > 0 || input.Steps.Count > 0) page.AddSection("training", "Training", TrainingSection(input, options));
        if (input.SolverCandidates.Count > 0) page.AddSection("solver", "Choice of C", SolverSection(input.SolverCandidates, input.SolverC));

        if (input.Model is { } model && input.Test is { } test)
        {
            if (!test.ClassNames.SequenceEqual(model.ClassNames))
                throw new ArgumentException($"The test set's classes ({string.Join(", ", test.ClassNames)}) are not the model's ({string.Join(", ", model.ClassNames)}).", nameof(input));
            var predictions = input.Predictions ?? model.Predict(test.Pixels, input.Threads);
            if (predictions.Count != test.Count) throw new ArgumentException($"{predictions.Count} predictions for {test.Count} test images.", nameof(input));
            var metrics = ClassificationMetrics.Compute(test.Labels, predictions, test.ClassNames);
            page.AddSection("evaluation", "Test evaluation", EvaluationSection(metrics));
            page.AddSection("mistakes", "Mistakes", MistakesSection(model, test, predictions, metrics, options));
            switch (model)
            {
                case KNearestNeighborsModel knn:
                    page.AddSection("neighbors", "Nearest neighbours", NeighborsSection(knn, test, predictions, options));
                    break;
                case NetworkClassifier network when FirstConv(network) is not null:
                    page.AddSection("filters", "First convolution layer", ConvSection(network, test));
                    break;
                case NetworkClassifier network when Templates.Unsupported(network) is null:
                    page.AddSection("templates", "Learned templates", TemplatesSection(network));
                    break;
                case Classic.Trees.ForestModel forest:
                    page.AddSection("trees", forest.Kind == "tree" ? "The tree" : "The forest", ClassicSections.Forest(forest));
                    break;
                case Classic.Trees.BoostedTreesModel boosted:
                    page.AddSection("boosting", "Boosting", ClassicSections.Boosted(boosted, input.BoostingRounds));
                    break;
                case Classic.Svm.KernelSvmModel svm:
                    page.AddSection("support-vectors", "Support vectors", ClassicSections.SupportVectors(svm));
                    break;
            }
            if (model is NetworkClassifier transformer && AttentionPictures.Applies(transformer))
                page.AddSection("attention", "What the transformer attends to", AttentionPictures.Section(transformer, test, predictions));
            if (options.EmbeddingMap is { } renderer)
                page.AddSection("embedding", "Embedding map", HtmlReport.Figure(Figures.EmbeddingMap, renderer(EmbeddingInput(model, test, predictions, options.EmbeddingSampleSize)),
                    $"Test images placed by {EmbeddingSource(model)} (t-SNE), colored by true class."));
            if (PretrainedFeatures(model) is { } pretrained)
                page.AddSection("feature-neighbors", "Nearest neighbours in feature space",
                    FeatureNeighbors.Section(pretrained, test, predictions, options.EmbeddingSampleSize, options.RetrievalQueries,
                        options.RetrievalNeighbors));
        }
        return page.ToHtml();
    }

    // ---- training curves ----

    private static string TrainingSection(RunReportInput input, RunReportOptions options)
    {
        var figures = new List<string>();
        var steps = input.Steps;
        var epochs = input.Epochs;
        bool validation = epochs.Any(e => e.ValidationLoss is not null);
        string lossNote = LossNote(input, validation);
        // Per step: minibatch values (bucket means once there are many), validation at each epoch's last step.
        if (steps.Count > 0)
        {
            string bucket = steps.Count > options.MaxCurvePoints ? string.Create(CultureInfo.InvariantCulture, $" (means of {Math.Ceiling(steps.Count / (double)options.MaxCurvePoints):F0}-step buckets)") : "";
            var loss = new List<ChartSeries> { new ChartSeries("train loss (minibatch)", steps.Select(s => ((double)s.Step, s.Loss)).ToList()).Downsample(options.MaxCurvePoints) };
            var accuracy = new List<ChartSeries> { new ChartSeries("train accuracy (minibatch)", steps.Select(s => ((double)s.Step, s.Accuracy)).ToList()).Downsample(options.MaxCurvePoints) };
            if (validation)
            {
                loss.Add(new ChartSeries("validation loss", epochs.Select(e => ((double)e.Step, e.ValidationLoss ?? double.NaN)).ToList(), SeriesStyle.LineAndMarkers));
                accuracy.Add(new ChartSeries("validation accuracy", epochs.Select(e => ((double)e.Step, e.ValidationAccuracy ?? double.NaN)).ToList(), SeriesStyle.LineAndMarkers));
            }
            figures.Add(HtmlReport.Figure(Figures.LossPerStep, new LineChart { Title = "Loss per step", XLabel = "step", YLabel = "loss", Series = loss, IncludeY = [0] }.ToSvg(),
                $"Training loss of each minibatch{bucket}" +
                $"{(validation ? "; validation loss after each epoch" : " (this run held out no validation split)")}.{lossNote}"));
            figures.Add(HtmlReport.Figure(Figures.AccuracyPerStep, new LineChart { Title = "Accuracy per step", XLabel = "step", YLabel = "accuracy", Series = accuracy }.ToSvg(),
                $"Share of each minibatch classified correctly before its update{bucket}" +
                $"{(validation ? "; validation accuracy after each epoch" : "")}."));
            figures.Add(HtmlReport.Figure(Figures.LearningRate, new LineChart
            {
                Title = "Learning rate",
                XLabel = "step",
                YLabel = "learning rate",
                Series = [new ChartSeries("learning rate", steps.Select(s => ((double)s.Step, s.LearningRate)).ToList()).Downsample(options.MaxCurvePoints)],
                IncludeY = [0],
            }.ToSvg(), "The learning-rate schedule, step by step."));
        }
        if (epochs.Count > 0)
        {
            var loss = new List<ChartSeries> { new("train loss", epochs.Select(e => ((double)e.Epoch, e.TrainLoss)).ToList(), SeriesStyle.LineAndMarkers) };
            var accuracy = new List<ChartSeries> { new("train accuracy", epochs.Select(e => ((double)e.Epoch, e.TrainAccuracy)).ToList(), SeriesStyle.LineAndMarkers) };
            if (validation)
            {
                loss.Add(new ChartSeries("validation loss", epochs.Select(e => ((double)e.Epoch, e.ValidationLoss ?? double.NaN)).ToList(), SeriesStyle.LineAndMarkers, Dashed: true));
                accuracy.Add(new ChartSeries("validation accuracy", epochs.Select(e => ((double)e.Epoch, e.ValidationAccuracy ?? double.NaN)).ToList(), SeriesStyle.LineAndMarkers, Dashed: true));
            }
            figures.Add(HtmlReport.Figure(Figures.LossPerEpoch, new LineChart { Title = "Loss per epoch", XLabel = "epoch", IntegerX = true, YLabel = "loss", Series = loss, IncludeY = [0] }.ToSvg(),
                "Mean training loss over each epoch's minibatches (as the weights changed)" +
                $"{(validation ? " and the validation loss at its end" : "")}.{lossNote}"));
            figures.Add(HtmlReport.Figure(Figures.AccuracyPerEpoch, new LineChart { Title = "Accuracy per epoch", XLabel = "epoch", IntegerX = true, YLabel = "accuracy", Series = accuracy }.ToSvg(),
                $"Training accuracy over each epoch's minibatches{(validation ? " and the validation accuracy at its end" : "")}."));
            if (steps.Count == 0)
                figures.Add(HtmlReport.Figure(Figures.LearningRate, new LineChart
                {
                    Title = "Learning rate",
                    XLabel = "epoch",
                    IntegerX = true,
                    YLabel = "learning rate",
                    Series = [new ChartSeries("learning rate (epoch end)", epochs.Select(e => ((double)e.Epoch, e.LearningRate)).ToList(), SeriesStyle.LineAndMarkers)],
                    IncludeY = [0],
                }.ToSvg(), "The learning rate at the end of each epoch (this run has no per-step log)."));
        }
        return "<div class=\"figures\">" + string.Concat(figures) + "</div>";
    }

    // Why the training loss sits where it does: label smoothing puts a floor under it (the entropy of the smoothed
    // target, reached only by predicting it exactly), and the validation loss is plain cross-entropy in evaluation mode.
    private static string LossNote(RunReportInput input, bool validation)
    {
        if (input.LabelSmoothing <= 0) return "";
        int classes = input.Model?.ClassNames.Count ?? input.Test?.ClassNames.Count ?? 0;
        string floor = classes < 2 ? ""
            : string.Create(CultureInfo.InvariantCulture,
                $", which cannot fall below {SmoothedLossFloor(input.LabelSmoothing, classes):F3} for {classes} classes");
        string augmented = input.Augmented ? " on randomly flipped images" : "";
        return string.Create(CultureInfo.InvariantCulture,
                $" The training loss is cross-entropy against label-smoothed targets (ε = {input.LabelSmoothing:G3}){augmented}{floor}") +
            (validation ? "; the validation loss is plain cross-entropy, so it can sit well below the training loss without anything being wrong."
                : ".");
    }

    /// <summary>
    /// The smallest training loss under label smoothing ε with K classes: the entropy of the smoothed target
    /// q = (1 − ε + ε/K for the true class, ε/K for each other), H(q) = −Σ q log q (0.500 for ε = 0.1, K = 10).
    /// </summary>
    public static double SmoothedLossFloor(double epsilon, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        double other = epsilon / classes, own = 1 - epsilon + other;
        return -(own * Math.Log(own)) - (other > 0 ? (classes - 1) * other * Math.Log(other) : 0);
    }

    // The standardized features of a model on a pretrained network's features (any head), else null.
    private static FeatureStandardizer? PretrainedFeatures(IImageClassifier model) => model switch
    {
        NetworkClassifier { Features: { Pipeline.UsesPretrainedNetwork: true } f } => f,
        FeatureKNearestNeighborsModel { Features: { Pipeline.UsesPretrainedNetwork: true } f } => f,
        _ => null,
    };

    // What an embedding map places images by, as EmbeddingInput computes it.
    private static string EmbeddingSource(IImageClassifier model) => model switch
    {
        NetworkClassifier { Features: { } f } n when n.Network.Layers.OfType<Linear>().Count() == 1 =>
            $"the standardized {f.Pipeline.CanonicalConfig} features their linear classifier reads (it has no hidden layer)",
        NetworkClassifier n when n.Network.Layers.OfType<Linear>().Count() == 1 && !n.Network.Layers.Any(l => l is Conv2d) =>
            $"their {PixelsAfter(n.Normalizer.Mode)}, what the linear classifier reads (it has no hidden layer)",
        NetworkClassifier => "their penultimate-layer activations (the input of the last linear layer)",
        FeatureKNearestNeighborsModel { Features: { Pipeline.UsesPretrainedNetwork: true } f } =>
            $"the standardized {f.Pipeline.CanonicalConfig} features k-NN compares",
        FeatureKNearestNeighborsModel => "their raw pixels scaled to [0, 1] (the model itself compares feature vectors)",
        _ => "their raw pixels scaled to [0, 1], what k-NN's distances compare",
    };

    private static string PixelsAfter(NormalizationMode mode) => mode switch
    {
        NormalizationMode.None => "pixels scaled to [0, 1]",
        NormalizationMode.MeanImage => "pixels minus the mean training image",
        NormalizationMode.PerChannel => "pixels standardized per channel",
        _ => "pixels standardized per position",
    };

    // ---- evaluation ----

    private static string EvaluationSection(ClassificationMetrics m)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"Accuracy {m.Accuracy:P2} on {m.Count:N0} test images")
            + (double.IsNaN(m.Top5Accuracy) ? "" : string.Create(CultureInfo.InvariantCulture, $", top-5 {m.Top5Accuracy:P2}"))
            + string.Create(CultureInfo.InvariantCulture, $", macro F1 {m.MacroF1:F4}.");
        var heat = new HeatMap
        {
            Title = "Confusion matrix",
            RowLabels = m.ClassNames,
            ColumnLabels = m.ClassNames,
            Values = m.ConfusionMatrix,
            RowTitle = "true class",
            ColumnTitle = "predicted class",
            CellSize = m.ClassNames.Count <= 12 ? 42 : m.ClassNames.Count <= 30 ? 24 : 12,
        };
        var table = HtmlReport.Table(["class", "precision", "recall", "F1", "support"],
            m.PerClass.Select(c => (IReadOnlyList<string>)[c.Name, F4(c.Precision), F4(c.Recall), F4(c.F1), c.Support.ToString(CultureInfo.InvariantCulture)]),
            new HashSet<int> { 1, 2, 3, 4 });
        return HtmlReport.Paragraph(text) + "<div class=\"figures\">"
            + HtmlReport.Figure(Figures.ConfusionMatrix, heat.ToSvg(), "Rows: true class; columns: predicted class. Numbers are counts; the color is the share of the row (so the diagonal reads as recall).")
            + "<div>" + table + "</div></div>";
    }

    private static string MistakesSection(IImageClassifier model, ImageDataset test, Predictions predictions, ClassificationMetrics metrics, RunReportOptions options)
    {
        string share = model is KNearestNeighborsModel ? "votes" : "p";
        int classes = test.ClassNames.Count;
        ImageTile Tile(int i, bool showTruth)
        {
            int predicted = predictions.Label(i), truth = test.Labels[i];
            float p = predictions.ProbabilitiesOf(i)[predicted];
            var caption = new List<string>();
            if (showTruth) caption.Add("true: " + test.ClassNames[truth]);
            caption.Add(string.Create(CultureInfo.InvariantCulture, $"pred: {test.ClassNames[predicted]} ({share} {p:P0})"));
            var alt = string.Create(CultureInfo.InvariantCulture, $"test image {i}: true {test.ClassNames[truth]}, predicted {test.ClassNames[predicted]} ({share} {p:P1})");
            return new ImageTile(ReportImages.FromPlanes(test.Image(i), test.Channels, test.Height, test.Width), caption, alt, predicted == truth ? TileMark.Right : TileMark.Wrong);
        }

        // Pairs by count (ties: lower true class, then lower predicted class); examples in test order.
        var pairs = new List<(int True, int Predicted, int Count)>();
        for (int t = 0; t < classes; t++)
            for (int p = 0; p < classes; p++)
                if (t != p && metrics.ConfusionMatrix[t][p] > 0) pairs.Add((t, p, metrics.ConfusionMatrix[t][p]));
        pairs = pairs.OrderByDescending(x => x.Count).ThenBy(x => x.True).ThenBy(x => x.Predicted).Take(options.ConfusedPairs).ToList();
        var wrong = Enumerable.Range(0, test.Count).Where(i => predictions.Label(i) != test.Labels[i]).ToList();
        string confused = pairs.Count == 0
            ? HtmlReport.Paragraph("No test image was misclassified.")
            : HtmlReport.Figure(Figures.ConfusedPairs, ImageGrid.RenderRows(pairs.Select(pair => (
                    $"{test.ClassNames[pair.True]} → {test.ClassNames[pair.Predicted]}: {pair.Count} image{(pair.Count == 1 ? "" : "s")}",
                    (IReadOnlyList<ImageTile>)wrong.Where(i => test.Labels[i] == pair.True && predictions.Label(i) == pair.Predicted).Take(options.PairExamples).Select(i => Tile(i, false)).ToList()))),
                "The most confused pairs (true class → predicted class), with examples.");

        // The most confident mistakes first: the ones the model was surest about (ties in test order).
        var shown = wrong.OrderByDescending(i => predictions.ProbabilitiesOf(i)[predictions.Label(i)]).ThenBy(i => i).Take(options.MisclassifiedImages).ToList();
        string grid = shown.Count == 0 ? "" : HtmlReport.Figure(Figures.Misclassified, ImageGrid.Render(shown.Select(i => Tile(i, true))),
            string.Create(CultureInfo.InvariantCulture, $"{shown.Count} of the {wrong.Count:N0} misclassified test images, the most confident mistakes first: true label, predicted label and its {(model is KNearestNeighborsModel ? "share of the neighbours' votes" : "probability")}."));
        return confused + grid;
    }

    // ---- k-NN ----

    private static string NeighborsSection(KNearestNeighborsModel knn, ImageDataset test, Predictions predictions, RunReportOptions options)
    {
        var queries = new List<int>();
        for (int c = 0; c < test.ClassNames.Count && queries.Count < options.RetrievalQueries; c++)
        {
            int first = Array.IndexOf(test.Labels, c);
            if (first >= 0) queries.Add(first);
        }
        var pixels = new byte[queries.Count * test.SampleSize];
        for (int q = 0; q < queries.Count; q++) test.Image(queries[q]).CopyTo(pixels.AsSpan(q * test.SampleSize));
        var found = knn.Neighbors(pixels, 1);
        int k = found.K, shownK = Math.Min(k, options.RetrievalNeighbors);
        var train = knn.Train;
        bool euclidean = knn.Options.Metric == DistanceMetric.Euclidean;
        var rows = queries.Select((testIndex, q) =>
        {
            int truth = test.Labels[testIndex], predicted = predictions.Label(testIndex);
            var tiles = new List<ImageTile>
            {
                new(ReportImages.FromPlanes(test.Image(testIndex), test.Channels, test.Height, test.Width), ["query", "true: " + test.ClassNames[truth]],
                    $"query: test image {testIndex}, {test.ClassNames[truth]}"),
            };
            for (int j = 0; j < shownK; j++)
            {
                int index = found.Indices[q * k + j], label = train.Labels[index];
                double distance = euclidean ? Math.Sqrt(found.Distances[q * k + j]) : found.Distances[q * k + j];
                tiles.Add(new ImageTile(ReportImages.FromPlanes(train.Image(index), train.Channels, train.Height, train.Width),
                    [$"#{j + 1} {train.ClassNames[label]}", "d = " + distance.ToString(euclidean ? "N1" : "N0", CultureInfo.InvariantCulture)],
                    string.Create(CultureInfo.InvariantCulture, $"neighbour {j + 1}: training image {index}, {train.ClassNames[label]}, distance {distance:G6}"),
                    label == truth ? TileMark.Right : TileMark.Wrong));
            }
            return ($"{test.ClassNames[truth]} → predicted {test.ClassNames[predicted]}", (IReadOnlyList<ImageTile>)tiles);
        });
        return HtmlReport.Figure(Figures.NearestNeighbors, ImageGrid.RenderRows(rows.ToList()),
            $"The first test image of each class and its {shownK} nearest training images ({(euclidean ? "L2" : "L1")} distance on raw pixels, nearest first); green: same class as the query, red: another class.");
    }

    // ---- linear templates ----

    private static string TemplatesSection(NetworkClassifier model)
    {
        var images = Templates.RenderEach(model);
        var names = model.Loss == ClassifierLoss.Logistic ? [$"{model.ClassNames[1]} vs {model.ClassNames[0]}"] : model.ClassNames;
        var tiles = images.Select((image, k) => new ImageTile(image, [names[k]], $"template of {names[k]}"));
        string noise = model.Normalizer.Mode == NormalizationMode.PerPixel
            ? " This model standardizes each pixel, which scales up the weights of pixels that hardly vary, so its templates look like noise; " +
              "mean-image preprocessing with a stronger L2 penalty (1e-3) gives recognisable ones."
            : "";
        return HtmlReport.Figure(Figures.Templates, ImageGrid.Render(tiles, scale: 3),
            "Each class's row of W (times the normalizer's scale, so in raw-pixel terms), on one shared color scale: " +
            "bright pixels raise the class's score, dark ones lower it." + noise);
    }

    // ---- CNN ----

    // The filters and feature maps of the convolution that reads the images; none when an input layer prepares them
    // first (a pretrained backbone's ImageNetInput crops and recolors: its stem does not see the dataset's pixels).
    private static Conv2d? FirstConv(NetworkClassifier model) =>
        model.Features is null && model.Network.Layers[0] is not ImageNetInput ? model.Network.Layers.OfType<Conv2d>().FirstOrDefault() : null;

    private static string ConvSection(NetworkClassifier model, ImageDataset test)
    {
        var conv = FirstConv(model)!;
        int k = conv.Kernel, inputs = conv.Inputs;
        var weights = conv.Weight.Data;
        // One symmetric scale for all filters: gray is 0, brighter positive, darker negative.
        float bound = 0;
        foreach (float weight in weights) bound = Math.Max(bound, Math.Abs(weight));
        int filterScale = Math.Max(1, 36 / k);
        var filters = Enumerable.Range(0, conv.Outputs).Select(o =>
        {
            var filter = weights.AsSpan(o * inputs * k * k, (inputs == 3 ? 3 : 1) * k * k);
            return new ImageTile(ReportImages.FromFloats(filter, inputs == 3 ? 3 : 1, k, k, -bound, bound), [$"{o}"], $"filter {o}");
        });
        string filterNote = inputs is 1 or 3 ? "" : $" (input channel 0 of {inputs})";

        // The feature maps of the first test image: normalized as in training, through the first conv layer only.
        var p = model.Preparation;
        var normalized = new float[p.Channels * p.Height * p.Width];
        model.Normalizer.Apply(test.Image(0), normalized);
        float[] maps;
        Shape shape;
        model.Network.Eval();
        using (GradMode.NoGrad())
        {
            var output = conv.Forward(new Tensor(new Shape(1, p.Channels, p.Height, p.Width), normalized));
            (maps, shape) = (output.Data, output.Shape);
        }
        int h = shape[2], w = shape[3];
        var tiles = new List<ImageTile> { new(ReportImages.FromPlanes(test.Image(0), test.Channels, test.Height, test.Width), ["input", test.ClassNames[test.Labels[0]]], "input: test image 0") };
        for (int c = 0; c < shape[1]; c++)
        {
            var map = maps.AsSpan(c * h * w, h * w);
            var (low, high) = ReportImages.Range(map);
            tiles.Add(new ImageTile(ReportImages.FromFloats(map, 1, h, w, low, high), [$"{c}"], $"feature map {c}"));
        }
        return "<div class=\"figures\">"
            + HtmlReport.Figure(Figures.Filters, ImageGrid.Render(filters, filterScale, "image-grid compact"),
                string.Create(CultureInfo.InvariantCulture, $"The {conv.Outputs} {k}×{k} filters of the first convolution{filterNote}, on one scale: gray 0, white +{bound:G3}, black −{bound:G3}."))
            + HtmlReport.Figure(Figures.FeatureMaps, ImageGrid.Render(tiles, 2, "image-grid compact"),
                $"Test image 0 and its {shape[1]} feature maps after the first convolution (before batch norm and ReLU), each map stretched from its own minimum (black) to maximum (white).")
            + "</div>";
    }

    // ---- cross-validation ----

    private static string CrossValidationSection(IReadOnlyList<CrossValidationResult> results)
    {
        // The x axis: k when it varies, else the first numeric parameter that varies (a log scale when it spans decades);
        // one series per combination of the other parameters.
        var keys = results.SelectMany(r => r.Parameters.Select(p => p.Key)).Distinct().ToList();
        static double? Number(JsonNode? n) => n is JsonValue v && v.TryGetValue(out double d) ? d : null;
        var numeric = keys.Where(k => results.All(r => Number(r.Parameters[k]) is not null) && results.Select(r => Number(r.Parameters[k])).Distinct().Count() > 1).ToList();
        string? x = numeric.Contains("k") ? "k" : numeric.FirstOrDefault();
        var best = results.OrderByDescending(r => r.MeanAccuracy).First();
        string figure = "";
        int folds = results[0].FoldAccuracies.Count;
        if (x is not null)
        {
            var values = results.Select(r => Number(r.Parameters[x])!.Value).ToList();
            bool log = values.Min() > 0 && values.Max() / values.Min() >= 100;
            string SeriesName(CrossValidationResult r) => string.Join(", ", keys.Where(k => k != x).Select(k => $"{k} {r.Parameters[k]}"));
            var series = results.GroupBy(SeriesName)
                .Select(g => new ErrorBarSeries(g.Key.Length == 0 ? "accuracy" : g.Key, g.OrderBy(r => Number(r.Parameters[x])).Select(r =>
                    (log ? Math.Log10(Number(r.Parameters[x])!.Value) : Number(r.Parameters[x])!.Value, r.MeanAccuracy, r.StdAccuracy)).ToList()))
                .ToList();
            var chart = new ErrorBarChart
            {
                Title = "Cross-validated accuracy",
                XLabel = x == "k" ? "k (neighbours)" : log ? $"log₁₀ {x}" : x,
                IntegerX = x == "k",
                YLabel = "mean accuracy",
                Series = series,
            };
            figure = HtmlReport.Figure(Figures.CrossValidation, chart.ToSvg(),
                $"Mean validation accuracy over {folds} stratified folds against {x}{(series.Count > 1 ? ", one series per setting of the rest" : "")}; bars: ± 1 standard deviation over the folds.");
        }
        var table = HtmlReport.Table([.. keys, "mean accuracy", "± std", "folds"],
            results.Select(r => (IReadOnlyList<string>)[.. keys.Select(k => r.Parameters[k]?.ToString() ?? ""), F4(r.MeanAccuracy), F4(r.StdAccuracy),
                string.Join(" ", r.FoldAccuracies.Select(a => a.ToString("F3", CultureInfo.InvariantCulture))) + (r == best ? "  ← best" : "")]),
            new HashSet<int>(Enumerable.Range(0, keys.Count).Where(i => numeric.Contains(keys[i])).Append(keys.Count).Append(keys.Count + 1)));
        return "<div class=\"figures\">" + figure + "<div>" + table + "</div></div>";
    }

    private static string SolverSection(IReadOnlyList<Training.DualSvmCandidate> candidates, double? chosen)
    {
        var ordered = candidates.OrderBy(k => k.C).ToList();
        var chart = new LineChart
        {
            Title = "Validation accuracy against C",
            XLabel = "log₁₀ C",
            YLabel = "validation accuracy",
            Series = [new ChartSeries("validation accuracy", ordered.Select(k => (Math.Log10(k.C), k.ValidationAccuracy)).ToList(), SeriesStyle.LineAndMarkers)],
        };
        var table = HtmlReport.Table(["C", "validation accuracy", "seconds", "passes (most of any class)"],
            ordered.Select(k => (IReadOnlyList<string>)[k.C.ToString("G4", CultureInfo.InvariantCulture) + (k.C == chosen ? "  ← chosen" : ""), F4(k.ValidationAccuracy),
                k.Seconds.ToString("F2", CultureInfo.InvariantCulture), k.Passes.ToString(CultureInfo.InvariantCulture) + (k.Converged ? "" : " (limit)")]),
            new HashSet<int> { 1, 2, 3 });
        return "<div class=\"figures\">"
            + HtmlReport.Figure(Figures.SolverSearch, chart.ToSvg(), "Each C fitted exactly (dual coordinate descent, one-vs-rest squared hinge) on the training examples and scored on the validation split; the best was then refitted on training and validation examples together.")
            + "<div>" + table + "</div></div>";
    }

    // ---- embedding hook ----

    /// <summary>
    /// The rows an embedding map is drawn from: for networks, the activations entering the last linear layer (the
    /// penultimate representation); for k-NN, the pixels scaled to [0, 1] (what its distances see). First
    /// <paramref name="count"/> test images.
    /// </summary>
    public static EmbeddingMapInput EmbeddingInput(IImageClassifier model, ImageDataset test, Predictions predictions, int count)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(predictions);
        int n = Math.Min(count, test.Count), d = test.SampleSize;
        var indices = Enumerable.Range(0, n).ToArray();
        float[] features;
        int dimension;
        if (model is FeatureKNearestNeighborsModel { Features.Pipeline.UsesPretrainedNetwork: true } featureKnn)
        {
            features = featureKnn.Features.Apply(test.Pixels.AsSpan(0, n * d), Engine.Threads);
            dimension = featureKnn.Features.Length;
        }
        else if (model is NetworkClassifier network)
        {
            features = network.PenultimateActivations(test.Pixels.AsSpan(0, n * d), out dimension);
        }
        else
        {
            features = new float[n * d];
            for (int i = 0; i < features.Length; i++) features[i] = test.Pixels[i] / 255f;
            dimension = d;
        }
        var predicted = indices.Select(predictions.Label).ToArray();
        return new EmbeddingMapInput(features, n, dimension, test.Labels.AsSpan(0, n).ToArray(), predicted, test.ClassNames, indices);
    }

    /// <summary>
    /// The toolkit's embedding map for reports: PCA to 50 dimensions, then t-SNE (seed 0, Barnes–Hut past 500 points,
    /// the same bits for any thread count), drawn as an SVG scatter colored by true class.
    /// </summary>
    /// <remarks>Perplexity 30, or (n − 1)/3 for fewer than 91 images so every point has enough neighbours; no map below 4 images.</remarks>
    public static EmbeddingMapRenderer TsneMap(int threads = 0) => input =>
    {
        if (input.Count < 4) return $"<p>{input.Count} test image(s): too few for a map.</p>";
        double perplexity = Math.Min(30, (input.Count - 1) / 3.0);
        var embedding = EmbeddingPipeline.Run(input.Features, input.Count, input.Dimension, pcaComponents: 50,
            new TsneOptions { Seed = 0, Threads = threads, Perplexity = perplexity });
        return EmbeddingMap.ToSvg(embedding.Tsne.Embedding, input.Labels, input.ClassNames,
            new EmbeddingMapOptions { Title = $"t-SNE of {input.Count:N0} test images ({input.Dimension} features each)" });
    };

    private static string F4(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}

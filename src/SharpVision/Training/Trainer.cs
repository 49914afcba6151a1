using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Nn;
using SharpVision.Optim;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;

namespace SharpVision.Training;

/// <summary>Normalized examples: N samples of D floats, their labels, and the shape of one sample ((C, H, W) for images).</summary>
public sealed record ExampleSet(float[] Inputs, int[] Labels, int SampleSize, int[]? SampleShape = null)
{
    public int Count => Labels.Length;

    /// <summary>The tensor shape of <paramref name="n"/> samples: (n, C, H, W) for images, else (n, D).</summary>
    public Shape BatchShape(int n) => SampleShape is { } s ? new Shape([n, .. s]) : new Shape(n, SampleSize);
}

/// <summary>One epoch's line of metrics.jsonl.</summary>
public sealed record EpochMetrics(int Epoch, long Step, double LearningRate, double TrainLoss, double TrainAccuracy, double? ValidationLoss, double? ValidationAccuracy, double Seconds)
{
    public JsonObject ToJson() => new()
    {
        ["epoch"] = Epoch,
        ["step"] = Step,
        ["lr"] = LearningRate,
        ["train_loss"] = Math.Round(TrainLoss, 6),
        ["train_accuracy"] = Math.Round(TrainAccuracy, 6),
        ["val_loss"] = ValidationLoss is double vl ? Math.Round(vl, 6) : null,
        ["val_accuracy"] = ValidationAccuracy is double va ? Math.Round(va, 6) : null,
        ["seconds"] = Math.Round(Seconds, 3),
    };

    /// <summary>Reads <see cref="ToJson"/>'s output back.</summary>
    /// <exception cref="FormatException">A field is missing or has the wrong type.</exception>
    public static EpochMetrics FromJson(JsonNode? node)
    {
        try
        {
            var o = node as JsonObject ?? throw new FormatException("an epoch record must be a JSON object");
            return new EpochMetrics((int)o["epoch"]!, (long)o["step"]!, (double)o["lr"]!, (double)o["train_loss"]!, (double)o["train_accuracy"]!,
                (double?)o["val_loss"], (double?)o["val_accuracy"], (double)o["seconds"]!);
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or ArgumentException)
        {
            throw new FormatException($"not an epoch record ({e.Message})", e);
        }
    }
}

/// <summary>Where training is: steps done in the current epoch, and the running sums of that epoch.</summary>
public sealed record TrainingPosition(int Epoch, int StepInEpoch, long GlobalStep, double LossSum, long Correct, long Seen);

/// <summary>Progress after each step, for progress bars.</summary>
public readonly record struct StepProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss);

/// <summary>The loss became NaN or infinite; the last good checkpoint is kept.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>What <see cref="Trainer.Fit"/> did.</summary>
/// <param name="Epochs">One line per completed epoch.</param>
/// <param name="StoppedEarly">Early stopping ended training.</param>
/// <param name="BestEpoch">The epoch whose weights the model holds (1-based).</param>
/// <param name="Seconds">Wall time of Fit.</param>
/// <param name="ReachedTimeLimit">
/// <see cref="Trainer.TimeLimit"/> ended training before the recipe's last epoch; the model holds the weights reached
/// (possibly mid-epoch: then <paramref name="Epochs"/> lacks that partial epoch).
/// </param>
public sealed record TrainingResult(IReadOnlyList<EpochMetrics> Epochs, bool StoppedEarly, int BestEpoch, double Seconds, bool ReachedTimeLimit = false);

/// <summary>
/// Minibatch gradient descent on a <see cref="NetworkClassifier"/>: seeded shuffling per epoch, a learning-rate
/// schedule per step, a steps.jsonl line per step (<see cref="StepLog"/>), validation and a metrics.jsonl line per epoch, checkpoints that resume bit for bit, a clean
/// stop on Ctrl-C (checkpoint first) and on a diverging loss (no checkpoint of the bad state).
/// </summary>
/// <remarks>
/// Determinism: epoch e is shuffled by Rng(seed, 1 + e) and step s of epoch e draws dropout masks from
/// Rng(seed, 2³² + e·2²⁰ + s), so a run resumed at any step sees the same batches and masks as one never stopped.
/// </remarks>
public sealed class Trainer
{
    private readonly TrainingOptions _options;

    public Trainer(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>Called after every step.</summary>
    public Action<StepProgress>? OnStep { get; init; }

    /// <summary>Called after every epoch with its metrics.</summary>
    public Action<EpochMetrics>? OnEpoch { get; init; }

    /// <summary>
    /// Wall-time limit of <see cref="Fit"/>: once reached, training stops after the current step and Fit returns the
    /// weights reached (<see cref="TrainingResult.ReachedTimeLimit"/>); a stop mid-epoch writes a checkpoint first, as
    /// Ctrl-C does, so the run can be resumed. Null: no limit. A run stopped by time is not reproducible bit for bit
    /// (where it stops depends on the machine); one that finishes within its limit is.
    /// </summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Extra metadata stored in every checkpoint (the command line records how to rebuild the run).</summary>
    public IReadOnlyDictionary<string, string>? CheckpointMetadata { get; init; }

    /// <summary>
    /// Trains <paramref name="model"/> in place. With <paramref name="runDirectory"/>, writes checkpoint.safetensors
    /// (each epoch, every <see cref="TrainingOptions.CheckpointEvery"/> steps, and on cancellation), metrics.jsonl and steps.jsonl.
    /// </summary>
    /// <param name="model">The model, its parameters initialized (they are overwritten on resume).</param>
    /// <param name="train">Normalized training examples.</param>
    /// <param name="validation">Normalized validation examples, evaluated after each epoch (optional).</param>
    /// <param name="runDirectory">Folder for checkpoints and metrics.jsonl (null: none written).</param>
    /// <param name="resume">A checkpoint to continue from (its options must equal this trainer's).</param>
    /// <param name="cancellationToken">Checked after every step.</param>
    /// <exception cref="OperationCanceledException">Cancelled; a checkpoint of the last completed step was written first.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public TrainingResult Fit(NetworkClassifier model, ExampleSet train, ExampleSet? validation, string? runDirectory, Checkpoint? resume = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException("No training examples.", nameof(train));
        var total = Stopwatch.StartNew();
        var o = _options;
        var parameters = model.Network.NamedParameters();
        // Frozen parameters (RequiresGrad false: a pretrained body under fine-tuning) are neither updated nor penalized.
        var weights = parameters.Where(p => p.Parameter.Shape.Rank >= 2 && p.Parameter.RequiresGrad).Select(p => p.Parameter).ToList();
        int stepsPerEpoch = (train.Count + o.BatchSize - 1) / o.BatchSize;
        long totalSteps = (long)stepsPerEpoch * o.Epochs;
        var schedule = OptimizerFactory.CreateSchedule(o, stepsPerEpoch);
        var parameterList = parameters.Select(p => p.Parameter).Where(p => p.RequiresGrad).ToList();
        RandomSearch? search = o.Optimizer == "random-search" ? OptimizerFactory.CreateRandomSearch(o, model, train, parameterList) : null;
        var optimizer = search is null ? OptimizerFactory.Create(o, parameterList) : null;
        if (optimizer is not null && o.BodyLearningRateFactor != 1) SlowTheBody(optimizer, model.Network, o.BodyLearningRateFactor);
        var stopping = o.Patience > 0 && validation is not null ? new EarlyStopping(OptimizerFactory.Goal(o), o.Patience) : null;
        var metrics = new List<EpochMetrics>();
        var position = new TrainingPosition(0, 0, 0, 0, 0, 0);
        Dictionary<string, float[]>? best = null;

        if (resume is not null)
        {
            if (resume.Options != o) throw new ArgumentException("The checkpoint was written with other training options; resume with the same recipe.", nameof(resume));
            if (optimizer is null) throw new ArgumentException("Random search runs cannot be resumed (its candidate stream is not checkpointed); start it again.", nameof(resume));
            resume.Restore(parameters, optimizer, stopping, model.Network.NamedBuffers());
            metrics.AddRange(resume.Metrics);
            position = resume.Position;
            best = resume.Best;
        }
        if (runDirectory is not null) WriteMetrics(runDirectory, metrics);
        // The per-step log, cut back to the checkpoint's step: steps after it are redone and logged again.
        using var stepLog = runDirectory is null ? null : StepLog.Open(runDirectory, position.GlobalStep);

        int d = train.SampleSize;
        var batchInputs = new float[o.BatchSize * d];
        var augmentation = new Data.Augmentation(o.Flip, o.CropPadding, o.Cutout);
        float[]? padValue = null;
        if (augmentation.Any)
        {
            padValue = new float[d];
            model.Normalizer.Apply(new byte[d], padValue); // what a black pixel becomes after normalization
        }
        var batchLabels = new int[o.BatchSize];
        bool stoppedEarly = false, outOfTime = false;
        bool TimeIsUp() => TimeLimit is { } limit && total.Elapsed >= limit;
        for (int epoch = position.Epoch; epoch < o.Epochs && !stoppedEarly && !outOfTime; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            var order = new Rng(o.Seed, 1 + epoch).Permutation(train.Count);
            bool resumedMidEpoch = epoch == position.Epoch && position.StepInEpoch > 0;
            double lossSum = resumedMidEpoch ? position.LossSum : 0;
            long correct = resumedMidEpoch ? position.Correct : 0, seen = resumedMidEpoch ? position.Seen : 0;
            long globalStep = (long)epoch * stepsPerEpoch;
            for (int step = resumedMidEpoch ? position.StepInEpoch : 0; step < stepsPerEpoch; step++)
            {
                globalStep = (long)epoch * stepsPerEpoch + step;
                int start = step * o.BatchSize, n = Math.Min(o.BatchSize, train.Count - start);
                for (int i = 0; i < n; i++)
                {
                    int row = order[start + i];
                    train.Inputs.AsSpan(row * d, d).CopyTo(batchInputs.AsSpan(i * d, d));
                    batchLabels[i] = train.Labels[row];
                }
                if (augmentation.Any)
                {
                    var shape = train.SampleShape ?? throw new ArgumentException("Augmentation needs images: the training set has no (C, H, W) sample shape.", nameof(train));
                    augmentation.Apply(batchInputs.AsSpan(0, n * d), n, shape[0], shape[1], shape[2], padValue!, new Rng(o.Seed, (3L << 32) + ((long)epoch << 20) + step));
                }
                var inputs = new Tensor(train.BatchShape(n), n == o.BatchSize ? batchInputs : batchInputs.AsSpan(0, n * d).ToArray());
                var labels = batchLabels.AsSpan(0, n);
                if (optimizer is not null) OptimizerFactory.ApplySchedule(optimizer, schedule, globalStep);
                model.Network.Train(new Rng(o.Seed, (1L << 32) + ((long)epoch << 20) + step));

                double batchLoss;
                long correctBefore = correct;
                // Activations and intermediate gradients come from the pool and return to it at the end of the step.
                using (BufferPool.Step())
                {
                    Tensor scores;
                    if (search is not null)
                    {
                        search.Step();
                        using (GradMode.NoGrad()) scores = model.Network.Forward(inputs);
                        batchLoss = model.LossOf(scores, labels).Item();
                    }
                    else
                    {
                        optimizer!.ZeroGrad();
                        scores = model.Network.Forward(inputs);
                        var loss = model.LossOf(scores, labels, (float)o.LabelSmoothing);
                        if (o.Regularization > 0) loss = Ops.Add(loss, Penalty(weights, o.Regularization, o.L1Ratio));
                        batchLoss = loss.Item();
                        if (!double.IsFinite(batchLoss))
                            throw new TrainingDivergedException(string.Create(CultureInfo.InvariantCulture,
                                $"the loss became {batchLoss} at epoch {epoch + 1}, step {step + 1}; training stopped{KeptCheckpoint(runDirectory)}. Try a lower --lr."));
                        loss.Backward();
                        optimizer.Step();
                    }
                    lossSum += batchLoss * n;
                    correct += CountCorrect(model, scores.Data, labels);
                    seen += n;
                }
                stepLog?.Append(new StepMetrics(globalStep + 1, epoch + 1, batchLoss, (double)(correct - correctBefore) / n, OptimizerFactory.LearningRateAt(schedule, globalStep)));
                OnStep?.Invoke(new StepProgress(epoch, o.Epochs, step, stepsPerEpoch, batchLoss));

                bool last = step == stepsPerEpoch - 1;
                var here = new TrainingPosition(epoch, step + 1, globalStep + 1, lossSum, correct, seen);
                if (cancellationToken.IsCancellationRequested)
                {
                    if (runDirectory is not null && !last) SaveCheckpoint(runDirectory, model, optimizer, stopping, metrics, here, best, stepLog);
                    if (!last || runDirectory is null) cancellationToken.ThrowIfCancellationRequested();
                }
                if (!last && TimeIsUp())
                {
                    if (runDirectory is not null) SaveCheckpoint(runDirectory, model, optimizer, stopping, metrics, here, best, stepLog);
                    outOfTime = true;
                    break;
                }
                if (runDirectory is not null && o.CheckpointEvery > 0 && (globalStep + 1) % o.CheckpointEvery == 0 && !last)
                    SaveCheckpoint(runDirectory, model, optimizer, stopping, metrics, here, best, stepLog);
            }
            if (outOfTime) break;

            // End of epoch: validate, log, maybe stop early, checkpoint.
            double? valLoss = null, valAccuracy = null;
            if (validation is { Count: > 0 }) (valLoss, valAccuracy) = Evaluate(model, validation);
            var line = new EpochMetrics(epoch + 1, globalStep + 1, OptimizerFactory.LearningRateAt(schedule, globalStep), lossSum / Math.Max(1, seen),
                (double)correct / Math.Max(1, seen), valLoss, valAccuracy, epochClock.Elapsed.TotalSeconds);
            metrics.Add(line);
            OnEpoch?.Invoke(line);
            if (stopping is not null)
            {
                double value = o.EarlyStoppingMetric == "loss" ? valLoss!.Value : valAccuracy!.Value;
                if (stopping.Report(value))
                {
                    best = parameters.ToDictionary(p => p.Name, p => (float[])p.Parameter.Data.Clone());
                    foreach (var (name, values) in model.Network.NamedBuffers()) best["buffer." + name] = (float[])values.Clone();
                }
                stoppedEarly = stopping.ShouldStop;
            }
            var next = new TrainingPosition(epoch + 1, 0, globalStep + 1, 0, 0, 0);
            if (runDirectory is not null)
            {
                WriteMetrics(runDirectory, metrics);
                SaveCheckpoint(runDirectory, model, optimizer, stopping, metrics, next, best, stepLog);
            }
            cancellationToken.ThrowIfCancellationRequested();
            outOfTime = epoch + 1 < o.Epochs && !stoppedEarly && TimeIsUp();
        }
        if (best is not null)
        {
            foreach (var (name, p) in parameters) best[name].CopyTo(p.Data, 0);
            foreach (var (name, values) in model.Network.NamedBuffers()) best["buffer." + name].CopyTo(values, 0);
        }
        model.Network.Eval();
        return new TrainingResult(metrics, stoppedEarly, stopping?.BestEpoch is int b ? b + 1 : metrics.Count, total.Elapsed.TotalSeconds, outOfTime);
    }

    // Every trainable parameter outside the network's last layer learns at factor × the schedule's rate.
    private static void SlowTheBody(Optimizer optimizer, Sequential network, double factor)
    {
        string head = network.Children.Last().Name + ".";
        foreach (var (name, p) in network.NamedParameters())
            if (p.RequiresGrad && !name.StartsWith(head, StringComparison.Ordinal)) optimizer.SetLearningRateFactor(p, factor);
    }

    // What the divergence message says about checkpoints: only what is true of the run folder.
    private static string KeptCheckpoint(string? runDirectory)
    {
        if (runDirectory is null) return "";
        var path = Path.Combine(runDirectory, Checkpoint.FileName);
        return File.Exists(path) ? $" and the last good checkpoint was kept ({path})" : " before any checkpoint was written";
    }

    /// <summary>Mean loss (without penalty) and accuracy on <paramref name="set"/>, in evaluation mode.</summary>
    public static (double Loss, double Accuracy) Evaluate(NetworkClassifier model, ExampleSet set)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(set);
        int batch = model.InferenceBatch;
        double lossSum = 0;
        long correct = 0;
        int d = set.SampleSize;
        using var _ = GradMode.NoGrad();
        var network = model.InferenceNetwork();
        for (int start = 0; start < set.Count; start += batch)
        {
            int n = Math.Min(batch, set.Count - start);
            using var step = BufferPool.Step();
            var scores = network.Forward(new Tensor(set.BatchShape(n), set.Inputs.AsSpan(start * d, n * d).ToArray()));
            var labels = set.Labels.AsSpan(start, n);
            lossSum += model.LossOf(scores, labels).Item() * n;
            correct += CountCorrect(model, scores.Data, labels);
        }
        return (lossSum / Math.Max(1, set.Count), (double)correct / Math.Max(1, set.Count));
    }

    // λ·(α·Σ|w| + (1 − α)/2·Σw²): the lectures' L2 R(W) at α = 0, lasso at α = 1, elastic net between.
    private static Tensor Penalty(List<Tensor> weights, double lambda, double l1Ratio)
    {
        Tensor? total = null;
        foreach (var w in weights)
        {
            Tensor term;
            if (l1Ratio >= 1) term = Ops.Scale(Ops.Sum(Ops.Abs(w)), (float)lambda);
            else if (l1Ratio <= 0) term = Ops.Scale(Ops.Sum(Ops.Square(w)), (float)(lambda / 2));
            else term = Ops.Add(Ops.Scale(Ops.Sum(Ops.Abs(w)), (float)(lambda * l1Ratio)), Ops.Scale(Ops.Sum(Ops.Square(w)), (float)(lambda * (1 - l1Ratio) / 2)));
            total = total is null ? term : Ops.Add(total, term);
        }
        return total ?? Tensor.Scalar(0);
    }

    private static int CountCorrect(NetworkClassifier model, float[] scores, ReadOnlySpan<int> labels)
    {
        int correct = 0;
        if (model.Loss == ClassifierLoss.Logistic)
        {
            for (int i = 0; i < labels.Length; i++) correct += (scores[i] > 0 ? 1 : 0) == labels[i] ? 1 : 0;
            return correct;
        }
        int k = model.ClassNames.Count;
        for (int i = 0; i < labels.Length; i++)
        {
            var row = scores.AsSpan(i * k, k);
            int arg = 0;
            for (int j = 1; j < k; j++) if (row[j] > row[arg]) arg = j;
            correct += arg == labels[i] ? 1 : 0;
        }
        return correct;
    }

    // The step log reaches the disk before the checkpoint that names its last step (see StepLog).
    private void SaveCheckpoint(string dir, NetworkClassifier model, Optimizer? optimizer, EarlyStopping? stopping,
        List<EpochMetrics> metrics, TrainingPosition position, Dictionary<string, float[]>? best, StepLog? stepLog)
    {
        stepLog?.Sync();
        Checkpoint.Save(Path.Combine(dir, Checkpoint.FileName), _options, model.Network.NamedParameters(), optimizer, stopping, metrics, position, best, CheckpointMetadata, model.Network.NamedBuffers());
    }

    private static void WriteMetrics(string dir, List<EpochMetrics> metrics) =>
        IO.AtomicFile.WriteAllText(Path.Combine(dir, "metrics.jsonl"), string.Concat(metrics.Select(m => m.ToJson().ToJsonString() + "\n")));
}

using SharpVision.Nn;
using SharpVision.Optim;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;

namespace SharpVision.Training;

/// <summary>Turns the names in <see cref="TrainingOptions"/> into optimizer, schedule and early-stopping objects.</summary>
internal static class OptimizerFactory
{
    /// <summary>The per-step learning-rate schedule; epochs-based settings are converted to steps here.</summary>
    public static LearningRateSchedule CreateSchedule(TrainingOptions o, int stepsPerEpoch)
    {
        long total = (long)stepsPerEpoch * o.Epochs;
        LearningRateSchedule schedule = o.Schedule switch
        {
            "constant" => new ConstantSchedule(o.LearningRate, total),
            "step" => new StepSchedule(o.LearningRate, total, (long)o.StepEpochs * stepsPerEpoch, o.Gamma),
            // --gamma is per epoch; the schedule decays per step by gamma^(1/stepsPerEpoch).
            "exponential" => new ExponentialSchedule(o.LearningRate, total, Math.Pow(o.Gamma, 1.0 / stepsPerEpoch)),
            "cosine" => new CosineSchedule(o.LearningRate, total),
            "onecycle" => new OneCycleSchedule(o.LearningRate, total),
            _ => throw new ArgumentException($"Unknown schedule '{o.Schedule}'."),
        };
        long warmup = (long)Math.Round(o.WarmupEpochs * stepsPerEpoch);
        if (warmup > 0 && o.Schedule != "onecycle") schedule = new WarmupSchedule(schedule, Math.Min(warmup, total));
        return schedule;
    }

    /// <summary>The optimizer named by <see cref="TrainingOptions.Optimizer"/>.</summary>
    public static Optimizer Create(TrainingOptions o, IReadOnlyList<Tensor> parameters) => o.Optimizer switch
    {
        "sgd" => new Sgd(parameters, new SgdOptions(o.LearningRate, 0, false, o.WeightDecay)),
        "momentum" => new Sgd(parameters, new SgdOptions(o.LearningRate, o.Momentum, false, o.WeightDecay)),
        "nesterov" => new Sgd(parameters, new SgdOptions(o.LearningRate, o.Momentum, true, o.WeightDecay)),
        "adagrad" => new Adagrad(parameters, new AdagradOptions(o.LearningRate, WeightDecay: o.WeightDecay)),
        "rmsprop" => new RmsProp(parameters, new RmsPropOptions(o.LearningRate, WeightDecay: o.WeightDecay)),
        "adam" => new Adam(parameters, new AdamOptions(o.LearningRate, WeightDecay: o.WeightDecay)),
        "adamw" => new AdamW(parameters, new AdamWOptions(o.LearningRate, WeightDecay: o.WeightDecay == 0 ? 0.01 : o.WeightDecay),
            o.WeightDecayScope == "weights" ? parameters.Where(p => AdamW.DecaysByDefault(p.Name ?? "", p)).ToHashSet() : null),
        _ => throw new ArgumentException($"Unknown optimizer '{o.Optimizer}'."),
    };

    // The lectures' strategy 1: candidates are compared on one fixed, seeded sample of up to 2,000 training images.
    public static RandomSearch CreateRandomSearch(TrainingOptions o, NetworkClassifier model, ExampleSet train, IReadOnlyList<Tensor> parameters)
    {
        int n = Math.Min(2000, train.Count), d = train.SampleSize;
        var rows = new Rng(o.Seed, 7).Permutation(train.Count).AsSpan(0, n).ToArray();
        var inputs = new float[n * d];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            train.Inputs.AsSpan(rows[i] * d, d).CopyTo(inputs.AsSpan(i * d, d));
            labels[i] = train.Labels[rows[i]];
        }
        var x = new Tensor(new Shape(n, d), inputs);
        double Loss()
        {
            using var _ = GradMode.NoGrad();
            model.Network.Eval();
            return model.LossOf(model.Network.Forward(x), labels).Item();
        }
        return new RandomSearch(parameters, Loss, (float)o.RandomSearchScale, new Rng(o.Seed, 8));
    }

    /// <summary>Sets this step's learning rate (and, under one-cycle, SGD's momentum as PyTorch's OneCycleLR does).</summary>
    public static void ApplySchedule(Optimizer optimizer, LearningRateSchedule schedule, long step)
    {
        optimizer.LearningRate = schedule.At(step);
        if (schedule is OneCycleSchedule cycle && optimizer is Sgd { Momentum: > 0 } sgd) sgd.Momentum = cycle.MomentumAt(step);
    }

    public static double LearningRateAt(LearningRateSchedule schedule, long step) => schedule.At(Math.Clamp(step, 0, schedule.TotalSteps - 1));

    public static MetricGoal Goal(TrainingOptions o) => o.EarlyStoppingMetric == "loss" ? MetricGoal.Minimize : MetricGoal.Maximize;
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Runs;
using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision train`: fit on the training split, evaluate on the test split, write a run folder.</summary>
internal static class TrainCommand
{
    public static Command Create(CliConsole console)
    {
        var data = new DataOptions();
        var training = new TrainingFlags();
        var flags = new ModelFlags(cv: false);
        var command = new Command("train", "Fit a model, evaluate it on the test split, and write a run folder (config.json, metrics.jsonl, " +
            "metrics.json, " +
            "model.safetensors, report.html).\n\n" +
            "Models: knn (k-nearest neighbours), svm (linear, multiclass hinge loss by SGD; with --solver dual the exact one-vs-rest squared-hinge " +
                "SVM of " +
            "scikit-learn's LinearSVC), softmax (linear, cross-entropy), logistic (binary, two --classes), mlp, cnn2, resnet8, resnet20 " +
                "(convolutional), " +
            "tree (CART decision tree), forest (random forest), boost (gradient-boosted trees, softmax loss), kernel-svm (libsvm's C-SVC, " +
                "one-vs-one, rbf/poly/linear), " +
            "vit (vision transformer: patches, class token, attention), cct (a transformer on convolutional tokens) and " +
            "resnet18 --pretrained (the ImageNet ResNet-18, frozen, as a feature extractor under a head, or fine-tuned with --finetune; " +
                "docs/transfer.md). " +
            "Every flag not given takes the model's default recipe.\n\n" +
            "Examples:\n  sharpvision train --dataset fashion-mnist      (the default CNN recipe)\n" +
            "  sharpvision train --model knn --k 5 --metric l1\n  sharpvision train --model knn --features hog --k 5\n" +
            "  sharpvision train --model svm --solver dual --features hog:norm=L1-sqrt      (C chosen on validation)\n" +
            "  sharpvision train --model mlp --features hog:norm=L1-sqrt --hidden 1024 --dropout 0.5 --label-smoothing 0.1 --epochs 30 " +
                "--validation-fraction 0\n" +
            "  sharpvision train --model softmax --epochs 10 --lr 0.01\n" +
            "  sharpvision train --model logistic --classes T-shirt/top,Shirt\n" +
            "  sharpvision train --model forest --trees 100      (√D features per split, out-of-bag accuracy)\n" +
            "  sharpvision train --model boost --rounds 100 --leaves 31 --lr 0.1\n" +
            "  sharpvision train --model boost --features hog --validation-fraction 0.1 --early-stopping-rounds 10\n" +
            "  sharpvision train --model kernel-svm --kernel rbf --c 10 --gamma scale --train-limit 10000\n" +
            "  sharpvision train --model kernel-svm --features hog --c 10\n" +
            "  sharpvision train --model mlp --hidden 256,128 --activation relu --dropout 0.2 --optimizer adam --lr 1e-3\n" +
            "  sharpvision train --model vit      (torch_peers.py's vit with the transformer recipe: AdamW, warm-up + cosine, flips and crops)\n" +
            "  sharpvision train --model vit --patch 7 --width 96 --depth 4 --heads 6 --mlp-ratio 2 --drop-path 0.1 --epochs 20\n" +
            "  sharpvision train --model cct --dataset cifar-10 --conv-layers 2 --depth 4\n" +
            "  sharpvision train --dataset photos/ --model resnet18 --pretrained      (ImageNet features + softmax; --head svm|knn)\n" +
            "  sharpvision train --model knn --features resnet18 --train-limit 1000      (any model on the pretrained features)\n" +
            "  sharpvision train --dataset photos/ --model resnet18 --pretrained --finetune      (all layers, 5 epochs; backbone lr = lr/10)\n" +
            "  sharpvision train --dataset photos/ --model resnet18 --pretrained --finetune last --epochs 3      (last stage + head only)\n" +
            "  sharpvision train --resume runs/my-mlp      (continue after Ctrl-C or a crash)");
        data.AddTo(command);
        flags.AddTo(command);
        training.AddTo(command);
        command.SetAction(async (parse, token) =>
        {
            var total = Stopwatch.StartNew();
            var kind = flags.Kind(parse);
            flags.WarnUnused(parse, training, console, kind);
            int seed = parse.GetValue(training.Seed);
            int threads = training.GetThreads(parse);
            var trainer = flags.CreateTrainer(parse, training, kind); // flag errors before the data loads
            var resumeDir = parse.GetValue(flags.Network.Resume);
            if (resumeDir is not null && trainer is not NetworkTrainer { Dual: null })
                throw new UsageException($"--resume continues gradient training from a checkpoint; " +
                    $"{kind}{(trainer is NetworkTrainer ? " with the dual solver" : "")} writes none: train again.");

            var load = Stopwatch.StartNew();
            var (splits, location) = await data.LoadAsync(parse, console, seed, null, token);
            if (flags.Network.ClassSelection(parse, splits.Train.ClassNames) is { } selection)
                splits = splits with { Train = splits.Train.SelectClasses(selection), Test = splits.Test.SelectClasses(selection) };
            var runDir = Path.GetFullPath(resumeDir ?? parse.GetValue(training.Out) ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-{kind}-{location.Name}"));
            // Held for the run's life; taking it removes temporary files a killed run left (a checkpoint torn mid-write).
            using var hold = RunFolder.Lock(runDir, console.Log);
            if (resumeDir is null && RunFolder.IsNonEmpty(runDir))
            {
                if (!parse.GetValue(training.Force))
                    throw new UsageException($"{runDir} already holds a run; choose another --out, continue it with --resume {runDir}, or pass --force to replace it.");
                RunFolder.Clear(runDir, replace: true);
            }
            load.Stop();

            var display = new FitDisplay(console);
            var context = new FitContext
            {
                Threads = threads,
                Cancellation = token,
                Resume = resumeDir is not null,
                FeatureCache = flags.Features.Cache(parse, console.Log),
                CheckpointMetadata = new Dictionary<string, string> { [ResumeArguments.Key] = ResumeArguments.Replay(parse) },
            };
            var options = new RunOptions { Dataset = data.RunJson(parse, splits, location), Loading = load.Elapsed, Config = new JsonObject { ["train_limit"] = parse.GetValue(data.TrainLimit) } };
            RunResult run;
            try
            {
                run = display.Run($"training {kind}", events => ClassifierRun.Execute(trainer, splits, location, runDir, context with { Events = events }, options));
            }
            catch (ModelSetupException e)
            {
                throw new UsageException(ModelFlags.FlagMessage(e));
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested && File.Exists(Path.Combine(runDir, Checkpoint.FileName)))
            {
                console.Log($"checkpoint saved in {runDir}; continue with: sharpvision train --resume {runDir}");
                throw;
            }
            total.Stop();
            if (run.ReportError is { } error) console.Log($"warning: report.html not written ({error}); try again with: sharpvision report {runDir}");

            if (parse.GetValue(training.Json))
            {
                console.Json(run.Document);
                return CliApp.Success;
            }
            var o = console.Out;
            var shape = $"{splits.Train.Channels}×{splits.Train.Height}×{splits.Train.Width}";
            o.WriteLine($"dataset: {location.Name} ({location.Origin}: {location.Directory}){(location.IsSample ? " [shipped sample]" : "")}, " +
                $"{run.TrainCount:N0} train" +
                $"{(run.ValidationCount == 0 ? "" : $" / {run.ValidationCount:N0} validation")} / {splits.Test.Count:N0} test, {shape}");
            o.WriteLine($"model:   {Reporting.ModelText(run.Model.Describe())} ({run.Document["backend"]}, {threads} threads)");
            if (run.Model.Describe()["features"] is JsonNode features && run.Model.Kind == "knn")
                o.WriteLine($"features: {features} ({run.Model.Describe()["feature_length"]:N0} per image, standardized on the training split)");
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time:    fit {run.Fit.TotalSeconds:F2} " +
                $"s{EpochText(run.Document, run.TrainCount)}, " +
                $"predict {run.Predict.TotalSeconds:F2} s ({splits.Test.Count / Math.Max(run.Predict.TotalSeconds, 1e-9):N0} images/s), total " +
                    $"{total.Elapsed.TotalSeconds:F2} s"));
            o.WriteLine();
            o.Write(Reporting.MetricsText("test", run.Test));
            o.WriteLine();
            o.WriteLine($"run folder: {runDir}");
            if (run.ReportPath is not null) o.WriteLine($"report:     {run.ReportPath}");
            return CliApp.Success;
        });
        return command;
    }

    // " (20 epochs, 30.37 s/epoch, 1,976 images/s)" for gradient training; "" otherwise.
    private static string EpochText(JsonObject document, int trainCount)
    {
        if (document["metrics"]?["epochs"] is not JsonArray { Count: > 0 } epochs) return "";
        double mean = (double?)document["timings_s"]?["epoch_mean"] ?? 0;
        return string.Create(CultureInfo.InvariantCulture, $" ({epochs.Count} epochs, {mean:F2} s/epoch, {trainCount / Math.Max(mean, 1e-9):N0} " +
            $"images/s)");
    }
}

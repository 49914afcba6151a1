using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.IO;
using SharpVision.Models;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision predict`: classify image files, or every image in folders, with a saved model.</summary>
internal static class PredictCommand
{
    public static Command Create(CliConsole console)
    {
        var modelPath = new Option<string>("--model") { Description = "Model file (model.safetensors, or an ONNX classifier F.onnx, run on the engine)", Required = true };
        var top = new Option<int>("--top") { Description = "How many classes to show per image", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var images = new Argument<string[]>("images")
        {
            Description = "PNG, JPEG, GIF (first frame), BMP or WebP files (any size, gray or color; read by content, not by name), " +
                "or folders: every .png, .jpg, .jpeg, .jpe, .gif, .bmp, .dib and .webp file in them and their subfolders " +
                "(sorted by path; hidden files and other files are passed over, with a note)",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("predict",
            "Classify images with a saved model. Each image is converted and resized the way the model's training images were; a note on stderr " +
            "says what was done (gray conversion, resizing). An image far from the training images' statistics (e.g. a photo given to a " +
            "Fashion-MNIST model, whose images are light garments on black) gets a warning: its prediction says little, however confident.\n\n" +
            "A file that cannot be read gets an error line naming it; the other images are still predicted. Exit code: 0 when every image was " +
            "predicted, 1 when any could not be read (or nothing was found), 2 for a usage error.\n\n" +
            "--json prints one document: per image its top classes, \"preparation\" (the steps applied) and \"input_check\" " +
            "(\"far_from_training_data\", the distance and the threshold; null for models saved without input statistics); unreadable files " +
            "under \"failed\".\n\n" +
            "Examples:\n  sharpvision predict --model runs/knn/model.safetensors shoe.jpg shirt.png --top 3\n" +
            "  sharpvision predict --model runs/cnn2/model.safetensors photos/      (every image in photos/ and its subfolders)\n" +
            "  sharpvision predict --model cnn2.onnx shoe.jpg");
        command.Options.Add(modelPath);
        command.Options.Add(top);
        command.Options.Add(json);
        command.Arguments.Add(images);
        command.SetAction(parse =>
        {
            int topCount = parse.GetValue(top);
            if (topCount < 1) throw new UsageException("--top must be at least 1.");
            var stored = ModelFile.Load(parse.GetValue(modelPath)!);
            var paths = Expand(parse.GetValue(images)!, console);
            if (paths.Count == 0)
            {
                console.Log("error: no .png, .jpg or .jpeg images found");
                return CliApp.RuntimeFailure;
            }

            // Read and prepare each image; one that cannot be read is reported and the others go on.
            var preparation = stored.Preparation;
            int size = preparation.Channels * preparation.Height * preparation.Width;
            var read = new List<(string Path, IReadOnlyList<string> Steps, InputCheck? Check)>();
            var failed = new List<(string Path, string Error)>();
            var prepared = new List<byte>();
            foreach (var path in paths)
            {
                try
                {
                    var image = ImageDecoder.Load(path);
                    var bytes = preparation.Prepare(image);
                    prepared.AddRange(bytes);
                    read.Add((path, preparation.Steps(image), stored.InputStatistics?.Check(bytes)));
                }
                catch (Exception e) when (Unreadable(e) is { } reason)
                {
                    failed.Add((path, reason));
                    console.Log($"error: {path}: {reason}");
                }
            }
            var predictions = read.Count == 0 ? null : stored.Predict(prepared.ToArray());
            var names = stored.ClassNames;
            if (parse.GetValue(json))
            {
                var list = new JsonArray();
                for (int i = 0; i < read.Count; i++)
                {
                    var probabilities = predictions!.ProbabilitiesOf(i).ToArray();
                    list.Add(new JsonObject
                    {
                        ["path"] = read[i].Path,
                        ["top"] = new JsonArray(predictions.Top(i, topCount).ToArray().Select(c => (JsonNode)new JsonObject
                        {
                            ["label"] = names[c], ["index"] = c, ["probability"] = Reporting.Round(probabilities[c]),
                        }).ToArray()),
                        ["preparation"] = new JsonArray(read[i].Steps.Select(s => (JsonNode)s).ToArray()),
                        ["input_check"] = read[i].Check?.ToJson(),
                    });
                }
                console.Json(new JsonObject
                {
                    ["command"] = "predict",
                    ["model_path"] = Path.GetFullPath(parse.GetValue(modelPath)!),
                    ["model_preparation"] = $"{preparation.Channels}×{preparation.Height}×{preparation.Width}",
                    ["predictions"] = list,
                    ["failed"] = new JsonArray(failed.Select(f => (JsonNode)new JsonObject { ["path"] = f.Path, ["error"] = f.Error }).ToArray()),
                });
            }
            else
            {
                for (int i = 0; i < read.Count; i++)
                {
                    var probabilities = predictions!.ProbabilitiesOf(i).ToArray();
                    var shown = predictions.Top(i, topCount).ToArray()
                        .Select(c => string.Create(CultureInfo.InvariantCulture, $"{names[c]} {probabilities[c]:P0}"));
                    console.Out.WriteLine($"{read[i].Path}: {string.Join(", ", shown)}");
                    if (read[i].Steps.Count > 0) console.Log($"note: {read[i].Path}: {string.Join("; ", read[i].Steps)}");
                    if (read[i].Check is { IsFar: true } check)
                        console.Log($"warning: {read[i].Path} is unlike the model's training images ({check.Describe()}): " +
                                    "this prediction says little, however confident it looks");
                }
                if (stored.InputStatistics is null)
                    console.Log("note: this model file has no input statistics (saved before they existed), " +
                                "so inputs unlike its training images cannot be flagged");
            }
            if (failed.Count == 0) return CliApp.Success;
            console.Log($"{failed.Count} of {paths.Count} file(s) could not be read{(read.Count > 0 ? "; the others were predicted" : "")}");
            return CliApp.RuntimeFailure;
        });
        return command;
    }

    // Files as given, folders as the images in them (sorted); what a folder holds besides images is mentioned once.
    private static List<string> Expand(IEnumerable<string> arguments, CliConsole console)
    {
        var paths = new List<string>();
        foreach (var argument in arguments)
        {
            if (!Directory.Exists(argument))
            {
                paths.Add(argument);
                continue;
            }
            var (found, others) = ImageFiles.InFolder(argument);
            paths.AddRange(found);
            if (others.Count == 0) continue;
            var named = string.Join(", ", others.Take(3).Select(o => Path.GetRelativePath(argument, o))) + (others.Count > 3 ? ", ..." : "");
            console.Log($"note: {argument}: passed over {others.Count} file(s) without a .png, .jpg or .jpeg extension ({named})");
        }
        return paths;
    }

    // Why one image could not be read, for its error line; null for failures that are bugs (they keep their stack trace).
    private static string? Unreadable(Exception e) => e switch
    {
        DataFormatException d => d.Reason,
        FileNotFoundException => "file not found",
        DirectoryNotFoundException => "no such file or folder",
        UnauthorizedAccessException => "permission denied",
        IOException => e.Message,
        _ => null,
    };
}

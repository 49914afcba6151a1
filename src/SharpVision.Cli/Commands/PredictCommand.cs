using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Imaging;
using SharpVision.Models;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision predict`: classify image files with a saved model.</summary>
internal static class PredictCommand
{
    public static Command Create(CliConsole console)
    {
        var modelPath = new Option<string>("--model") { Description = "Model file (model.safetensors, or an ONNX classifier F.onnx, run on the engine)", Required = true };
        var top = new Option<int>("--top") { Description = "How many classes to show per image", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var images = new Argument<string[]>("images") { Description = "PNG or JPEG files, any size, gray or color", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Classify images with a saved model. Each image is converted and resized the way the model's training images were.\n\nExample:\n  sharpvision predict --model runs/knn/model.safetensors shoe.jpg shirt.png --top 3\n  sharpvision predict --model cnn2.onnx shoe.jpg");
        command.Options.Add(modelPath);
        command.Options.Add(top);
        command.Options.Add(json);
        command.Arguments.Add(images);
        command.SetAction(parse =>
        {
            int topCount = parse.GetValue(top);
            if (topCount < 1) throw new UsageException("--top must be at least 1.");
            var stored = ModelFile.Load(parse.GetValue(modelPath)!);
            var paths = parse.GetValue(images)!;
            // Decode everything before predicting anything: one bad file fails the command with no partial output.
            var prepared = new byte[paths.Length * stored.Preparation.Channels * stored.Preparation.Height * stored.Preparation.Width];
            int size = prepared.Length / paths.Length;
            for (int i = 0; i < paths.Length; i++)
                stored.Preparation.Prepare(ImageDecoder.Load(paths[i])).CopyTo(prepared.AsSpan(i * size, size));
            var predictions = stored.Predict(prepared);
            var names = stored.ClassNames;
            if (parse.GetValue(json))
            {
                var list = new JsonArray();
                for (int i = 0; i < paths.Length; i++)
                {
                    var probabilities = predictions.ProbabilitiesOf(i).ToArray();
                    list.Add(new JsonObject
                    {
                        ["path"] = paths[i],
                        ["top"] = new JsonArray(predictions.Top(i, topCount).ToArray().Select(c => (JsonNode)new JsonObject
                        {
                            ["label"] = names[c], ["index"] = c, ["probability"] = Reporting.Round(probabilities[c]),
                        }).ToArray()),
                    });
                }
                console.Json(new JsonObject { ["command"] = "predict", ["model_path"] = Path.GetFullPath(parse.GetValue(modelPath)!), ["predictions"] = list });
                return CliApp.Success;
            }
            for (int i = 0; i < paths.Length; i++)
            {
                var probabilities = predictions.ProbabilitiesOf(i).ToArray();
                var shown = predictions.Top(i, topCount).ToArray().Select(c => string.Create(CultureInfo.InvariantCulture, $"{names[c]} {probabilities[c]:P0}"));
                console.Out.WriteLine($"{paths[i]}: {string.Join(", ", shown)}");
            }
            return CliApp.Success;
        });
        return command;
    }
}

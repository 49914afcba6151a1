using System.CommandLine;
using System.Text.Json.Nodes;
using SharpVision.Nn;
using SharpVision.Onnx;
using SharpVision.Models;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision export` (a network model as ONNX or a PyTorch state_dict) and `sharpvision import` (a state_dict back).</summary>
internal static class ExportCommand
{
    public static Command Create(CliConsole console)
    {
        var modelPath = new Option<string>("--model") { Description = "Network model file (model.safetensors of linear, logistic, mlp, cnn2, resnet8, resnet20)", Required = true };
        var format = new Option<string>("--format") { Description = "onnx (float pixels 0..255 in, probabilities out) or pytorch (safetensors state_dict)", Required = true };
        var output = new Option<string>("--out") { Description = "File to write (F.onnx or F.safetensors)", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var command = new Command("export",
            "Export a network model. ONNX: the graph takes float pixels 0..255, N×C×H×W, normalizes them as the model does and outputs class probabilities; " +
            "class names and preparation are in its metadata_props. PyTorch: the state_dict of the same network in PyTorch (torch_peers.py's names), " +
            "with architecture, normalization and classes in the safetensors metadata; bench/peers/torch_state_dict.py loads it.\n\nExamples:\n" +
            "  sharpvision export --model runs/cnn2/model.safetensors --format onnx --out cnn2.onnx\n" +
            "  sharpvision predict --model cnn2.onnx shoe.png                   (ONNX files run on the engine too)\n" +
            "  sharpvision export --model runs/resnet8/model.safetensors --format pytorch --out resnet8.safetensors");
        command.Options.Add(modelPath);
        command.Options.Add(format);
        command.Options.Add(output);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            string which = parse.GetValue(format)!.ToLowerInvariant(), from = parse.GetValue(modelPath)!, to = parse.GetValue(output)!;
            if (which is not ("onnx" or "pytorch")) throw new UsageException($"--format must be onnx or pytorch, got '{which}'.");
            var stored = ModelFile.Load(from);
            var network = stored as NetworkClassifier ?? throw new UsageException($"{from} holds a {stored.Kind} model; only network models (linear, logistic, mlp, cnn2, resnet8, resnet20) export.");
            if (network.Features is not null) throw new UsageException($"{from} reads hand-crafted features ({network.Features.Pipeline.CanonicalConfig}), which neither format covers; export models trained on pixels.");
            if (network.FlipAveraging) console.Log("note: the model averages over mirror images (--tta flip) when SharpVision predicts; the export holds the network alone");
            try
            {
                if (which == "onnx") OnnxFormat.Save(to, OnnxExporter.Export(network));
                else TorchStateDict.Save(to, network);
            }
            catch (NotSupportedException e)
            {
                throw new UsageException(e.Message);
            }
            if (parse.GetValue(json))
                console.Json(new JsonObject { ["command"] = "export", ["format"] = which, ["model"] = stored.Kind, ["model_path"] = Path.GetFullPath(from), ["out"] = Path.GetFullPath(to) });
            else
                console.Out.WriteLine($"{to}: {stored.Kind} as {(which == "onnx" ? $"ONNX (opset {OnnxExporter.OperatorSet})" : "a PyTorch state_dict")}");
            return CliApp.Success;
        });
        return command;
    }

    public static Command CreateImport(CliConsole console)
    {
        var stateDict = new Option<string>("--state-dict") { Description = "safetensors state_dict (from export --format pytorch, or saved by bench/peers/torch_state_dict.py)", Required = true };
        var like = new Option<string?>("--like") { Description = "A model of the same architecture whose classes and normalization to use, when the state_dict has no SharpVision metadata" };
        var output = new Option<string>("--out") { Description = "SharpVision model file to write (model.safetensors)", Required = true };
        var command = new Command("import",
            "Import a PyTorch state_dict (safetensors) as a SharpVision model, e.g. after training further elsewhere.\n\nExamples:\n" +
            "  sharpvision import --state-dict resnet8-finetuned.safetensors --out model.safetensors\n" +
            "  sharpvision import --state-dict plain.safetensors --like runs/cnn2/model.safetensors --out model.safetensors");
        command.Options.Add(stateDict);
        command.Options.Add(like);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            var template = parse.GetValue(like) is { } likePath
                ? ModelFile.Load(likePath) as NetworkClassifier ?? throw new UsageException($"--like {likePath} is not a network model.")
                : null;
            NetworkClassifier model = TorchStateDict.Load(parse.GetValue(stateDict)!, template);
            model.Save(parse.GetValue(output)!);
            console.Out.WriteLine($"{parse.GetValue(output)}: {model.Kind}, {model.Network.ParameterCount():N0} parameters, {model.ClassNames.Count} classes");
            return CliApp.Success;
        });
        return command;
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Reports;
using SharpVision.Models;
using SharpVision.Nn;

namespace SharpVision.Cli.Commands;

/// <summary>`sharpvision templates`: a linear classifier's per-class weights as a PNG.</summary>
internal static class TemplatesCommand
{
    public static Command Create(CliConsole console)
    {
        var modelPath = new Option<string>("--model")
        {
            Description = "A linear model file (svm, softmax or logistic, trained on pixels) from `sharpvision train`", Required = true,
        };
        var output = new Option<string>("--out") { Description = "PNG file to write", DefaultValueFactory = _ => "templates.png" };
        var zoom = new Option<int>("--zoom") { Description = "Scale each template up by this factor", DefaultValueFactory = _ => 4 };
        var columns = new Option<int>("--columns") { Description = "Templates per row", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print a JSON document (path, class order)" };
        var command = new Command("templates",
            "Render a linear classifier's learned templates (one image per class: its row of W, in pixel space).\n\n" +
            "The lectures' picture (each template a blurry prototype of its class) needs mean-image preprocessing and a stronger L2 penalty: with " +
            "svm's and softmax's default per-pixel standardization, weights on pixels that hardly vary dominate and the templates look like noise. " +
            "Models on features (--features hog, ...) have no templates: their weights are per feature, not per pixel.\n\n" +
            "Example:\n  sharpvision train --model softmax --preprocess mean-image --reg 1e-3 --out runs/softmax-templates\n" +
            "  sharpvision templates --model runs/softmax-templates/model.safetensors --out templates.png");
        foreach (var option in new Option[] { modelPath, output, zoom, columns, json }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            if (parse.GetValue(zoom) is < 1 or > 64) throw new UsageException("--zoom must be between 1 and 64.");
            if (parse.GetValue(columns) < 1) throw new UsageException("--columns must be at least 1.");
            var stored = ModelFile.Load(parse.GetValue(modelPath)!);
            var network = stored as NetworkClassifier ?? throw new UsageException(
                $"{parse.GetValue(modelPath)} is a {stored.Kind} model; templates need a linear classifier (svm, softmax or logistic).");
            if (Templates.Unsupported(network) is { } reason) throw new UsageException($"{parse.GetValue(modelPath)}: {reason}.");
            if (network.Normalizer.Mode == NormalizationMode.PerPixel)
                console.Log("warning: this model standardizes each pixel (the svm/softmax default), so its templates look like noise; " +
                            "for recognisable ones train with --preprocess mean-image --reg 1e-3 (see `sharpvision templates --help`)");
            var image = Templates.Render(network, parse.GetValue(zoom), parse.GetValue(columns));
            var path = Path.GetFullPath(parse.GetValue(output)!);
            PngEncoder.Save(image, path);
            if (parse.GetValue(json))
                console.Json(new JsonObject { ["command"] = "templates", ["path"] = path, ["width"] = image.Width, ["height"] = image.Height, ["classes"] = new JsonArray(network.ClassNames.Select(n => (JsonNode)n).ToArray()) });
            else
                console.Out.WriteLine($"{path}: {image.Width}×{image.Height}, templates left to right, top to bottom: {string.Join(", ", network.ClassNames)}");
            return CliApp.Success;
        });
        return command;
    }
}

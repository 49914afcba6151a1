using SharpVision.Data;
using SharpVision.Nn;
using SharpVision.Reports;

namespace SharpVision.Tests.Reports;

public class TemplatesTests
{
    [Fact]
    public void Render_AFewExtremeWeights_DoNotWashOutTheRest()
    {
        // Ten 20×20 templates, each a left-to-right ramp from −1 to 1, with 1 % of all weights (border pixels of tiny
        // variance do this after per-pixel standardization) set to ±100. The ramp must still span most of the gray scale.
        const int side = 20, d = side * side, classes = 10;
        var network = Networks.LinearClassifier(d, classes);
        var linear = network.Layers.OfType<Linear>().Single();
        for (int k = 0; k < classes; k++)
            for (int j = 0; j < d; j++)
                linear.Weight.Data[k * d + j] = -1 + 2f * (j % side) / (side - 1);
        var rng = new Random(3);
        for (int n = 0; n < classes * d / 100; n++) linear.Weight.Data[rng.Next(classes * d)] = rng.Next(2) == 0 ? -100 : 100;
        var model = new NetworkClassifier("softmax", network, ClassifierLoss.Softmax, new Normalizer(NormalizationMode.None, 1, d, [], []),
            new ImagePreparation(1, side, side), Enumerable.Range(0, classes).Select(k => $"class {k}").ToArray());

        var tiles = Templates.RenderEach(model);
        Assert.Equal(classes, tiles.Length);
        // Column 2 and column 17 of the ramp (weights −0.79 and 0.79), away from the outliers: far apart in gray.
        var darks = new List<int>();
        var lights = new List<int>();
        for (int y = 0; y < side; y++)
        {
            int j2 = y * side + 2, j17 = y * side + 17;
            if (Math.Abs(linear.Weight.Data[j2]) < 2) darks.Add(tiles[0].Pixels[j2]);
            if (Math.Abs(linear.Weight.Data[j17]) < 2) lights.Add(tiles[0].Pixels[j17]);
        }
        Assert.True(lights.Average() - darks.Average() > 150, $"ramp spans {darks.Average():F0} → {lights.Average():F0} of 255");
    }
}

/// <summary>`sharpvision templates` as a new user runs it: the help's own example, and models that have no templates.</summary>
public class TemplatesCliTests
{
    [Fact]
    public void TemplatesHelp_Example_DrawsRecognisableTemplates()
    {
        // Run the two commands of the help's example as printed (on the shipped sample, into a temp folder).
        var (helpCode, help, _) = CliRunner.Run("templates", "--help");
        Assert.Equal(0, helpCode);
        var example = help.Split('\n').Select(l => l.Trim()).SkipWhile(l => l != "Example:").TakeWhile(l => l.Length > 0)
            .Where(l => l.StartsWith("sharpvision ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, example.Count);
        Assert.StartsWith("sharpvision train ", example[0]);
        Assert.StartsWith("sharpvision templates ", example[1]);
        using var temp = new TempFolder();
        string[] Args(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(a => a.StartsWith("runs/", StringComparison.Ordinal) ? temp.Combine(a) : a == "templates.png" ? temp.Combine(a) : a).ToArray();
        var train = CliRunner.Run([.. Args(example[0]), "--data", CliRunner.SampleDir, "--threads", "2"]);
        Assert.True(train.Code == 0, train.Err);
        var templates = CliRunner.Run(Args(example[1]));
        Assert.True(templates.Code == 0, templates.Err);
        Assert.True(File.Exists(temp.Combine("templates.png")));
        Assert.DoesNotContain("noise", templates.Err, StringComparison.Ordinal);

        // The lectures' picture: each template resembles its class's mean image minus the mean of all images (CS231n).
        // Measured on the sample: mean correlation 0.79 with the example's flags, 0.02 with the default per-pixel standardization.
        var modelPath = Args(example[1]).SkipWhile(a => a != "--model").ElementAt(1);
        var model = (NetworkClassifier)SharpVision.Models.ModelFile.Load(modelPath);
        var data = DatasetLoader.Load(new DatasetLocator(CliRunner.SampleDir).Locate("fashion-mnist")).Train;
        var rows = Templates.Compute(model);
        int d = data.SampleSize;
        var all = new double[d];
        for (int i = 0; i < data.Count; i++)
            for (int j = 0; j < d; j++) all[j] += data.Pixels[i * d + j] / (double)data.Count;
        double mean = 0;
        for (int k = 0; k < rows.Length; k++)
        {
            var members = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == k).ToList();
            var prototype = new double[d];
            foreach (int i in members)
                for (int j = 0; j < d; j++) prototype[j] += data.Pixels[i * d + j] / (double)members.Count;
            mean += Correlation(rows[k].Select(v => (double)v).ToArray(), prototype.Select((v, j) => v - all[j]).ToArray()) / rows.Length;
        }
        Assert.True(mean > 0.5, $"templates correlate {mean:F2} with their class prototypes on average: noise, not the lectures' picture");
    }

    [Fact]
    public void Templates_ModelOnHogFeatures_IsRefusedWithAClearMessage()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("hog");
        var train = CliRunner.Run("train", "--data", CliRunner.SampleDir, "--model", "softmax", "--features", "hog", "--epochs", "1",
            "--train-limit", "300", "--threads", "2", "--out", run);
        Assert.True(train.Code == 0, train.Err);
        var png = temp.Combine("t.png");
        var (code, _, err) = CliRunner.Run("templates", "--model", Path.Combine(run, "model.safetensors"), "--out", png);
        Assert.Equal(2, code);
        Assert.Contains("features, not pixels", err, StringComparison.Ordinal);
        Assert.Contains("hog", err, StringComparison.Ordinal);
        Assert.False(File.Exists(png));
    }

    private static double Correlation(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.Sqrt(saa * sbb);
    }
}

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

using SharpVision.Nn;
using SharpVision.Reports;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;
using SharpVision.Tensors.Kernels.Reference;

namespace SharpVision.Tests.Nn;

public class AttentionMapsTests
{
    private static Sequential SmallVit(int seed, int depth = 2)
    {
        var net = Networks.Vit(1, 12, 8, 3, new TransformerOptions(Patch: 4, Width: 8, Depth: depth, Heads: 2));
        net.ResetParameters(new Rng(seed));
        return net;
    }

    private static Tensor Images(int n, int seed)
    {
        var rng = new Rng(seed);
        return new Tensor(new Shape(n, 1, 12, 8), Enumerable.Range(0, n * 96).Select(_ => rng.NextNormal()).ToArray());
    }

    [Fact]
    public void Rollout_UniformAttention_GivesAUniformMap()
    {
        // Zero query/key projections: every score is 0, so every block attends uniformly and rollout cannot prefer a patch.
        var net = SmallVit(1);
        foreach (var block in net.Layers.OfType<TransformerEncoderBlock>())
            Array.Clear(block.Attention.InputWeight.Data, 0, 2 * 8 * 8);
        var maps = AttentionMaps.Rollout(net, Images(3, 2));
        Assert.Equal((3, 3, 2), (maps.Count, maps.GridHeight, maps.GridWidth));
        Assert.All(maps.Values, v => Assert.Equal(1f / 6, v, 1e-6));
    }

    [Fact]
    public void Rollout_MatchesTheDefinition_ComputedInDouble()
    {
        var net = SmallVit(3);
        var images = Images(2, 4);
        var maps = AttentionMaps.Rollout(net, images);

        // Oracle: each block's probabilities from the reference attention on its packed projections, R = Π (½·mean P + ½·I).
        int t = 7, d = 8;
        var rollout = new double[2][,];
        var x = images;
        foreach (var layer in net.Layers)
        {
            if (layer is TransformerEncoderBlock block)
            {
                var normalized = block.Norm1.Forward(x);
                var packed = Ops.Linear(normalized.Reshape(2 * t, d), block.Attention.InputWeight, block.Attention.InputBias).Data;
                var shape = new AttentionShape(2, 2, t, 4);
                for (int b = 0; b < 2; b++)
                {
                    var a = new double[t, t];
                    for (int h = 0; h < 2; h++)
                    {
                        var p = AttentionReference.Probabilities(shape, packed, HeadLayout.Packed(2, t, 4, 0), packed, HeadLayout.Packed(2, t, 4, 1), 0.5f, b, h);
                        for (int i = 0; i < t; i++)
                            for (int j = 0; j < t; j++) a[i, j] += 0.25 * p[i, j] + (h == 0 && i == j ? 0.5 : 0);
                    }
                    rollout[b] = rollout[b] is null ? a : Multiply(a, rollout[b]);
                }
            }
            x = layer.Forward(x);
        }
        for (int b = 0; b < 2; b++)
        {
            double total = 0;
            for (int j = 1; j < t; j++) total += rollout[b][0, j];
            for (int j = 1; j < t; j++) Assert.Equal(rollout[b][0, j] / total, maps.Map(b)[j - 1], 1e-5);
        }

        static double[,] Multiply(double[,] a, double[,] b)
        {
            int n = a.GetLength(0);
            var c = new double[n, n];
            for (int i = 0; i < n; i++)
                for (int k = 0; k < n; k++)
                    for (int j = 0; j < n; j++) c[i, j] += a[i, k] * b[k, j];
            return c;
        }
    }

    [Fact]
    public void Rollout_OfACct_UsesItsSequencePooling_AndItsConvolutionGrid()
    {
        var net = Networks.Cct(1, 16, 12, 3, new TransformerOptions(Width: 8, Depth: 1, Heads: 2));
        net.ResetParameters(new Rng(5));
        var rng = new Rng(6);
        var maps = AttentionMaps.Rollout(net, new Tensor(new Shape(2, 1, 16, 12), Enumerable.Range(0, 2 * 192).Select(_ => rng.NextNormal()).ToArray()));
        Assert.Equal((2, 4, 3), (maps.Count, maps.GridHeight, maps.GridWidth));
        for (int b = 0; b < 2; b++) Assert.Equal(1, maps.Map(b).ToArray().Sum(), 1e-5);
    }

    [Fact]
    public void PositionSimilarity_IsCosineSimilarity_OverThePatchGrid()
    {
        var net = SmallVit(7);
        var embedding = (PatchEmbedding)net.Layers[0];
        // Patches 0 and 5 share a direction; the rest are orthogonal one-hot rows (the class token's row is ignored).
        Array.Clear(embedding.Position.Data);
        for (int p = 0; p < 6; p++) embedding.Position.Data[(1 + p) * 8 + p] = p + 1;
        embedding.Position.Data[(1 + 5) * 8 + 0] = 3;
        var similarity = AttentionMaps.PositionSimilarity(net, 1, 12, 8);
        Assert.Equal((6, 3, 2), (similarity.Count, similarity.GridHeight, similarity.GridWidth));
        for (int p = 0; p < 6; p++) Assert.Equal(1f, similarity.Map(p)[p], 1e-6);
        Assert.Equal(0f, similarity.Map(1)[2]);
        Assert.Equal(3 / Math.Sqrt(9 + 36), similarity.Map(0)[5], 1e-6);
        Assert.Equal(similarity.Map(5)[0], similarity.Map(0)[5]);

        var picture = AttentionPictures.PositionSimilarityGrid(similarity, cell: 3);
        Assert.Equal((2 * 6 + 2, 3 * 9 + 2 * 2), (picture.Width, picture.Height));
        // Tile 4 (row 2, column 0), its own cell (row 2, column 0 of the tile): similarity 1 → viridis(1), yellow.
        int y = 2 * (9 + 2) + 2 * 3 + 1, x = 1, at = (y * picture.Width + x) * 3;
        Assert.Equal(new byte[] { 253, 231, 37 }, picture.Pixels.AsSpan(at, 3).ToArray());
    }

    [Fact]
    public void RolloutOverlay_IsTheImageSizeTimesZoom_AndBrightestWhereTheMapPeaks()
    {
        var planes = Enumerable.Repeat((byte)100, 12 * 8).ToArray();
        var map = new float[6];
        map[4] = 1; // grid row 2, column 0: the image's bottom-left 4×4 patch
        var image = AttentionPictures.RolloutOverlay(planes, 1, 12, 8, map, 3, 2, zoom: 2);
        Assert.Equal((16, 24, 3), (image.Width, image.Height, image.Channels));
        byte Green(int x, int y) => image.Pixels[(y * 16 + x) * 3 + 1];
        Assert.True(Green(3, 20) > Green(12, 3), "the peak's patch is brighter than a far one");
        Assert.Throws<ArgumentException>(() => AttentionPictures.RolloutOverlay(planes, 1, 12, 8, new float[5], 3, 2));
    }
}

using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;
using SharpVision.Tensors.Kernels.Reference;

namespace SharpVision.Tests.Tensors;

/// <summary>The fused conv + bias + ReLU + max-pool inference kernel against its scalar twin, the unfused ops, and thread counts.</summary>
public class ConvBlockKernelTests
{
    // (N, C, H, W, K, kernel, stride, pad, relu, pool kernel, pool stride): cnn2's two blocks, filter counts below, at
    // and past a block (1, 16, 17, 33), odd outputs the floor-mode pooling trims, pooling 3 / stride 2 and 1 / 1 (none),
    // stride 2 and 3, 1×1 and 5×5 kernels, padding 0 and 2, non-square images, a single pixel, tiles of 1–6 pixels.
    public static TheoryData<string> Geometries => new()
    {
        "3,1,28,28,32,3,1,1,true,2,2",
        "2,32,14,14,64,3,1,1,true,2,2",
        "1,1,1,1,1,1,1,0,false,1,1",
        "2,3,7,9,5,3,2,1,false,1,1",
        "3,7,13,11,17,3,1,1,true,3,2",
        "1,2,9,9,33,5,1,2,true,2,2",
        "4,5,6,5,16,1,1,0,true,2,1",
        "2,4,10,8,7,3,3,0,false,2,2",
        "5,1,4,4,3,3,1,1,true,4,4",
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Forward_EveryPath_EqualsTheReferenceBitForBit(string geometry)
    {
        var (g, x, weight, bias) = Case(geometry, seed: 1);
        int n = g.Convolution.Batch;
        var expected = new float[n * g.OutputImageSize];
        ConvBlockReference.Forward(g, x, weight, bias, expected);
        foreach (var path in Paths())
        {
            var packed = Pack(g, weight, bias, path);
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var y = Enumerable.Repeat(float.NaN, expected.Length).ToArray(); // every element must be written
                ConvBlockKernels.Forward(g, x, packed, y, threads, path);
                for (int i = 0; i < y.Length; i++)
                    Assert.True(expected[i] == y[i], $"{path}, {threads} threads, output {i}: {y[i]:R}, reference {expected[i]:R}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Forward_MatchesTheUnfusedOps(string geometry)
    {
        var (g, x, weight, bias) = Case(geometry, seed: 2);
        var conv = g.Convolution;
        var (n, c, h, w, k) = (conv.Batch, conv.Channels, conv.Height, conv.Width, conv.Filters);
        var (kernel, stride, pad) = (conv.KernelHeight, conv.Stride, conv.Padding);
        var (relu, pk, ps) = (g.Relu, g.PoolKernel, g.PoolStride);
        var weights = new Tensor(new Shape(k, c, kernel, kernel), weight);
        Tensor y = Ops.Conv2d(new Tensor(new Shape(n, c, h, w), x), weights, new Tensor(new Shape(k), bias), stride, pad);
        if (relu) y = Ops.Relu(y);
        if (pk > 1 || ps > 1) y = Ops.MaxPool2d(y, pk, ps);
        Assert.Equal(new Shape(n, k, g.OutputHeight, g.OutputWidth), y.Shape);
        var fused = new float[n * g.OutputImageSize];
        ConvBlockKernels.Forward(g, x, Pack(g, weight, bias, SimdPaths.Default), fused, 2, SimdPaths.Default);
        float scale = Math.Max(1, y.Data.Max(MathF.Abs));
        for (int i = 0; i < fused.Length; i++)
            Assert.True(MathF.Abs(fused[i] - y.Data[i]) <= 1e-5f * scale, $"output {i}: fused {fused[i]:R}, ops {y.Data[i]:R} ({conv})");
    }

    [Fact]
    public void Forward_WithoutBias_IsTheConvolutionAlone()
    {
        var (g, x, weight, _) = Case("2,3,6,6,4,3,1,1,false,1,1", seed: 3);
        var expected = new float[2 * g.OutputImageSize];
        Conv2dReference.Forward(g.Convolution, x, weight, [], expected);
        var packed = new float[ConvBlockKernels.PackedLength(g.Convolution, SimdPaths.Default)];
        ConvBlockKernels.PackWeights(g.Convolution, weight, [], packed, SimdPaths.Default);
        var y = new float[expected.Length];
        ConvBlockKernels.Forward(g, x, packed, y, 1, SimdPaths.Default);
        for (int i = 0; i < y.Length; i++) Assert.Equal(expected[i], y[i], 1e-5f);
    }

    [Fact]
    public void Forward_WrongLengthsOrPooling_ThrowNamingTheProblem()
    {
        var (g, x, weight, bias) = Case("2,3,6,6,4,3,1,1,true,2,2", seed: 4);
        var path = SimdPaths.Default;
        var packed = Pack(g, weight, bias, path);
        var y = new float[2 * g.OutputImageSize];
        Assert.Contains("input holds", Assert.Throws<ArgumentException>(() => ConvBlockKernels.Forward(g, x.AsSpan(1), packed, y, 1, path))
            .Message);
        Assert.Contains("output holds", Assert.Throws<ArgumentException>(() => ConvBlockKernels.Forward(g, x, packed, y.AsSpan(1), 1, path)).Message);
        Assert.Contains("packed holds", Assert.Throws<ArgumentException>(() => ConvBlockKernels.Forward(g, x, packed.AsSpan(1), y, 1, path)).Message);
        var tooWide = g with { PoolKernel = 7 };
        Assert.Contains("larger than", Assert.Throws<ArgumentException>(() => ConvBlockKernels.Forward(tooWide, x, packed, y, 1, path)).Message);
        Assert.Contains("bias has", Assert.Throws<ArgumentException>(() =>
            ConvBlockKernels.PackWeights(g.Convolution, weight, bias.AsSpan(1), new float[packed.Length], path)).Message);
    }

    private static IEnumerable<SimdPath> Paths() => Enum.GetValues<SimdPath>().Where(SimdPaths.IsSupported);

    private static float[] Pack(ConvBlockGeometry g, float[] weight, float[] bias, SimdPath path)
    {
        var packed = new float[ConvBlockKernels.PackedLength(g.Convolution, path)];
        ConvBlockKernels.PackWeights(g.Convolution, weight, bias, packed, path);
        return packed;
    }

    // Inputs and weights of both signs, so ReLU zeroes a good share of the outputs and pooling picks among the rest.
    // geometry: "N,C,H,W,K,kernel,stride,pad,relu,pool kernel,pool stride".
    private static (ConvBlockGeometry G, float[] X, float[] Weight, float[] Bias) Case(string geometry, int seed)
    {
        var v = geometry.Split(',');
        int At(int i) => int.Parse(v[i], System.Globalization.CultureInfo.InvariantCulture);
        var (n, c, h, w, k, kernel, stride, pad) = (At(0), At(1), At(2), At(3), At(4), At(5), At(6), At(7));
        var (relu, pk, ps) = (bool.Parse(v[8]), At(9), At(10));
        var rng = new Rng(seed);
        var g = new ConvBlockGeometry(new Conv2dGeometry(n, c, h, w, k, kernel, kernel, stride, pad), relu, pk, ps);
        float[] Normal(int count) => Enumerable.Range(0, count).Select(_ => rng.NextNormal()).ToArray();
        return (g, Normal(n * c * h * w), Normal(k * c * kernel * kernel), Normal(k));
    }
}

using SharpVision.Tensors.Autograd;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tensors;

// Convolution. Shapes: x (N, C, H, W), weight (K, C, kh, kw), bias (K) or null → y (N, K, Ho, Wo),
// Ho = ⌊(H + 2·padding − kh) / stride⌋ + 1, likewise Wo. The kernels are in Kernels/Conv2dKernels*.cs and OneDnnConv2d.cs.
public static partial class Ops
{
    /// <summary>
    /// PyTorch's Conv2d (cross-correlation with zero padding):
    /// y[n, k, oy, ox] = b[k] + Σ_{c,i,j} W[k, c, i, j]·x[n, c, oy·stride + i − padding, ox·stride + j − padding].
    /// </summary>
    /// <remarks>
    /// Shape: x (N, C, H, W), weight (K, C, kh, kw), bias (K) or null → (N, K, Ho, Wo). Backward gives dx, dW and db.
    /// Runs on <see cref="Engine.Threads"/> threads, on oneDNN or the managed kernels as <see cref="Kernels.Conv2dBackend"/>
    /// chooses; the result is the same for any thread count. Saves x and W for backward (im2col is recomputed there),
    /// and on oneDNN also x in oneDNN's layout, so the weight gradient does not reorder it again.
    /// </remarks>
    /// <exception cref="ArgumentException">Ranks or channel counts do not match, or the kernel does not fit the padded input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">stride &lt; 1 or padding &lt; 0.</exception>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        if (x.Shape.Rank != 4) throw new ArgumentException($"Conv2d: input must be (N, C, H, W), got {x.Shape}.", nameof(x));
        if (weight.Shape.Rank != 4) throw new ArgumentException($"Conv2d: weight must be (K, C, kh, kw), got {weight.Shape}.", nameof(weight));
        if (weight.Shape[1] != x.Shape[1]) throw new ArgumentException($"Conv2d: input {x.Shape} has {x.Shape[1]} channels; weight {weight.Shape} expects {weight.Shape[1]}.");
        if (bias is not null && (bias.Shape.Rank != 1 || bias.Size != weight.Shape[0]))
            throw new ArgumentException($"Conv2d: bias {bias.Shape} does not match {weight.Shape[0]} filters.", nameof(bias));
        var g = new Conv2dGeometry(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], weight.Shape[0], weight.Shape[2], weight.Shape[3], stride, padding);
        g.Validate();

        var y = BufferPool.Uninitialized<float>(g.Batch * g.OutputImageSize); // every element is written: skip the memset
        // On oneDNN, x stays in its blocked layout for the weight gradient (disposed by backward, else finalized).
        bool weightGradient = GradMode.IsEnabled && (weight.RequiresGrad || bias is { RequiresGrad: true });
        var savedInput = Conv2dKernels.Forward(g, x.Data, weight.Data, bias is null ? [] : bias.Data, y, Engine.Threads, Conv2dAlgorithm.Auto, weightGradient);
        var result = new Tensor(new Shape(g.Batch, g.Filters, g.OutputHeight, g.OutputWidth), y);
        Tensor[] parents = bias is null ? [x, weight] : [x, weight, bias];
        return result.Record("conv2d", parents, () =>
        {
            var dy = result.Grad!;
            // y = W ⋆ x + b: ∂/∂x = col2im(Wᵀ·dy), ∂/∂W = Σ_n dy_n·im2col(x_n)ᵀ, ∂/∂b = Σ_{n,oy,ox} dy
            bool accumulateDx = false;
            var dx = x.RequiresGrad ? x.GradToWrite(out accumulateDx) : [];
            bool biasGrad = bias is { RequiresGrad: true };
            // The kernels compute dW and db together; a gradient nobody asked for goes to a scratch buffer.
            var dw = weight.RequiresGrad ? weight.EnsureGrad() : biasGrad ? new float[weight.Size] : [];
            Conv2dKernels.Backward(g, dy, x.Data, weight.Data, dx, accumulateInput: accumulateDx, dw, biasGrad ? bias!.EnsureGrad() : [], Engine.Threads,
                Conv2dAlgorithm.Auto, savedInput);
            savedInput?.Dispose();
        });
    }
}

using SharpVision.Tensors.Kernels;

namespace SharpVision.Nn;

/// <summary>Which of the engine's kernels a network runs on, as run folders and log lines name them.</summary>
public static class EngineBackend
{
    /// <summary>
    /// "gemm-managed-avx2", plus "+conv-onednn" (or -managed, -onednn+managed when the automatic choice mixed them) when
    /// the network has convolutions, and "+convblock-avx2" (the SIMD path in force) when it has fused
    /// <see cref="ConvBlock"/>s (an inference form, <see cref="InferenceForm"/>).
    /// </summary>
    public static string Of(Module network) =>
        $"gemm-{Gemm.Provider.Name}" + (HasConvolution(network) ? $"+conv-{Conv2dBackend.Used}" : "")
        + (Has<ConvBlock>(network) ? $"+convblock-{SimdPaths.Name(SimdPaths.Default)}" : "");

    /// <summary>The GEMM provider and, for networks with convolutions, the convolution mode, for log lines.</summary>
    public static string Describe(Module network) =>
        $"GEMM {Gemm.Provider.Name}" + (HasConvolution(network) ? $", conv {Conv2dBackend.Describe()}" : "");

    private static bool HasConvolution(Module module) => Has<Conv2d>(module);

    private static bool Has<TModule>(Module module) where TModule : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        return module is TModule || module.Children.Any(c => Has<TModule>(c.Module));
    }
}

using System.Security.Cryptography;

namespace SharpVision.Onnx;

/// <summary>
/// A pretrained backbone's weights could not be found: the message lists every place that was searched and how to
/// point SharpVision at the files.
/// </summary>
public sealed class BackboneNotFoundException : FileNotFoundException
{
    /// <summary>The error for <paramref name="backbone"/>, after searching <paramref name="searched"/> in order.</summary>
    public BackboneNotFoundException(string backbone, IReadOnlyList<string> searched)
        : base(Describe(backbone, searched), searched.Count > 0 ? searched[0] : backbone)
    {
        Searched = searched;
    }

    /// <summary>The folders searched, in order.</summary>
    public IReadOnlyList<string> Searched { get; }

    private static string Describe(string backbone, IReadOnlyList<string> searched) =>
        $"The {backbone} backbone's weights were not found. Searched, in order: {string.Join("; ", searched)}. " +
        $"They ship in the NuGet package {PretrainedBackbones.PackageId} {PretrainedBackbones.PackageVersion} (its DnnImageModels/ folder, " +
        $"copied into a project's build output): pass --backbone DIR or set {PretrainedBackbones.EnvironmentVariable}=DIR to that folder.";
}

/// <summary>
/// Where the weights of the pretrained backbones come from, and how they are found and identified. The ImageNet
/// ResNet-18 is ML.NET's (NuGet <see cref="PackageId"/> <see cref="PackageVersion"/>): <c>ResNet18Onnx/ResNet18.onnx</c>
/// (1×3×224×224 → 512×1×1) and <c>ResNetPrepOnnx/ResNetPreprocess.onnx</c> (RGB → BGR, minus the mean image), in a
/// folder called DnnImageModels. Model files do not copy the weights: they name them by content hash
/// (<see cref="Hash"/>), and loading checks the files found have that hash.
/// </summary>
/// <remarks>
/// Lookup order (<see cref="SearchFolders"/>): <c>$SHARPVISION_BACKBONES</c> (the CLI's <c>--backbone DIR</c> sets it),
/// <c>DnnImageModels/</c> next to the running assembly (where the package's .props copies it), then the NuGet
/// package cache (<c>$NUGET_PACKAGES</c>, else <c>~/.nuget/packages</c>). A folder matches when it holds both files,
/// either in their subfolders (the package layout) or side by side.
/// </remarks>
public static class PretrainedBackbones
{
    /// <summary>The environment variable naming a folder that holds the backbone files.</summary>
    public const string EnvironmentVariable = "SHARPVISION_BACKBONES";

    /// <summary>The NuGet package that ships the ResNet-18 weights.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The package version whose files SharpVision was tested with.</summary>
    public const string PackageVersion = "0.24.0";

    private const string NetworkFile = "ResNet18.onnx", PreprocessFile = "ResNetPreprocess.onnx";

    /// <summary>The folders searched for the ResNet-18 files, in order, given an environment lookup.</summary>
    public static IReadOnlyList<string> SearchFolders(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var folders = new List<string>();
        if (environment(EnvironmentVariable) is { Length: > 0 } explicitFolder) folders.Add(Path.GetFullPath(explicitFolder));
        folders.Add(Path.Combine(AppContext.BaseDirectory, "DnnImageModels"));
        var nuget = environment("NUGET_PACKAGES") is { Length: > 0 } packages ? packages
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        folders.Add(Path.Combine(nuget, PackageId.ToLowerInvariant(), PackageVersion, "tools", "DnnImageModels"));
        return folders;
    }

    /// <summary>The ResNet-18 network and preprocessing files in the first folder of <see cref="SearchFolders"/> that holds both.</summary>
    /// <exception cref="BackboneNotFoundException">No folder holds them; the message lists the folders.</exception>
    public static (string Network, string Preprocess) LocateResNet18(Func<string, string?>? environment = null) =>
        LocateResNet18(SearchFolders(environment ?? Environment.GetEnvironmentVariable));

    /// <summary>The ResNet-18 files in the first of <paramref name="folders"/> that holds both.</summary>
    /// <exception cref="BackboneNotFoundException">No folder holds them; the message lists the folders.</exception>
    public static (string Network, string Preprocess) LocateResNet18(IReadOnlyList<string> folders)
    {
        ArgumentNullException.ThrowIfNull(folders);
        foreach (var folder in folders)
        {
            foreach (var (network, preprocess) in new[]
            {
                (Path.Combine(folder, "ResNet18Onnx", NetworkFile), Path.Combine(folder, "ResNetPrepOnnx", PreprocessFile)),
                (Path.Combine(folder, NetworkFile), Path.Combine(folder, PreprocessFile)),
            })
                if (File.Exists(network) && File.Exists(preprocess)) return (network, preprocess);
        }
        throw new BackboneNotFoundException("resnet18", folders);
    }

    /// <summary>
    /// The weights' identity: the first 16 hex digits of SHA-256(SHA-256(network file) ‖ SHA-256(preprocessing file)).
    /// </summary>
    public static string Hash(byte[] network, byte[] preprocess)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(preprocess);
        var both = SHA256.HashData([.. SHA256.HashData(network), .. SHA256.HashData(preprocess)]);
        return Convert.ToHexStringLower(both)[..16];
    }
}

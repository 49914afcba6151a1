namespace SharpVision.Data;

/// <summary>A dataset SharpVision knows by name.</summary>
/// <param name="Name">CLI name, e.g. "fashion-mnist".</param>
/// <param name="Format">"idx", "cifar-10" or "cifar-100".</param>
/// <param name="Description">One line for `datasets list`.</param>
/// <param name="ClassNames">Class names in label order (CIFAR reads them from its meta file when present).</param>
/// <param name="SystemDirectories">Where system packages install it (Debian's dataset-* packages).</param>
/// <param name="DebianPackage">The Debian package that provides it, if any.</param>
public sealed record KnownDataset(
    string Name, string Format, string Description, IReadOnlyList<string> ClassNames,
    IReadOnlyList<string> SystemDirectories, string? DebianPackage);

/// <summary>The datasets that can be named on the command line (anything else is taken as a path).</summary>
public static class KnownDatasets
{
    public static readonly KnownDataset FashionMnist = new(
        "fashion-mnist", "idx", "Zalando's Fashion-MNIST: 60,000 + 10,000 gray 28×28 images of 10 clothing classes",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        ["/usr/share/datasets/fashion-mnist"], "dataset-fashion-mnist");

    public static readonly KnownDataset Mnist = new(
        "mnist", "idx", "LeCun's MNIST: 60,000 + 10,000 gray 28×28 handwritten digits",
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        ["/usr/share/datasets/mnist"], null);

    public static readonly KnownDataset Cifar10 = new(
        "cifar-10", "cifar-10", "CIFAR-10 (binary version): 50,000 + 10,000 color 32×32 images of 10 classes",
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
        ["/usr/share/datasets/cifar-10"], null);

    public static readonly KnownDataset Cifar100 = new(
        "cifar-100", "cifar-100", "CIFAR-100 (binary version): 50,000 + 10,000 color 32×32 images, 100 fine / 20 coarse classes",
        [], ["/usr/share/datasets/cifar-100"], null);

    public static IReadOnlyList<KnownDataset> All { get; } = [FashionMnist, Mnist, Cifar10, Cifar100];

    /// <summary>Finds a dataset by name, ignoring case; null when the name is not known.</summary>
    public static KnownDataset? Find(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
}

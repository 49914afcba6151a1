namespace SharpVision.Data.Download;

/// <summary>
/// The official download locations and checksums of the datasets SharpVision knows.
/// All four publishers give MD5 only (no SHA-256), so MD5 is what is checked.
/// </summary>
/// <remarks>
/// Sources of the checksums: Fashion-MNIST, zalandoresearch/fashion-mnist README table;
/// MNIST, torchvision <c>datasets/mnist.py</c> (the ossci-datasets mirror of LeCun's files);
/// CIFAR-10/100 binary versions, the md5sum table on https://www.cs.toronto.edu/~kriz/cifar.html.
/// </remarks>
public static class DatasetSources
{
    // The S3 website endpoint serves plain HTTP only; the MD5 still catches corruption and truncation.
    private const string FashionMnistBase = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
    private const string MnistBase = "https://ossci-datasets.s3.amazonaws.com/mnist/";

    /// <summary>Fashion-MNIST: four gzip'd IDX files (60,000 train + 10,000 test, 28×28 gray).</summary>
    public static DatasetSource FashionMnist { get; } = new("fashion-mnist",
    [
        Md5(FashionMnistBase, "train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        Md5(FashionMnistBase, "train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        Md5(FashionMnistBase, "t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        Md5(FashionMnistBase, "t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]);

    /// <summary>MNIST: four gzip'd IDX files (60,000 train + 10,000 test, 28×28 gray).</summary>
    public static DatasetSource Mnist { get; } = new("mnist",
    [
        Md5(MnistBase, "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        Md5(MnistBase, "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        Md5(MnistBase, "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        Md5(MnistBase, "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]);

    /// <summary>CIFAR-10 binary version: one archive holding <c>cifar-10-batches-bin/</c>.</summary>
    public static DatasetSource Cifar10 { get; } = new("cifar-10",
    [
        new RemoteFile("cifar-10-binary.tar.gz", new Uri("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"),
            ChecksumKind.Md5, "c32a1d4ab5d03f1284b67883e8d87530", IsArchive: true),
    ]);

    /// <summary>CIFAR-100 binary version: one archive holding <c>cifar-100-binary/</c>.</summary>
    public static DatasetSource Cifar100 { get; } = new("cifar-100",
    [
        new RemoteFile("cifar-100-binary.tar.gz", new Uri("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"),
            ChecksumKind.Md5, "03b5dce01913d631647c71ecec9e9cb8", IsArchive: true),
    ]);

    /// <summary>Every known dataset: fashion-mnist, mnist, cifar-10, cifar-100.</summary>
    public static IReadOnlyList<DatasetSource> All { get; } = [FashionMnist, Mnist, Cifar10, Cifar100];

    /// <summary>The dataset with this CLI name (case-insensitive), or null when there is none.</summary>
    public static DatasetSource? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(source => string.Equals(source.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));
    }

    private static RemoteFile Md5(string baseUrl, string fileName, string md5) =>
        new(fileName, new Uri(baseUrl + fileName), ChecksumKind.Md5, md5);
}

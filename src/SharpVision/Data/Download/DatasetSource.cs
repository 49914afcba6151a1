namespace SharpVision.Data.Download;

/// <summary>Where a dataset's files come from.</summary>
/// <param name="Name">The dataset's CLI name: "fashion-mnist", "mnist", "cifar-10", "cifar-100".</param>
/// <param name="Files">The files to download, in order.</param>
public sealed record DatasetSource(string Name, IReadOnlyList<RemoteFile> Files);

namespace SharpVision.Data.Download;

/// <summary>One file of a dataset as its publisher serves it.</summary>
/// <param name="FileName">Plain file name it is saved under (no folders).</param>
/// <param name="Url">Where it is downloaded from.</param>
/// <param name="ChecksumKind">Which hash <paramref name="Checksum"/> is.</param>
/// <param name="Checksum">The publisher's hash of the file, in hex.</param>
/// <param name="IsArchive">True for a <c>.tar.gz</c> that is extracted after download.</param>
public sealed record RemoteFile(string FileName, Uri Url, ChecksumKind ChecksumKind, string Checksum, bool IsArchive = false);

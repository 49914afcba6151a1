namespace SharpVision.Data.Download;

/// <summary>The hash a publisher gives for a file, as lowercase or uppercase hex.</summary>
public enum ChecksumKind
{
    /// <summary>SHA-256, 64 hex characters. Preferred when the publisher gives it.</summary>
    Sha256,

    /// <summary>MD5, 32 hex characters. Used only where the publisher gives nothing stronger.</summary>
    Md5,
}

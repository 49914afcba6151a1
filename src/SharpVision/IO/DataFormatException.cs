namespace SharpVision.IO;

/// <summary>
/// A file (dataset, image, model) whose bytes do not match the format it claims.
/// The message always names the file so a user can find and fix it.
/// </summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception; the message is prefixed with the path.</summary>
    /// <param name="path">The offending file (or folder).</param>
    /// <param name="reason">What is wrong, in one sentence.</param>
    /// <param name="inner">The low-level error, if any.</param>
    public DataFormatException(string path, string reason, Exception? inner = null)
        : base($"{path}: {reason}", inner)
    {
        Path = path;
        Reason = reason;
    }

    /// <summary>The file the problem was found in.</summary>
    public string Path { get; }

    /// <summary>The problem without the path.</summary>
    public string Reason { get; }
}

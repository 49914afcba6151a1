namespace SharpVision;

/// <summary>
/// A model cannot be set up as asked: options that contradict each other, or that do not fit the data (a feature
/// pipeline larger than the images, one class, k above the training images). <see cref="Setting"/> names what to
/// change, so a command line can name its flag.
/// </summary>
/// <param name="setting">The option at fault ("features", "model", "k", ...).</param>
/// <param name="message">What is wrong and what would work.</param>
/// <param name="inner">The low-level error, if any.</param>
public sealed class ModelSetupException(string setting, string message, Exception? inner = null) : ArgumentException(message, inner)
{
    /// <summary>The option at fault.</summary>
    public string Setting { get; } = setting;
}

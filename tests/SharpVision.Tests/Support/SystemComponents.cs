using SharpVision.Imaging;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tests.Support;

/// <summary>Optional system components some tests need (.ci/run installs each of them).</summary>
public enum SystemComponent
{
    /// <summary>Debian's chromium and chromium-driver (the report browser test).</summary>
    Chromium,

    /// <summary>libopenblas.so.0 (Debian package libopenblas0-pthread).</summary>
    OpenBlas,

    /// <summary>libturbojpeg.so.0 (Debian package libturbojpeg0).</summary>
    TurboJpeg,

    /// <summary>libwebp.so.7 (Debian package libwebp7).</summary>
    WebP,
}

/// <summary>
/// Whether an optional component is present, and what a test that needs it does without it: xunit reports it as
/// skipped with the reason (it does not pass), except under CI=true, where it runs and fails on the missing component.
/// </summary>
public static class SystemComponents
{
    /// <summary>Why <paramref name="component"/> cannot be used here, or null when it can.</summary>
    public static string? MissingReason(SystemComponent component) => component switch
    {
        SystemComponent.Chromium => HeadlessChromium.MissingReason,
        SystemComponent.OpenBlas => Gemm.OpenBlas is null ? "libopenblas.so.0 is not loadable (Debian package libopenblas0-pthread)" : null,
        SystemComponent.TurboJpeg => TurboJpeg.IsAvailable ? null : "libturbojpeg.so.0 is not loadable (Debian package libturbojpeg0)",
        SystemComponent.WebP => ImageDecoder.WebPAvailable ? null : "libwebp.so.7 is not loadable (Debian package libwebp7)",
        _ => throw new ArgumentOutOfRangeException(nameof(component), component, null),
    };

    /// <summary>The skip reason xunit shows: null (run the test) when nothing is missing or under CI=true.</summary>
    public static string? SkipReason(string? missing, string? ciVariable) =>
        missing is null || ciVariable == "true" ? null : $"skipped: {missing}";

    /// <summary>Called first by a test that needs <paramref name="component"/>: under CI=true its absence fails the test, naming it.</summary>
    public static void Require(SystemComponent component)
    {
        if (MissingReason(component) is { } missing) Assert.Fail($"{component} is required under CI=true (.ci/run installs it): {missing}.");
    }
}

/// <summary>
/// A [Fact] that needs an optional system component: reported as skipped, with the reason, when it is missing (see
/// <see cref="SystemComponents"/>).
/// </summary>
public sealed class RequiresFactAttribute : FactAttribute
{
    public RequiresFactAttribute(SystemComponent component)
    {
        Component = component;
        Skip = SystemComponents.SkipReason(SystemComponents.MissingReason(component), Environment.GetEnvironmentVariable("CI"));
    }

    public SystemComponent Component { get; }
}

/// <summary>The [Theory] twin of <see cref="RequiresFactAttribute"/>.</summary>
public sealed class RequiresTheoryAttribute : TheoryAttribute
{
    public RequiresTheoryAttribute(SystemComponent component)
    {
        Component = component;
        Skip = SystemComponents.SkipReason(SystemComponents.MissingReason(component), Environment.GetEnvironmentVariable("CI"));
    }

    public SystemComponent Component { get; }
}

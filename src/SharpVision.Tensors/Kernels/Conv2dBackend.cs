using System.Runtime.CompilerServices;

namespace SharpVision.Tensors.Kernels;

/// <summary>The three kernels of a convolution layer.</summary>
public enum Conv2dPass
{
    /// <summary>y = conv(x, W) + b.</summary>
    Forward,
    /// <summary>dx += ∂y/∂x applied to dy.</summary>
    BackwardData,
    /// <summary>dW += …, db += Σ dy.</summary>
    BackwardWeight,
}

/// <summary>Which convolution backends <see cref="Conv2dKernels"/> may use (<c>SHARPVISION_CONV</c>).</summary>
public enum Conv2dBackendMode
{
    /// <summary>Per geometry and pass, the backend that measured faster (<see cref="Conv2dBackend.PrefersOneDnn"/>); managed when oneDNN is absent.</summary>
    Auto,
    /// <summary>Only the managed kernels (direct and im2col + GEMM).</summary>
    Managed,
    /// <summary>oneDNN for every convolution.</summary>
    OneDnn,
}

/// <summary>
/// Chooses between the managed convolution kernels and oneDNN (libdnnl.so.2, when installed) and reports which ran.
/// </summary>
/// <remarks>
/// <see cref="Mode"/> defaults to <see cref="Variable"/> (<c>managed</c>, <c>onednn</c> or <c>auto</c>; unset means
/// auto). Calls that name an explicit <see cref="Conv2dAlgorithm"/> bypass the mode. Results differ between the
/// backends in the last bits (different summation orders); each backend alone gives the same bits for any thread
/// count, so a run is reproducible for a given mode, oneDNN build and machine. <see cref="Used"/> says which backends
/// actually ran.
/// </remarks>
public static class Conv2dBackend
{
    /// <summary>Environment variable that selects the mode: <c>managed</c>, <c>onednn</c> or <c>auto</c>.</summary>
    public const string Variable = "SHARPVISION_CONV";

    private const int UsedManaged = 1, UsedOneDnn = 2;

    private static readonly Lazy<(OneDnnConv2d? Backend, string Reason)> LoadedOneDnn = new(() =>
    {
        var backend = OneDnnConv2d.TryCreate(out string reason);
        return (backend, reason);
    });

    private static Conv2dBackendMode? _mode;

    // What ran, per run: ResetUsed gives the calling flow (and the tasks and threads it starts) its own record, so two
    // runs in one process (tests in parallel, a service beside a fit) do not reset or read each other's.
    private static readonly AsyncLocal<StrongBox<int>?> RunRecord = new();
    private static readonly StrongBox<int> ProcessRecord = new();

    private static StrongBox<int> Record => RunRecord.Value ?? ProcessRecord;

    /// <summary>The oneDNN backend, or null when libdnnl.so.2 is not usable (see <see cref="OneDnnUnavailableReason"/>).</summary>
    internal static OneDnnConv2d? OneDnn => LoadedOneDnn.Value.Backend;

    /// <summary>True when libdnnl.so.2 (oneDNN 2.x on OpenMP) loaded and passed its self-test.</summary>
    public static bool OneDnnAvailable => OneDnn is not null;

    /// <summary>Why oneDNN is not available ("" when it is).</summary>
    public static string OneDnnUnavailableReason => LoadedOneDnn.Value.Reason;

    /// <summary>"2.6.3 (OpenMP)", or null when oneDNN is not available.</summary>
    public static string? OneDnnVersion => OneDnn?.Version;

    /// <summary>The mode in force; set it to choose, the default comes from <see cref="ChooseDefault()"/>.</summary>
    /// <exception cref="InvalidOperationException">Setting <see cref="Conv2dBackendMode.OneDnn"/> when oneDNN is not available.</exception>
    public static Conv2dBackendMode Mode
    {
        get => _mode ??= ChooseDefault();
        set
        {
            if (value == Conv2dBackendMode.OneDnn && !OneDnnAvailable)
                throw new InvalidOperationException($"The oneDNN convolution backend is not available: {OneDnnUnavailableReason}.");
            _mode = value;
        }
    }

    /// <summary>The mode <see cref="Variable"/> names (auto when unset).</summary>
    /// <exception cref="InvalidOperationException">The variable names an unknown mode, or onednn when libdnnl.so.2 is not usable.</exception>
    public static Conv2dBackendMode ChooseDefault() => ChooseDefault(Environment.GetEnvironmentVariable(Variable));

    /// <summary>The mode a value of <see cref="Variable"/> names: managed, onednn or auto (any case; null or blank: auto).</summary>
    /// <exception cref="InvalidOperationException">An unknown mode, or onednn when libdnnl.so.2 is not usable.</exception>
    public static Conv2dBackendMode ChooseDefault(string? requested)
    {
        if (string.IsNullOrWhiteSpace(requested)) return Conv2dBackendMode.Auto;
        return requested.Trim().ToLowerInvariant() switch
        {
            "auto" => Conv2dBackendMode.Auto,
            "managed" => Conv2dBackendMode.Managed,
            "onednn" => OneDnnAvailable ? Conv2dBackendMode.OneDnn : throw new InvalidOperationException(
                $"{Variable}=onednn, but oneDNN is not available: {OneDnnUnavailableReason}."),
            _ => throw new InvalidOperationException($"{Variable}='{requested}' is not a convolution backend; use 'managed', 'onednn' or 'auto', or unset it."),
        };
    }

    /// <summary>
    /// The measured rule of <see cref="Conv2dBackendMode.Auto"/>: oneDNN for layers with at least 16 filters, except
    /// the input gradient of layers with fewer than 16 input channels, which stays on the managed kernels.
    /// </summary>
    /// <remarks>
    /// bench convkernels (2 threads, backends interleaved per repetition, min of 10; AMD EPYC with AVX-512, machine
    /// shared with other work). Batch 128: oneDNN's passes, reorders included, ran 1.2–1.9× faster than the best
    /// managed kernel on every 16-, 32- and 64-channel 3×3 layer of cnn2 and resnet8, and 2.2–3.2× on the 1×1 stride-2
    /// projections. Below oneDNN's AVX-512 block of 16 it pads channels: the input gradient of the 1- and 3-channel
    /// first layers took 1.5–2× the managed time (their forward and weight gradient were 1.0–1.9× faster on oneDNN),
    /// and with 8 filters every pass was 0.85–1.0× the managed speed. At batch 1 and 8 oneDNN led on every layer that
    /// the rule gives it (2–5× at batch 1), so the rule ignores the batch size.
    /// </remarks>
    public static bool PrefersOneDnn(in Conv2dGeometry g, Conv2dPass pass) =>
        g.Filters >= OneDnnBlock && (pass != Conv2dPass.BackwardData || g.Channels >= OneDnnBlock);

    // oneDNN's channel block on AVX-512 (nChw16c).
    private const int OneDnnBlock = 16;

    /// <summary>True when a call with <paramref name="algorithm"/> runs on oneDNN under the current <see cref="Mode"/>.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Conv2dAlgorithm.OneDnn"/> was asked for and oneDNN is not available.</exception>
    internal static bool UsesOneDnn(in Conv2dGeometry g, Conv2dPass pass, Conv2dAlgorithm algorithm)
    {
        if (algorithm == Conv2dAlgorithm.OneDnn && !OneDnnAvailable)
            throw new InvalidOperationException($"Conv2dAlgorithm.OneDnn: oneDNN is not available: {OneDnnUnavailableReason}.");
        bool oneDnn = Chooses(algorithm == Conv2dAlgorithm.Auto ? Mode : Conv2dBackendMode.Managed, OneDnnAvailable, g, pass)
            || algorithm == Conv2dAlgorithm.OneDnn;
        int flag = oneDnn ? UsedOneDnn : UsedManaged;
        var record = Record;
        if ((Volatile.Read(ref record.Value) & flag) == 0) Interlocked.Or(ref record.Value, flag);
        return oneDnn;
    }

    /// <summary><see cref="UsesOneDnn"/> without recording the call in <see cref="Used"/> (for planning ahead).</summary>
    internal static bool WouldUseOneDnn(in Conv2dGeometry g, Conv2dPass pass, Conv2dAlgorithm algorithm) =>
        algorithm == Conv2dAlgorithm.OneDnn ? OneDnnAvailable
            : algorithm == Conv2dAlgorithm.Auto && Chooses(Mode, OneDnnAvailable, g, pass);

    /// <summary>The choice of <see cref="Conv2dAlgorithm.Auto"/> under <paramref name="mode"/>: true for oneDNN.</summary>
    internal static bool Chooses(Conv2dBackendMode mode, bool oneDnnAvailable, in Conv2dGeometry g, Conv2dPass pass) => mode switch
    {
        Conv2dBackendMode.OneDnn => true,
        Conv2dBackendMode.Auto => oneDnnAvailable && PrefersOneDnn(g, pass),
        _ => false,
    };

    /// <summary>
    /// Forgets which backends ran (<see cref="Used"/> starts over) for the calling flow: from here on, this flow and
    /// what it starts record into a record of their own, which other runs in the process neither reset nor fill.
    /// </summary>
    public static void ResetUsed() => RunRecord.Value = new StrongBox<int>();

    /// <summary>
    /// The backends that ran so far: "managed", "onednn", "onednn+managed" (auto mixing them), or, before any
    /// convolution ran, the mode's name ("managed", "onednn", "auto").
    /// </summary>
    public static string Used => Volatile.Read(ref Record.Value) switch
    {
        UsedManaged => "managed",
        UsedOneDnn => "onednn",
        UsedManaged | UsedOneDnn => "onednn+managed",
        _ => Mode.ToString().ToLowerInvariant(),
    };

    /// <summary>One line for logs: the mode and oneDNN's version or why it is missing.</summary>
    public static string Describe() => Mode switch
    {
        Conv2dBackendMode.Managed => "managed",
        Conv2dBackendMode.OneDnn => $"onednn {OneDnnVersion}",
        _ => OneDnnAvailable ? $"auto (onednn {OneDnnVersion} where faster, else managed)" : $"auto (managed; {OneDnnUnavailableReason})",
    };
}

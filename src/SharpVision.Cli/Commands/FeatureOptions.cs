using System.CommandLine;
using SharpVision.Features;

namespace SharpVision.Cli.Commands;

/// <summary>`--features SPEC` and `--no-cache`, shared by train, cv and evaluate; spec problems become usage errors.</summary>
internal sealed class FeatureOptions
{
    public FeatureOptions(string description, bool withCache = true)
    {
        Spec = new("--features") { Description = description };
        NoCache = withCache ? new("--no-cache") { Description = "Neither read nor write the feature cache ($SHARPVISION_CACHE, else $XDG_CACHE_HOME/sharpvision/features)" } : null;
    }

    public Option<string?> Spec { get; }

    public Option<bool>? NoCache { get; }

    public void AddTo(Command command)
    {
        command.Options.Add(Spec);
        if (NoCache is not null) command.Options.Add(NoCache);
    }

    /// <summary>The parsed pipeline, or null without --features.</summary>
    /// <exception cref="UsageException">The spec does not parse; the message names the culprit.</exception>
    public FeaturePipeline? Pipeline(ParseResult parse) => parse.GetValue(Spec) is string spec ? Checked(() => FeaturePipeline.Parse(spec)) : null;

    /// <summary>The feature cache, unless --no-cache.</summary>
    public FeatureCache? Cache(ParseResult parse, Action<string>? notice = null) =>
        NoCache is not null && parse.GetValue(NoCache) ? null : new FeatureCache(notice: notice);

    /// <summary>Runs <paramref name="work"/>, turning a parameter that does not fit the data into a usage error prefixed with --features.</summary>
    public static T Checked<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--features: {e.Message}");
        }
    }
}

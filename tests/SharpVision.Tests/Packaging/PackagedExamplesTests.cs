using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace SharpVision.Tests.Packaging;

/// <summary>
/// The packages as a user gets them: <c>examples/run.sh</c> packs the solution into a folder feed, builds every example
/// outside the repository against that feed only (so a type that is not public, or a dependency a package lacks, fails
/// here) and runs each on the shipped sample. Needs nothing optional, so it never skips. Costs about a minute (pack,
/// restore and build of three small console programs, a few seconds of training); it runs alone, after the parallel
/// tests, so its builds do not slow the tests that hold a time budget.
/// </summary>
[Trait("Category", "Integration")]
[Collection(Name)]
public class PackagedExamplesTests(ITestOutputHelper output)
{
    /// <summary>The collection that keeps this test out of the parallel run.</summary>
    public const string Name = "packaged examples";

    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(8);

    [Fact]
    public void Examples_BuiltAgainstThePackedPackages_RunAndPrintTheirResults()
    {
        using var work = new TempFolder();
        var (code, log) = RunExamplesScript(work.Path);
        output.WriteLine(log);
        Assert.True(code == 0, $"examples/run.sh failed (exit {code}):\n{log}");

        // QuickStart: two models well above chance (10 %) on the sample, and the saved model reloaded for an image file.
        Assert.True(Percent(log, @"k-NN accuracy:\s+([\d.]+) %") > 70, log);
        Assert.True(Percent(log, @"softmax accuracy:\s+([\d.]+) %") > 70, log);
        Assert.Matches(@"test-0\.png: [\w/ -]+ \(\d+ %\), truly [\w/ -]+", log);
        Assert.True(File.Exists(Path.Combine(work.Path, "run", "QuickStart", "softmax.safetensors")));
        Assert.True(File.Exists(Path.Combine(work.Path, "run", "QuickStart", "test-0.png")));

        // ImageFolder: its demo folder of three classes, loaded, split 80/20 and fitted.
        Assert.Contains("classes Bag, Sneaker, Trouser: 192 training and 48 test images", log);
        Assert.True(Percent(log, @"SVM on HOG:\s+([\d.]+) %") > 60, log);

        // Cnn: one epoch of the default recipe, saved with cnn2's parameter count (torch_peers.py's network).
        Assert.Matches(@"epoch 1: loss [\d.]+", log);
        Assert.Contains("saved cnn2.safetensors: 421834 parameters", log);

        // The tool: installed from the feed with `dotnet tool install`, its `sharpvision` lists the shipped sample.
        Assert.Contains("== dotnet tool install SharpVision.Tool", log);
        Assert.Matches(@"fashion-mnist\s+shipped sample: \S*/tool/", log);
        Assert.True(File.Exists(Path.Combine(work.Path, "tool", "sharpvision")));

        CheckLibraryPackage(Path.Combine(work.Path, "feed"));
        CheckToolPackage(Path.Combine(work.Path, "feed"));
    }

    private static void CheckLibraryPackage(string feed)
    {
        using var package = ZipFile.OpenRead(Package(feed, "SharpVision"));
        var entries = package.Entries.Select(e => e.FullName).ToHashSet();
        foreach (var expected in new[]
                 {
                     "lib/net10.0/SharpVision.dll", "lib/net10.0/SharpVision.xml", "README.md", "LICENSE",
                     "contentFiles/any/any/sample/fashion-mnist/train-images-idx3-ubyte.gz",
                     "contentFiles/any/any/sample/fashion-mnist/t10k-labels-idx1-ubyte.gz",
                 })
            Assert.Contains(expected, entries);
        var nuspec = Nuspec(package, "SharpVision.nuspec");
        Assert.Equal("MIT", Element(nuspec, "license").Value);
        Assert.Equal("README.md", Element(nuspec, "readme").Value);
        Assert.NotNull(Element(nuspec, "repository").Attribute("url"));
        var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!).ToList();
        Assert.Contains("SharpVision.Tensors", dependencies);
    }

    private static void CheckToolPackage(string feed)
    {
        using var package = ZipFile.OpenRead(Package(feed, "SharpVision.Tool"));
        var settings = package.Entries.Single(e => e.FullName.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal));
        using var stream = settings.Open();
        var command = XDocument.Load(stream).Descendants("Command").Single();
        Assert.Equal("sharpvision", (string?)command.Attribute("Name"));
        Assert.Equal("SharpVision.Cli.dll", (string?)command.Attribute("EntryPoint"));
        Assert.Contains(package.Entries, e => e.FullName.EndsWith("/sample/fashion-mnist/train-images-idx3-ubyte.gz", StringComparison.Ordinal));
    }

    private static string Package(string feed, string id) =>
        Directory.GetFiles(feed, "*.nupkg").Single(f => Regex.IsMatch(Path.GetFileName(f), $@"^{Regex.Escape(id)}\.\d+\.\d+\.\d+[^/]*\.nupkg$"));

    private static XElement Nuspec(ZipArchive package, string name)
    {
        using var stream = package.GetEntry(name)!.Open();
        return XDocument.Load(stream).Root!;
    }

    private static XElement Element(XElement root, string localName) => root.Descendants().First(e => e.Name.LocalName == localName);

    private static double Percent(string log, string pattern)
    {
        var match = Regex.Match(log, pattern);
        Assert.True(match.Success, $"'{pattern}' not found in:\n{log}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Runs the script with a time limit; a Release test build has just built the src projects, so it packs them as they are.</summary>
    private static (int Code, string Log) RunExamplesScript(string workFolder)
    {
        var script = Path.Combine(CliRunner.RepositoryRoot, "examples", "run.sh");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
#if !DEBUG
        start.ArgumentList.Add("--no-build");
#endif
        start.ArgumentList.Add("--work");
        start.ArgumentList.Add(workFolder);
        using var process = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        var gate = new object();
        process.OutputDataReceived += (_, e) => { lock (gate) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (gate) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"examples/run.sh took more than {Limit.TotalMinutes} minutes:\n{log}");
        }
        process.WaitForExit();
        lock (gate) return (process.ExitCode, log.ToString());
    }
}

/// <summary>Runs <see cref="PackagedExamplesTests"/> on its own (xunit runs such collections after the parallel ones).</summary>
[CollectionDefinition(PackagedExamplesTests.Name, DisableParallelization = true)]
public sealed class PackagedExamplesCollection;

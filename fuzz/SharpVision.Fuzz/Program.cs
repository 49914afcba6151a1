using System.Diagnostics;
using System.Globalization;
using SharpVision.Fuzz;

// sharpvision-fuzz: the fuzz targets of fuzz/README.md.
//   list                                   the targets
//   seeds TARGET DIR [FIXTURES]            write the seed corpus (valid inputs) into DIR
//   afl TARGET [FIXTURES]                  run under afl-fuzz (SharpFuzz, out of process): expected refusals pass, anything else crashes
//   run TARGET FILE...                     replay inputs (a corpus, crashes found); exit 1 when any is a bug
//   mutate TARGET SECONDS SEED [FIXTURES]  seeded mutation without coverage guidance, for SECONDS; bugs saved under findings/TARGET
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: SharpVision.Fuzz list | seeds TARGET DIR [FIXTURES] | afl TARGET [FIXTURES] | run TARGET FILE... | mutate TARGET SECONDS SEED [FIXTURES]");
    return 2;
}
string Fixtures(int index) => args.Length > index ? args[index] : Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "tests", "Fixtures");
switch (args[0])
{
    case "list":
        foreach (var t in FuzzTargets.All) Console.WriteLine($"{t.Name,-14} {t.Description}{(t.Unavailable is null ? "" : $" [unavailable: {t.Unavailable}]")}");
        return 0;
    case "seeds":
    {
        var target = FuzzTargets.Find(args[1]);
        Directory.CreateDirectory(args[2]);
        var seeds = target.Seeds(Fixtures(3));
        for (int i = 0; i < seeds.Count; i++) File.WriteAllBytes(Path.Combine(args[2], $"seed-{i:D3}"), seeds[i]);
        Console.WriteLine($"{seeds.Count} seeds for {target.Name} in {args[2]}");
        return 0;
    }
    case "afl":
    {
        // Instrumented code runs only once the fuzzer has mapped AFL's shared memory, inside Run: the target (whose
        // table touches SharpVision) is looked up there. The whole property is checked, not just "no exception": a
        // hang or an overspend is reported to AFL as a crash too.
        var name = args[1];
        FuzzTarget? target = null;
        SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
        {
            target ??= FuzzTargets.Find(name);
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var outcome = FuzzEngine.Check(target, buffer.ToArray());
            if (outcome.IsBug) throw new InvalidOperationException($"{target.Name}: {outcome}", outcome.Exception);
        });
        return 0;
    }
    case "run":
    {
        var target = FuzzTargets.Find(args[1]);
        int bugs = 0;
        foreach (var file in args.Skip(2))
        {
            var outcome = FuzzEngine.Check(target, File.ReadAllBytes(file));
            Console.WriteLine($"{file}: {outcome}");
            if (outcome.IsBug) bugs++;
        }
        return bugs == 0 ? 0 : 1;
    }
    case "mutate":
    {
        var target = FuzzTargets.Find(args[1]);
        var limit = TimeSpan.FromSeconds(double.Parse(args[2], CultureInfo.InvariantCulture));
        var random = new Random(int.Parse(args[3], CultureInfo.InvariantCulture));
        var seeds = target.Seeds(Fixtures(4));
        var findings = Path.Combine("findings", target.Name);
        long executed = 0, refused = 0, bugs = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            var input = FuzzEngine.Mutate(seeds[random.Next(seeds.Count)], seeds, random);
            var outcome = FuzzEngine.Check(target, input);
            executed++;
            if (outcome.Verdict == FuzzVerdict.Refused) refused++;
            if (!outcome.IsBug) continue;
            bugs++;
            Directory.CreateDirectory(findings);
            var path = Path.Combine(findings, $"{outcome.Verdict.ToString().ToLowerInvariant()}-{executed:D8}");
            File.WriteAllBytes(path, input);
            Console.WriteLine($"{path}: {outcome}");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{target.Name}: {executed:N0} inputs in {clock.Elapsed.TotalSeconds:F0} s ({executed / clock.Elapsed.TotalSeconds:F0}/s), {refused:N0} refused, {bugs} bugs"));
        return bugs == 0 ? 0 : 1;
    }
    default:
        Console.Error.WriteLine($"unknown mode '{args[0]}'");
        return 2;
}
